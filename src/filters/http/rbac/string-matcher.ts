// Envoy's StringMatcher (envoy/type/matcher/v3/string.proto) compiled to a predicate, for the
// authorization filters: RBAC principal names, paths, headers, SNI and metadata strings, and
// ext_authz's header lists. Compiled once; a match on the request path allocates nothing.
//
// ignore_case is ASCII-only case folding (Envoy compares with absl::EqualsIgnoreCase), so it is
// done here character by character instead of with toLowerCase(), which would both allocate and
// fold non-ASCII letters Envoy leaves alone. It has no effect on safe_regex, as in Envoy: a
// case-insensitive regex says so itself with (?i).

import { ConfigError } from '../api.js';
import { compileFullMatch, RegexError } from '../../../common/re2.js';
import { checkFields, object, optBool } from './proto-json.js';

export type StringPredicate = (value: string) => boolean;

const KINDS = ['exact', 'prefix', 'suffix', 'contains', 'safeRegex'] as const;

/** Compiles one StringMatcher in proto3-JSON shape; `at` names it in errors. */
export function compileStringMatcher(v: unknown, at: string): StringPredicate {
  const o = object(v, at, 'a StringMatcher object');
  checkFields(o, at, 'StringMatcher', [...KINDS, 'ignoreCase'], { custom: 'custom string matcher extensions are not supported' });
  const set = KINDS.filter((k) => o[k] !== undefined);
  if (set.length !== 1) throw new ConfigError(`${at}: set exactly one of ${KINDS.join(', ')}${set.length ? ` (got ${set.join(' and ')})` : ''}`);
  const kind = set[0]!;
  const ignoreCase = optBool(o.ignoreCase, `${at}.ignoreCase`);
  if (kind === 'safeRegex') return compileSafeRegex(o.safeRegex, `${at}.safeRegex`);
  const raw = o[kind];
  if (typeof raw !== 'string') throw new ConfigError(`${at}.${kind}: expected a string, got ${JSON.stringify(raw)}`);
  // The proto requires at least one character for prefix, suffix and contains (exact may be "").
  if (kind !== 'exact' && raw.length === 0) throw new ConfigError(`${at}.${kind}: must not be empty`);
  return literalMatcher(kind, raw, ignoreCase);
}

/** exact / prefix / suffix / contains on a literal, optionally ASCII case-insensitive. */
export function literalMatcher(kind: 'exact' | 'prefix' | 'suffix' | 'contains', literal: string, ignoreCase: boolean): StringPredicate {
  if (!ignoreCase) {
    switch (kind) {
      case 'exact':
        return (s) => s === literal;
      case 'prefix':
        return (s) => s.startsWith(literal);
      case 'suffix':
        return (s) => s.endsWith(literal);
      case 'contains':
        return (s) => s.includes(literal);
    }
  }
  const p = asciiLower(literal);
  const n = p.length;
  switch (kind) {
    case 'exact':
      return (s) => s.length === n && foldedEqualAt(s, 0, p);
    case 'prefix':
      return (s) => s.length >= n && foldedEqualAt(s, 0, p);
    case 'suffix':
      return (s) => s.length >= n && foldedEqualAt(s, s.length - n, p);
    case 'contains':
      return (s) => {
        for (let i = 0; i + n <= s.length; i++) if (foldedEqualAt(s, i, p)) return true;
        return false;
      };
  }
}

/** RegexMatcher {regex, googleRe2?}: RE2, matched against the whole value. */
export function compileSafeRegex(v: unknown, at: string): StringPredicate {
  const o = object(v, at, 'a RegexMatcher object {regex}');
  // googleRe2 is the deprecated engine selector older control planes (and Istio) still send.
  checkFields(o, at, 'RegexMatcher', ['regex', 'googleRe2']);
  if (typeof o.regex !== 'string') throw new ConfigError(`${at}.regex: expected a string, got ${JSON.stringify(o.regex)}`);
  try {
    return compileFullMatch(o.regex);
  } catch (e) {
    if (e instanceof RegexError) throw new ConfigError(`${at}.regex: ${e.message}`);
    throw e;
  }
}

/** Lower-cases A-Z only. */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : s;
}

/** s[offset, offset + lower.length) equals `lower` (already ASCII lower-case), folding A-Z in s. */
function foldedEqualAt(s: string, offset: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(offset + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
