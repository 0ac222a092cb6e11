// One routed request to one cluster, with Envoy's retry semantics: each attempt picks a host
// (avoiding hosts already tried when the policy says so), sends the request and its body
// (replayed from the retained copy on retries), and ends in a response or a failure. A response
// or failure the retry policy covers is retried after a jittered backoff while retries remain;
// the global route timeout spans every attempt and the per-try timeout each one. What cannot be
// retried becomes the downstream response or a flagged local reply (UF, UC, UT, URX, ...).

import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Timer } from '../../common/clock.js';
import type { DownstreamRequest, ProxyContext } from '../http/connection-manager.js';
import { forwardableResponseHeaders } from '../http/headers.js';
import { localReply } from '../http/local-reply.js';
import type { LocalReply } from '../http/local-reply.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import { applyToResponse } from './header-mutation.js';
import type { CompiledMutations } from './header-mutation.js';
import type { RequestBody } from './request-body.js';
import { backoffMs, grpcStatusOf, retriableFailure, retriableResponse } from './retry-policy.js';
import type { AttemptFailure, CompiledRetryPolicy } from './retry-policy.js';

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'STRAIT_CONNECT_TIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
// The proxy sets these itself: its own service time replaces an upstream proxy's.
const SKIP_ALWAYS = new Set(['x-envoy-upstream-service-time']);
const SKIP_WITH_SERVER = new Set(['x-envoy-upstream-service-time', 'server']);

export interface ExchangeOptions {
  readonly timeoutMs: number;
  readonly perTryTimeoutMs: number;
  readonly retry: CompiledRetryPolicy | null;
  readonly hashKey: number | undefined;
  /** Header changes for the response, most specific first (weighted cluster, route, vhost). */
  readonly responseMutations: readonly CompiledMutations[];
  readonly setCookie: string | undefined;
  readonly includeAttemptCount: boolean;
  readonly body: RequestBody | null;
}

type Reply = (r: LocalReply) => void;

export class UpstreamExchange {
  private upReq: http.ClientRequest | null = null;
  private routeTimer: Timer | null = null;
  private tryTimer: Timer | null = null;
  private connectTimer: Timer | null = null;
  private backoffTimer: Timer | null = null;
  private attempts = 0;
  private retriesUsed = 0;
  /** Transparent re-sends on a reused connection the upstream had just closed. */
  private staleResends = 0;
  private readonly tried: Host[] = [];
  private sentAt = 0;
  private responseStarted = false;
  private finished = false;

  constructor(
    private readonly d: DownstreamRequest,
    private readonly cluster: Cluster,
    private readonly ctx: ProxyContext,
    private readonly reply: Reply,
    private readonly o: ExchangeOptions,
  ) {}

  start(): void {
    this.d.onDownstreamClose = () => this.cancel();
    if (this.o.timeoutMs > 0) this.routeTimer = this.ctx.clock.setTimer(this.o.timeoutMs, () => this.onTimeout(false));
    this.attempt();
  }

  private chooseHost(): Host | undefined {
    const c = this.cluster;
    let host = c.chooseHost(this.d.authority);
    // Retries prefer a host not tried yet (Istio's previous_hosts predicate).
    if (this.o.retry?.previousHosts !== false) {
      for (let i = 0; host && this.tried.includes(host) && i < c.hosts().length; i++) host = c.chooseHost(this.d.authority);
    }
    return host;
  }

  private attempt(): void {
    const { d, cluster } = this;
    this.attempts++;
    const host = this.chooseHost();
    if (!host) {
      cluster.stats.noHealthyHost.value++;
      this.fail(localReply(503, 'UH', 'no_healthy_upstream', `cluster "${cluster.name}" has no healthy endpoints`));
      return;
    }
    this.tried.push(host);
    d.info.upstreamHost = host.key;
    cluster.stats.rqTotal.value++;
    cluster.stats.rqActive.value++;
    host.activeRequests++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      cluster.stats.rqActive.value--;
      host.activeRequests--;
    };
    if (this.o.includeAttemptCount) d.headers['x-envoy-attempt-count'] = String(this.attempts);

    const upReq = http.request({
      agent: cluster.pool.agent,
      host: host.address,
      port: host.port,
      method: d.method,
      path: d.fullPath,
      headers: d.headers,
      setHost: false,
      localAddress: cluster.sourceAddress !== undefined && host.address.startsWith('127.') ? cluster.sourceAddress : undefined,
    });
    this.upReq = upReq;
    this.sentAt = this.ctx.clock.monotonic();
    if (this.o.perTryTimeoutMs > 0) this.tryTimer = this.ctx.clock.setTimer(this.o.perTryTimeoutMs, () => this.onTimeout(true));

    upReq.on('socket', (socket) => {
      const onConnect = () => {
        this.connectTimer?.cancel();
        this.connectTimer = null;
        d.info.upstreamLocalAddress = `${socket.localAddress}:${socket.localPort}`;
      };
      if (socket.connecting) {
        this.connectTimer = this.ctx.clock.setTimer(cluster.connectTimeoutMs, () => {
          upReq.destroy(Object.assign(new Error('connect timeout'), { code: 'STRAIT_CONNECT_TIMEOUT' }));
        });
        socket.once('connect', onConnect);
      } else {
        onConnect();
      }
    });
    upReq.on('response', (upRes) => {
      if (this.upReq !== upReq) {
        upRes.resume();
        release();
        return;
      }
      this.onResponse(upRes, release);
    });
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      release();
      this.o.body?.detach(upReq);
      if (this.upReq !== upReq) return;
      this.clearAttemptTimers();
      this.onError(err, upReq.reusedSocket);
    });

    const body = this.o.body;
    if (!d.hasBody || !body) {
      upReq.end();
    } else if (!body.attach(upReq, this.attempts === 1)) {
      // Only reachable on a retry whose body outgrew the replay limit: cannot resend.
      upReq.destroy();
      this.upReq = null;
      release();
      this.fail(localReply(503, 'URX', 'upstream_reset_before_response_started{body_too_large_to_retry}', `the request body is too large to retry against cluster "${cluster.name}"`));
    }
  }

  private onResponse(upRes: IncomingMessage, release: () => void): void {
    const { d } = this;
    const status = upRes.statusCode ?? 502;
    const p = this.o.retry;
    if (p && this.retriesUsed < p.numRetries && !this.finished && retriableResponse(p, status, grpcStatusOf(upRes.headers as Record<string, unknown>))) {
      // Discard this response and try again (Envoy only retries before anything was sent on).
      upRes.resume();
      release();
      this.dropAttempt();
      this.countStatus(status);
      this.retry();
      return;
    }
    this.clearAttemptTimers();
    this.responseStarted = true;
    d.info.upstreamServiceTime = this.ctx.clock.monotonic() - this.sentAt;
    if (d.done) {
      upRes.resume();
      release();
      return;
    }
    this.countStatus(status);
    if (this.retriesUsed > 0 && status >= 500) d.info.responseFlags.push('URX');

    const transform = d.cfg.serverHeaderTransformation;
    const headers = forwardableResponseHeaders(upRes.rawHeaders, transform === 'OVERWRITE' ? SKIP_WITH_SERVER : SKIP_ALWAYS);
    headers.push('x-envoy-upstream-service-time', String(Math.round(d.info.upstreamServiceTime)));
    if (transform === 'OVERWRITE' || (transform === 'APPEND_IF_ABSENT' && upRes.headers.server === undefined)) headers.push('server', d.cfg.serverName);
    for (const m of this.o.responseMutations) if (m.response) applyToResponse(m.response, headers);
    if (this.o.setCookie) headers.push('set-cookie', this.o.setCookie);
    d.filters?.runResponseHeaders(status, headers);
    d.info.responseHeaders = upRes.headers;
    d.info.responseCodeDetails = 'via_upstream';
    d.res.writeHead(status, headers);

    const res = d.res;
    upRes.on('data', (chunk: Buffer) => {
      d.info.bytesSent += chunk.length;
      if (!res.write(chunk)) upRes.pause();
    });
    res.on('drain', () => upRes.resume());
    upRes.once('end', () => {
      release();
      this.end();
      // HTTP/1.1 chunked trailers (gRPC-web, some APIs) pass through when present.
      if (upRes.rawTrailers.length > 0 && typeof (res as { addTrailers?: unknown }).addTrailers === 'function') {
        const t: [string, string][] = [];
        for (let i = 0; i < upRes.rawTrailers.length; i += 2) t.push([upRes.rawTrailers[i]!, upRes.rawTrailers[i + 1]!]);
        res.addTrailers(t);
      }
      res.end();
    });
    upRes.once('close', () => {
      if (upRes.complete) return;
      release();
      if (d.done) return;
      // The upstream went away mid-response: reset the downstream too (Envoy does).
      this.end();
      d.info.responseFlags.push('UR');
      d.info.responseCodeDetails = 'upstream_reset_after_response_started{connection_termination}';
      res.destroy();
    });
  }

  private countStatus(status: number): void {
    const cls = Math.floor(status / 100);
    if (cls >= 1 && cls <= 5) this.cluster.stats.rqXx[cls - 1]!.value++;
  }

  private onError(err: NodeJS.ErrnoException, reusedSocket: boolean): void {
    const { d } = this;
    if (d.done || this.responseStarted || this.finished) return;
    const code = err.code ?? '';
    const connectFailure = CONNECT_ERRORS.has(code);
    // A keep-alive connection the upstream closed just as it was reused: resend once, as if
    // the pool had noticed first (Envoy's pool does), for requests that are safe to resend.
    if (reusedSocket && !connectFailure && (code === 'ECONNRESET' || code === 'EPIPE') && IDEMPOTENT.has(d.method) && !d.hasBody && this.staleResends === 0) {
      this.staleResends++;
      this.attempts--;
      this.attempt();
      return;
    }
    const failure: AttemptFailure = connectFailure ? 'connect_failure' : 'reset';
    const p = this.o.retry;
    if (p && this.retriesUsed < p.numRetries && retriableFailure(p, failure)) {
      this.retry();
      return;
    }
    const exhausted = this.retriesUsed > 0 ? 'URX' : '';
    if (connectFailure) {
      d.info.upstreamTransportFailureReason = `delayed_connect_error:_${code}`;
      const flag = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'DF' : 'UF';
      const what = flag === 'DF' ? `cannot resolve "${d.info.upstreamHost}"` : `cannot connect to ${d.info.upstreamHost} (${code})`;
      this.fail(localReply(503, flag, 'upstream_reset_before_response_started{connection_failure}', `${what} for cluster "${this.cluster.name}"`), exhausted);
    } else {
      this.fail(
        localReply(503, 'UC', 'upstream_reset_before_response_started{connection_termination}', `${d.info.upstreamHost} closed the connection before responding (${code || err.message})`),
        exhausted,
      );
    }
  }

  /** Stops feeding the body to the current attempt; its connection is not reused mid-body. */
  private dropAttempt(): void {
    const up = this.upReq;
    if (!up) return;
    if (this.o.body) this.o.body.detach(up);
    if (this.d.hasBody && !up.writableFinished) up.destroy();
  }

  private retry(): void {
    const { d } = this;
    this.retriesUsed++;
    this.cluster.stats.rqRetry.value++;
    if (this.o.body && d.hasBody && !this.o.body.replayable) {
      this.fail(localReply(503, 'URX', 'upstream_reset_before_response_started{body_too_large_to_retry}', 'the request body is too large to retry'));
      return;
    }
    this.upReq = null;
    const wait = backoffMs(this.o.retry!, this.retriesUsed, this.ctx.random);
    this.backoffTimer = this.ctx.clock.setTimer(wait, () => {
      this.backoffTimer = null;
      if (!d.done && !this.finished) this.attempt();
    });
  }

  private onTimeout(perTry: boolean): void {
    const { d } = this;
    if (d.done || this.finished) return;
    const up = this.upReq;
    this.upReq = null;
    if (up) this.o.body?.detach(up);
    if (perTry) {
      this.tryTimer = null;
      up?.destroy();
      const p = this.o.retry;
      if (!this.responseStarted && p && this.retriesUsed < p.numRetries && retriableFailure(p, 'timeout')) {
        this.cluster.stats.rqTimeout.value++;
        this.retry();
        return;
      }
    } else {
      this.routeTimer = null;
      up?.destroy();
    }
    this.cluster.stats.rqTimeout.value++;
    d.cfg.stats.rqTimeout.value++;
    if (d.res.headersSent) {
      this.end();
      d.info.responseFlags.push('UT');
      d.info.responseCodeDetails = 'response_timeout';
      d.res.destroy();
      return;
    }
    const ms = perTry ? this.o.perTryTimeoutMs : this.o.timeoutMs;
    this.fail(localReply(504, 'UT', 'response_timeout', `upstream ${d.info.upstreamHost} did not answer within the ${perTry ? 'per-try' : 'route'} timeout of ${ms} ms`));
  }

  private fail(r: LocalReply, extraFlag = ''): void {
    this.end();
    if (extraFlag) this.d.info.responseFlags.push(extraFlag);
    this.reply(r);
  }

  /** Downstream went away: abandon the upstream request (its connection is not reused). */
  private cancel(): void {
    const up = this.upReq;
    if (up && this.o.body) this.o.body.detach(up);
    this.end();
    up?.destroy();
  }

  private clearAttemptTimers(): void {
    this.tryTimer?.cancel();
    this.tryTimer = null;
    this.connectTimer?.cancel();
    this.connectTimer = null;
  }

  private end(): void {
    this.finished = true;
    this.upReq = null;
    this.clearAttemptTimers();
    this.routeTimer?.cancel();
    this.routeTimer = null;
    this.backoffTimer?.cancel();
    this.backoffTimer = null;
  }
}
