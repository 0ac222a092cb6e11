// One Envoy Route compiled for the request path: its matcher, its action (a cluster, weighted
// clusters, a redirect or a direct response) and everything the router applies on the way:
// rewrites, header changes, timeout, retry policy, hash policy, mirrors, per-filter config. All
// parsing and validation happens here; the router only reads the result.

import type { HashPolicy, Route, RouteAction as XdsRouteAction, VirtualHost } from '../../xds/resources.js';
import { compileRe2, RegexError } from '../../common/re2.js';
import { optionalDurationMs } from '../config/durations.js';
import { filterByTypeUrl } from '../../filters/http/registry.js';
import { compileMutations } from './header-mutation.js';
import type { CompiledMutations } from './header-mutation.js';
import { compileMatch, RouteConfigError } from './route-match.js';
import { isExactPath, pathKeyOf } from './route-index.js';
import type { HeaderLookup, Matcher } from './route-match.js';
import { compileRetryPolicy } from './retry-policy.js';
import type { CompiledRetryPolicy } from './retry-policy.js';

export interface WeightedTarget {
  readonly name: string;
  readonly weight: number;
  readonly headers: CompiledMutations | null;
}

export interface RedirectTarget {
  readonly kind: 'redirect';
  readonly status: number;
  readonly scheme?: string;
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  /** Replaces the matched prefix (Envoy prefix_rewrite on redirects). */
  readonly prefixRewrite?: string;
  readonly stripQuery: boolean;
}

export type RouteAction =
  | { readonly kind: 'cluster'; readonly cluster: string }
  | { readonly kind: 'weighted'; readonly clusters: readonly WeightedTarget[]; readonly total: number }
  | { readonly kind: 'direct'; readonly status: number; readonly body: string; readonly flag: string; readonly details: string }
  | RedirectTarget;

export interface PathRewrite {
  /** Matched prefix replaced by `to` (Envoy prefix_rewrite, Istio rewrite.uri). */
  readonly prefix?: { readonly from: string; readonly to: string };
  /** Envoy regex_rewrite (Istio uriRegexRewrite): every match replaced. */
  readonly regex?: { replace(path: string): string };
  /** Envoy host_rewrite_literal (Istio rewrite.authority). */
  readonly host?: string;
}

export interface HashKeySource {
  readonly kind: 'header' | 'cookie' | 'source_ip' | 'query';
  readonly name: string;
  /** For cookies: generate one with this lifetime when absent (ms; undefined: never generate). */
  readonly ttlMs?: number;
  readonly path?: string;
  readonly terminal: boolean;
}

export interface MirrorTarget {
  readonly cluster: string;
  /** 0..1 */
  readonly fraction: number;
}

export interface CompiledRoute {
  readonly name: string;
  readonly matches: Matcher;
  /** A literal the :path must start with for this route to match, or null (route-index.ts). */
  readonly pathKey: string | null;
  /** pathKey is the whole path the route matches (a `path` match). */
  readonly exactPath: boolean;
  /** The prefix the route matches on (prefix or path-separated prefix), for prefix rewrites. */
  readonly matchPrefix: string | undefined;
  readonly action: RouteAction;
  /** 0 means no timeout. */
  readonly timeoutMs: number;
  readonly retry: CompiledRetryPolicy | null;
  readonly rewrite: PathRewrite | null;
  /** Most specific first: route, then virtual host. */
  readonly headers: readonly CompiledMutations[];
  readonly hash: readonly HashKeySource[] | null;
  readonly mirrors: readonly MirrorTarget[] | null;
  /** Per-filter config by filter name, route over virtual host; null when none. */
  readonly perFilter: ReadonlyMap<string, unknown> | null;
  readonly includeAttemptCount: boolean;
  /** The route's decorator operation (a span name), sent upstream by outbound proxies. */
  readonly decorator: string | undefined;
}

export interface VirtualHostContext {
  readonly name: string;
  readonly headers: CompiledMutations | null;
  readonly retry: CompiledRetryPolicy | null;
  readonly perFilter: ReadonlyMap<string, unknown> | null;
  readonly includeAttemptCount: boolean;
}

export function compileVirtualHostContext(at: string, vh: VirtualHost): VirtualHostContext {
  return {
    name: vh.name,
    headers: compileMutations(at, vh),
    retry: compileRetryPolicy(`${at} retryPolicy`, vh.retryPolicy),
    perFilter: compilePerFilter(at, vh.typedPerFilterConfig),
    includeAttemptCount: vh.includeRequestAttemptCount === true,
  };
}

const REDIRECT_CODES: Readonly<Record<string, number>> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };

export function compileRoute(where: string, r: Route, index: number, vh: VirtualHostContext): CompiledRoute {
  const at = `${where} route ${r.name ?? index}`;
  const a = r.route;
  const action = compileAction(at, r);
  // Envoy's default route timeout is 15 s; Istio always sets one ("0s" unless configured).
  const timeoutMs = a?.timeout !== undefined ? optionalDurationMs(a.timeout, `${at} timeout`, 15_000) : action.kind === 'cluster' || action.kind === 'weighted' ? 15_000 : 0;
  const headers = [compileMutations(at, r), vh.headers].filter((m): m is CompiledMutations => m !== null);
  const routePerFilter = compilePerFilter(at, r.typedPerFilterConfig);
  let perFilter: ReadonlyMap<string, unknown> | null = routePerFilter ?? vh.perFilter;
  if (routePerFilter && vh.perFilter) perFilter = new Map([...vh.perFilter, ...routePerFilter]);
  const matchPrefix = r.match?.prefix ?? r.match?.pathSeparatedPrefix;
  return {
    name: r.name ?? '',
    matches: compileMatch(at, r.match ?? {}),
    pathKey: pathKeyOf(r.match ?? {}),
    exactPath: isExactPath(r.match ?? {}),
    matchPrefix,
    action,
    timeoutMs,
    retry: a?.retryPolicy ? compileRetryPolicy(`${at} retryPolicy`, a.retryPolicy) : vh.retry,
    rewrite: a ? compileRewrite(at, a, matchPrefix) : null,
    headers,
    hash: a?.hashPolicy?.length ? a.hashPolicy.map((h) => compileHashPolicy(at, h)) : null,
    mirrors: a?.requestMirrorPolicies?.length ? a.requestMirrorPolicies.map((m) => ({ cluster: requireCluster(at, m.cluster), fraction: fraction(m.runtimeFraction?.defaultValue) })) : null,
    perFilter,
    includeAttemptCount: vh.includeAttemptCount,
    decorator: r.decorator?.operation || undefined,
  };
}

function requireCluster(at: string, name: string | undefined): string {
  if (!name) throw new RouteConfigError(`${at}: a mirror policy needs a cluster`);
  return name;
}

function fraction(f: { numerator: number; denominator?: string } | undefined): number {
  if (!f) return 1;
  const d = f.denominator === 'MILLION' ? 1_000_000 : f.denominator === 'TEN_THOUSAND' ? 10_000 : 100;
  return Math.max(0, Math.min(1, (f.numerator ?? 0) / d));
}

function compileAction(at: string, r: Route): RouteAction {
  const kinds = [r.route, r.redirect, r.directResponse].filter((x) => x !== undefined).length;
  if (kinds !== 1) throw new RouteConfigError(`${at}: a route needs exactly one action (route, redirect or directResponse)`);
  if (r.directResponse) {
    const status = r.directResponse.status;
    if (!(status >= 200 && status <= 599)) throw new RouteConfigError(`${at}: direct response status ${status} is not in 200..599`);
    // Strait metadata can mark a direct response as a flagged local reply (REGISTRY_ONLY's 502).
    const md = r.metadata?.filterMetadata?.strait as { responseFlag?: string; details?: string } | undefined;
    return { kind: 'direct', status, body: r.directResponse.body?.inlineString ?? '', flag: md?.responseFlag ?? '', details: md?.details ?? 'direct_response' };
  }
  if (r.redirect) {
    const rd = r.redirect;
    const status = REDIRECT_CODES[rd.responseCode ?? 'MOVED_PERMANENTLY'];
    if (!status) throw new RouteConfigError(`${at}: unknown redirect response code ${rd.responseCode}`);
    if (rd.pathRedirect !== undefined && rd.prefixRewrite !== undefined) throw new RouteConfigError(`${at}: a redirect takes pathRedirect or prefixRewrite, not both`);
    if (rd.regexRewrite) throw new RouteConfigError(`${at}: regex rewrites in redirects are not supported`);
    return {
      kind: 'redirect',
      status,
      scheme: rd.httpsRedirect ? 'https' : rd.schemeRedirect,
      host: rd.hostRedirect,
      port: rd.portRedirect,
      path: rd.pathRedirect,
      prefixRewrite: rd.prefixRewrite,
      stripQuery: rd.stripQuery === true,
    };
  }
  const a = r.route as XdsRouteAction;
  if (a.cluster) return { kind: 'cluster', cluster: a.cluster };
  const wc = a.weightedClusters?.clusters;
  if (wc?.length) {
    const clusters = wc.map((c, i) => ({ name: c.name, weight: c.weight ?? 0, headers: compileMutations(`${at} weighted cluster ${c.name ?? i}`, c) }));
    const total = clusters.reduce((s, c) => s + c.weight, 0);
    if (total <= 0) throw new RouteConfigError(`${at}: weighted clusters sum to 0`);
    return { kind: 'weighted', clusters, total };
  }
  throw new RouteConfigError(`${at}: route action names no cluster`);
}

function compileRewrite(at: string, a: XdsRouteAction, matchedPrefix: string | undefined): PathRewrite | null {
  if (a.prefixRewrite === undefined && !a.regexRewrite && a.hostRewriteLiteral === undefined) return null;
  if (a.prefixRewrite !== undefined && a.regexRewrite) throw new RouteConfigError(`${at}: prefixRewrite and regexRewrite are exclusive`);
  const out: { prefix?: PathRewrite['prefix']; regex?: PathRewrite['regex']; host?: string } = {};
  if (a.prefixRewrite !== undefined) {
    if (matchedPrefix === undefined) throw new RouteConfigError(`${at}: prefixRewrite needs a prefix match`);
    out.prefix = { from: matchedPrefix, to: a.prefixRewrite };
  }
  if (a.regexRewrite) out.regex = compileRegexRewrite(at, a.regexRewrite.pattern?.regex ?? '', a.regexRewrite.substitution ?? '');
  if (a.hostRewriteLiteral !== undefined) out.host = a.hostRewriteLiteral;
  return out;
}

/** Envoy substitutions use \1 for groups; re2-wasm's replace uses $1 (and $$ for a dollar). */
function compileRegexRewrite(at: string, pattern: string, substitution: string): { replace(path: string): string } {
  let re;
  try {
    re = compileRe2(pattern, 'gu');
  } catch (e) {
    if (e instanceof RegexError) throw new RouteConfigError(`${at}: ${e.message}`);
    throw e;
  }
  const sub = substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  const r = re as unknown as { [Symbol.replace](s: string, sub: string): string };
  return { replace: (path: string) => r[Symbol.replace](path, sub) };
}

function compileHashPolicy(at: string, h: HashPolicy): HashKeySource {
  const terminal = h.terminal === true;
  if (h.header?.headerName) return { kind: 'header', name: h.header.headerName.toLowerCase(), terminal };
  if (h.cookie?.name) {
    const ttlMs = h.cookie.ttl !== undefined ? optionalDurationMs(h.cookie.ttl, `${at} hashPolicy cookie ttl`, 0) : undefined;
    return { kind: 'cookie', name: h.cookie.name, ttlMs, path: h.cookie.path, terminal };
  }
  if (h.connectionProperties?.sourceIp) return { kind: 'source_ip', name: '', terminal };
  if (h.queryParameter?.name) return { kind: 'query', name: h.queryParameter.name, terminal };
  throw new RouteConfigError(`${at}: a hash policy needs header, cookie, connectionProperties.sourceIp or queryParameter`);
}

export function compilePerFilter(at: string, cfg: Readonly<Record<string, { '@type': string }>> | undefined): ReadonlyMap<string, unknown> | null {
  if (!cfg || Object.keys(cfg).length === 0) return null;
  const out = new Map<string, unknown>();
  for (const [name, typed] of Object.entries(cfg)) {
    const factory = filterByTypeUrl(typed['@type']);
    if (!factory?.compilePerRoute) throw new RouteConfigError(`${at}: no HTTP filter takes per-route config of type ${typed['@type']} (for ${name})`);
    out.set(factory.name, factory.compilePerRoute(typed as Readonly<Record<string, unknown>>));
  }
  return out;
}

export type { HeaderLookup };
