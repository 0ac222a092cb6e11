// The HTTP/2 sessions to one upstream host, part of a cluster's Http2Pool: sessions (h2c with
// prior knowledge, or h2 negotiated by ALPN over the cluster's TLS) each carrying up to
// maxConcurrentStreams streams — the smaller of the cluster's setting and the peer's SETTINGS —
// with another session opened when all are full. Sessions count as connections in the cluster's
// circuit breaker; a caller that must wait for a session (one connecting, or none allowed) is
// pending, and fails at once with STRAIT_UPSTREAM_OVERFLOW when the pending limit is reached.
// Sessions leave the pool on GOAWAY, error or close, after maxRequestsPerConnection streams, at
// maxConnectionDuration, and when idle for the idle timeout.
//
// Node exposes no stream count on a client session, so each session's `request` is wrapped once
// to count its streams. A session handed to a caller reserves one stream until the caller's
// `request()`; unused reservations lapse at the next turn of the event loop.

import http2 from 'node:http2';
import type tls from 'node:tls';
import type { Timer } from '../../../common/clock.js';
import { markConnectFailure, upstreamError } from './errors.js';
import type { UpstreamError } from './errors.js';
import type { HostPool } from './host-pools.js';
import type { Http2Pool } from './http2-pool.js';

export interface Http2Settings {
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  readonly maxConnectionDurationMs: number;
  readonly maxConcurrentStreams: number;
}

interface Waiter {
  resolve(s: http2.ClientHttp2Session): void;
  reject(e: Error): void;
}

class Session {
  ready = false;
  closed = false;
  draining = false;
  active = 0;
  reserved = 0;
  total = 0;
  idleSince = 0;
  idleTimer: Timer | null = null;
  durationTimer: Timer | null = null;
  /** Callers waiting for this session to connect; each holds a pending-request charge. */
  waiters: Waiter[] = [];
  /** The socket's own error (ECONNREFUSED, a TLS failure): the reason waiters are given. */
  socketError: Error | null = null;
  session!: http2.ClientHttp2Session;
}

export class Http2HostPool implements HostPool {
  private readonly sessions: Session[] = [];
  private queue: Waiter[] = [];
  private tlsSession: Buffer | undefined;
  pinned = false;

  constructor(
    private readonly pool: Http2Pool,
    readonly key: string,
    private readonly address: string,
    private readonly port: number,
  ) {}

  get connectionCount(): number {
    return this.sessions.length;
  }

  get queued(): number {
    return this.queue.length;
  }

  acquire(): Promise<http2.ClientHttp2Session> {
    const pool = this.pool;
    const refusal = pool.refusal();
    if (refusal) return Promise.reject(refusal);
    const free = this.withCapacity();
    if (free) return Promise.resolve(this.handOut(free));
    const breaker = pool.breaker;
    if (!breaker.canQueue()) {
      pool.stats.rqPendingOverflow.value++;
      return Promise.reject(pool.overflowError);
    }
    breaker.pendingAdded();
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const connecting = this.sessions.find((s) => !s.ready && !s.closed && s.waiters.length < this.limit(s));
      if (connecting) connecting.waiters.push(waiter);
      else if (this.canConnect()) this.connect().waiters.push(waiter);
      else {
        pool.stats.cxOverflow.value++;
        this.queue.push(waiter);
        pool.waiting.add(this);
      }
    });
  }

  private limit(s: Session): number {
    const peer = s.session.remoteSettings?.maxConcurrentStreams ?? Infinity;
    return Math.min(this.pool.settings.maxConcurrentStreams, peer);
  }

  private withCapacity(): Session | undefined {
    for (const s of this.sessions) if (s.ready && !s.draining && !s.closed && s.active + s.reserved < this.limit(s)) return s;
    return undefined;
  }

  private handOut(s: Session): http2.ClientHttp2Session {
    s.reserved++;
    this.pool.scheduleReservationLapse();
    return s.session;
  }

  private canConnect(): boolean {
    return this.pool.breaker.canOpenConnection() || this.sessions.length === 0;
  }

  private connect(): Session {
    const pool = this.pool;
    const s = new Session();
    pool.breaker.connectionOpened();
    pool.stats.cxHttp2Total.value++;
    const tlsOn = pool.connector.tlsFor(this.address, this.port) !== null;
    const socket = pool.connector.connect(
      this.address,
      this.port,
      this.tlsSession,
      {
        onReady: () => {
          if (tlsOn && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
            const e = upstreamError('STRAIT_UPSTREAM_ALPN', `upstream ${this.key} did not negotiate h2 over TLS`);
            markConnectFailure(e);
            s.session.destroy(e);
          }
        },
        onClose: () => this.onClosed(s, null),
      },
      (t) => (this.tlsSession = t),
    );
    socket.on('error', (e) => (s.socketError ??= e));
    const authority = `${tlsOn ? 'https' : 'http'}://${this.key}`;
    const session = http2.connect(authority, { createConnection: () => socket, settings: { enablePush: false } });
    s.session = session;
    const request = session.request;
    // Count streams: the only hook Node offers for client-initiated streams (see header).
    session.request = ((...args: Parameters<typeof request>) => {
      const stream = request.apply(session, args);
      this.onStream(s, stream);
      return stream;
    }) as typeof request;
    session.once('connect', () => this.onReady(s));
    session.on('remoteSettings', () => this.serveQueue());
    session.once('goaway', () => {
      s.draining = true;
      if (s.active === 0) session.close();
    });
    session.on('error', (err: Error) => {
      if (!s.ready) markConnectFailure(err);
      this.onClosed(s, err);
    });
    session.once('close', () => this.onClosed(s, null));
    const maxAge = pool.settings.maxConnectionDurationMs;
    if (maxAge > 0) {
      s.durationTimer = pool.clock.setTimer(maxAge, () => {
        s.durationTimer = null;
        if (s.closed) return;
        pool.stats.cxMaxDurationReached.value++;
        s.draining = true;
        if (s.active === 0) session.close();
      });
    }
    this.sessions.push(s);
    return s;
  }

  private onReady(s: Session): void {
    if (s.closed) return;
    s.ready = true;
    const waiters = s.waiters;
    s.waiters = [];
    let i = 0;
    for (; i < waiters.length && s.active + s.reserved < this.limit(s); i++) {
      this.pool.breaker.pendingRemoved();
      waiters[i]!.resolve(this.handOut(s));
    }
    // The peer allows fewer streams than were waiting: the rest wait like any queued caller.
    if (i < waiters.length) {
      this.queue.unshift(...waiters.slice(i));
      this.pool.waiting.add(this);
    }
    // Callers queued while this session was connecting may fit in it now.
    if (this.queue.length > 0) this.serveQueue();
    this.idleCheck(s);
  }

  private onStream(s: Session, stream: http2.ClientHttp2Stream): void {
    if (s.reserved > 0) s.reserved--;
    s.active++;
    s.total++;
    const max = this.pool.settings.maxRequestsPerConnection;
    if (max > 0 && s.total >= max && !s.draining) {
      s.draining = true;
      this.pool.stats.cxMaxRequests.value++;
    }
    stream.once('close', () => {
      s.active--;
      if (s.closed) return;
      if (s.draining && s.active === 0) {
        s.session.close();
        return;
      }
      this.serveQueue();
      this.idleCheck(s);
    });
  }

  /** Hands free stream slots to queued callers, opening sessions while the breaker allows. */
  serveQueue(): boolean {
    while (this.queue.length > 0) {
      const s = this.withCapacity();
      if (s) {
        this.pool.breaker.pendingRemoved();
        this.queue.shift()!.resolve(this.handOut(s));
        continue;
      }
      if (this.sessions.some((x) => !x.ready && !x.closed)) return true; // one is connecting
      if (!this.canConnect()) return false;
      this.connect().waiters.push(this.queue.shift()!);
    }
    this.pool.waiting.delete(this);
    return true;
  }

  /** Reservations lapsed (pool sweep): free slots may serve the queue or let a session idle. */
  lapseReservations(): void {
    let freed = false;
    for (const s of this.sessions) {
      if (s.reserved > 0) {
        s.reserved = 0;
        freed = true;
        this.idleCheck(s);
      }
    }
    if (freed && this.queue.length > 0) this.serveQueue();
  }

  private idleCheck(s: Session): void {
    if (s.closed || s.active > 0 || s.reserved > 0) return;
    s.idleSince = this.pool.clock.monotonic();
    this.armIdleTimer(s);
  }

  private armIdleTimer(s: Session, delay = this.pool.settings.idleTimeoutMs): void {
    const ms = this.pool.settings.idleTimeoutMs;
    if (ms <= 0 || s.idleTimer !== null) return;
    s.idleTimer = this.pool.clock.setTimer(delay, () => {
      s.idleTimer = null;
      if (s.closed || s.active > 0 || s.reserved > 0) return;
      const idleFor = this.pool.clock.monotonic() - s.idleSince;
      if (idleFor >= ms) {
        this.pool.stats.cxIdleTimeout.value++;
        s.draining = true;
        s.session.close();
      } else {
        this.armIdleTimer(s, ms - idleFor);
      }
    });
  }

  private onClosed(s: Session, err: Error | null): void {
    if (s.closed) return;
    s.closed = true;
    s.idleTimer?.cancel();
    s.durationTimer?.cancel();
    const i = this.sessions.indexOf(s);
    if (i >= 0) this.sessions.splice(i, 1);
    this.pool.breaker.connectionClosed();
    if (!s.session.destroyed) s.session.destroy();
    const failure = err ?? s.socketError ?? Object.assign(new Error(`upstream ${this.key} closed the HTTP/2 connection before it was ready`), { code: 'ECONNRESET' });
    if (!s.ready) markConnectFailure(failure);
    for (const w of s.waiters) {
      this.pool.breaker.pendingRemoved();
      w.reject(failure);
    }
    s.waiters = [];
    this.pool.capacityFreed(this);
  }

  drain(): void {
    for (const s of [...this.sessions]) {
      s.draining = true;
      if (s.ready && s.active === 0) s.session.close();
    }
  }

  close(err: UpstreamError): void {
    const queued = this.queue;
    this.queue = [];
    this.pool.waiting.delete(this);
    for (const w of queued) {
      this.pool.breaker.pendingRemoved();
      w.reject(err);
    }
    for (const s of [...this.sessions]) s.session.destroy();
  }
}
