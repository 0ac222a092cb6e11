// The fault filter's request path (Envoy's FaultFilter): per request, pick the route's fault
// settings over the filter's, then delay (a timer on the injected clock, cancelled when the
// downstream goes away) and/or abort (a local reply), each decided by a draw from the injected
// Random. Delay and abort are independent: a delayed request may then be aborted (VS-20).
//
// A fault counts in active_faults while it is being injected: for the length of a delay, or at
// the moment of an abort. Envoy releases a delay-only fault when the delay ends and an abort when
// the stream is destroyed, which for a local reply is right after it is written; the per-request
// promise's own lifetime covers both, so the filter keeps no per-request state.

import type { Clock } from '../../../common/clock.js';
import type { Random } from '../../../common/random.js';
import { httpToGrpcStatus, isGrpcRequest } from '../api.js';
import type { FilterResult, FilterStream, HttpFilter, LocalReply } from '../api.js';
import type { FaultSettings } from './config.js';
import { drawFraction, formatFraction } from './fractional-percent.js';
import type { Fraction } from './fractional-percent.js';
import type { FaultStats } from './stats.js';

export const FAULT_FILTER_NAME = 'envoy.filters.http.fault';

/** Node timers fire at once past 2^31-1 ms (~24.8 days); longer delays are capped to that. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

type HeaderValue = string | string[] | undefined;

/** Envoy's header controls (fault filter docs, "Controlling fault injection via HTTP headers"). */
const H = {
  delay: 'x-envoy-fault-delay-request',
  delayPercentage: 'x-envoy-fault-delay-request-percentage',
  abort: 'x-envoy-fault-abort-request',
  abortGrpc: 'x-envoy-fault-abort-grpc-request',
  abortPercentage: 'x-envoy-fault-abort-request-percentage',
  downstreamNode: 'x-envoy-downstream-service-node',
} as const;

/** Response code details of an injected abort (Envoy's RcDetails::FaultAbort). */
export const FAULT_ABORT_DETAILS = 'fault_filter_abort';
/** Envoy's local reply body for an abort; also the gRPC status message. */
const ABORT_TEXT = 'fault filter abort';

interface AbortDecision {
  readonly httpStatus: number;
  /** Set for gRPC aborts (then httpStatus is 200, as in Envoy). */
  readonly grpcStatus: number | null;
}

export class FaultFilter implements HttpFilter {
  constructor(
    private readonly settings: FaultSettings,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly stats: FaultStats,
  ) {}

  onRequestHeaders(s: FilterStream): FilterResult | Promise<FilterResult> {
    // The route's HTTPFault replaces the filter's wholesale (Envoy: most specific per-filter config).
    const f = s.perRoute<FaultSettings>(FAULT_FILTER_NAME) ?? this.settings;
    if (!f.injects) return;
    const h = s.request.headers;
    if (f.downstreamNodes !== null) {
      const node = first(h[H.downstreamNode]);
      if (node === undefined || !f.downstreamNodes.has(node)) return;
    }
    const delayMs = this.delayMs(f, h);
    if (delayMs > 0) {
      // Read the signal only now: the stream allocates it on first use.
      const signal = s.signal;
      if (signal.aborted) return;
      if (this.tryActivate(f)) {
        this.stats.delays_injected.value++;
        s.info.responseFlags.push('DI');
        return this.delayThenMaybeAbort(s, signal, f, delayMs);
      }
    }
    // No delay (not drawn, or over maxActiveFaults): the abort is decided on its own, as in Envoy.
    return this.maybeAbort(f, h, false);
  }

  private delayThenMaybeAbort(s: FilterStream, signal: AbortSignal, f: FaultSettings, ms: number): Promise<FilterResult> {
    return new Promise<FilterResult>((resolve) => {
      // The downstream left: stop waiting. Nothing is sent; the connection manager sees the
      // aborted signal and finishes the request (flags DI and DC in the access log).
      const onAbort = (): void => {
        timer.cancel();
        this.release();
        resolve();
      };
      const timer = this.clock.setTimer(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.maybeAbort(f, s.request.headers, true));
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Decides and injects an abort; `active` says this request already holds an active fault. */
  private maybeAbort(f: FaultSettings, h: Record<string, HeaderValue>, active: boolean): FilterResult {
    const a = this.abortDecision(f, h);
    if (a === null || (!active && !this.tryActivate(f))) {
      if (active) this.release();
      return;
    }
    this.stats.aborts_injected.value++;
    // The fault ends with the reply it produces.
    this.release();
    return abortReply(a, isGrpcRequest(first(h['content-type'])), f);
  }

  /** Delay in ms when one is drawn, else 0. A header-controlled delay needs the header. */
  private delayMs(f: FaultSettings, h: Record<string, HeaderValue>): number {
    const d = f.delay;
    if (d === null) return 0;
    const pct = d.kind === 'header' ? headerPercentage(h[H.delayPercentage], d.percentage) : d.percentage;
    if (!drawFraction(pct, this.random)) return 0;
    if (d.kind === 'fixed') return d.ms;
    const ms = parseUint(h[H.delay]);
    return ms === undefined ? 0 : Math.min(ms, MAX_DELAY_MS);
  }

  /** Envoy's abortStatus: an HTTP status wins over a gRPC one; a gRPC abort answers HTTP 200. */
  private abortDecision(f: FaultSettings, h: Record<string, HeaderValue>): AbortDecision | null {
    const a = f.abort;
    if (a === null) return null;
    const pct = a.kind === 'header' ? headerPercentage(h[H.abortPercentage], a.percentage) : a.percentage;
    if (!drawFraction(pct, this.random)) return null;
    switch (a.kind) {
      case 'http':
        return { httpStatus: a.httpStatus, grpcStatus: null };
      case 'grpc':
        return { httpStatus: 200, grpcStatus: a.grpcStatus };
      case 'header': {
        const http = parseUint(h[H.abort]);
        if (http !== undefined && http >= 200 && http < 600) return { httpStatus: http, grpcStatus: null };
        const grpc = parseUint(h[H.abortGrpc]);
        if (grpc !== undefined && grpc <= 0xffffffff) return { httpStatus: 200, grpcStatus: grpc };
        return null;
      }
    }
  }

  /**
   * Envoy's tryIncActiveFaults: one active fault per request however many faults it gets; over
   * maxActiveFaults (the effective settings' limit, the gauge shared by the whole filter) the
   * fault is skipped and counted in faults_overflow.
   */
  private tryActivate(f: FaultSettings): boolean {
    if (this.stats.active_faults.value >= f.maxActiveFaults) {
      this.stats.faults_overflow.value++;
      return false;
    }
    this.stats.active_faults.value++;
    return true;
  }

  private release(): void {
    this.stats.active_faults.value--;
  }
}

// ---- local replies -----------------------------------------------------------------------------

function abortReply(a: AbortDecision, grpcRequest: boolean, f: FaultSettings): LocalReply {
  const pct = f.abort ? formatFraction(f.abort.percentage) : '';
  const what = a.grpcStatus === null ? `HTTP ${a.httpStatus}` : `gRPC status ${a.grpcStatus}`;
  const message = `${ABORT_TEXT}: the route injects ${what} into ${pct} of requests`;
  if (grpcRequest) {
    // Envoy answers a gRPC request's local reply the gRPC way: HTTP 200, trailers-only, with
    // grpc-status (the configured one, or the HTTP status mapped per the gRPC spec).
    const grpcStatus = a.grpcStatus ?? httpToGrpcStatus(a.httpStatus);
    return {
      status: 200,
      flag: 'FI',
      details: FAULT_ABORT_DETAILS,
      message,
      headers: [
        ['content-type', 'application/grpc'],
        ['grpc-status', String(grpcStatus)],
        ['grpc-message', ABORT_TEXT],
      ],
      body: '',
    };
  }
  // A gRPC abort on a non-gRPC request is a plain HTTP 200, exactly as Envoy sends it.
  return { status: a.httpStatus, flag: 'FI', details: FAULT_ABORT_DETAILS, message };
}

// ---- header values -----------------------------------------------------------------------------

function first(v: HeaderValue): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A non-negative decimal integer (absl::SimpleAtoi on an unsigned), else undefined. */
function parseUint(v: HeaderValue): number | undefined {
  const t = first(v)?.trim();
  if (t === undefined || !/^\+?\d{1,20}$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The header's percentage for a header-controlled fault: its numerator capped by the configured
 * one, over the configured denominator; an absent or malformed header means the configured one.
 */
function headerPercentage(v: HeaderValue, configured: Fraction): Fraction {
  const n = parseUint(v);
  if (n === undefined || n > 0xffffffff) return configured;
  return { numerator: Math.min(n, configured.numerator), denominator: configured.denominator };
}
