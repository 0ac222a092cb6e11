// The per-host pools of one cluster and protocol, by host key. Pools of the cluster's current
// hosts are pinned (kept even when empty, with their TLS session for resumption); others — a
// host that left the EDS set, an ORIGINAL_DST destination — drain and are dropped once empty.
// Connection capacity is cluster-wide (circuit breaker), so when any connection closes the
// hosts with requests waiting for one are offered the freed capacity.

import type { Host } from '../host.js';
import { hostKey } from '../host.js';
import type { UpstreamError } from './errors.js';

export interface HostPool {
  readonly key: string;
  pinned: boolean;
  /** Open (or opening) connections. */
  readonly connectionCount: number;
  /** Requests waiting for connection capacity. */
  readonly queued: number;
  /** Opens connections for queued requests while the breaker allows; false when blocked. */
  serveQueue(): boolean;
  drain(): void;
  close(err: UpstreamError): void;
}

export class HostPools<P extends HostPool> {
  /** Pools with requests queued for want of a connection, in the order they started waiting. */
  readonly waiting = new Set<P>();
  private readonly pools = new Map<string, P>();
  private current = new Set<string>();

  constructor(private readonly make: (key: string, address: string, port: number) => P) {}

  forHost(host: Host): P {
    return this.pools.get(host.key) ?? this.create(host.key, host.address, host.port);
  }

  forAddress(address: string, port: number): P {
    const key = hostKey(address, port);
    return this.pools.get(key) ?? this.create(key, address, port);
  }

  private create(key: string, address: string, port: number): P {
    const p = this.make(key, address, port);
    p.pinned = this.current.has(key);
    this.pools.set(key, p);
    return p;
  }

  capacityFreed(from: P): void {
    if (from.queued > 0) from.serveQueue();
    for (const p of this.waiting) if (p !== from && !p.serveQueue()) break;
    this.dropIfDone(from);
  }

  retainHosts(hosts: readonly Host[]): void {
    this.current = new Set(hosts.map((h) => h.key));
    for (const p of [...this.pools.values()]) {
      p.pinned = this.current.has(p.key);
      if (p.pinned) continue;
      p.drain();
      this.dropIfDone(p);
    }
  }

  private dropIfDone(p: P): void {
    if (!p.pinned && p.connectionCount === 0 && p.queued === 0 && this.pools.get(p.key) === p) this.pools.delete(p.key);
  }

  values(): IterableIterator<P> {
    return this.pools.values();
  }

  get size(): number {
    return this.pools.size;
  }

  drain(): void {
    for (const p of this.pools.values()) p.drain();
  }

  close(err: UpstreamError): void {
    for (const p of [...this.pools.values()]) p.close(err);
    this.pools.clear();
    this.waiting.clear();
  }
}
