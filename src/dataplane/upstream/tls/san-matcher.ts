// Subject Alternative Name checks of an upstream certificate (Envoy's matchSubjectAltNames):
// StringMatchers compiled once, tried against the certificate's DNS and URI SANs; any match
// accepts. As in Envoy, an `exact` matcher also accepts a wildcard DNS SAN that covers it
// (`*.example.com` covers `api.example.com`, one label only).

import type { StringMatcher } from '../../../xds/resources.js';
import { compileFullMatch, RegexError } from '../../../common/re2.js';
import { ConfigError } from '../../config/durations.js';

export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
}

type Compiled = { readonly test: (s: string) => boolean; readonly exact?: string };

export function compileSanMatchers(where: string, matchers: readonly StringMatcher[]): (sans: SubjectAltNames) => boolean {
  const compiled = matchers.map((m, i) => compileOne(`${where}.matchSubjectAltNames[${i}]`, m));
  return (sans) => {
    for (const m of compiled) {
      for (const uri of sans.uri) if (m.test(uri)) return true;
      for (const dns of sans.dns) {
        if (m.test(dns)) return true;
        if (m.exact !== undefined && wildcardCovers(dns, m.exact)) return true;
      }
    }
    return false;
  };
}

function compileOne(where: string, m: StringMatcher): Compiled {
  const kinds = (['exact', 'prefix', 'suffix', 'contains', 'safeRegex'] as const).filter((k) => m[k] !== undefined);
  if (kinds.length !== 1) throw new ConfigError(`${where}: needs exactly one of exact, prefix, suffix, contains, safeRegex`);
  const fold = m.ignoreCase === true;
  const norm = (s: string) => (fold ? s.toLowerCase() : s);
  const kind = kinds[0]!;
  if (kind === 'safeRegex') {
    try {
      return { test: compileFullMatch(m.safeRegex!.regex) };
    } catch (e) {
      throw new ConfigError(`${where}.safeRegex: ${e instanceof RegexError ? e.message : String(e)}`);
    }
  }
  const value = norm(m[kind] as string);
  if (kind !== 'exact' && value === '') throw new ConfigError(`${where}.${kind}: must not be empty`);
  switch (kind) {
    case 'exact':
      return { test: (s) => norm(s) === value, exact: value };
    case 'prefix':
      return { test: (s) => norm(s).startsWith(value) };
    case 'suffix':
      return { test: (s) => norm(s).endsWith(value) };
    case 'contains':
      return { test: (s) => norm(s).includes(value) };
  }
}

function wildcardCovers(san: string, name: string): boolean {
  if (!san.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1).toLowerCase() === san.slice(2).toLowerCase();
}

/**
 * Parses Node's `subjectaltname` text ("DNS:a.example, URI:spiffe://x, IP Address:10.0.0.1").
 * Node quotes a value holding a comma or quote as a JSON string; those are decoded.
 */
export function parseSubjectAltNames(text: string | undefined): SubjectAltNames {
  const dns: string[] = [];
  const uri: string[] = [];
  let i = 0;
  const s = text ?? '';
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon).trim();
    let value: string;
    let end: number;
    if (s[colon + 1] === '"') {
      end = colon + 2;
      while (end < s.length && s[end] !== '"') end += s[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(s.slice(colon + 1, end + 1)) as string;
      } catch {
        value = s.slice(colon + 2, end);
      }
      end = s.indexOf(',', end);
    } else {
      end = s.indexOf(', ', colon);
      value = s.slice(colon + 1, end < 0 ? s.length : end);
    }
    if (type === 'DNS') dns.push(value);
    else if (type === 'URI') uri.push(value);
    if (end < 0) break;
    i = end + (s[end + 1] === ' ' ? 2 : 1);
  }
  return { dns, uri };
}
