import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsRegistry } from '../../telemetry/stats/stats.js';
import { ConfigError } from '../config/durations.js';
import { CircuitBreaker, thresholdsOf } from './circuit-breaker.js';
import type { Admission } from './circuit-breaker.js';
import { clusterStats } from './cluster-stats.js';

function breaker(t: Parameters<typeof thresholdsOf>[1]) {
  const stats = new StatsRegistry();
  const b = new CircuitBreaker(thresholdsOf('c', t), clusterStats(stats.scope('cluster', { cluster_name: 'c' })));
  return { b, stat: (f: string) => stats.valueOf(`envoy_cluster_${f}`, { cluster_name: 'c' }) };
}

const granted = (a: Admission) => {
  assert.equal(a.ok, true);
  return a as Extract<Admission, { ok: true }>;
};

test('maxRequests: admissions beyond the limit are refused until one is released; release is idempotent', () => {
  const { b, stat } = breaker([{ maxRequests: 2 }]);
  const one = granted(b.tryStartRequest());
  granted(b.tryStartRequest());
  assert.equal(stat('circuit_breakers_default_rq_open'), 1);
  assert.deepEqual(b.tryStartRequest(), { ok: false, reason: 'max_requests' });
  assert.equal(stat('upstream_rq_pending_overflow'), 1); // Envoy counts it as a pending overflow
  one.release();
  one.release();
  assert.equal(b.requests, 1);
  assert.equal(stat('circuit_breakers_default_rq_open'), 0);
  granted(b.tryStartRequest());
  assert.equal(b.tryStartRequest().ok, false);
});

test('maxRetries: concurrent retries are capped and counted as retry overflow', () => {
  const { b, stat } = breaker([{ maxRetries: 1 }]);
  const r = granted(b.tryStartRetry());
  assert.deepEqual(b.tryStartRetry(), { ok: false, reason: 'max_retries' });
  assert.equal(stat('upstream_rq_retry_overflow'), 1);
  assert.equal(stat('circuit_breakers_default_rq_retry_open'), 1);
  r.release();
  assert.equal(stat('circuit_breakers_default_rq_retry_open'), 0);
  granted(b.tryStartRetry());
});

test('retryBudget replaces maxRetries: 20% of active requests, at least minRetryConcurrency', () => {
  const { b } = breaker([{ maxRetries: 0, retryBudget: { budgetPercent: { value: 20 }, minRetryConcurrency: 2 } }]);
  const retries = () => {
    const got: Admission[] = [];
    for (let a = b.tryStartRetry(); a.ok; a = b.tryStartRetry()) got.push(a);
    for (const a of got) if (a.ok) a.release();
    return got.length;
  };
  assert.equal(retries(), 2); // no traffic: the floor
  for (let i = 0; i < 20; i++) granted(b.tryStartRequest());
  assert.equal(retries(), 4); // 20% of 20 active requests
});

test('thresholds: the DEFAULT priority entry applies, Envoy defaults fill the gaps, Istio maxima are accepted', () => {
  const t = thresholdsOf('c', [{ priority: 'HIGH', maxConnections: 1 }, { maxConnections: 4294967295, maxRequests: 7 }]);
  assert.deepEqual(t, { maxConnections: 4294967295, maxPendingRequests: 1024, maxRequests: 7, maxRetries: 1024, retryBudget: null });
  assert.deepEqual(thresholdsOf('c', undefined).maxPendingRequests, 1024);
  assert.throws(() => thresholdsOf('c', [{ maxPendingRequests: -1 }]), (e: Error) => e instanceof ConfigError && /circuitBreakers.maxPendingRequests: must be an integer/.test(e.message));
  assert.throws(() => thresholdsOf('c', [{ retryBudget: { budgetPercent: { value: 120 } } }]), /budgetPercent: must be between 0 and 100/);
});

test('connection and pending gauges follow the counts', () => {
  const { b, stat } = breaker([{ maxConnections: 1, maxPendingRequests: 1 }]);
  assert.equal(b.canOpenConnection(), true);
  b.connectionOpened();
  assert.equal(b.canOpenConnection(), false);
  assert.equal(stat('circuit_breakers_default_cx_open'), 1);
  b.pendingAdded();
  assert.equal(b.canQueue(), false);
  assert.deepEqual([stat('circuit_breakers_default_rq_pending_open'), stat('upstream_rq_pending_active'), stat('upstream_rq_pending_total')], [1, 1, 1]);
  b.pendingRemoved();
  b.connectionClosed();
  assert.deepEqual([stat('circuit_breakers_default_cx_open'), stat('circuit_breakers_default_rq_pending_open'), stat('upstream_rq_pending_active')], [0, 0, 0]);
});

test('remaining_* gauges (track_remaining, as Istio configures it) follow every count to its limit', () => {
  const { b, stat } = breaker([{ maxConnections: 3, maxPendingRequests: 2, maxRequests: 5, maxRetries: 1 }]);
  assert.deepEqual(['cx', 'pending', 'rq', 'retries'].map((k) => stat(`circuit_breakers_default_remaining_${k}`)), [3, 2, 5, 1]);
  const rq = granted(b.tryStartRequest());
  const retry = granted(b.tryStartRetry());
  b.connectionOpened();
  b.pendingAdded();
  assert.deepEqual(['cx', 'pending', 'rq', 'retries'].map((k) => stat(`circuit_breakers_default_remaining_${k}`)), [2, 1, 4, 0]);
  rq.release();
  retry.release();
  b.connectionClosed();
  b.pendingRemoved();
  assert.deepEqual(['cx', 'pending', 'rq', 'retries'].map((k) => stat(`circuit_breakers_default_remaining_${k}`)), [3, 2, 5, 1]);
});
