// Turns the proxy's current set of xDS resources into run-time objects in one pass: route tables,
// HTTP connection managers per listener, and prepared clusters. Pure apart from stats
// registration; throws ConfigError on anything it cannot honour, before anything is applied.

import type { StatsRegistry } from '../../telemetry/stats/stats.js';
import type tls from 'node:tls';
import { DOWNSTREAM_TLS_TYPE, HCM_TYPE } from '../../xds/resources.js';
import type { Cluster, ClusterLoadAssignment, FilterChain, HttpConnectionManager, Listener, RouteConfiguration, Secret } from '../../xds/resources.js';
import type { FilterDeps, HcmConfig } from '../http/hcm-config.js';
import { tlsOptions } from '../tls/tls-context.js';
import type { TlsContextCache, TlsOptions } from '../tls/tls-context.js';
import { compileHcm } from '../http/hcm-config.js';
import { compileRouteConfiguration } from '../router/route-table.js';
import type { RouteTable } from '../router/route-table.js';
import type { ClusterManager, PreparedClusters } from '../upstream/cluster-manager.js';
import { ConfigError } from './durations.js';

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
  readonly secureContext: tls.SecureContext | null;
  readonly alpn: readonly string[];
  readonly options: TlsOptions;
}

/** One filter chain: which connections it takes (SNI), its TLS, its HTTP connection manager. */
export interface ChainSpec {
  readonly name: string;
  readonly serverNames: readonly string[];
  readonly tls: TlsSpec | null;
  readonly hcm: HcmConfig;
}

export interface ListenerSpec {
  readonly name: string;
  /** The address actually bound (after the proxy's wildcard/localhost mapping). */
  readonly host: string;
  readonly port: number;
  readonly kind: 'plain' | 'tls';
  readonly chains: readonly ChainSpec[];
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

export function compileConfig(res: ResourceSet, clusters: ClusterManager, stats: StatsRegistry, addresses: AddressMap, tlsCache: TlsContextCache, deps: FilterDeps): CompiledConfig {
  const routeTables = new Map<string, RouteTable>();
  for (const [name, rc] of res.routes) routeTables.set(name, compileRouteConfiguration(rc));

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
    const chains = (l.filterChains ?? []).map((fc, i) => compileChain(l.name, fc, i, routeTables, stats, res.secrets, tlsCache, deps));
    if (chains.length === 0) throw new ConfigError(`listener ${l.name}: has no filter chains`);
    const tlsChains = chains.filter((c) => c.tls).length;
    if (tlsChains !== 0 && tlsChains !== chains.length) {
      throw new ConfigError(`listener ${l.name}: mixes TLS and plaintext filter chains (TLS detection on one port arrives with mTLS)`);
    }
    if (tlsChains === 0 && chains.length > 1) throw new ConfigError(`listener ${l.name}: a plaintext listener takes exactly one filter chain`);
    if (tlsChains > 0) {
      const names = new Set<string>();
      let defaults = 0;
      for (const c of chains) {
        if (c.serverNames.length === 0) defaults++;
        for (const n of c.serverNames) {
          if (names.has(n.toLowerCase())) throw new ConfigError(`listener ${l.name}: server name ${n} is in two filter chains`);
          names.add(n.toLowerCase());
        }
      }
      if (defaults > 1) throw new ConfigError(`listener ${l.name}: more than one filter chain without server names`);
      const o = chains[0]!.tls!.options;
      if (chains.some((c) => JSON.stringify(c.tls!.options) !== JSON.stringify(o))) {
        throw new ConfigError(`listener ${l.name}: filter chains differ in TLS versions or cipher suites (one set per listener is supported)`);
      }
    }
    listeners.push({ name: l.name, host, port, kind: tlsChains > 0 ? 'tls' : 'plain', chains });
  }

  const prepared = clusters.prepare([...res.clusters.values()], res.endpoints);
  return { listeners, routeTables, clusters: prepared };
}

function compileChain(
  listener: string,
  fc: FilterChain,
  index: number,
  routeTables: ReadonlyMap<string, RouteTable>,
  stats: StatsRegistry,
  secrets: ReadonlyMap<string, Secret>,
  tlsCache: TlsContextCache,
  deps: FilterDeps,
): ChainSpec {
  const name = fc.name || `${listener}#${index}`;
  const filters = fc.filters ?? [];
  if (filters.length !== 1 || filters[0]!.typedConfig?.['@type'] !== HCM_TYPE) {
    throw new ConfigError(`listener ${listener} chain ${name}: the filter chain must hold one HttpConnectionManager (TCP proxying arrives later)`);
  }
  const hcm = compileHcm(listener, filters[0]!.typedConfig as unknown as HttpConnectionManager, routeTables, stats, deps);
  let tlsSpec: TlsSpec | null = null;
  const ts = fc.transportSocket;
  if (ts) {
    const ctx = ts.typedConfig;
    if (ctx?.['@type'] !== DOWNSTREAM_TLS_TYPE) throw new ConfigError(`listener ${listener} chain ${name}: transport socket ${ctx?.['@type']} is not supported`);
    if (ctx.requireClientCertificate) throw new ConfigError(`listener ${listener} chain ${name}: client certificates (MUTUAL) arrive with mTLS`);
    const common = ctx.commonTlsContext ?? {};
    const pairs: { certificateChain: string; privateKey: string }[] = [];
    let missing = false;
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
    tlsSpec = {
      options,
      secureContext: pairs.length === 1 && !missing ? tlsCache.get(where, pairs[0]!, options) : null,
      alpn: common.alpnProtocols?.length ? common.alpnProtocols : ['h2', 'http/1.1'],
    };
  }
  return { name, serverNames: fc.filterChainMatch?.serverNames ?? [], tls: tlsSpec, hcm };
}

function inline(ds: { inlineString?: string; filename?: string } | undefined, listener: string): string {
  if (ds?.inlineString) return ds.inlineString;
  throw new ConfigError(`listener ${listener}: certificates must be given inline or over SDS (files are not read)`);
}

/** SDS secret names the listeners refer to. */
export function sdsNames(listeners: ReadonlyMap<string, Listener>): string[] {
  const out: string[] = [];
  for (const l of listeners.values()) for (const fc of l.filterChains ?? []) for (const s of fc.transportSocket?.typedConfig?.commonTlsContext?.tlsCertificateSdsSecretConfigs ?? []) out.push(s.name);
  return out;
}
