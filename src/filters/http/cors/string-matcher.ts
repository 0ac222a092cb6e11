// Envoy's StringMatcher (envoy/type/matcher/v3/string.proto) compiled to a predicate, for the
// CORS policy's allowOriginStringMatch. Regexes are RE2 and must match the whole value
// (safe_regex), so no origin can stall the proxy.

import { ConfigError } from '../api.js';
import { compileFullMatch, RegexError } from '../../../common/re2.js';

export type StringPredicate = (value: string) => boolean;

const KINDS = ['exact', 'prefix', 'suffix', 'contains', 'safeRegex'] as const;

/** Compiles one StringMatcher in proto3-JSON shape; `at` names it in errors. */
export function compileStringMatcher(v: unknown, at: string): StringPredicate {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${at}: expected a StringMatcher object, got ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k === 'custom') throw new ConfigError(`${at}.custom: custom string matcher extensions are not supported`);
    if (k !== 'ignoreCase' && !(KINDS as readonly string[]).includes(k)) {
      throw new ConfigError(`${at}: unknown field "${k}" in StringMatcher (fields: ${KINDS.join(', ')}, ignoreCase)`);
    }
  }
  const set = KINDS.filter((k) => o[k] !== undefined);
  if (set.length !== 1) throw new ConfigError(`${at}: set exactly one of ${KINDS.join(', ')}${set.length ? ` (got ${set.join(' and ')})` : ''}`);
  const kind = set[0]!;
  const ignoreCase = o.ignoreCase ?? false;
  if (typeof ignoreCase !== 'boolean') throw new ConfigError(`${at}.ignoreCase: expected true or false, got ${JSON.stringify(ignoreCase)}`);

  if (kind === 'safeRegex') return compileSafeRegex(o.safeRegex, `${at}.safeRegex`);

  const raw = o[kind];
  if (typeof raw !== 'string') throw new ConfigError(`${at}.${kind}: expected a string, got ${JSON.stringify(raw)}`);
  // The proto requires at least one character for prefix, suffix and contains (exact may be "").
  if (kind !== 'exact' && raw.length === 0) throw new ConfigError(`${at}.${kind}: must not be empty`);
  // ignore_case is ASCII case folding in Envoy; origins are ASCII (RFC 6454 serializes hosts as
  // punycode), so lower-casing both sides is the same thing here.
  const p = ignoreCase ? raw.toLowerCase() : raw;
  const fold = ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  switch (kind) {
    case 'exact':
      return (s) => fold(s) === p;
    case 'prefix':
      return (s) => fold(s).startsWith(p);
    case 'suffix':
      return (s) => fold(s).endsWith(p);
    case 'contains':
      return (s) => fold(s).includes(p);
  }
}

/** RegexMatcher {regex, googleRe2?}: googleRe2 is the deprecated engine selector older Istio sends. */
function compileSafeRegex(v: unknown, at: string): StringPredicate {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${at}: expected a RegexMatcher object {regex}, got ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'regex' && k !== 'googleRe2') throw new ConfigError(`${at}: unknown field "${k}" in RegexMatcher (fields: regex, googleRe2)`);
  }
  if (typeof o.regex !== 'string') throw new ConfigError(`${at}.regex: expected a string, got ${JSON.stringify(o.regex)}`);
  try {
    return compileFullMatch(o.regex);
  } catch (e) {
    if (e instanceof RegexError) throw new ConfigError(`${at}.regex: ${e.message}`);
    throw e;
  }
}
