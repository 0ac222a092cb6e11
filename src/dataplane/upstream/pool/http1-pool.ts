// HTTP/1.1 connection pool of one cluster, with Envoy's semantics instead of Node's Agent (which
// queues without bound): per-host lists of connections, one request per connection at a time,
// the cluster's circuit breaker for connections and pending requests, and connection lifetime
// limits (max requests, max duration, idle timeout on the injected clock).
//
// It plugs into node:http through the agent contract `agent.addRequest(req, options)`: the pool
// answers with `req.onSocket(socket)` (a warm idle connection, or a new one still connecting),
// or `req.onSocket(null, error)` to fail the request at once. After a keep-alive response the
// socket emits 'free' and the pool reuses it.
//
// "Pending" follows Envoy: a request is pending from the moment it cannot get a ready
// connection until it has one, whether it waits for a busy connection or for a new one to
// connect. When the pending limit is reached the request fails at once with
// STRAIT_UPSTREAM_OVERFLOW. A host with no connection may always open one (Envoy's rule, so a
// host never waits on connections other hosts hold).

import http from 'node:http';
import type net from 'node:net';
import type { Clock, Timer } from '../../../common/clock.js';
import type { CircuitBreaker } from '../circuit-breaker.js';
import type { ClusterStats } from '../cluster-stats.js';
import type { Host } from '../host.js';
import { hostKey } from '../host.js';
import type { Connector } from './connector.js';
import { POOL_CLOSED, UPSTREAM_OVERFLOW, upstreamError } from './errors.js';
import type { UpstreamError } from './errors.js';

export interface Http1Settings {
  /** Close a connection idle this long; 0 keeps idle connections open. */
  readonly idleTimeoutMs: number;
  /** Close a connection after this many requests; 0 = unlimited, 1 disables keep-alive. */
  readonly maxRequestsPerConnection: number;
  /** Stop reusing a connection this old; 0 = no limit. */
  readonly maxConnectionDurationMs: number;
}

/** An http.Agent whose only job is to hand requests to a pool. */
export class PoolAgent extends http.Agent {
  constructor(
    private readonly dispatch: (req: http.ClientRequest, options: http.RequestOptions) => void,
    private readonly onDestroy: () => void,
  ) {
    // keepAlive tells ClientRequest the connection may be reused (it then keeps it open).
    super({ keepAlive: true });
  }

  /** Node's agent contract (undocumented but stable since Node 0.x; agent-base relies on it). */
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    this.dispatch(req, options);
  }

  override destroy(): void {
    this.onDestroy();
  }
}

type PendingRequest = http.ClientRequest & { reusedSocket: boolean };

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

export class Http1HostPool {
  readonly agent: PoolAgent;
  /** What the router passes to http.request for this host (plus method, path, headers). */
  readonly requestOptions: Readonly<http.RequestOptions>;
  private readonly idle: Connection[] = [];
  private readonly conns = new Set<Connection>();
  private queue: PendingRequest[] = [];
  private tlsSession: Buffer | undefined;
  /** Kept while the host is in the cluster's host set; otherwise dropped once empty. */
  pinned = false;

  constructor(
    private readonly pool: Http1Pool,
    readonly key: string,
    private readonly address: string,
    private readonly port: number,
  ) {
    this.agent = new PoolAgent((req) => this.addRequest(req as PendingRequest), () => this.drain());
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
    if (refusal) return fail(req, refusal);
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
        return fail(req, pool.overflowError);
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
  private armIdleTimer(c: Connection): void {
    const ms = this.pool.settings.idleTimeoutMs;
    if (ms <= 0 || c.idleTimer !== null) return;
    c.idleTimer = this.pool.clock.setTimer(ms, () => {
      c.idleTimer = null;
      if (c.closed || c.busy) return;
      const idleFor = this.pool.clock.monotonic() - c.idleSince;
      if (idleFor >= ms) {
        this.pool.stats.cxIdleTimeout.value++;
        c.socket.destroy();
      } else {
        this.armIdleTimer(c);
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
      if (!req.destroyed) fail(req, err);
    }
    for (const c of [...this.conns]) c.socket.destroy();
  }
}

function usable(c: Connection): boolean {
  return !c.closed && !c.draining && !c.socket.destroyed && c.socket.writable;
}

function fail(req: http.ClientRequest, err: Error): void {
  // ClientRequest.onSocket(socket, err) is how Node's own Agent reports a failed connection.
  (req as unknown as { onSocket(s: null, e: Error): void }).onSocket(null, err);
}

export class Http1Pool {
  /** Cluster-wide agent for callers that pass host and port per request (ORIGINAL_DST, mirrors). */
  readonly agent: PoolAgent;
  /** Host pools with requests queued for want of a connection. */
  readonly waiting = new Set<Http1HostPool>();
  readonly overflowError: UpstreamError;
  private readonly hosts = new Map<string, Http1HostPool>();
  /** Keys of the cluster's current hosts: their pools stay even when empty. */
  private current = new Set<string>();
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
        this.forAddress(address, Number(options.port ?? 80)).addRequest(req as PendingRequest);
      },
      () => this.close(),
    );
    // One error object per pool: overflow is the overload path, where allocation hurts most.
    this.overflowError = upstreamError(UPSTREAM_OVERFLOW, `cluster ${cluster}: upstream overflow (circuit breaker: max pending requests reached)`);
  }

  forHost(host: Host): Http1HostPool {
    return this.hosts.get(host.key) ?? this.create(host.key, host.address, host.port);
  }

  forAddress(address: string, port: number): Http1HostPool {
    const key = hostKey(address, port);
    return this.hosts.get(key) ?? this.create(key, address, port);
  }

  private create(key: string, address: string, port: number): Http1HostPool {
    const hp = new Http1HostPool(this, key, address, port);
    hp.pinned = this.current.has(key);
    this.hosts.set(key, hp);
    return hp;
  }

  /** Why new requests fail before trying (pool closed, TLS secret missing), or null. */
  refusal(): Error | null {
    if (this.closed) return upstreamError(POOL_CLOSED, `cluster ${this.cluster}: the connection pool is closed`);
    return this.connector.unavailable();
  }

  /** A connection closed somewhere: hosts waiting for connection capacity may proceed. */
  capacityFreed(from: Http1HostPool): void {
    if (from.queued > 0) from.serveQueue();
    for (const hp of this.waiting) if (hp !== from && !hp.serveQueue()) break;
    if (!from.pinned && from.connectionCount === 0 && from.queued === 0) this.hosts.delete(from.key);
  }

  pruneQueues(): void {
    for (const hp of [...this.waiting]) hp.pruneDestroyed();
  }

  /** Keeps pools for the current hosts; pools of departed hosts drain and are dropped when empty. */
  retainHosts(hosts: readonly Host[]): void {
    this.current = new Set(hosts.map((h) => h.key));
    for (const hp of [...this.hosts.values()]) {
      hp.pinned = this.current.has(hp.key);
      if (hp.pinned) continue;
      hp.drain();
      if (hp.connectionCount === 0 && hp.queued === 0) this.hosts.delete(hp.key);
    }
  }

  /** Number of per-host pools (tests, admin). */
  get hostPoolCount(): number {
    return this.hosts.size;
  }

  drain(): void {
    this.draining = true;
    for (const hp of this.hosts.values()) hp.drain();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = upstreamError(POOL_CLOSED, `cluster ${this.cluster}: the connection pool is closed`);
    for (const hp of [...this.hosts.values()]) hp.close(err);
    this.hosts.clear();
  }
}
