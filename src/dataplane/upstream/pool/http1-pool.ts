// HTTP/1.1 connection pool of one cluster, with Envoy's semantics instead of Node's Agent (which
// queues without bound): per-host connection lists (Http1HostPool), the cluster's circuit
// breaker for connections and pending requests, and connection lifetime limits (max requests,
// max duration, idle timeout on the injected clock). It plugs into node:http as an agent (see
// pool-agent.ts): `requestOptions(host)` of the cluster carries the host's agent.

import type { Clock } from '../../../common/clock.js';
import type { CircuitBreaker } from '../circuit-breaker.js';
import type { ClusterStats } from '../cluster-stats.js';
import type { Host } from '../host.js';
import type { Connector } from './connector.js';
import { POOL_CLOSED, UPSTREAM_OVERFLOW, upstreamError } from './errors.js';
import type { UpstreamError } from './errors.js';
import { HostPools } from './host-pools.js';
import { Http1HostPool } from './http1-host-pool.js';
import type { Http1Settings, PendingRequest } from './http1-host-pool.js';
import { PoolAgent } from './pool-agent.js';

export type { Http1Settings } from './http1-host-pool.js';

export class Http1Pool {
  /** Cluster-wide agent for callers that pass host and port per request (ORIGINAL_DST, mirrors). */
  readonly agent: PoolAgent;
  readonly overflowError: UpstreamError;
  readonly hosts = new HostPools<Http1HostPool>((key, address, port) => new Http1HostPool(this, key, address, port));
  draining = false;
  private closed = false;

  constructor(
    readonly cluster: string,
    readonly settings: Http1Settings,
    readonly connector: Connector,
    readonly breaker: CircuitBreaker,
    readonly stats: ClusterStats,
    readonly clock: Clock,
  ) {
    this.agent = new PoolAgent(
      (req, options) => {
        const address = String(options.host ?? options.hostname ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
        this.hosts.forAddress(address, Number(options.port ?? 80)).addRequest(req as unknown as PendingRequest);
      },
      () => this.close(),
    );
    // One error object per pool: overflow is the overload path, where allocation hurts most.
    this.overflowError = upstreamError(UPSTREAM_OVERFLOW, `cluster ${cluster}: upstream overflow (circuit breaker: max pending requests reached)`);
  }

  get waiting(): Set<Http1HostPool> {
    return this.hosts.waiting;
  }

  forHost(host: Host): Http1HostPool {
    return this.hosts.forHost(host);
  }

  /** Why new requests fail before trying (pool closed, TLS secret missing), or null. */
  refusal(): Error | null {
    if (this.closed) return upstreamError(POOL_CLOSED, `cluster ${this.cluster}: the connection pool is closed`);
    return this.connector.unavailable();
  }

  capacityFreed(from: Http1HostPool): void {
    this.hosts.capacityFreed(from);
  }

  /** Requests abandoned while queued still hold pending slots until pruned (only at the limit). */
  pruneQueues(): void {
    for (const hp of [...this.hosts.waiting]) hp.pruneDestroyed();
  }

  retainHosts(hosts: readonly Host[]): void {
    this.hosts.retainHosts(hosts);
  }

  drain(): void {
    this.draining = true;
    this.hosts.drain();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hosts.close(upstreamError(POOL_CLOSED, `cluster ${this.cluster}: the connection pool is closed`));
  }
}
