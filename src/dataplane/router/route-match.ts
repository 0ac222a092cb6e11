// Request matchers compiled from Envoy's RouteMatch, StringMatcher, HeaderMatcher and
// QueryParameterMatcher: closures built once per config, cheap per request. Regexes are RE2
// (full match, as Envoy's safe_regex), never a backtracking engine.

import type { HeaderMatcher, QueryParameterMatcher, RouteMatch, StringMatcher } from '../../xds/resources.js';
import { compileFullMatch, RegexError } from '../../common/re2.js';
import { ConfigError } from '../config/durations.js';
import type { StreamInfo } from '../http/stream-info.js';
// Envoy's MetadataMatcher is shared with RBAC, which compiled it first.
import { compileMetadataMatcher } from '../../filters/http/rbac/value-matcher.js';

export type HeaderLookup = (name: string) => string | undefined;

export class RouteConfigError extends ConfigError {}

const NO_METADATA = { dynamicMetadata: {} } as unknown as StreamInfo;

/** `info` carries the dynamic metadata that `dynamicMetadata` matchers read; null before any filter ran. */
export type Matcher = (fullPath: string, path: string, query: string, header: HeaderLookup, info: StreamInfo | null) => boolean;

export function compileMatch(at: string, m: RouteMatch): Matcher {
  const caseSensitive = m.caseSensitive ?? true;
  const norm = (s: string) => (caseSensitive ? s : s.toLowerCase());
  // Envoy: `prefix` applies to the whole :path (query included); `path` and
  // `pathSeparatedPrefix` apply to the path with the query string removed.
  let pathMatch: (full: string, p: string) => boolean;
  const kinds = [m.prefix, m.path, m.safeRegex, m.pathSeparatedPrefix].filter((x) => x !== undefined).length;
  if (kinds !== 1) throw new RouteConfigError(`${at}: a route match needs exactly one of prefix, path, safeRegex, pathSeparatedPrefix`);
  if (m.prefix !== undefined) {
    const prefix = norm(m.prefix);
    pathMatch = prefix === '' || prefix === '/' ? () => true : (full) => norm(full).startsWith(prefix);
  } else if (m.path !== undefined) {
    const exact = norm(m.path);
    pathMatch = (_full, p) => norm(p) === exact;
  } else if (m.pathSeparatedPrefix !== undefined) {
    const prefix = norm(m.pathSeparatedPrefix);
    if (!prefix.startsWith('/') || (prefix.length > 1 && prefix.endsWith('/'))) {
      throw new RouteConfigError(`${at}: pathSeparatedPrefix "${prefix}" must start with / and not end with /`);
    }
    pathMatch = (_full, p) => {
      const n = norm(p);
      return n === prefix || (n.startsWith(prefix) && (prefix === '/' || n.charCodeAt(prefix.length) === 47 /* / */));
    };
  } else {
    const re = compileRegex(at, m.safeRegex!.regex);
    // Envoy applies safe_regex to the path without its query string; case flags go in the
    // pattern ((?i)), as in Envoy.
    pathMatch = (_full, p) => re(p);
  }
  const headers = (m.headers ?? []).map((h) => compileHeaderMatcher(at, h));
  const params = (m.queryParameters ?? []).map((q) => compileQueryMatcher(at, q));
  const metadata = (m.dynamicMetadata ?? []).map((d, i) => {
    try {
      return compileMetadataMatcher(d, `${at}.dynamicMetadata[${i}]`);
    } catch (e) {
      throw new RouteConfigError((e as Error).message);
    }
  });
  if (headers.length === 0 && params.length === 0 && metadata.length === 0) return (full, p) => pathMatch(full, p);
  return (full, p, q, h, info) => {
    if (!pathMatch(full, p)) return false;
    for (const hm of headers) if (!hm(h)) return false;
    // Without metadata yet (the first match, before filters), a metadata matcher sees "not set".
    for (const mm of metadata) if (!mm(info ?? NO_METADATA)) return false;
    if (params.length) {
      const parsed = new URLSearchParams(q);
      for (const pm of params) if (!pm(parsed)) return false;
    }
    return true;
  };
}

export function compileStringMatcher(at: string, sm: StringMatcher): (v: string) => boolean {
  const ic = sm.ignoreCase === true;
  const n = (s: string) => (ic ? s.toLowerCase() : s);
  if (sm.exact !== undefined) {
    const e = n(sm.exact);
    return (v) => n(v) === e;
  }
  if (sm.prefix !== undefined) {
    const e = n(sm.prefix);
    return (v) => n(v).startsWith(e);
  }
  if (sm.suffix !== undefined) {
    const e = n(sm.suffix);
    return (v) => n(v).endsWith(e);
  }
  if (sm.contains !== undefined) {
    const e = n(sm.contains);
    return (v) => n(v).includes(e);
  }
  if (sm.safeRegex) {
    const re = compileRegex(at, sm.safeRegex.regex);
    return ic ? (v) => re(v.toLowerCase()) : re;
  }
  throw new RouteConfigError(`${at}: empty string matcher`);
}

function compileHeaderMatcher(at: string, hm: HeaderMatcher): (h: HeaderLookup) => boolean {
  const name = hm.name.toLowerCase();
  const invert = hm.invertMatch === true;
  let test: (v: string | undefined) => boolean;
  if (hm.stringMatch) {
    const sm = compileStringMatcher(`${at} header ${name}`, hm.stringMatch);
    test = (v) => v !== undefined && sm(v);
  } else if (hm.presentMatch !== undefined) {
    const want = hm.presentMatch;
    test = (v) => (v !== undefined) === want;
  } else {
    test = (v) => v !== undefined;
  }
  return (h) => test(h(name)) !== invert;
}

function compileQueryMatcher(at: string, qm: QueryParameterMatcher): (q: URLSearchParams) => boolean {
  if (qm.stringMatch) {
    const sm = compileStringMatcher(`${at} query ${qm.name}`, qm.stringMatch);
    return (q) => {
      const v = q.get(qm.name);
      return v !== null && sm(v);
    };
  }
  return (q) => q.has(qm.name);
}

export function compileRegex(at: string, pattern: string): (s: string) => boolean {
  try {
    return compileFullMatch(pattern);
  } catch (e) {
    if (e instanceof RegexError) throw new RouteConfigError(`${at}: ${e.message}`);
    throw e;
  }
}
