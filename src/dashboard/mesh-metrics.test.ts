import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshMetrics } from './mesh-metrics.js';
import { BACKEND_V1, FRONTEND_SRC, istioExposition, times } from './test-support.js';

const T0 = 1_700_000_000_000;
const hop = { reporter: 'source' as const, src: FRONTEND_SRC, dst: BACKEND_V1 };
const fail = { ...hop, code: 503, flags: 'UF' };

test("a proxy's first scrape is a baseline; rates come from increases over the rounds' time", () => {
  const m = new MeshMetrics();
  m.ingest('fe', istioExposition([{ hop, latencies: times(100, 3) }]));
  m.endRound(T0);
  assert.deepEqual(m.totals(10), []);
  // 10 s later: 50 more requests (30 at 3 ms, 20 at 40 ms), 5 of them failed.
  m.ingest('fe', istioExposition([{ hop, latencies: [...times(130, 3), ...times(15, 40)] }, { hop: fail, latencies: times(5, 40) }]));
  m.endRound(T0 + 10_000);
  assert.equal(m.windowSeconds(6), 10);
  const [edge] = m.totals(6);
  assert.equal(edge!.totals.requests, 50);
  assert.equal(edge!.totals.errors, 5);
  assert.equal(edge!.labels.destinationService, 'backend.default.svc.cluster.local');
  assert.equal(edge!.labels.destinationWorkload, 'backend-v1');
  // p50 falls in the (1, 5] bucket (30 of 50 there): 1 + 4 * 25/30.
  const s = m.series(() => true, 10, 1);
  assert.equal(s.length, 1);
  assert.equal(s[0]!.rates.rps, 5);
  assert.equal(s[0]!.rates.errorRate, 0.1);
  assert.ok(Math.abs(s[0]!.rates.p50! - (1 + (4 * 25) / 30)) < 1e-9);
  // p99: rank 49.5 in (25, 50], which holds the 20 at 40 ms: 25 + 25 * 19.5/20.
  assert.ok(Math.abs(s[0]!.rates.p99! - (25 + (25 * 19.5) / 20)) < 1e-9);
});

test('a counter that goes down is a restarted proxy: its new value is the increase', () => {
  const m = new MeshMetrics();
  m.ingest('fe', istioExposition([{ hop, latencies: times(100, 3) }]));
  m.endRound(T0);
  m.ingest('fe', istioExposition([{ hop, latencies: times(7, 3) }]));
  m.endRound(T0 + 5000);
  assert.equal(m.totals(1)[0]!.totals.requests, 7);
});

test('several proxies reporting the same edge (replicas) add up; a series new since the last scrape counts whole', () => {
  const m = new MeshMetrics();
  m.ingest('fe-1', istioExposition([]));
  m.ingest('fe-2', istioExposition([]));
  m.endRound(T0);
  m.ingest('fe-1', istioExposition([{ hop, latencies: times(4, 3) }]));
  m.ingest('fe-2', istioExposition([{ hop, latencies: times(6, 3) }]));
  m.endRound(T0 + 5000);
  const t = m.totals(1);
  assert.equal(t.length, 1);
  assert.equal(t[0]!.totals.requests, 10);
});

test('memory is bounded: points older than maxRounds go, then the key; keys are capped', () => {
  const m = new MeshMetrics({ maxRounds: 3, maxKeys: 1 });
  m.ingest('fe', istioExposition([]));
  m.endRound(T0);
  m.ingest('fe', istioExposition([{ hop, latencies: times(1, 3) }, { hop: { ...hop, dst: ['x', 'default', 'x', 'x'] }, latencies: times(1, 3) }]));
  m.endRound(T0 + 1000);
  assert.equal(m.totals(3).length, 1, 'the second key is over the cap');
  for (let i = 2; i <= 4; i++) m.endRound(T0 + i * 1000);
  assert.equal(m.totals(3).length, 0, 'the only point aged out, and its key with it');
  assert.equal(m.windowSeconds(100), 3, 'the last maxRounds + 1 round times are kept');
});

test('series: one point per round over a sliding window; idle rounds have zero rate', () => {
  const m = new MeshMetrics();
  m.ingest('fe', istioExposition([]));
  m.endRound(T0);
  m.ingest('fe', istioExposition([{ hop, latencies: times(10, 3) }]));
  m.endRound(T0 + 5000);
  m.endRound(T0 + 10_000);
  const s = m.series((l) => l.destinationServiceName === 'backend', 10, 1);
  assert.deepEqual(s.map((p) => p.rates.rps), [2, 0]);
  assert.deepEqual(s.map((p) => p.t), [T0 + 5000, T0 + 10_000]);
  assert.deepEqual(m.series((l) => l.destinationServiceName === 'backend', 10, 2).map((p) => p.rates.rps), [2, 1]);
  assert.deepEqual(m.series((l) => l.destinationServiceName === 'nothing', 10, 1).map((p) => p.rates.rps), [0, 0]);
});

test('a proxy started after the control plane counts its first scrape whole: no request is lost to the baseline', () => {
  const m = new MeshMetrics();
  m.endRound(T0);
  m.ingest('fe', istioExposition([{ hop, latencies: times(20, 3) }]), true);
  m.endRound(T0 + 5000);
  assert.equal(m.totals(1)[0]!.totals.requests, 20);
});
