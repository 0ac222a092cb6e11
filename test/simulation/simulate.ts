// Simulation of one request against the xDS resources generated for one proxy, after Istio's
// pilot/pkg/simulation: find the listener by port, the filter chain the connection would take
// (same selection as the data plane), its HttpConnectionManager and route
// configuration, then match with the data plane's own compiled route table
// (src/dataplane/router/route-table.ts), so the simulation and the proxy cannot disagree about
// which virtual host, route and cluster a request gets. Pure: no sockets, no clock.

import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { compileRouteConfiguration } from '../../src/dataplane/router/route-table.js';
import type { RouteTable } from '../../src/dataplane/router/route-table.js';
import { selectChain } from '../../src/dataplane/listener/listener-manager.js';
import type { ChainSpec } from '../../src/dataplane/config/compile.js';
import { HCM_FILTER_NAME, HCM_TYPE } from '../../src/xds/resources.js';
import type { Cluster, FilterChain, HttpConnectionManager, Listener, RouteConfiguration } from '../../src/xds/resources.js';

export interface Call {
  /** The port the request arrives on (the listener's port). */
  readonly port: number;
  /** The Host header / :authority, with a port if the client sent one. */
  readonly authority: string;
  /** The request target as sent (:path), query string included. */
  readonly path: string;
  /** Defaults to GET. */
  readonly method?: string;
  /** Defaults to http. */
  readonly scheme?: string;
  /** Request headers; names are matched case-insensitively. */
  readonly headers?: Readonly<Record<string, string>>;
  /** TLS SNI; defaults to the authority's host when the scheme is https, none otherwise. */
  readonly sni?: string;
}

export type SimError =
  /** No listener on the call's port. */
  | 'listener_not_found'
  /** More than one listener on the call's port (the proxy rejects such a config). */
  | 'listener_conflict'
  /** No filter chain takes the connection (the proxy closes it). */
  | 'filter_chain_not_found'
  /** The chosen filter chain is not an HttpConnectionManager (TCP proxy). */
  | 'no_http_connection_manager'
  /** The HCM names an RDS route configuration that is not among the resources. */
  | 'route_config_not_found'
  /** The route configuration does not compile: the proxy would NACK the whole config. */
  | 'invalid_route_config'
  /** No virtual host or no route matches: the proxy answers 404 with flag NR. */
  | 'NR';

export interface SimWeightedCluster {
  readonly name: string;
  readonly weight: number;
}

export interface SimResult {
  readonly listener?: string;
  readonly routeConfig?: string;
  readonly virtualHost?: string;
  /** Name of the matched route ('' when the route has none). */
  readonly route?: string;
  /** Index of the matched route inside its virtual host. */
  readonly routeIndex?: number;
  readonly cluster?: string;
  readonly weightedClusters?: readonly SimWeightedCluster[];
  readonly directResponse?: number;
  readonly redirect?: { status: number; scheme?: string; host?: string; port?: number; path?: string };
  readonly error?: SimError;
  /** Human-readable detail for errors (what the proxy would log or NACK with). */
  readonly detail?: string;
  /** `ip:port` of the chosen cluster's endpoints (single-cluster routes only). */
  readonly endpoints?: readonly string[];
  /** Whether every cluster the route names is among the proxy's clusters. */
  readonly clusterExists: boolean;
}

/** The listeners bound on `port` (any address). */
function listenersOnPort(resources: ProxyResources, port: number): Listener[] {
  return resources.listeners.filter((l) => l.address?.socketAddress?.portValue === port);
}

/** The chain the data plane would pick for this connection (listener-manager's selectChain). */
function chooseChain(l: Listener, tls: boolean, sni: string | undefined): FilterChain | undefined {
  const chains = (l.filterChains ?? []).map((fc) => {
    const m = fc.filterChainMatch ?? {};
    const tp = m.transportProtocol;
    const spec = {
      serverNames: m.serverNames ?? [],
      transportProtocol: tp === 'tls' || tp === 'raw_buffer' ? tp : undefined,
      destinationPort: m.destinationPort,
      tls: fc.transportSocket ? ({} as never) : null,
    } as unknown as ChainSpec;
    return { spec, fc };
  });
  return selectChain(chains, tls, sni?.toLowerCase(), l.address?.socketAddress?.portValue)?.fc;
}

/** The chain's HttpConnectionManager, under the data plane's rule: one HCM filter per HTTP chain. */
function connectionManager(fc: FilterChain): HttpConnectionManager | undefined {
  const filters = fc.filters ?? [];
  if (filters.length !== 1) return undefined;
  const f = filters[0]!;
  if (f.name !== HCM_FILTER_NAME || f.typedConfig?.['@type'] !== HCM_TYPE) return undefined;
  return f.typedConfig as unknown as HttpConnectionManager;
}

/** `ip:port` of a cluster's endpoints: its inline loadAssignment, else its EDS assignment. */
export function endpointsOf(resources: ProxyResources, cluster: Cluster): string[] {
  const cla = cluster.loadAssignment ?? resources.endpoints.find((e) => e.clusterName === (cluster.edsClusterConfig?.serviceName ?? cluster.name));
  const out: string[] = [];
  for (const locality of cla?.endpoints ?? []) {
    for (const lb of locality.lbEndpoints ?? []) {
      const sa = lb.endpoint.address.socketAddress;
      out.push(`${sa.address}:${sa.portValue}`);
    }
  }
  return out;
}

/** The host of an authority, without its port (brackets kept off IPv6 literals). */
function hostOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
  const i = authority.lastIndexOf(':');
  return i < 0 ? authority : authority.slice(0, i);
}

export function simulate(resources: ProxyResources, call: Call): SimResult {
  const candidates = listenersOnPort(resources, call.port);
  if (candidates.length === 0) return { error: 'listener_not_found', detail: `no listener on port ${call.port}`, clusterExists: false };
  if (candidates.length > 1) {
    return { error: 'listener_conflict', detail: `listeners ${candidates.map((l) => l.name).join(', ')} share port ${call.port}`, clusterExists: false };
  }
  const listener = candidates[0]!;
  const tls = (call.scheme ?? 'http') === 'https' || call.sni !== undefined;
  const sni = call.sni ?? (tls ? hostOf(call.authority) : undefined);
  const chain = chooseChain(listener, tls, sni);
  if (!chain) return { listener: listener.name, error: 'filter_chain_not_found', detail: `no filter chain takes ${tls ? `TLS (SNI ${sni ?? 'none'})` : 'plaintext'}`, clusterExists: false };
  const hcm = connectionManager(chain);
  if (!hcm) return { listener: listener.name, error: 'no_http_connection_manager', detail: `the chosen filter chain holds ${(chain.filters ?? []).map((f) => f.name).join(', ') || 'no filter'}, not one HttpConnectionManager`, clusterExists: false };

  let rc: RouteConfiguration | undefined = hcm.routeConfig;
  if (!rc) {
    const name = hcm.rds?.routeConfigName;
    rc = resources.routes.find((r) => r.name === name);
    if (!rc) return { listener: listener.name, routeConfig: name, error: 'route_config_not_found', clusterExists: false };
  }

  let table: RouteTable;
  try {
    table = compileRouteConfiguration(rc);
  } catch (err) {
    return { listener: listener.name, routeConfig: rc.name, error: 'invalid_route_config', detail: (err as Error).message, clusterExists: false };
  }

  // The connection manager's view of the request (src/dataplane/http/connection-manager.ts).
  const method = call.method ?? 'GET';
  const scheme = call.scheme ?? 'http';
  const fullPath = call.path;
  const qi = fullPath.indexOf('?');
  const path = qi < 0 ? fullPath : fullPath.slice(0, qi);
  const query = qi < 0 ? '' : fullPath.slice(qi + 1);
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(call.headers ?? {})) headers.set(k.toLowerCase(), v);
  headers.set('host', call.authority);
  const lookup = (name: string): string | undefined => {
    if (name === ':method') return method;
    if (name === ':authority') return call.authority;
    if (name === ':scheme') return scheme;
    if (name === ':path') return fullPath;
    return headers.get(name);
  };

  const base = { listener: listener.name, routeConfig: rc.name };
  const match = table.match(call.authority, fullPath, path, query, lookup);
  if (!match) {
    const vh = table.findVirtualHost(call.authority);
    return vh
      ? { ...base, virtualHost: vh.name, error: 'NR', detail: `no route of virtual host "${vh.name}" matches path "${path}"`, clusterExists: false }
      : { ...base, error: 'NR', detail: `no virtual host of route configuration "${rc.name}" matches host "${call.authority}"`, clusterExists: false };
  }
  const routed = { ...base, virtualHost: match.vhost.name, route: match.route.name, routeIndex: match.vhost.routes.indexOf(match.route) };
  const action = match.route.action;
  const byName = new Map(resources.clusters.map((c) => [c.name, c]));
  switch (action.kind) {
    case 'cluster': {
      const c = byName.get(action.cluster);
      return c
        ? { ...routed, cluster: action.cluster, endpoints: endpointsOf(resources, c), clusterExists: true }
        : { ...routed, cluster: action.cluster, clusterExists: false };
    }
    case 'weighted':
      return {
        ...routed,
        weightedClusters: action.clusters.map((c) => ({ name: c.name, weight: c.weight })),
        clusterExists: action.clusters.every((c) => byName.has(c.name)),
      };
    case 'direct':
      return { ...routed, directResponse: action.status, clusterExists: false };
    case 'redirect':
      return { ...routed, redirect: { status: action.status, scheme: action.scheme, host: action.host, port: action.port, path: action.path }, clusterExists: false };
  }
}
