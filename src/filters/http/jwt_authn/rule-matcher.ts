// RequirementRule.match (a RouteMatch) compiled to a predicate over the request, with the
// semantics of Envoy's jwt_authn Matcher: `prefix` on the whole :path (query included), `path`
// and `safe_regex` on the path without its query, `path_separated_prefix` on whole segments;
// `case_sensitive` (default true) for prefix and path; header and query-parameter matchers as
// in routes. Istio writes one rule, `prefix: /`.

import type { FilterRequest } from '../api.js';
import { ConfigError } from '../api.js';
import { compileStringMatcher } from '../cors/string-matcher.js';
import type { StringPredicate } from '../cors/string-matcher.js';
import { array, bool, object, onlyFields, string } from './json-shape.js';

export type RulePredicate = (req: FilterRequest) => boolean;

const MATCH_FIELDS = ['prefix', 'path', 'safeRegex', 'pathSeparatedPrefix', 'caseSensitive', 'headers', 'queryParameters'];

export function compileRuleMatch(v: unknown, at: string): RulePredicate {
  const o = object(v, at);
  onlyFields(o, MATCH_FIELDS, at, 'RouteMatch (jwt_authn rules support these)');
  const kinds = ['prefix', 'path', 'safeRegex', 'pathSeparatedPrefix'].filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) throw new ConfigError(`${at}: set exactly one of prefix, path, safeRegex or pathSeparatedPrefix`);
  const caseSensitive = o.caseSensitive === undefined ? true : bool(o.caseSensitive, `${at}.caseSensitive`);
  const fold = (s: string): string => (caseSensitive ? s : s.toLowerCase());
  let onPath: (full: string, path: string) => boolean;
  if (o.prefix !== undefined) {
    const prefix = fold(string(o.prefix, `${at}.prefix`));
    onPath = prefix === '' ? () => true : (full) => fold(full).startsWith(prefix);
  } else if (o.path !== undefined) {
    const exact = fold(string(o.path, `${at}.path`));
    onPath = (_full, path) => fold(path) === exact;
  } else if (o.pathSeparatedPrefix !== undefined) {
    const prefix = fold(string(o.pathSeparatedPrefix, `${at}.pathSeparatedPrefix`));
    if (!prefix.startsWith('/') || (prefix.length > 1 && prefix.endsWith('/'))) {
      throw new ConfigError(`${at}.pathSeparatedPrefix: "${prefix}" must start with / and not end with /`);
    }
    onPath = (_full, path) => {
      const p = fold(path);
      return p === prefix || (p.startsWith(prefix) && (prefix === '/' || p.charAt(prefix.length) === '/'));
    };
  } else {
    const re = compileStringMatcher({ safeRegex: o.safeRegex }, at);
    onPath = (_full, path) => re(path);
  }
  const headers = (o.headers === undefined ? [] : array(o.headers, `${at}.headers`)).map((h, i) => headerMatcher(h, `${at}.headers[${i}]`));
  const params = (o.queryParameters === undefined ? [] : array(o.queryParameters, `${at}.queryParameters`)).map((q, i) => queryMatcher(q, `${at}.queryParameters[${i}]`));
  return (req) => {
    const qi = req.path.indexOf('?');
    const path = qi < 0 ? req.path : req.path.slice(0, qi);
    if (!onPath(req.path, path)) return false;
    for (const h of headers) if (!h(req)) return false;
    if (params.length > 0) {
      const q = new URLSearchParams(qi < 0 ? '' : req.path.slice(qi + 1));
      for (const p of params) if (!p(q)) return false;
    }
    return true;
  };
}

function headerMatcher(v: unknown, at: string): RulePredicate {
  const o = object(v, at);
  onlyFields(o, ['name', 'stringMatch', 'presentMatch', 'exactMatch', 'invertMatch'], at, 'HeaderMatcher');
  const name = string(o.name, `${at}.name`).toLowerCase();
  const invert = bool(o.invertMatch, `${at}.invertMatch`);
  let test: (value: string | undefined) => boolean;
  if (o.stringMatch !== undefined) {
    const sm: StringPredicate = compileStringMatcher(o.stringMatch, `${at}.stringMatch`);
    test = (value) => value !== undefined && sm(value);
  } else if (o.exactMatch !== undefined) {
    const exact = string(o.exactMatch, `${at}.exactMatch`);
    test = (value) => value === exact;
  } else if (o.presentMatch !== undefined) {
    const want = bool(o.presentMatch, `${at}.presentMatch`);
    test = (value) => (value !== undefined) === want;
  } else {
    test = (value) => value !== undefined;
  }
  return (req) => {
    const raw = name === ':authority' || name === 'host' ? req.authority : name === ':method' ? req.method : name === ':path' ? req.path : req.headers[name];
    // Repeated headers are matched on their comma-joined value, as Envoy does.
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    return test(value) !== invert;
  };
}

function queryMatcher(v: unknown, at: string): (q: URLSearchParams) => boolean {
  const o = object(v, at);
  onlyFields(o, ['name', 'stringMatch', 'presentMatch'], at, 'QueryParameterMatcher');
  const name = string(o.name, `${at}.name`);
  if (o.stringMatch !== undefined) {
    const sm = compileStringMatcher(o.stringMatch, `${at}.stringMatch`);
    return (q) => {
      const value = q.get(name);
      return value !== null && sm(value);
    };
  }
  return (q) => q.has(name);
}
