// The HTTP/1.1 connections to one upstream host, part of a cluster's Http1Pool (which holds the
// cluster-wide settings, circuit breaker and stats). One request per connection at a time;
// idle connections are reused warmest first (LIFO) and close on the idle timer.
//
// "Pending" follows Envoy: a request is pending from the moment it cannot get a ready
// connection until it has one, whether it waits for a busy connection or for a new one to
// connect. When the pending limit is reached the request fails at once with
// STRAIT_UPSTREAM_OVERFLOW. A host with no connection may always open one (Envoy's rule, so a
// host never waits on connections other hosts hold).

import type http from 'node:http';
import type net from 'node:net';
import type { Timer } from '../../../common/clock.js';
import type { UpstreamError } from './errors.js';
import type { HostPool } from './host-pools.js';
import type { Http1Pool } from './http1-pool.js';
import { failRequest, PoolAgent } from './pool-agent.js';

export interface Http1Settings {
  /** Close a connection idle this long; 0 keeps idle connections open. */
  readonly idleTimeoutMs: number;
  /** Close a connection after this many requests; 0 = unlimited, 1 disables keep-alive. */
  readonly maxRequestsPerConnection: number;
  /** Stop reusing a connection this old; 0 = no limit. */
  readonly maxConnectionDurationMs: number;
}

/**
 * What the pool hands connections to: node:http's ClientRequest (through PoolAgent), or the
 * lean codec's request (src/dataplane/http1/). Both follow node's agent contract: the pool
 * calls onSocket(socket), or onSocket(null, error) to fail the request; the request gives
 * the connection back by emitting 'free' on the socket once its response is complete.
 */
export interface PendingRequest {
  readonly destroyed: boolean;
  /** Set by the pool when the request goes out on a kept-alive connection. */
  reusedSocket: boolean;
  /** Cleared by the pool for a connection's last request (it sends `Connection: close`). */
  shouldKeepAlive: boolean;
  onSocket(socket: net.Socket | null, err?: Error): void;
}

class Connection {
  ready = false;
  busy = false;
  closed = false;
  draining = false;
  requests = 0;
  /** This connection carries one pending request until it is ready. */
  pendingCharge = false;
  idleSince = 0;
  idleTimer: Timer | null = null;
  durationTimer: Timer | null = null;
  socket!: net.Socket;
}

export class Http1HostPool implements HostPool {
  readonly agent: PoolAgent;
  /** What the router passes to http.request for this host (plus method, path, headers). */
  readonly requestOptions: Readonly<http.RequestOptions>;
  private readonly idle: Connection[] = [];
  private readonly conns = new Set<Connection>();
  private queue: PendingRequest[] = [];
  private tlsSession: Buffer | undefined;
  /** Kept while the host is in the cluster's host set; otherwise dropped once empty. */
  pinned = false;

  /** Connections waiting for a request (tests wait for a response's connection to come back). */
  get idleCount(): number {
    return this.idle.length;
  }

  constructor(
    private readonly pool: Http1Pool,
    readonly key: string,
    private readonly address: string,
    private readonly port: number,
  ) {
    this.agent = new PoolAgent((req) => this.addRequest(req as unknown as PendingRequest), () => this.drain());
    this.requestOptions = Object.freeze({ agent: this.agent, host: address, port });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  addRequest(req: PendingRequest): void {
    const pool = this.pool;
    const refusal = pool.refusal();
    if (refusal) return failRequest(req, refusal);
    for (let c = this.idle.pop(); c !== undefined; c = this.idle.pop()) {
      if (usable(c)) return this.assign(c, req, true);
      c.socket.destroy();
    }
    // No ready connection: the request is pending from here on.
    const breaker = pool.breaker;
    if (!breaker.canQueue()) {
      pool.pruneQueues();
      if (!breaker.canQueue()) {
        pool.stats.rqPendingOverflow.value++;
        return failRequest(req, pool.overflowError);
      }
    }
    breaker.pendingAdded();
    if (this.canConnect()) {
      const c = this.connect();
      c.pendingCharge = true;
      return this.assign(c, req, false);
    }
    pool.stats.cxOverflow.value++;
    this.queue.push(req);
    pool.waiting.add(this);
  }

  private canConnect(): boolean {
    return this.pool.breaker.canOpenConnection() || this.conns.size === 0;
  }

  private connect(): Connection {
    const pool = this.pool;
    const c = new Connection();
    pool.breaker.connectionOpened();
    pool.stats.cxHttp1Total.value++;
    c.socket = pool.connector.connect(
      this.address,
      this.port,
      this.tlsSession,
      {
        onReady: () => {
          c.ready = true;
          this.releaseCharge(c);
        },
        onClose: () => this.onClose(c),
      },
      (s) => (this.tlsSession = s),
    );
    c.socket.on('free', () => this.onFree(c));
    // Upgraded (or CONNECT) connections leave the pool for good; they still count until closed.
    c.socket.on('agentRemove', () => {
      c.draining = true;
      this.removeIdle(c);
    });
    const maxAge = pool.settings.maxConnectionDurationMs;
    if (maxAge > 0) {
      c.durationTimer = pool.clock.setTimer(maxAge, () => {
        c.durationTimer = null;
        if (c.closed) return;
        pool.stats.cxMaxDurationReached.value++;
        c.draining = true;
        if (!c.busy) c.socket.destroy();
      });
    }
    this.conns.add(c);
    return c;
  }

  private assign(c: Connection, req: PendingRequest, reused: boolean): void {
    c.busy = true;
    c.requests++;
    if (reused) req.reusedSocket = true;
    const max = this.pool.settings.maxRequestsPerConnection;
    if (max > 0 && c.requests >= max) {
      // The last request: ClientRequest sends `Connection: close` when it can and closes after.
      req.shouldKeepAlive = false;
      c.draining = true;
      this.pool.stats.cxMaxRequests.value++;
    }
    req.onSocket(c.socket);
  }

  private onFree(c: Connection): void {
    c.busy = false;
    if (c.closed) return;
    if (c.draining || c.socket.destroyed || !c.socket.writable) {
      c.socket.destroy();
      return;
    }
    const next = this.dequeue();
    if (next) {
      this.pool.breaker.pendingRemoved();
      this.assign(c, next, true);
      return;
    }
    if (this.pool.draining) {
      c.socket.destroy();
      return;
    }
    c.idleSince = this.pool.clock.monotonic();
    this.idle.push(c);
    this.armIdleTimer(c);
  }

  /** One timer per idle connection, re-armed only when it fires early (no timer per request). */
  private armIdleTimer(c: Connection, delay = this.pool.settings.idleTimeoutMs): void {
    const ms = this.pool.settings.idleTimeoutMs;
    if (ms <= 0 || c.idleTimer !== null) return;
    c.idleTimer = this.pool.clock.setTimer(delay, () => {
      c.idleTimer = null;
      if (c.closed || c.busy) return;
      const idleFor = this.pool.clock.monotonic() - c.idleSince;
      if (idleFor >= ms) {
        this.pool.stats.cxIdleTimeout.value++;
        c.socket.destroy();
      } else {
        this.armIdleTimer(c, ms - idleFor);
      }
    });
  }

  private onClose(c: Connection): void {
    c.closed = true;
    c.idleTimer?.cancel();
    c.durationTimer?.cancel();
    this.conns.delete(c);
    this.removeIdle(c);
    this.releaseCharge(c);
    this.pool.breaker.connectionClosed();
    this.pool.capacityFreed(this);
  }

  private releaseCharge(c: Connection): void {
    if (!c.pendingCharge) return;
    c.pendingCharge = false;
    this.pool.breaker.pendingRemoved();
  }

  private removeIdle(c: Connection): void {
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Opens connections for queued requests while the breaker allows. Returns false when blocked. */
  serveQueue(): boolean {
    while (this.queue.length > 0) {
      if (!this.canConnect()) return false;
      const req = this.dequeue();
      if (!req) break;
      const c = this.connect();
      c.pendingCharge = true; // the request's pending charge moves to its connection
      this.assign(c, req, false);
    }
    return true;
  }

  /** The next queued request still wanted; requests destroyed while queued are dropped. */
  private dequeue(): PendingRequest | undefined {
    while (this.queue.length > 0) {
      const req = this.queue.shift()!;
      if (!req.destroyed) {
        if (this.queue.length === 0) this.pool.waiting.delete(this);
        return req;
      }
      this.pool.breaker.pendingRemoved();
    }
    this.pool.waiting.delete(this);
    return undefined;
  }

  pruneDestroyed(): void {
    const before = this.queue.length;
    this.queue = this.queue.filter((r) => !r.destroyed);
    for (let i = this.queue.length; i < before; i++) this.pool.breaker.pendingRemoved();
    if (this.queue.length === 0) this.pool.waiting.delete(this);
  }

  /** Stops reusing connections: idle ones close now, busy ones after their response. */
  drain(): void {
    for (const c of this.conns) c.draining = true;
    for (const c of [...this.idle]) c.socket.destroy();
  }

  close(err: UpstreamError): void {
    const queued = this.queue;
    this.queue = [];
    this.pool.waiting.delete(this);
    for (const req of queued) {
      this.pool.breaker.pendingRemoved();
      if (!req.destroyed) failRequest(req, err);
    }
    for (const c of [...this.conns]) c.socket.destroy();
  }
}

function usable(c: Connection): boolean {
  return !c.closed && !c.draining && !c.socket.destroyed && c.socket.writable;
}
