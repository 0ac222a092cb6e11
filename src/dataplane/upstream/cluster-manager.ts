// All clusters of a proxy by name. An update is prepared (validated, new Cluster objects built,
// nothing changed yet) and then committed; a cluster whose resource is unchanged keeps its
// object, so its pooled connections and stats survive config pushes.

import type { Random } from '../../common/random.js';
import type { StatsRegistry } from '../../telemetry/stats/stats.js';
import type { Cluster as ClusterResource, ClusterLoadAssignment } from '../../xds/resources.js';
import { ConfigError } from '../config/durations.js';
import type { AddressMap } from '../config/compile.js';
import { Cluster, endpointsToHosts } from './cluster.js';

export interface PreparedClusters {
  readonly next: Map<string, Cluster>;
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
  /** Clusters leaving the proxy (removed, or replaced by a new object of the same name). */
  readonly replaced: Cluster[];
}

export class ClusterManager {
  private clusters = new Map<string, Cluster>();

  constructor(
    private readonly stats: StatsRegistry,
    private readonly random: Random,
    private readonly addresses: AddressMap,
  ) {}

  get(name: string): Cluster | undefined {
    return this.clusters.get(name);
  }

  all(): IterableIterator<Cluster> {
    return this.clusters.values();
  }

  prepare(resources: readonly ClusterResource[], endpoints: ReadonlyMap<string, ClusterLoadAssignment>): PreparedClusters {
    const next = new Map<string, Cluster>();
    const replaced: Cluster[] = [];
    for (const r of resources) {
      if (next.has(r.name)) throw new ConfigError(`duplicate cluster ${r.name}`);
      const existing = this.clusters.get(r.name);
      if (existing && existing.sameResource(r)) {
        next.set(r.name, existing);
      } else {
        next.set(r.name, new Cluster(r, this.stats, this.random, this.addresses));
        if (existing) replaced.push(existing);
      }
    }
    for (const [name, c] of this.clusters) if (!next.has(name)) replaced.push(c);
    // Validate every assignment now; applying one later must not be able to fail.
    for (const c of next.values()) {
      const cla = c.edsName ? endpoints.get(c.edsName) : undefined;
      if (cla) endpointsToHosts(c.name, cla, this.addresses);
    }
    return { next, endpoints, replaced };
  }

  commit(p: PreparedClusters): void {
    for (const c of p.next.values()) {
      if (!c.edsName) continue;
      const cla = p.endpoints.get(c.edsName);
      if (cla) {
        c.setEndpoints(cla);
      } else {
        // Until its assignment arrives, a replaced EDS cluster serves the hosts of the one it
        // replaces (Envoy's cluster warming, simplified); a brand-new one has none yet.
        const before = this.clusters.get(c.name);
        if (before && before !== c) c.setHosts(before.hosts());
      }
    }
    this.clusters = p.next;
    for (const c of p.replaced) c.pool.drain();
  }

  close(): void {
    for (const c of this.clusters.values()) c.pool.close();
  }
}
