// The batching reporter with a manual clock and a fake exporter: flush on min_flush_spans and on
// the flush interval (timer_flushed), bounded queue and in-flight exports with drops counted,
// failures counted, close() bounded by its grace period.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest } from '../../common/clock.js';
import { StatsRegistry } from '../stats/stats.js';
import { BatchingReporter, reporterStats } from './reporter.js';
import type { ExportOutcome, SpanExporter } from './reporter.js';
import { ProxySpan } from './span.js';

class FakeExporter implements SpanExporter {
  readonly batches: number[] = [];
  private waiting: ((o: ExportOutcome) => void)[] = [];
  shut = false;
  constructor(private readonly answer: 'ok' | 'fail' | 'hold' = 'ok') {}
  export(spans: readonly ProxySpan[]): Promise<ExportOutcome> {
    this.batches.push(spans.length);
    if (this.answer === 'ok') return Promise.resolve({ ok: true });
    if (this.answer === 'fail') return Promise.resolve({ ok: false, reason: 'down' });
    return new Promise((r) => this.waiting.push(r));
  }
  release(o: ExportOutcome = { ok: true }): void {
    for (const r of this.waiting.splice(0)) r(o);
  }
  shutdown(): Promise<void> {
    this.shut = true;
    this.release({ ok: false, reason: 'aborted' });
    return Promise.resolve();
  }
}

const span = (i: number) => new ProxySpan('4bf92f3577b34da6a3ce929d0e0e4736', i.toString(16).padStart(16, '0'), undefined, 'CLIENT', 0, 0, false, undefined, undefined, 'svc');

function setup(answer: 'ok' | 'fail' | 'hold', opts = {}) {
  const clock = new ManualClockForTest();
  const stats = new StatsRegistry();
  const exporter = new FakeExporter(answer);
  const r = new BatchingReporter(exporter, clock, reporterStats(stats, 'zipkin'), { minFlushSpans: 5, flushIntervalMs: 5000, maxQueue: 10, maxBatch: 5, maxInFlight: 1, ...opts });
  const stat = (name: string) => stats.valueOf(`envoy_tracing_${name}`, { tracer: 'zipkin' });
  return { clock, exporter, r, stat };
}

const tick = () => new Promise((r) => setImmediate(r));

test('min_flush_spans spans go out at once; fewer wait for the flush interval of the injected clock', async () => {
  const { clock, exporter, r, stat } = setup('ok');
  for (let i = 1; i <= 5; i++) r.report(span(i));
  assert.deepEqual(exporter.batches, [5]);
  await tick();
  r.report(span(6));
  r.report(span(7));
  clock.advance(4999);
  assert.deepEqual(exporter.batches, [5]);
  clock.advance(1);
  assert.deepEqual(exporter.batches, [5, 2]);
  await tick();
  assert.equal(stat('spans_sent'), 7);
  assert.equal(stat('reports_sent'), 2);
  assert.equal(stat('timer_flushed'), 1);
});

test('while an export is outstanding the queue fills to its bound; more spans are dropped and counted', async () => {
  const { exporter, r, stat } = setup('hold');
  for (let i = 1; i <= 40; i++) r.report(span(i));
  // 5 in flight, 10 queued, 25 dropped.
  assert.deepEqual(exporter.batches, [5]);
  assert.equal(r.queued, 10);
  assert.equal(r.exporting, 1);
  assert.equal(stat('spans_dropped'), 25);
  exporter.release();
  await tick();
  // The slot freed: the next batch went out at once.
  assert.deepEqual(exporter.batches, [5, 5]);
  assert.equal(r.queued, 5);
});

test('failed exports count reports_failed and their spans as dropped', async () => {
  const { r, stat } = setup('fail');
  for (let i = 1; i <= 5; i++) r.report(span(i));
  await tick();
  assert.equal(stat('reports_failed'), 1);
  assert.equal(stat('spans_dropped'), 5);
  assert.equal(stat('spans_sent'), 0);
});

test('close() waits at most its grace period for a hung collector, then aborts; later spans are dropped', async () => {
  const { clock, exporter, r, stat } = setup('hold');
  for (let i = 1; i <= 7; i++) r.report(span(i));
  const closing = r.close(1000);
  await tick();
  clock.advance(1000);
  await closing;
  assert.equal(exporter.shut, true);
  r.report(span(8));
  assert.ok((stat('spans_dropped') ?? 0) >= 3, 'the 2 still queued and the late one');
});
