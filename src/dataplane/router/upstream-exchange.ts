// One routed request to one cluster, with Envoy's retry semantics: each attempt picks a host
// (avoiding hosts already tried when the policy says so), sends the request and its body
// (replayed from the retained copy on retries), and ends in a response or a failure. A response
// or failure the retry policy covers is retried after a jittered backoff while retries remain;
// the global route timeout spans every attempt and the per-try timeout each one. What cannot be
// retried becomes the downstream response or a flagged local reply (UF, UC, UT, URX, ...).

import type { Timer } from '../../common/clock.js';
import type { DownstreamRequest, ProxyContext } from '../http/connection-manager.js';
import { GrpcMessageCounter } from '../http/grpc-message-counter.js';
import { isGrpcRequest } from '../http/grpc.js';
import { forwardableResponseHeaders } from '../http/headers.js';
import { localReply } from '../http/local-reply.js';
import type { LocalReply } from '../http/local-reply.js';
import { upstreamFailure } from '../upstream/cluster.js';
import type { Admission, Cluster, LbContext } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import { applyToResponse } from './header-mutation.js';
import type { CompiledMutations } from './header-mutation.js';
import type { RequestBody } from './request-body.js';
import { backoffMs, grpcStatusOf, retriableFailure, retriableResponse } from './retry-policy.js';
import type { AttemptFailure, CompiledRetryPolicy } from './retry-policy.js';
import { admitRequest, overflowReply, sendUpstream } from './upstream-request.js';
import type { UpstreamBody, UpstreamHead, UpstreamRequest } from './upstream-request.js';

const DNS_ERRORS = new Set(['ENOTFOUND', 'EAI_AGAIN']);
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

/** One attempt in flight: its request, host and circuit-breaker admissions. */
interface Attempt {
  readonly up: UpstreamRequest;
  readonly host: Host;
  release(): void;
}

export class UpstreamExchange {
  private current: Attempt | null = null;
  private routeTimer: Timer | null = null;
  private tryTimer: Timer | null = null;
  private backoffTimer: Timer | null = null;
  private attempts = 0;
  private retriesUsed = 0;
  /** The retry admission held by the attempt in flight (released when it ends). */
  private retryAdmission: Admission | null = null;
  /** Transparent re-sends on a reused connection the upstream had just closed. */
  private staleResends = 0;
  private readonly lb: { hashKey?: number; exclude?: Set<Host> };
  /** Retries avoid hosts already tried (Istio's previous_hosts predicate) unless told not to. */
  private readonly avoidTried: boolean;
  /** The host of the first attempt: the exclusion set is only built when a retry needs it. */
  private firstHost: Host | null = null;
  private sentAt = 0;
  private responseStarted = false;
  private finished = false;

  constructor(
    private readonly d: DownstreamRequest,
    private readonly cluster: Cluster,
    private readonly ctx: ProxyContext,
    private readonly reply: Reply,
    private readonly o: ExchangeOptions,
  ) {
    this.lb = { hashKey: o.hashKey, exclude: undefined };
    this.avoidTried = !(o.retry && o.retry.previousHosts === false);
  }

  start(): void {
    this.d.onDownstreamClose = () => this.cancel();
    if (this.o.timeoutMs > 0) this.routeTimer = this.ctx.clock.setTimer(this.o.timeoutMs, () => this.onTimeout(false));
    this.attempt();
  }

  private attempt(): void {
    const { d, cluster } = this;
    this.attempts++;
    // A retry (not a stale re-send, which does not count as an attempt) starts the exclusion set.
    if (this.avoidTried && this.attempts > 1 && this.lb.exclude === undefined && this.firstHost !== null) this.lb.exclude = new Set([this.firstHost]);
    const host = cluster.chooseHost(d.authority, this.lb as LbContext);
    if (!host) {
      cluster.stats.noHealthyHost.value++;
      this.fail(localReply(503, 'UH', 'no_healthy_upstream', `cluster "${cluster.name}" has no healthy endpoints`));
      return;
    }
    if (this.lb.exclude !== undefined) this.lb.exclude.add(host);
    else if (this.avoidTried) this.firstHost = host;
    d.info.upstreamHost = host.key;
    d.info.upstreamMetadata = host.metadata ?? null;
    const release = admitRequest(cluster, host);
    if (!release) {
      this.releaseRetry();
      this.fail(overflowReply(cluster));
      return;
    }
    if (this.o.includeAttemptCount) d.headers['x-envoy-attempt-count'] = String(this.attempts);

    let attempt: Attempt | null = null;
    const up = sendUpstream(cluster, host, { method: d.method, path: d.fullPath, headers: d.headers, hasBody: d.hasBody }, {
      connected: (local) => {
        if (this.current === attempt) d.info.upstreamLocalAddress = local;
      },
      response: (head, body) => {
        if (this.current !== attempt) {
          body.resume();
          release();
          return;
        }
        cluster.outlier.report(host, { status: head.status });
        this.onResponse(head, body, up, release);
      },
      error: (err) => {
        release();
        this.o.body?.detach(up);
        if (this.current !== attempt) return;
        this.current = null;
        this.clearAttemptTimers();
        this.onError(err, host, up.reusedConnection);
      },
    });
    attempt = { up, host, release };
    this.current = attempt;
    this.sentAt = this.ctx.clock.monotonic();
    if (this.o.perTryTimeoutMs > 0) this.tryTimer = this.ctx.clock.setTimer(this.o.perTryTimeoutMs, () => this.onTimeout(true));

    const body = this.o.body;
    if (!d.hasBody || !body) {
      up.end();
    } else if (!body.attach(up, this.attempts === 1)) {
      // Only reachable on a retry whose body outgrew the replay limit: cannot resend.
      up.abort();
      this.current = null;
      release();
      this.fail(localReply(503, 'URX', 'upstream_reset_before_response_started{body_too_large_to_retry}', `the request body is too large to retry against cluster "${cluster.name}"`));
    }
  }

  /** Takes a retry slot from the circuit breaker; false when retries overflow (Envoy keeps the outcome). */
  private admitRetry(): boolean {
    const p = this.o.retry;
    if (!p || this.retriesUsed >= p.numRetries || this.finished) return false;
    // The attempt being retried has ended: its own retry slot (if it was a retry) frees first.
    this.releaseRetry();
    const a = this.cluster.tryStartRetry();
    if (!a.ok) return false;
    this.retryAdmission = a;
    return true;
  }

  private releaseRetry(): void {
    const a = this.retryAdmission;
    this.retryAdmission = null;
    if (a?.ok) a.release();
  }

  private onResponse(head: UpstreamHead, upRes: UpstreamBody, up: UpstreamRequest, release: () => void): void {
    const { d } = this;
    const status = head.status;
    const p = this.o.retry;
    if (p && retriableResponse(p, status, grpcStatusOf(head.headers as Record<string, unknown>)) && this.admitRetry()) {
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
    const headers = forwardableResponseHeaders(head.raw, transform === 'OVERWRITE' ? SKIP_WITH_SERVER : SKIP_ALWAYS);
    headers.push('x-envoy-upstream-service-time', String(Math.round(d.info.upstreamServiceTime)));
    if (transform === 'OVERWRITE' || (transform === 'APPEND_IF_ABSENT' && head.headers.server === undefined)) headers.push('server', d.cfg.serverName);
    for (const m of this.o.responseMutations) if (m.response) applyToResponse(m.response, headers);
    if (this.o.setCookie) headers.push('set-cookie', this.o.setCookie);
    d.filters?.runResponseHeaders(status, headers);
    d.info.responseHeaders = head.headers;
    d.info.responseCodeDetails = 'via_upstream';
    d.res.writeHead(status, headers);

    const res = d.res;
    // gRPC: count the response's messages (istio_response_messages_total) as they pass.
    const ct = d.headers['content-type'];
    const messages = isGrpcRequest(typeof ct === 'string' ? ct : undefined) ? new GrpcMessageCounter() : null;
    upRes.on('data', (chunk: Buffer) => {
      d.info.bytesSent += chunk.length;
      if (messages) {
        messages.push(chunk);
        d.info.grpcResponseMessages = messages.count;
      }
      if (!res.write(chunk)) upRes.pause();
    });
    res.on('drain', () => upRes.resume());
    upRes.once('end', () => {
      release();
      this.end();
      // Trailers (gRPC status over HTTP/2, chunked HTTP/1.1 trailers) pass through.
      const raw = up.trailers();
      for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'grpc-status') d.info.grpcStatus = raw[i + 1]!;
      if (raw.length > 0 && typeof res.addTrailers === 'function') {
        const t: Record<string, string> = {};
        for (let i = 0; i < raw.length; i += 2) t[raw[i]!.toLowerCase()] = raw[i + 1]!;
        res.addTrailers(t);
      }
      res.end();
    });
    upRes.once('close', () => {
      if (up.complete()) return;
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

  private onError(err: NodeJS.ErrnoException, host: Host, reusedSocket: boolean): void {
    const { d, cluster } = this;
    if (d.done || this.responseStarted || this.finished) return;
    const code = err.code ?? '';
    const kind = upstreamFailure(err);
    if (kind === 'overflow') {
      // The pool's pending queue is full: fail fast, never retried, not an outlier event.
      this.releaseRetry();
      this.fail(localReply(503, 'UO', 'upstream_reset_before_response_started{overflow}', `cluster "${cluster.name}" is at its pending-requests circuit-breaker limit`));
      return;
    }
    const connectFailure = kind !== 'reset';
    cluster.outlier.report(host, { localOrigin: kind === 'connect_timeout' ? 'timeout' : connectFailure ? 'connect_failed' : 'reset' });
    // A keep-alive connection the upstream closed just as it was reused: resend once, as if
    // the pool had noticed first (Envoy's pool does), for requests that are safe to resend.
    if (reusedSocket && !connectFailure && (code === 'ECONNRESET' || code === 'EPIPE') && IDEMPOTENT.has(d.method) && !d.hasBody && this.staleResends === 0) {
      this.staleResends++;
      this.attempts--;
      this.lb.exclude?.delete(host);
      this.attempt();
      return;
    }
    const failure: AttemptFailure = connectFailure ? 'connect_failure' : code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(err.message) ? 'refused_stream' : 'reset';
    const p = this.o.retry;
    if (p && retriableFailure(p, failure) && this.admitRetry()) {
      this.retry();
      return;
    }
    this.releaseRetry();
    const exhausted = this.retriesUsed > 0 ? 'URX' : '';
    if (connectFailure) {
      d.info.upstreamTransportFailureReason = `delayed_connect_error:_${code || kind}`;
      const flag = DNS_ERRORS.has(code) ? 'DF' : 'UF';
      const what =
        flag === 'DF' ? `cannot resolve "${d.info.upstreamHost}"` : kind === 'connect_timeout' ? `connecting to ${d.info.upstreamHost} timed out after ${cluster.connectTimeoutMs} ms` : `cannot connect to ${d.info.upstreamHost} (${code || err.message})`;
      this.fail(localReply(503, flag, 'upstream_reset_before_response_started{connection_failure}', `${what} for cluster "${cluster.name}"`), exhausted);
    } else {
      this.fail(
        localReply(503, 'UC', 'upstream_reset_before_response_started{connection_termination}', `${d.info.upstreamHost} closed the connection before responding (${code || err.message})`),
        exhausted,
      );
    }
  }

  /** Stops feeding the body to the current attempt; its connection is not reused mid-body. */
  private dropAttempt(): void {
    const a = this.current;
    if (!a) return;
    if (this.o.body) this.o.body.detach(a.up);
    if (this.d.hasBody && !a.up.requestSent) a.up.abort();
  }

  private retry(): void {
    const { d } = this;
    this.retriesUsed++;
    this.cluster.stats.rqRetry.value++;
    if (this.o.body && d.hasBody && !this.o.body.replayable) {
      this.fail(localReply(503, 'URX', 'upstream_reset_before_response_started{body_too_large_to_retry}', 'the request body is too large to retry'));
      return;
    }
    this.current = null;
    const wait = backoffMs(this.o.retry!, this.retriesUsed, this.ctx.random);
    this.backoffTimer = this.ctx.clock.setTimer(wait, () => {
      this.backoffTimer = null;
      if (!d.done && !this.finished) this.attempt();
    });
  }

  private onTimeout(perTry: boolean): void {
    const { d } = this;
    if (d.done || this.finished) return;
    const a = this.current;
    this.current = null;
    if (a) {
      this.o.body?.detach(a.up);
      a.up.abort();
      a.release();
      if (!this.responseStarted) this.cluster.outlier.report(a.host, { localOrigin: 'timeout' });
    }
    if (perTry) {
      this.tryTimer = null;
      const p = this.o.retry;
      if (!this.responseStarted && p && retriableFailure(p, 'timeout') && this.admitRetry()) {
        this.cluster.stats.rqTimeout.value++;
        this.retry();
        return;
      }
    } else {
      this.routeTimer = null;
    }
    this.releaseRetry();
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
    const a = this.current;
    if (a && this.o.body) this.o.body.detach(a.up);
    this.end();
    if (a) {
      a.up.abort();
      a.release();
    }
  }

  private clearAttemptTimers(): void {
    this.tryTimer?.cancel();
    this.tryTimer = null;
  }

  private end(): void {
    this.finished = true;
    this.current = null;
    this.clearAttemptTimers();
    this.routeTimer?.cancel();
    this.routeTimer = null;
    this.backoffTimer?.cancel();
    this.backoffTimer = null;
    this.releaseRetry();
  }
}
