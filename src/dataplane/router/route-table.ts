// A RouteConfiguration compiled for the request path. Virtual hosts are found by Envoy's domain
// search order (exact, then the longest suffix wildcard, then the longest prefix wildcard, then
// `*`) with map lookups, never a scan over all hosts; within a virtual host routes are tried in
// order and the first match wins, as in Envoy. Everything is validated here, at config time: a
// route this module cannot compile rejects the whole configuration (the proxy NACKs it).

import type { HeaderMatcher, QueryParameterMatcher, Route, RouteConfiguration, StringMatcher, VirtualHost } from '../../xds/resources.js';
import { compileFullMatch, RegexError } from '../../common/re2.js';
import { ConfigError, parseDurationMs } from '../config/durations.js';

export type HeaderLookup = (name: string) => string | undefined;

export type RouteAction =
  | { readonly kind: 'cluster'; readonly cluster: string }
  | { readonly kind: 'weighted'; readonly clusters: readonly { readonly name: string; readonly weight: number }[]; readonly total: number }
  | { readonly kind: 'direct'; readonly status: number; readonly body: string };

export interface CompiledRoute {
  readonly name: string;
  readonly action: RouteAction;
  /** 0 means no timeout. */
  readonly timeoutMs: number;
  /** fullPath is :path with its query; path is without it (Envoy matches prefixes on the former). */
  readonly matches: (fullPath: string, path: string, query: string, header: HeaderLookup) => boolean;
}

export interface CompiledVirtualHost {
  readonly name: string;
  readonly routes: readonly CompiledRoute[];
}

export interface RouteMatchResult {
  readonly vhost: CompiledVirtualHost;
  readonly route: CompiledRoute;
}

export class RouteConfigError extends ConfigError {}

export class RouteTable {
  private readonly exact = new Map<string, CompiledVirtualHost>();
  private readonly suffixes = new Map<string, CompiledVirtualHost>();
  private readonly suffixLengths: number[];
  private readonly prefixes = new Map<string, CompiledVirtualHost>();
  private readonly prefixLengths: number[];
  private readonly star: CompiledVirtualHost | undefined;

  constructor(readonly name: string, vhosts: readonly CompiledVirtualHost[], domains: readonly (readonly string[])[]) {
    let star: CompiledVirtualHost | undefined;
    vhosts.forEach((vh, i) => {
      for (const raw of domains[i]!) {
        const d = raw.toLowerCase();
        const clash = (map: Map<string, CompiledVirtualHost>, key: string) => {
          if (map.has(key)) throw new RouteConfigError(`route config ${name}: domain "${raw}" appears in two virtual hosts (${map.get(key)!.name}, ${vh.name})`);
          map.set(key, vh);
        };
        if (d === '*') {
          if (star) throw new RouteConfigError(`route config ${name}: two virtual hosts have domain "*"`);
          star = vh;
        } else if (d.startsWith('*')) clash(this.suffixes, d.slice(1));
        else if (d.endsWith('*')) clash(this.prefixes, d.slice(0, -1));
        else if (d.includes('*')) throw new RouteConfigError(`route config ${name}: domain "${raw}" has a wildcard in the middle`);
        else clash(this.exact, d);
      }
    });
    this.star = star;
    this.suffixLengths = [...new Set([...this.suffixes.keys()].map((k) => k.length))].sort((a, b) => b - a);
    this.prefixLengths = [...new Set([...this.prefixes.keys()].map((k) => k.length))].sort((a, b) => b - a);
  }

  findVirtualHost(authority: string): CompiledVirtualHost | undefined {
    const host = authority.toLowerCase();
    const exact = this.exact.get(host);
    if (exact) return exact;
    // A wildcard must match at least one character (Envoy): hence the strict length checks.
    for (const len of this.suffixLengths) {
      if (host.length > len) {
        const vh = this.suffixes.get(host.slice(host.length - len));
        if (vh) return vh;
      }
    }
    for (const len of this.prefixLengths) {
      if (host.length > len) {
        const vh = this.prefixes.get(host.slice(0, len));
        if (vh) return vh;
      }
    }
    return this.star;
  }

  match(authority: string, fullPath: string, path: string, query: string, header: HeaderLookup): RouteMatchResult | undefined {
    const vhost = this.findVirtualHost(authority);
    if (!vhost) return undefined;
    for (const route of vhost.routes) {
      if (route.matches(fullPath, path, query, header)) return { vhost, route };
    }
    return undefined;
  }

  static empty(name: string): RouteTable {
    return new RouteTable(name, [], []);
  }
}

export function compileRouteConfiguration(rc: RouteConfiguration): RouteTable {
  if (!rc.name) throw new RouteConfigError('route configuration without a name');
  const vhosts = (rc.virtualHosts ?? []).map((vh) => compileVirtualHost(rc.name, vh));
  return new RouteTable(rc.name, vhosts, (rc.virtualHosts ?? []).map((vh) => vh.domains ?? []));
}

function compileVirtualHost(rcName: string, vh: VirtualHost): CompiledVirtualHost {
  if (!vh.name) throw new RouteConfigError(`route config ${rcName}: virtual host without a name`);
  if (!vh.domains?.length) throw new RouteConfigError(`route config ${rcName}: virtual host ${vh.name} has no domains`);
  return { name: vh.name, routes: (vh.routes ?? []).map((r, i) => compileRoute(`${rcName}/${vh.name}`, r, i)) };
}

function compileRoute(where: string, r: Route, index: number): CompiledRoute {
  const at = `${where} route ${r.name ?? index}`;
  const action = compileAction(at, r);
  const timeoutMs = r.route?.timeout !== undefined ? parseDurationMs(r.route.timeout, `${at} timeout`) : 15_000;
  return { name: r.name ?? '', action, timeoutMs, matches: compileMatch(at, r.match ?? {}) };
}

function compileAction(at: string, r: Route): RouteAction {
  if (r.directResponse) {
    const status = r.directResponse.status;
    if (!(status >= 200 && status <= 599)) throw new RouteConfigError(`${at}: direct response status ${status} is not in 200..599`);
    return { kind: 'direct', status, body: r.directResponse.body?.inlineString ?? '' };
  }
  const a = r.route;
  if (!a) throw new RouteConfigError(`${at}: a route needs an action (route or directResponse)`);
  if (a.cluster) return { kind: 'cluster', cluster: a.cluster };
  const wc = a.weightedClusters?.clusters;
  if (wc?.length) {
    const clusters = wc.map((c) => ({ name: c.name, weight: c.weight ?? 0 }));
    const total = clusters.reduce((s, c) => s + c.weight, 0);
    if (total <= 0) throw new RouteConfigError(`${at}: weighted clusters sum to 0`);
    return { kind: 'weighted', clusters, total };
  }
  throw new RouteConfigError(`${at}: route action names no cluster`);
}

type Matcher = (fullPath: string, path: string, query: string, header: HeaderLookup) => boolean;

function compileMatch(at: string, m: NonNullable<Route['match']>): Matcher {
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
    const re = regex(at, m.safeRegex!.regex);
    // Envoy applies safe_regex to the path without its query string; case flags go in the
    // pattern ((?i)), as in Envoy.
    pathMatch = (_full, p) => re(p);
  }
  const headers = (m.headers ?? []).map((h) => compileHeaderMatcher(at, h));
  const params = (m.queryParameters ?? []).map((q) => compileQueryMatcher(at, q));
  if (headers.length === 0 && params.length === 0) return (full, p) => pathMatch(full, p);
  return (full, p, q, h) => {
    if (!pathMatch(full, p)) return false;
    for (const hm of headers) if (!hm(h)) return false;
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
    const re = regex(at, sm.safeRegex.regex);
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

function regex(at: string, pattern: string): (s: string) => boolean {
  try {
    return compileFullMatch(pattern);
  } catch (e) {
    if (e instanceof RegexError) throw new RouteConfigError(`${at}: ${e.message}`);
    throw e;
  }
}
