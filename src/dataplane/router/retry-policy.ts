// Envoy's route retry policy (x-envoy-retry-on vocabulary), compiled once per route: which
// outcomes may be retried, how many times, with which per-try timeout and backoff. Istio's
// VirtualService `retries` compile to it, and so does Istio's default policy when a route has
// none (VS-17: 2 retries on connect-failure, refused-stream, unavailable, cancelled and 503).

import type { Random } from '../../common/random.js';
import type { RetryPolicy } from '../../xds/resources.js';
import { optionalDurationMs } from '../config/durations.js';
import { RouteConfigError } from './route-match.js';

/** Why an attempt ended without a usable response. */
export type AttemptFailure = 'connect_failure' | 'reset_before_request' | 'reset' | 'refused_stream' | 'timeout' | 'overflow';

const HTTP_ON = ['5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure'] as const;
const GRPC_ON: Readonly<Record<string, number>> = { cancelled: 1, 'deadline-exceeded': 4, 'resource-exhausted': 8, internal: 13, unavailable: 14 };

export interface CompiledRetryPolicy {
  readonly numRetries: number;
  /** 0: the route timeout bounds each try. */
  readonly perTryTimeoutMs: number;
  readonly on: ReadonlySet<string>;
  readonly grpcCodes: ReadonlySet<number>;
  readonly statusCodes: ReadonlySet<number>;
  readonly previousHosts: boolean;
  readonly hostSelectionMaxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export function compileRetryPolicy(at: string, p: RetryPolicy | undefined): CompiledRetryPolicy | null {
  if (!p) return null;
  const on = new Set<string>();
  const grpcCodes = new Set<number>();
  for (const raw of (p.retryOn ?? '').split(',')) {
    const v = raw.trim();
    if (!v) continue;
    if ((HTTP_ON as readonly string[]).includes(v)) on.add(v);
    else if (GRPC_ON[v] !== undefined) grpcCodes.add(GRPC_ON[v]!);
    else throw new RouteConfigError(`${at}: unknown retryOn value "${v}" (Envoy's x-envoy-retry-on / x-envoy-retry-grpc-on vocabulary)`);
  }
  const baseMs = optionalDurationMs(p.retryBackOff?.baseInterval, `${at} retryBackOff.baseInterval`, 25);
  if (baseMs <= 0) throw new RouteConfigError(`${at}: retry backoff base interval must be above 0`);
  return {
    numRetries: p.numRetries ?? 1,
    perTryTimeoutMs: optionalDurationMs(p.perTryTimeout, `${at} perTryTimeout`, 0),
    on,
    grpcCodes,
    statusCodes: new Set(p.retriableStatusCodes ?? []),
    previousHosts: (p.retryHostPredicate ?? []).some((h) => h.name === 'envoy.retry_host_predicates.previous_hosts'),
    hostSelectionMaxAttempts: p.hostSelectionRetryMaxAttempts ?? 1,
    backoffBaseMs: baseMs,
    backoffMaxMs: optionalDurationMs(p.retryBackOff?.maxInterval, `${at} retryBackOff.maxInterval`, baseMs * 10),
  };
}

/** Would Envoy retry after this upstream response (headers, before any body is sent on)? */
export function retriableResponse(p: CompiledRetryPolicy, status: number, grpcStatus: number | undefined): boolean {
  if (p.on.has('5xx') && status >= 500) return true;
  if (p.on.has('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
  if (p.on.has('retriable-4xx') && status === 409) return true;
  if (p.on.has('retriable-status-codes') && p.statusCodes.has(status)) return true;
  if (p.on.has('envoy-ratelimited') && status === 429) return true;
  if (grpcStatus !== undefined && p.grpcCodes.has(grpcStatus)) return true;
  return false;
}

/** Would Envoy retry after this failure (no response headers were received)? */
export function retriableFailure(p: CompiledRetryPolicy, f: AttemptFailure): boolean {
  if (f === 'overflow') return false;
  if (f === 'timeout') return p.on.has('5xx') || p.on.has('gateway-error') || p.on.has('reset');
  if (p.on.has('5xx') || p.on.has('gateway-error') || p.on.has('reset')) return true;
  if (f === 'connect_failure') return p.on.has('connect-failure') || p.on.has('reset-before-request');
  if (f === 'reset_before_request') return p.on.has('reset-before-request');
  if (f === 'refused_stream') return p.on.has('refused-stream');
  return false;
}

/** Envoy's fully jittered exponential backoff: uniform in [0, min(max, base × (2^n − 1))]. */
export function backoffMs(p: CompiledRetryPolicy, retryNumber: number, random: Random): number {
  const ceiling = Math.min(p.backoffMaxMs, p.backoffBaseMs * (2 ** retryNumber - 1));
  return random.next() * ceiling;
}

/** Parses Envoy's per-request override headers (x-envoy-retry-on etc. are trusted only internally). */
export function grpcStatusOf(headers: Record<string, unknown>): number | undefined {
  const v = headers['grpc-status'];
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}
