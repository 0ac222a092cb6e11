// Translates VirtualService `http` rules into Envoy routes, as Istio does: one route per match
// block (blocks are ORed, conditions inside one block ANDed), in rule order, so the first
// matching rule wins. Match conditions that select *where* a rule applies (port, gateways,
// sourceLabels, sourceNamespace) are evaluated here against the proxy being generated for.
// Each rule's action becomes an Envoy route (weighted clusters with per-destination headers,
// timeout, retry policy, rewrites, mirrors, hash policy), redirect or direct response; faults
// and CORS travel as per-route config of the fault and CORS filters; a delegate rule is replaced
// by the delegate VirtualService's rules, each narrowed by the delegating rule's match.

import type {
  CorsPolicy,
  Destination,
  GrpcStatusName,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPRoute,
  HeaderMatch,
  Headers,
  HeaderOperations,
  StringMatch,
  VirtualServiceResource,
} from '../../config/types.js';
import { JWT_CLAIM_HEADER_PREFIX } from '../../config/kinds/virtual-service.js';
import { selects } from '../../registry/registry.js';
import type {
  HashPolicy,
  HeaderMatcher,
  HeaderMutations,
  HeaderValueOption,
  QueryParameterMatcher,
  RedirectAction,
  Route,
  RouteAction,
  RouteMatch,
  RouteMetadataMatcher,
  StringMatcher,
  TypedConfig,
} from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { outboundClusterName } from './names.js';
import { convertRetries, msText } from './retry.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const CORS_FILTER = 'envoy.filters.http.cors';
export const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
export const CORS_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors';
export const CORS_POLICY_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

export interface RouteContext {
  readonly proxy: ProxyNode;
  /** `namespace/name` of the gateway being generated for; undefined for sidecars (`mesh`). */
  readonly gateway?: string;
  /** Gateway server port, or the service port the sidecar vhost serves. */
  readonly port: number;
  /** Envoy hash policy of a destination (from its DestinationRule's consistentHash), if any. */
  readonly hashPolicy?: (fqdn: string, port: number, subset: string) => HashPolicy[] | undefined;
}

export function translateHttpRules(snapshot: MeshSnapshot, vs: VirtualServiceResource, ctx: RouteContext): Route[] {
  const routes: Route[] = [];
  for (const rule of vs.spec.http) {
    if (rule.delegate) {
      routes.push(...translateDelegate(snapshot, rule, ctx));
      continue;
    }
    routes.push(...translateRule(snapshot, vs, rule, rule.match, ctx));
  }
  return routes;
}

function translateRule(snapshot: MeshSnapshot, vs: VirtualServiceResource, rule: HTTPRoute, matches: readonly (HTTPMatchRequest | undefined)[], ctx: RouteContext): Route[] {
  const base = ruleRoute(snapshot, vs, rule, ctx);
  if (!base) return [];
  const blocks = matches.length ? matches : [undefined];
  const out: Route[] = [];
  for (const block of blocks) {
    if (block && !appliesHere(block, vs, ctx)) continue;
    const match = block ? translateMatch(block) : { prefix: '/' };
    if (!match) continue;
    const name = [rule.name, block?.name].filter(Boolean).join('.');
    const route: Route = { ...base, match };
    if (name) route.name = name;
    out.push(route);
  }
  return out;
}

/** VS-24: the delegate's rules, each match narrowed by (merged with) the delegating rule's. */
function translateDelegate(snapshot: MeshSnapshot, rule: HTTPRoute, ctx: RouteContext): Route[] {
  const d = rule.delegate!;
  const child = snapshot.store.get('VirtualService', d.namespace, d.name);
  if (!child || child.spec.hosts.length > 0) return [];
  const out: Route[] = [];
  for (const crule of child.spec.http) {
    if (crule.delegate) continue; // a delegate must not delegate again (the analyzer reports it)
    const rootBlocks: (HTTPMatchRequest | undefined)[] = rule.match.length ? [...rule.match] : [undefined];
    const childBlocks: (HTTPMatchRequest | undefined)[] = crule.match.length ? [...crule.match] : [undefined];
    const merged: (HTTPMatchRequest | undefined)[] = [];
    for (const r of rootBlocks) for (const c of childBlocks) merged.push(mergeMatch(r, c));
    out.push(...translateRule(snapshot, child, crule, merged.every((m) => m === undefined) ? [] : merged, ctx));
  }
  return out;
}

/** The delegate's conditions refine the root's; where both set a field, the delegate's wins. */
function mergeMatch(root: HTTPMatchRequest | undefined, child: HTTPMatchRequest | undefined): HTTPMatchRequest | undefined {
  if (!root) return child;
  if (!child) return root;
  return {
    ...root,
    ...Object.fromEntries(Object.entries(child).filter(([, v]) => v !== undefined)),
    headers: { ...root.headers, ...child.headers },
    withoutHeaders: { ...root.withoutHeaders, ...child.withoutHeaders },
    queryParams: { ...root.queryParams, ...child.queryParams },
    path: child.path,
  } as HTTPMatchRequest;
}

/** Everything of a route but its match. */
function ruleRoute(snapshot: MeshSnapshot, vs: VirtualServiceResource, rule: HTTPRoute, ctx: RouteContext): Omit<Route, 'match'> | undefined {
  const r: Omit<Route, 'match'> & HeaderMutations = {};
  if (rule.redirect) {
    r.redirect = redirect(rule);
  } else if (rule.directResponse) {
    const b = rule.directResponse.body;
    r.directResponse = { status: rule.directResponse.status, ...(b ? { body: { inlineString: 'string' in b ? b.string : b.bytes.toString('utf8') } } : {}) };
  } else if (rule.route.length > 0) {
    r.route = routeAction(snapshot, vs, rule, ctx);
    r.decorator = { operation: decorator(r.route) };
  } else {
    return undefined;
  }
  Object.assign(r, headerMutations(rule.headers));
  const perFilter: Record<string, TypedConfig> = {};
  if (rule.fault) perFilter[FAULT_FILTER] = faultConfig(rule.fault);
  if (rule.corsPolicy) perFilter[CORS_FILTER] = corsConfig(rule.corsPolicy);
  if (Object.keys(perFilter).length) r.typedPerFilterConfig = perFilter;
  return r;
}

function decorator(action: RouteAction): string {
  const cluster = action.cluster ?? action.weightedClusters?.clusters[0]?.name ?? '';
  const [, port, , host] = cluster.split('|');
  return host ? `${host}:${port}/*` : '*';
}

function destinationCluster(snapshot: MeshSnapshot, vs: VirtualServiceResource, d: Destination, contextPort: number): { name: string; fqdn: string; port: number; subset: string } {
  const fqdn = snapshot.resolveHost(d.host, vs.metadata.namespace);
  const svc = snapshot.servicesByHost.get(fqdn);
  const port = d.port?.number ?? (svc?.ports.length === 1 ? svc.ports[0]!.port : contextPort);
  const subset = d.subset ?? '';
  return { name: outboundClusterName(port, subset, fqdn), fqdn, port, subset };
}

function routeAction(snapshot: MeshSnapshot, vs: VirtualServiceResource, rule: HTTPRoute, ctx: RouteContext): RouteAction {
  const mesh = snapshot.meshConfig;
  const dests = rule.route.map((d) => ({ ...destinationCluster(snapshot, vs, d.destination, ctx.port), weight: d.weight, headers: d.headers }));
  const a: RouteAction = {};
  if (dests.length === 1 && !hasOps(dests[0]!.headers)) {
    a.cluster = dests[0]!.name;
  } else {
    // VS-12: a lone destination takes everything; among several, a missing weight is 0.
    a.weightedClusters = {
      clusters: dests.map((d) => ({ name: d.name, weight: d.weight ?? (dests.length === 1 ? 100 : 0), ...headerMutations(d.headers) })),
    };
  }
  const hash = ctx.hashPolicy ? ctx.hashPolicy(dests[0]!.fqdn, dests[0]!.port, dests[0]!.subset) : undefined;
  if (hash?.length) a.hashPolicy = hash;
  // VS-16/VS-20: no timeout unless set; with a fault on the route, Istio sets no timeout or retries.
  a.timeout = rule.timeout && !rule.fault ? msText(rule.timeout.ms) : '0s';
  if (!rule.fault) {
    const retry = convertRetries(rule.retries, mesh, hash !== undefined && hash.length > 0);
    if (retry) a.retryPolicy = retry;
  }
  if (rule.rewrite) {
    if (rule.rewrite.uri !== undefined) a.prefixRewrite = rule.rewrite.uri;
    if (rule.rewrite.authority !== undefined) a.hostRewriteLiteral = rule.rewrite.authority;
    if (rule.rewrite.uriRegexRewrite) a.regexRewrite = { pattern: { regex: rule.rewrite.uriRegexRewrite.match }, substitution: rule.rewrite.uriRegexRewrite.rewrite };
  }
  const mirrors = [
    ...(rule.mirror ? [{ destination: rule.mirror, percentage: rule.mirrorPercentage }] : []),
    ...rule.mirrors.map((m) => ({ destination: m.destination, percentage: m.percentage })),
  ];
  if (mirrors.length) {
    a.requestMirrorPolicies = mirrors.map((m) => {
      const c = destinationCluster(snapshot, vs, m.destination, ctx.port);
      return m.percentage === undefined ? { cluster: c.name } : { cluster: c.name, runtimeFraction: { defaultValue: { numerator: Math.round(m.percentage.value * 10_000), denominator: 'MILLION' as const } } };
    });
  }
  return a;
}

function redirect(rule: HTTPRoute): RedirectAction {
  const rd = rule.redirect!;
  const out: RedirectAction = {};
  const codes: Record<number, RedirectAction['responseCode']> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };
  out.responseCode = codes[rd.redirectCode] ?? 'MOVED_PERMANENTLY';
  if (rd.uri !== undefined) out.pathRedirect = rd.uri;
  if (rd.prefixRewrite !== undefined) out.prefixRewrite = rd.prefixRewrite;
  if (rd.authority !== undefined) out.hostRedirect = rd.authority;
  if (rd.scheme !== undefined) out.schemeRedirect = rd.scheme;
  if (rd.port !== undefined) out.portRedirect = rd.port;
  // FROM_PROTOCOL_DEFAULT: the scheme's default port (which the Location then omits);
  // FROM_REQUEST_PORT: keep the request's port, which is what a redirect does anyway.
  if (rd.derivePort === 'FROM_PROTOCOL_DEFAULT') out.portRedirect = (rd.scheme ?? 'http') === 'https' ? 443 : 80;
  return out;
}

function hasOps(h: Headers | undefined): boolean {
  if (!h) return false;
  const n = (o: HeaderOperations) => Object.keys(o.set).length + Object.keys(o.add).length + o.remove.length;
  return n(h.request) + n(h.response) > 0;
}

/** VS-23: set → overwrite, add → append, remove → remove. */
function headerMutations(h: Headers | undefined): HeaderMutations {
  if (!h) return {};
  const ops = (o: HeaderOperations): HeaderValueOption[] => [
    ...Object.entries(o.set).map(([key, value]) => ({ header: { key, value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' as const })),
    ...Object.entries(o.add).map(([key, value]) => ({ header: { key, value }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' as const })),
  ];
  const out: HeaderMutations = {};
  const rq = ops(h.request);
  const rs = ops(h.response);
  if (rq.length) out.requestHeadersToAdd = rq;
  if (h.request.remove.length) out.requestHeadersToRemove = [...h.request.remove];
  if (rs.length) out.responseHeadersToAdd = rs;
  if (h.response.remove.length) out.responseHeadersToRemove = [...h.response.remove];
  return out;
}

const GRPC_CODES: Readonly<Record<GrpcStatusName, number>> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
  DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** Istio's percentages (0..100, double) as Envoy FractionalPercent per million. */
function perMillion(value: number | undefined): { numerator: number; denominator: 'MILLION' } {
  return { numerator: Math.round((value ?? 0) * 10_000), denominator: 'MILLION' };
}

function faultConfig(f: HTTPFaultInjection): TypedConfig {
  const out: TypedConfig = { '@type': FAULT_TYPE };
  if (f.delay) out.delay = { fixedDelay: msText(f.delay.fixedDelay.ms), percentage: perMillion(f.delay.percentage?.value) };
  if (f.abort) {
    const p = perMillion(f.abort.percentage?.value);
    out.abort = 'httpStatus' in f.abort ? { httpStatus: f.abort.httpStatus, percentage: p } : { grpcStatus: GRPC_CODES[f.abort.grpcStatus], percentage: p };
  }
  return out;
}

function stringMatcherOf(sm: StringMatch): StringMatcher {
  if ('exact' in sm) return { exact: sm.exact };
  if ('prefix' in sm) return { prefix: sm.prefix };
  return { safeRegex: { regex: sm.regex } };
}

function corsConfig(c: CorsPolicy): TypedConfig {
  const out: TypedConfig = {
    '@type': CORS_POLICY_TYPE,
    allowOriginStringMatch: c.allowOrigins.map(stringMatcherOf),
    forwardNotMatchingPreflights: c.unmatchedPreflights !== 'IGNORE',
  };
  if (c.allowMethods.length) out.allowMethods = c.allowMethods.join(',');
  if (c.allowHeaders.length) out.allowHeaders = c.allowHeaders.join(',');
  if (c.exposeHeaders.length) out.exposeHeaders = c.exposeHeaders.join(',');
  if (c.maxAge) out.maxAge = String(Math.floor(c.maxAge.ms / 1000));
  if (c.allowCredentials !== undefined) out.allowCredentials = c.allowCredentials;
  return out;
}

/** Workload-selecting conditions (VS-11): evaluated at generation time, not per request. */
function appliesHere(m: HTTPMatchRequest, vs: VirtualServiceResource, ctx: RouteContext): boolean {
  if (m.port !== undefined && m.port !== ctx.port) return false;
  if (m.gateways?.length) {
    const keys = m.gateways.map((g) => (g === 'mesh' || g.includes('/') ? g : `${vs.metadata.namespace}/${g}`));
    if (!keys.includes(ctx.gateway ?? 'mesh')) return false;
  }
  if (m.sourceLabels && (ctx.gateway !== undefined || !selects(m.sourceLabels, ctx.proxy.labels))) return false;
  if (m.sourceNamespace !== undefined && (ctx.gateway !== undefined || m.sourceNamespace !== ctx.proxy.namespace)) return false;
  return true;
}

function headerMatcher(name: string, sm: StringMatch | Record<string, never>, invert: boolean): HeaderMatcher {
  const h: HeaderMatcher = 'exact' in sm || 'prefix' in sm || 'regex' in sm ? { name, stringMatch: stringMatcherOf(sm as StringMatch) } : { name, presentMatch: true };
  if (invert) h.invertMatch = true;
  return h;
}

export function translateMatch(m: HTTPMatchRequest): RouteMatch {
  const match: RouteMatch = {};
  if (m.uri) {
    if ('exact' in m.uri) match.path = m.uri.exact;
    else if ('prefix' in m.uri) match.prefix = m.uri.prefix;
    else match.safeRegex = { regex: m.uri.regex };
  } else {
    match.prefix = '/';
  }
  if (m.ignoreUriCase) match.caseSensitive = false;
  const headers: HeaderMatcher[] = [];
  const pseudo: [string, StringMatch | undefined][] = [[':scheme', m.scheme], [':method', m.method], [':authority', m.authority]];
  for (const [name, sm] of pseudo) if (sm) headers.push(headerMatcher(name, sm, false));
  const claims: RouteMetadataMatcher[] = [];
  for (const [name, sm] of Object.entries(m.headers ?? {})) {
    // VS-07: these keys are ignored inside `headers`.
    if (['uri', 'scheme', 'method', 'authority'].includes(name)) continue;
    if (name.startsWith(JWT_CLAIM_HEADER_PREFIX)) claims.push(claimMatcher(name, sm, false));
    else headers.push(headerMatcher(name.toLowerCase(), sm, false));
  }
  for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
    if (name.startsWith(JWT_CLAIM_HEADER_PREFIX)) claims.push(claimMatcher(name, sm, true));
    else headers.push(headerMatcher(name.toLowerCase(), sm, true));
  }
  if (headers.length) match.headers = headers;
  if (claims.length) match.dynamicMetadata = claims;
  const params: QueryParameterMatcher[] = Object.entries(m.queryParams ?? {}).map(([name, sm]) => ({ name, stringMatch: stringMatcherOf(sm) }));
  if (params.length) match.queryParameters = params;
  return match;
}

/**
 * `@request.auth.claims.<a>.<b>` → a match on the verified JWT payload jwt_authn stores
 * (`envoy.filters.http.jwt_authn` → `payload` → a → b), as Istio writes it: the claim matches when
 * it is that string or a list holding it. Gateways pick the route again after jwt_authn
 * (clear_route_cache), so only there does the claim decide; elsewhere the route never matches.
 */
function claimMatcher(name: string, sm: HeaderMatch, invert: boolean): RouteMetadataMatcher {
  const path = ['payload', ...name.slice(JWT_CLAIM_HEADER_PREFIX.length).split('.')].map((key) => ({ key }));
  let value: Record<string, unknown>;
  if ('exact' in sm || 'prefix' in sm || 'regex' in sm) {
    const stringMatch = stringMatcherOf(sm as StringMatch);
    value = { orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch } } }, { stringMatch }] } };
  } else {
    value = { presentMatch: true }; // `{}`: the claim is there
  }
  return { filter: 'envoy.filters.http.jwt_authn', path, value, ...(invert ? { invert: true } : {}) };
}
