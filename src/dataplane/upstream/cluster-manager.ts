// All clusters of a proxy by name. An update is prepared (validated, new Cluster objects built,
// nothing changed yet) and then committed; a cluster whose resource (and referenced SDS
// secrets) is unchanged keeps its object, so its pooled connections, outlier state and stats
// survive config pushes. Clusters start their timers and DNS only once committed.

import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { StatsRegistry } from '../../telemetry/stats/stats.js';
import type { Cluster as ClusterResource, ClusterLoadAssignment, Secret } from '../../xds/resources.js';
import { ConfigError } from '../config/durations.js';
import type { AddressMap } from '../config/compile.js';
import { defaultHttp1Codec } from '../http1/codec.js';
import { Cluster } from './cluster.js';
import type { ClusterOptions } from './cluster.js';
import type { Resolver } from './dns/resolver.js';
import { cloneHosts, endpointsToHosts } from './host-set.js';
import { SecureContextCache } from './tls/secure-context-cache.js';

export interface PreparedClusters {
  readonly next: Map<string, Cluster>;
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
  /** Clusters leaving the proxy (removed, or replaced by a new object of the same name). */
  readonly replaced: Cluster[];
}

export interface ClusterManagerOptions {
  readonly clock?: Clock;
  readonly resolver?: Resolver;
  /** HTTP/1.1 upstream requests use the lean codec (src/dataplane/http1/). */
  readonly leanHttp1?: boolean;
}

const NO_SECRETS: ReadonlyMap<string, Secret> = new Map();

export class ClusterManager {
  private clusters = new Map<string, Cluster>();
  private readonly tlsCache = new SecureContextCache();

  constructor(
    private readonly stats: StatsRegistry,
    private readonly random: Random,
    private readonly addresses: AddressMap,
    private readonly options: ClusterManagerOptions = {},
  ) {}

  get(name: string): Cluster | undefined {
    return this.clusters.get(name);
  }

  all(): IterableIterator<Cluster> {
    return this.clusters.values();
  }

  prepare(resources: readonly ClusterResource[], endpoints: ReadonlyMap<string, ClusterLoadAssignment>, secrets: ReadonlyMap<string, Secret> = NO_SECRETS): PreparedClusters {
    const next = new Map<string, Cluster>();
    const replaced: Cluster[] = [];
    const opts: ClusterOptions = { clock: this.options.clock, resolver: this.options.resolver, secrets, tlsCache: this.tlsCache, leanHttp1: this.options.leanHttp1 ?? defaultHttp1Codec() === 'lean' };
    for (const r of resources) {
      if (next.has(r.name)) throw new ConfigError(`duplicate cluster ${r.name}`);
      const existing = this.clusters.get(r.name);
      if (existing && existing.sameResource(r, secrets)) {
        next.set(r.name, existing);
      } else {
        next.set(r.name, new Cluster(r, this.stats, this.random, this.addresses, opts));
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
      const before = this.clusters.get(c.name);
      const replacing = before !== undefined && before !== c;
      if (c.edsName) {
        const cla = p.endpoints.get(c.edsName);
        if (cla) c.setEndpoints(cla);
        // Until its assignment arrives, a replaced EDS cluster serves the hosts of the one it
        // replaces (Envoy's cluster warming, simplified); a brand-new one has none yet.
        else if (replacing) c.setHosts(cloneHosts(before.hosts()));
      } else if (c.type === 'STRICT_DNS' && replacing && c.hosts().length === 0) {
        // Likewise until the replacement's first DNS answer.
        c.setHosts(cloneHosts(before.hosts()));
      }
    }
    this.clusters = p.next;
    for (const c of p.replaced) c.drain();
    for (const c of p.next.values()) c.start();
    const keep = new Set<string>();
    for (const c of p.next.values()) for (const t of c.tlsContexts()) if (t.contextKey) keep.add(t.contextKey);
    this.tlsCache.retainOnly(keep);
  }

  close(): void {
    for (const c of this.clusters.values()) c.close();
  }
}
