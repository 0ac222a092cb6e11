// Turns the proxy's current set of xDS resources into run-time objects in one pass: route tables,
// HTTP connection managers per listener, and prepared clusters. Pure apart from stats
// registration; throws ConfigError on anything it cannot honour, before anything is applied.

import type { StatsRegistry } from '../../telemetry/stats/stats.js';
import { HCM_TYPE } from '../../xds/resources.js';
import type { Cluster, ClusterLoadAssignment, HttpConnectionManager, Listener, RouteConfiguration } from '../../xds/resources.js';
import { compileHcm } from '../http/hcm-config.js';
import type { ListenerSpec } from '../listener/listener-manager.js';
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
}

export const EMPTY_RESOURCES: ResourceSet = { listeners: new Map(), routes: new Map(), clusters: new Map(), endpoints: new Map() };

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

export function compileConfig(res: ResourceSet, clusters: ClusterManager, stats: StatsRegistry, addresses: AddressMap): CompiledConfig {
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
    const chains = l.filterChains ?? [];
    if (chains.length !== 1) throw new ConfigError(`listener ${l.name}: exactly one filter chain is supported (got ${chains.length})`);
    const filters = chains[0]!.filters ?? [];
    if (filters.length !== 1 || filters[0]!.typedConfig?.['@type'] !== HCM_TYPE) {
      throw new ConfigError(`listener ${l.name}: the filter chain must hold one HttpConnectionManager (TCP proxying arrives later)`);
    }
    const hcm = compileHcm(l.name, filters[0]!.typedConfig as unknown as HttpConnectionManager, routeTables, stats);
    listeners.push({ name: l.name, host, port, hcm });
  }

  const prepared = clusters.prepare([...res.clusters.values()], res.endpoints);
  return { listeners, routeTables, clusters: prepared };
}
