// Turns the proxy's current set of xDS resources into run-time objects in one pass: route tables,
// HTTP connection managers per listener, and prepared clusters. Pure apart from stats
// registration; throws ConfigError on anything it cannot honour, before anything is applied.

import type { StatsRegistry } from '../../telemetry/stats/stats.js';
import { DOWNSTREAM_TLS_TYPE, HCM_TYPE, TCP_PROXY_TYPE } from '../../xds/resources.js';
import type { Cluster, ClusterLoadAssignment, Filter, FilterChain, HttpConnectionManager, Listener, RouteConfiguration, Secret, TcpProxy } from '../../xds/resources.js';
import type { NetworkFilter } from '../../filters/network/api.js';
import { networkFilterByTypeUrl } from '../../filters/network/registry.js';
import '../../filters/network/index.js';
import { compileTcpProxy } from '../tcp/tcp-proxy.js';
import { istioMetricsFor } from '../../telemetry/metrics/istio-metrics.js';
import { compileStatsConfig, isStatsFilterConfig } from '../../telemetry/metrics/stats-config.js';
import type { TcpProxyConfig } from '../tcp/tcp-proxy.js';
import type { FilterDeps, HcmConfig } from '../http/hcm-config.js';
import { checkCertificate, tlsOptions } from '../tls/tls-context.js';
import type { CertificatePair, TlsOptions } from '../tls/tls-context.js';
import { compileHcm } from '../http/hcm-config.js';
import { compileRouteConfiguration } from '../router/route-table.js';
import type { RouteTable } from '../router/route-table.js';
import type { ClusterManager, PreparedClusters } from '../upstream/cluster-manager.js';
import { clusterSecretNames } from '../upstream/tls/upstream-tls.js';
import { ConfigError } from './durations.js';
import { ClusterHttpClient } from '../http/async-client.js';

/** The resources a proxy holds, by type and name (what the config dump shows). */
export interface ResourceSet {
  readonly listeners: ReadonlyMap<string, Listener>;
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
  readonly secrets: ReadonlyMap<string, Secret>;
}

export const EMPTY_RESOURCES: ResourceSet = { listeners: new Map(), routes: new Map(), clusters: new Map(), endpoints: new Map(), secrets: new Map() };

export interface TlsSpec {
  /** null while a referenced SDS secret has not arrived: handshakes for the chain fail. */
  readonly pair: CertificatePair | null;
  /** PEM of the CAs client certificates are verified against; null: no client certificates. */
  readonly clientCa: string | null;
  /** MUTUAL: a client certificate is required; otherwise one is only checked when presented. */
  readonly requireClientCertificate: boolean;
  readonly alpn: readonly string[];
  readonly options: TlsOptions;
}

/** What a filter chain does with a connection once chosen. */
export type ChainNetwork = { readonly kind: 'http'; readonly hcm: HcmConfig } | { readonly kind: 'tcp'; readonly tcp: TcpProxyConfig };

/**
 * One filter chain: which connections it takes (original destination port, TLS or not, SNI),
 * whether it terminates TLS, and its network filter (HTTP connection manager or TCP proxy).
 */
export interface ChainSpec {
  readonly name: string;
  readonly serverNames: readonly string[];
  /** 'tls' / 'raw_buffer' when the chain only takes one kind (from the TLS inspector). */
  readonly transportProtocol: 'tls' | 'raw_buffer' | undefined;
  readonly destinationPort: number | undefined;
  readonly tls: TlsSpec | null;
  readonly network: ChainNetwork;
}

export interface ListenerSpec {
  readonly name: string;
  /** The address actually bound (after the proxy's wildcard/localhost mapping). */
  readonly host: string;
  readonly port: number;
  readonly chains: readonly ChainSpec[];
  /** The TLS inspector must read the ClientHello before a chain can be chosen. */
  readonly inspectTls: boolean;
}

/** Maps the addresses a listener names to what this proxy binds (its "pod" addresses). */
export interface AddressMap {
  /** What 0.0.0.0 (and ::) means for this proxy. */
  readonly wildcard: string;
  /** What 127.0.0.1 (and ::1, localhost) means for this proxy. */
  readonly localhost: string;
}

export interface CompiledConfig {
  readonly listeners: readonly ListenerSpec[];
  readonly routeTables: ReadonlyMap<string, RouteTable>;
  readonly clusters: PreparedClusters;
}

export function mapAddress(address: string, map: AddressMap): string {
  if (address === '0.0.0.0' || address === '::') return map.wildcard;
  if (address === '127.0.0.1' || address === '::1' || address === 'localhost') return map.localhost;
  return address;
}

export function compileConfig(res: ResourceSet, clusters: ClusterManager, stats: StatsRegistry, addresses: AddressMap, deps: FilterDeps): CompiledConfig {
  const routeTables = new Map<string, RouteTable>();
  for (const [name, rc] of res.routes) routeTables.set(name, compileRouteConfiguration(rc));

  // Filters that call services (ext_authz) reach them through the proxy's own clusters.
  const filterDeps: FilterDeps = { ...deps, httpClient: deps.httpClient ?? new ClusterHttpClient(clusters, deps.clock) };
  const listeners: ListenerSpec[] = [];
  const seen = new Set<string>();
  for (const l of res.listeners.values()) {
    const sa = l.address?.socketAddress;
    if (!sa?.address) throw new ConfigError(`listener ${l.name}: needs address.socketAddress`);
    const port = sa.portValue ?? 0;
    if (!(port >= 0 && port < 65536)) throw new ConfigError(`listener ${l.name}: invalid port ${port}`);
    const host = mapAddress(sa.address, addresses);
    const key = `${host}:${port}`;
    if (port !== 0 && seen.has(key)) throw new ConfigError(`listener ${l.name}: address ${key} is used by another listener`);
    seen.add(key);
    const chains = (l.filterChains ?? []).map((fc, i) => compileChain(l.name, fc, i, routeTables, stats, res.secrets, filterDeps, l.trafficDirection));
    if (chains.length === 0) throw new ConfigError(`listener ${l.name}: has no filter chains`);
    checkChains(l.name, chains);
    // Inspection is needed when chains differ by TLS or SNI; a lone chain takes everything as is.
    const inspectTls = chains.length > 1 || chains.some((c) => c.tls !== null || c.serverNames.length > 0 || c.transportProtocol !== undefined);
    listeners.push({ name: l.name, host, port, chains, inspectTls });
  }

  const prepared = clusters.prepare([...res.clusters.values()], res.endpoints, res.secrets);
  return { listeners, routeTables, clusters: prepared };
}

function compileChain(
  listener: string,
  fc: FilterChain,
  index: number,
  routeTables: ReadonlyMap<string, RouteTable>,
  stats: StatsRegistry,
  secrets: ReadonlyMap<string, Secret>,
  deps: FilterDeps,
  direction: Listener['trafficDirection'],
): ChainSpec {
  const name = fc.name || `${listener}#${index}`;
  const filters = fc.filters ?? [];
  const last = filters[filters.length - 1];
  const type = last?.typedConfig?.['@type'];
  if ((type !== HCM_TYPE || filters.length !== 1) && type !== TCP_PROXY_TYPE) {
    throw new ConfigError(`listener ${listener} chain ${name}: the filter chain must hold one HttpConnectionManager, or network filters (RBAC) then a TcpProxy`);
  }
  const network: ChainNetwork =
    type === HCM_TYPE
      ? { kind: 'http', hcm: compileHcm(listener, last!.typedConfig as unknown as HttpConnectionManager, routeTables, stats, deps, direction) }
      : { kind: 'tcp', tcp: compileTcpChain(listener, name, filters, stats, deps) };
  const m = fc.filterChainMatch ?? {};
  const tp = m.transportProtocol;
  if (tp !== undefined && tp !== 'tls' && tp !== 'raw_buffer') throw new ConfigError(`listener ${listener} chain ${name}: transportProtocol "${tp}" is not tls or raw_buffer`);
  let tlsSpec: TlsSpec | null = null;
  let missing = false;
  const ts = fc.transportSocket;
  if (ts) {
    const ctx = ts.typedConfig;
    if (ctx?.['@type'] !== DOWNSTREAM_TLS_TYPE) throw new ConfigError(`listener ${listener} chain ${name}: transport socket ${ctx?.['@type']} is not supported`);
    const common = ctx.commonTlsContext ?? {};
    let clientCa: string | null = null;
    const vsds = common.validationContextSdsSecretConfig;
    if (vsds) {
      const ca = secrets.get(vsds.name)?.validationContext?.trustedCa?.inlineString;
      if (ca) clientCa = ca;
      else missing = true;
    }
    if (ctx.requireClientCertificate && !vsds) throw new ConfigError(`listener ${listener} chain ${name}: requireClientCertificate needs a validation context (the client CA)`);
    const pairs: { certificateChain: string; privateKey: string }[] = [];
    for (const c of common.tlsCertificates ?? []) pairs.push({ certificateChain: inline(c.certificateChain, listener), privateKey: inline(c.privateKey, listener) });
    for (const sds of common.tlsCertificateSdsSecretConfigs ?? []) {
      const secret = secrets.get(sds.name);
      if (!secret?.tlsCertificate) {
        missing = true;
        continue;
      }
      pairs.push({ certificateChain: inline(secret.tlsCertificate.certificateChain, listener), privateKey: inline(secret.tlsCertificate.privateKey, listener) });
    }
    if (pairs.length > 1) throw new ConfigError(`listener ${listener} chain ${name}: one certificate per filter chain is supported`);
    const where = `listener ${listener} chain ${name}`;
    const options = tlsOptions(where, common);
    const pair = pairs.length === 1 && !missing ? pairs[0]! : null;
    // Parse now so that a bad certificate is a rejected update, not a failed handshake later.
    if (pair) checkCertificate(where, pair, options);
    tlsSpec = { options, pair, clientCa, requireClientCertificate: ctx.requireClientCertificate === true, alpn: common.alpnProtocols?.length ? common.alpnProtocols : ['h2', 'http/1.1'] };
  }
  return { name, serverNames: m.serverNames ?? [], transportProtocol: tp, destinationPort: m.destinationPort, tls: tlsSpec, network };
}

/**
 * A TCP chain: its network filters, then tcp_proxy. The istio.stats network filter is not run as
 * a filter: tcp_proxy records Istio's TCP metrics itself (telemetry/metrics/).
 */
function compileTcpChain(listener: string, name: string, filters: readonly Filter[], stats: StatsRegistry, deps: FilterDeps): TcpProxyConfig {
  const at = `listener ${listener} chain ${name}`;
  const before = filters.slice(0, -1);
  const statsFilter = before.find((f) => isStatsFilterConfig(f.typedConfig as Readonly<Record<string, unknown>> | undefined));
  const istioStats = statsFilter ? istioMetricsFor(compileStatsConfig(statsFilter.typedConfig as Readonly<Record<string, unknown>>, at), stats) : null;
  const others = before.filter((f) => f !== statsFilter);
  return compileTcpProxy(listener, filters[filters.length - 1]!.typedConfig as unknown as TcpProxy, stats, compileNetworkFilters(at, others, stats, deps), istioStats);
}

/** The network filters a TCP chain lists before tcp_proxy (src/filters/network/). */
function compileNetworkFilters(at: string, filters: readonly Filter[], stats: StatsRegistry, deps: FilterDeps): NetworkFilter[] {
  return filters.map((f) => {
    const t = f.typedConfig?.['@type'] ?? '';
    const factory = networkFilterByTypeUrl(t);
    if (!factory) throw new ConfigError(`${at}: network filter ${f.name} (${t}) is not supported`);
    return factory.create(f.typedConfig as Readonly<Record<string, unknown>>, { clock: deps.clock, stats, ...(deps.httpClient ? { httpClient: deps.httpClient } : {}) });
  });
}

/** Envoy rejects listeners whose chains cannot be told apart; so does Strait. */
function checkChains(listener: string, chains: readonly ChainSpec[]): void {
  const keys = new Set<string>();
  for (const c of chains) {
    const names = c.serverNames.length ? c.serverNames.map((n) => n.toLowerCase()) : [''];
    for (const n of names) {
      const key = `${c.destinationPort ?? ''}|${c.transportProtocol ?? (c.tls ? 'tls' : '')}|${n}`;
      if (keys.has(key)) throw new ConfigError(`listener ${listener}: two filter chains match the same connections (${key.replace(/\|/g, ' ')})`);
      keys.add(key);
    }
  }
  const tlsChains = chains.filter((c) => c.tls);
  const o = tlsChains[0]?.tls?.options;
  if (o && tlsChains.some((c) => JSON.stringify(c.tls!.options) !== JSON.stringify(o))) {
    throw new ConfigError(`listener ${listener}: filter chains differ in TLS versions or cipher suites (one set per listener is supported)`);
  }
}

function inline(ds: { inlineString?: string; filename?: string } | undefined, listener: string): string {
  if (ds?.inlineString) return ds.inlineString;
  throw new ConfigError(`listener ${listener}: certificates must be given inline or over SDS (files are not read)`);
}

/** SDS secret names the listeners (downstream TLS) and clusters (upstream TLS) refer to. */
export function sdsNames(res: { readonly listeners: ReadonlyMap<string, Listener>; readonly clusters: ReadonlyMap<string, Cluster> }): string[] {
  const out: string[] = [];
  for (const c of res.clusters.values()) out.push(...clusterSecretNames(c));
  for (const l of res.listeners.values()) {
    for (const fc of l.filterChains ?? []) {
      const common = fc.transportSocket?.typedConfig?.commonTlsContext;
      for (const s of common?.tlsCertificateSdsSecretConfigs ?? []) out.push(s.name);
      if (common?.validationContextSdsSecretConfig) out.push(common.validationContextSdsSecretConfig.name);
    }
  }
  return out;
}
