// Translates VirtualService `http` rules into Envoy routes, as Istio does: one route per match
// block (blocks are ORed, conditions inside one block ANDed), in rule order, so the first
// matching rule wins. Match conditions that select *where* a rule applies (port, gateways,
// sourceLabels, sourceNamespace) are evaluated here against the proxy being generated for;
// conditions Strait cannot express yet make that block match nothing (narrower, never broader),
// and the loader has already warned about them.

import type { HTTPMatchRequest, HTTPRoute, StringMatch, VirtualServiceResource } from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { HeaderMatcher, QueryParameterMatcher, Route, RouteAction, RouteMatch, StringMatcher } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { outboundClusterName } from './names.js';

export interface RouteContext {
  readonly proxy: ProxyNode;
  /** `namespace/name` of the gateway being generated for; undefined for sidecars (`mesh`). */
  readonly gateway?: string;
  /** Gateway server port, or the service port the sidecar vhost serves. */
  readonly port: number;
}

export function translateHttpRules(snapshot: MeshSnapshot, vs: VirtualServiceResource, ctx: RouteContext): Route[] {
  const routes: Route[] = [];
  for (const rule of vs.spec.http) {
    const action = routeAction(snapshot, vs, rule, ctx.port);
    if (!action) continue;
    const blocks: (HTTPMatchRequest | undefined)[] = rule.match.length ? [...rule.match] : [undefined];
    for (const block of blocks) {
      if (block && !appliesHere(block, vs, ctx)) continue;
      const match = block ? translateMatch(block) : { prefix: '/' };
      if (!match) continue;
      const name = [rule.name, block?.name].filter(Boolean).join('.');
      const route: Route = { match, route: action, decorator: { operation: decorator(action) } };
      if (name) route.name = name;
      routes.push(route);
    }
  }
  return routes;
}

function decorator(action: RouteAction): string {
  const cluster = action.cluster ?? action.weightedClusters?.clusters[0]?.name ?? '';
  const [, port, , host] = cluster.split('|');
  return host ? `${host}:${port}/*` : '*';
}

/** Builds the route action, or undefined when the rule has no `route` (redirect etc. come later). */
function routeAction(snapshot: MeshSnapshot, vs: VirtualServiceResource, rule: HTTPRoute, contextPort: number): RouteAction | undefined {
  if (rule.route.length === 0) return undefined;
  const clusters = rule.route.map((d) => {
    const host = snapshot.resolveHost(d.destination.host, vs.metadata.namespace);
    const svc = snapshot.servicesByHost.get(host);
    const port = d.destination.port?.number ?? (svc?.ports.length === 1 ? svc.ports[0]!.port : contextPort);
    // VS-12: a lone destination takes everything; among several, a missing weight is 0.
    return { name: outboundClusterName(port, d.destination.subset ?? '', host), weight: d.weight ?? (rule.route.length === 1 ? 100 : 0) };
  });
  // Istio disables the route timeout unless the VirtualService sets one (VS-16).
  if (clusters.length === 1) return { cluster: clusters[0]!.name, timeout: '0s' };
  return { weightedClusters: { clusters }, timeout: '0s' };
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

function stringMatcher(sm: StringMatch | Record<string, never>): StringMatcher | 'present' | undefined {
  if ('exact' in sm) return { exact: sm.exact };
  if ('prefix' in sm) return { prefix: sm.prefix };
  if ('regex' in sm) return undefined; // RE2 matching arrives with the full VirtualService issue
  return 'present';
}

function headerMatcher(name: string, sm: StringMatch | Record<string, never>, invert: boolean): HeaderMatcher | undefined {
  const m = stringMatcher(sm);
  if (m === undefined) return undefined;
  const h: HeaderMatcher = m === 'present' ? { name, presentMatch: true } : { name, stringMatch: m };
  if (invert) h.invertMatch = true;
  return h;
}

/** Returns undefined when a condition cannot be expressed yet (the block then matches nothing). */
export function translateMatch(m: HTTPMatchRequest): RouteMatch | undefined {
  const match: RouteMatch = {};
  if (m.uri) {
    if ('exact' in m.uri) match.path = m.uri.exact;
    else if ('prefix' in m.uri) match.prefix = m.uri.prefix;
    else return undefined;
  } else {
    match.prefix = '/';
  }
  if (m.ignoreUriCase) match.caseSensitive = false;
  const headers: HeaderMatcher[] = [];
  const pseudo: [string, StringMatch | undefined][] = [[':scheme', m.scheme], [':method', m.method], [':authority', m.authority]];
  for (const [name, sm] of pseudo) {
    if (!sm) continue;
    const h = headerMatcher(name, sm, false);
    if (!h) return undefined;
    headers.push(h);
  }
  for (const [name, sm] of Object.entries(m.headers ?? {})) {
    // VS-07: these keys are ignored inside `headers`.
    if (['uri', 'scheme', 'method', 'authority'].includes(name)) continue;
    const h = headerMatcher(name.toLowerCase(), sm, false);
    if (!h) return undefined;
    headers.push(h);
  }
  for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
    const h = headerMatcher(name.toLowerCase(), sm, true);
    if (!h) return undefined;
    headers.push(h);
  }
  if (headers.length) match.headers = headers;
  const params: QueryParameterMatcher[] = [];
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
    const s = stringMatcher(sm);
    if (s === undefined) return undefined;
    params.push(s === 'present' ? { name, presentMatch: true } : { name, stringMatch: s });
  }
  if (params.length) match.queryParameters = params;
  return match;
}
