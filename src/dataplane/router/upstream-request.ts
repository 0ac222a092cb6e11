// One attempt's request to one upstream host, over the protocol its cluster speaks: HTTP/1.1 on
// the cluster's pooled connections, or a stream on the cluster's shared HTTP/2 session (h2c or
// h2 over TLS, which gRPC needs). Both look the same to the exchange: a body sink for the
// request, one `response` event with the head and a readable body, trailers once the body has
// ended, and errors the pool has already classified (upstreamFailure).

import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import type { ClientHttp2Stream } from 'node:http2';
import type { HeaderMap } from '../http/headers.js';
import { localReply } from '../http/local-reply.js';
import type { LocalReply } from '../http/local-reply.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import type { BodySink } from './request-body.js';
import { LeanHttp1Upstream } from '../http1/lean-upstream.js';

export interface UpstreamHead {
  readonly status: number;
  /** Lower-cased names; no pseudo-headers. */
  readonly headers: IncomingHttpHeaders;
  /** Flat [name, value, ...] as received; no pseudo-headers. */
  readonly raw: readonly string[];
}

/**
 * A response body as the router and its peers read it: node's IncomingMessage or
 * ClientHttp2Stream, or the lean codec's body. Listeners are attached in the `response`
 * callback; `resume()` without a 'data' listener discards the body.
 */
export interface UpstreamBody {
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', fn: () => void): unknown;
  on(event: 'error', fn: (err: NodeJS.ErrnoException) => void): unknown;
  once(event: 'end' | 'close', fn: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

export interface UpstreamEvents {
  /** The connection carrying this attempt is up (`ip:port` of our side). */
  connected(localAddress: string): void;
  response(head: UpstreamHead, body: UpstreamBody): void;
  error(err: NodeJS.ErrnoException): void;
}

export interface UpstreamRequest extends BodySink {
  readonly protocol: 'http1' | 'http2';
  /** The attempt went out on a kept-alive connection the upstream may just have closed. */
  readonly reusedConnection: boolean;
  /** The whole request, body included, has been handed to the transport. */
  readonly requestSent: boolean;
  /** Trailers received after the body, flat [name, value, ...]; empty when none. */
  trailers(): string[];
  /** The response body arrived whole (not cut by a reset). */
  complete(): boolean;
  abort(): void;
}

export interface UpstreamCall {
  readonly method: string;
  readonly path: string;
  /** Forwardable request headers, `host` holding the authority. */
  readonly headers: HeaderMap;
  readonly hasBody: boolean;
}

/** The local reply for a request the circuit breaker refuses (Envoy: UO, overflow). */
export function overflowReply(cluster: Cluster): LocalReply {
  return localReply(503, 'UO', 'upstream_reset_before_response_started{overflow}', `cluster "${cluster.name}" is at its max_requests circuit-breaker limit`);
}

/**
 * Admits one request to `host` past the cluster's circuit breaker and counts it as active (the
 * cluster's gauges, and the host's count LEAST_REQUEST reads). Returns its idempotent release,
 * or null when the breaker refuses (answer with overflowReply).
 */
export function admitRequest(cluster: Cluster, host: Host): (() => void) | null {
  const admission = cluster.tryStartRequest();
  if (!admission.ok) return null;
  cluster.stats.rqTotal.value++;
  cluster.stats.rqActive.value++;
  host.activeRequests++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    cluster.stats.rqActive.value--;
    host.activeRequests--;
    admission.release();
  };
}

export function sendUpstream(cluster: Cluster, host: Host, call: UpstreamCall, ev: UpstreamEvents): UpstreamRequest {
  if (cluster.protocol === 'http2') return new Http2Upstream(cluster, host, call, ev);
  // The lean codec writes and reads the pooled connection itself (src/dataplane/http1/).
  return cluster.leanHttp1 ? new LeanHttp1Upstream(cluster.pool.forHost(host), call, ev) : new Http1Upstream(cluster, host, call, ev);
}

class Http1Upstream implements UpstreamRequest {
  readonly protocol = 'http1';
  private readonly req: http.ClientRequest;
  private res: http.IncomingMessage | null = null;

  constructor(cluster: Cluster, host: Host, call: UpstreamCall, ev: UpstreamEvents) {
    const req = http.request({ ...cluster.requestOptions(host), method: call.method, path: call.path, headers: call.headers, setHost: false });
    this.req = req;
    req.on('socket', (socket) => {
      const up = () => ev.connected(`${socket.localAddress}:${socket.localPort}`);
      if (socket.connecting) socket.once('connect', up);
      else up();
    });
    req.on('response', (res) => {
      this.res = res;
      ev.response({ status: res.statusCode ?? 502, headers: res.headers, raw: res.rawHeaders }, res);
    });
    req.on('error', (err) => ev.error(err));
  }

  get reusedConnection(): boolean {
    return this.req.reusedSocket;
  }

  get requestSent(): boolean {
    return this.req.writableFinished;
  }

  write(chunk: Buffer): boolean {
    return this.req.write(chunk);
  }

  end(): void {
    this.req.end();
  }

  once(event: 'drain', fn: () => void): unknown {
    return this.req.once(event, fn);
  }

  trailers(): string[] {
    return this.res?.rawTrailers ?? [];
  }

  complete(): boolean {
    return this.res?.complete ?? false;
  }

  abort(): void {
    this.req.destroy();
  }
}

// Connection-specific names HTTP/2 forbids (RFC 9113 §8.2.2); Node throws on them.
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

/** HTTP/1-style request headers as an HTTP/2 header block. */
export function toH2RequestHeaders(call: UpstreamCall, scheme: string): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {
    ':method': call.method,
    ':path': call.path,
    ':scheme': scheme,
    ':authority': String(call.headers.host ?? ''),
  };
  for (const name in call.headers) {
    if (H2_FORBIDDEN.has(name)) continue;
    out[name] = call.headers[name];
  }
  // gRPC servers expect `te: trailers` (the one TE value HTTP/2 allows); the downstream's own
  // TE was dropped as hop-by-hop.
  const ct = call.headers['content-type'];
  if (typeof ct === 'string' && ct.startsWith('application/grpc')) out.te = 'trailers';
  return out;
}

function flatten(headers: http2.IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) raw.push(name, x);
    else raw.push(name, String(v));
  }
  return raw;
}

class Http2Upstream implements UpstreamRequest {
  readonly protocol = 'http2';
  readonly reusedConnection = false;
  private stream: ClientHttp2Stream | null = null;
  /** Body written before the session was ready. */
  private queued: Buffer[] = [];
  private ended = false;
  private aborted = false;
  private trailerList: string[] = [];
  private gotEnd = false;

  constructor(cluster: Cluster, host: Host, call: UpstreamCall, ev: UpstreamEvents) {
    const scheme = cluster.tls ? 'https' : 'http';
    cluster.h2Session(host).then(
      (session) => {
        if (this.aborted) return;
        // Must run in this continuation: the pool reserved a stream slot until the next turn.
        let s: ClientHttp2Stream;
        try {
          s = session.request(toH2RequestHeaders(call, scheme), { endStream: !call.hasBody });
        } catch (err) {
          ev.error(err as NodeJS.ErrnoException);
          return;
        }
        this.stream = s;
        const sock = session.socket;
        ev.connected(`${sock?.localAddress ?? ''}:${sock?.localPort ?? ''}`);
        let settled = false;
        s.on('response', (headers) => {
          settled = true;
          const status = Number(headers[':status'] ?? 502);
          ev.response({ status, headers: headers as IncomingHttpHeaders, raw: flatten(headers) }, s);
        });
        s.on('trailers', (t) => {
          this.trailerList = flatten(t);
        });
        s.once('end', () => {
          this.gotEnd = true;
        });
        s.on('error', (err: NodeJS.ErrnoException) => {
          settled = true;
          ev.error(err);
        });
        s.once('close', () => {
          // Closed before any response without an error event (RST_STREAM NO_ERROR, GOAWAY).
          if (!settled && !this.aborted) ev.error(Object.assign(new Error(`upstream stream closed (code ${s.rstCode ?? '?'})`), { code: 'ECONNRESET' }));
        });
        if (call.hasBody) {
          for (const c of this.queued) s.write(c);
          this.queued = [];
          if (this.ended) s.end();
        }
      },
      (err: NodeJS.ErrnoException) => {
        if (!this.aborted) ev.error(err);
      },
    );
  }

  get requestSent(): boolean {
    return this.stream !== null && this.stream.writableFinished;
  }

  write(chunk: Buffer): boolean {
    if (this.stream) return this.stream.write(chunk);
    this.queued.push(chunk);
    return true;
  }

  end(): void {
    this.ended = true;
    if (this.stream && !this.stream.writableEnded) this.stream.end();
  }

  once(event: 'drain', fn: () => void): unknown {
    if (this.stream) return this.stream.once(event, fn);
    fn();
    return undefined;
  }

  trailers(): string[] {
    return this.trailerList;
  }

  complete(): boolean {
    return this.gotEnd;
  }

  abort(): void {
    this.aborted = true;
    const s = this.stream;
    if (s && !s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
  }
}
