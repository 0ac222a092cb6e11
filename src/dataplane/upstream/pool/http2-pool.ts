// HTTP/2 session pool of one cluster: per-host session sets (Http2HostPool) under the cluster's
// circuit breaker, settings and stats; `session(host)` is the cluster's h2Session.

import type http2 from 'node:http2';
import type { Clock } from '../../../common/clock.js';
import type { CircuitBreaker } from '../circuit-breaker.js';
import type { ClusterStats } from '../cluster-stats.js';
import type { Host } from '../host.js';
import type { Connector } from './connector.js';
import { POOL_CLOSED, UPSTREAM_OVERFLOW, upstreamError } from './errors.js';
import type { UpstreamError } from './errors.js';
import { HostPools } from './host-pools.js';
import { Http2HostPool } from './http2-host-pool.js';
import type { Http2Settings } from './http2-host-pool.js';

export type { Http2Settings } from './http2-host-pool.js';

export class Http2Pool {
  readonly overflowError: UpstreamError;
  readonly hosts = new HostPools<Http2HostPool>((key, address, port) => new Http2HostPool(this, key, address, port));
  private lapseScheduled = false;
  private closed = false;

  constructor(
    readonly cluster: string,
    readonly settings: Http2Settings,
    readonly connector: Connector,
    readonly breaker: CircuitBreaker,
    readonly stats: ClusterStats,
    readonly clock: Clock,
  ) {
    this.overflowError = upstreamError(UPSTREAM_OVERFLOW, `cluster ${cluster}: upstream overflow (circuit breaker: max pending requests reached)`);
  }

  get waiting(): Set<Http2HostPool> {
    return this.hosts.waiting;
  }

  session(host: Host): Promise<http2.ClientHttp2Session> {
    return this.hosts.forHost(host).acquire();
  }

  refusal(): Error | null {
    if (this.closed) return upstreamError(POOL_CLOSED, `cluster ${this.cluster}: the connection pool is closed`);
    return this.connector.unavailable();
  }

  /**
   * One sweep per event-loop turn, however many sessions were handed out in it. This is
   * scheduling, not timing: the sweep runs once the callers' continuations had their chance.
   */
  scheduleReservationLapse(): void {
    if (this.lapseScheduled) return;
    this.lapseScheduled = true;
    setImmediate(() => {
      this.lapseScheduled = false;
      for (const hp of this.hosts.values()) hp.lapseReservations();
    });
  }

  capacityFreed(from: Http2HostPool): void {
    this.hosts.capacityFreed(from);
  }

  retainHosts(hosts: readonly Host[]): void {
    this.hosts.retainHosts(hosts);
  }

  drain(): void {
    this.hosts.drain();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hosts.close(upstreamError(POOL_CLOSED, `cluster ${this.cluster}: the connection pool is closed`));
  }
}
