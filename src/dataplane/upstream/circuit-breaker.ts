// Envoy's circuit breakers for one cluster (the DEFAULT priority thresholds): counts of open
// connections, requests waiting for a connection, outstanding requests and outstanding retries,
// each against its limit, with the `circuit_breakers.default.*_open` gauges set while a limit is
// reached and the `remaining_*` gauges (Envoy's track_remaining, which Istio sets) kept beside
// them. The router admits requests and retries here; the pools count connections and pending
// requests here, so one breaker governs the whole cluster across hosts and protocols.

import type { CircuitBreakerThresholds } from '../../xds/resources.js';
import { ConfigError } from '../config/durations.js';
import type { ClusterStats } from './cluster-stats.js';

export interface Thresholds {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  /** When set, replaces maxRetries: retries may be this share of active + pending requests. */
  readonly retryBudget: { readonly percent: number; readonly minConcurrency: number } | null;
}

const UINT32_MAX = 4294967295;
/** Envoy's defaults when a threshold is unset (Istio sends 2^32-1 for what the user left unset). */
const ENVOY_DEFAULT = 1024;

export function thresholdsOf(cluster: string, list: readonly CircuitBreakerThresholds[] | undefined): Thresholds {
  const t = (list ?? []).find((x) => (x.priority ?? 'DEFAULT') === 'DEFAULT') ?? {};
  const where = `cluster ${cluster} circuitBreakers`;
  const limit = (v: number | undefined, field: string) => {
    if (v === undefined) return ENVOY_DEFAULT;
    if (!Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw new ConfigError(`${where}.${field}: must be an integer between 0 and ${UINT32_MAX}, got ${v}`);
    return v;
  };
  let retryBudget: Thresholds['retryBudget'] = null;
  if (t.retryBudget) {
    const percent = t.retryBudget.budgetPercent?.value ?? 20;
    if (!(percent >= 0 && percent <= 100)) throw new ConfigError(`${where}.retryBudget.budgetPercent: must be between 0 and 100, got ${percent}`);
    retryBudget = { percent, minConcurrency: limit(t.retryBudget.minRetryConcurrency ?? 3, 'retryBudget.minRetryConcurrency') };
  }
  return {
    maxConnections: limit(t.maxConnections, 'maxConnections'),
    maxPendingRequests: limit(t.maxPendingRequests, 'maxPendingRequests'),
    maxRequests: limit(t.maxRequests, 'maxRequests'),
    maxRetries: limit(t.maxRetries, 'maxRetries'),
    retryBudget,
  };
}

/** The router's permission to send (or retry) one request. `release` is idempotent. */
export type Admission = { readonly ok: true; release(): void } | { readonly ok: false; readonly reason: 'max_requests' | 'max_retries' };

const MAX_REQUESTS: Admission = Object.freeze({ ok: false, reason: 'max_requests' });
const MAX_RETRIES: Admission = Object.freeze({ ok: false, reason: 'max_retries' });

class Granted {
  readonly ok = true;
  private released = false;

  constructor(private readonly breaker: CircuitBreaker, private readonly retry: boolean) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.retry) this.breaker.retryEnded();
    else this.breaker.requestEnded();
  }
}

export class CircuitBreaker {
  connections = 0;
  pending = 0;
  requests = 0;
  retries = 0;

  constructor(readonly limits: Thresholds, private readonly stats: ClusterStats) {
    stats.cbRemainingCx.value = limits.maxConnections;
    stats.cbRemainingPending.value = limits.maxPendingRequests;
    stats.cbRemainingRq.value = limits.maxRequests;
    stats.cbRemainingRetries.value = this.maxRetries();
  }

  tryStartRequest(): Admission {
    if (this.requests >= this.limits.maxRequests) {
      // Envoy counts a maxRequests overflow as a pending overflow too (both answer 503 UO).
      this.stats.rqPendingOverflow.value++;
      return MAX_REQUESTS;
    }
    this.requests++;
    this.stats.cbRqOpen.value = this.requests >= this.limits.maxRequests ? 1 : 0;
    this.stats.cbRemainingRq.value = this.limits.maxRequests - this.requests;
    return new Granted(this, false);
  }

  tryStartRetry(): Admission {
    if (this.retries >= this.maxRetries()) {
      this.stats.rqRetryOverflow.value++;
      this.stats.cbRqRetryOpen.value = 1;
      return MAX_RETRIES;
    }
    this.retries++;
    this.stats.cbRqRetryOpen.value = this.retries >= this.maxRetries() ? 1 : 0;
    this.stats.cbRemainingRetries.value = Math.max(0, this.maxRetries() - this.retries);
    return new Granted(this, true);
  }

  private maxRetries(): number {
    const b = this.limits.retryBudget;
    if (b === null) return this.limits.maxRetries;
    return Math.max(b.minConcurrency, Math.floor((b.percent / 100) * (this.requests + this.pending)));
  }

  /** @internal Granted.release */
  requestEnded(): void {
    this.requests--;
    this.stats.cbRqOpen.value = this.requests >= this.limits.maxRequests ? 1 : 0;
    this.stats.cbRemainingRq.value = this.limits.maxRequests - this.requests;
  }

  /** @internal Granted.release */
  retryEnded(): void {
    this.retries--;
    this.stats.cbRqRetryOpen.value = this.retries >= this.maxRetries() ? 1 : 0;
    this.stats.cbRemainingRetries.value = Math.max(0, this.maxRetries() - this.retries);
  }

  canOpenConnection(): boolean {
    return this.connections < this.limits.maxConnections;
  }

  connectionOpened(): void {
    this.connections++;
    this.stats.cbCxOpen.value = this.connections >= this.limits.maxConnections ? 1 : 0;
    this.stats.cbRemainingCx.value = Math.max(0, this.limits.maxConnections - this.connections);
  }

  connectionClosed(): void {
    this.connections--;
    this.stats.cbCxOpen.value = this.connections >= this.limits.maxConnections ? 1 : 0;
    this.stats.cbRemainingCx.value = Math.max(0, this.limits.maxConnections - this.connections);
  }

  canQueue(): boolean {
    return this.pending < this.limits.maxPendingRequests;
  }

  pendingAdded(): void {
    this.pending++;
    this.stats.rqPendingTotal.value++;
    this.stats.rqPendingActive.value++;
    this.stats.cbRqPendingOpen.value = this.pending >= this.limits.maxPendingRequests ? 1 : 0;
    this.stats.cbRemainingPending.value = Math.max(0, this.limits.maxPendingRequests - this.pending);
  }

  pendingRemoved(): void {
    this.pending--;
    this.stats.rqPendingActive.value--;
    this.stats.cbRqPendingOpen.value = this.pending >= this.limits.maxPendingRequests ? 1 : 0;
    this.stats.cbRemainingPending.value = Math.max(0, this.limits.maxPendingRequests - this.pending);
  }
}
