// Where finished spans go: a bounded queue, flushed to the exporter in batches, never on the
// request path. Envoy's tracers buffer spans and flush when `min_flush_spans` (5) are waiting or
// every `flush_interval_ms` (5 s); so does this reporter, with timers from the injected clock.
//
// Memory stays bounded when the collector is slow or gone: at most `maxInFlight` exports are
// outstanding (each of at most `maxBatch` spans, each ending by the exporter's timeout), and the
// queue holds at most `maxQueue` spans; a span that finds the queue full is dropped and counted
// (`tracing.<tracer>.spans_dropped`). report() never blocks and never throws.

import type { Clock, Timer } from '../../common/clock.js';
import type { Counter, StatsRegistry } from '../stats/stats.js';
import type { ProxySpan } from './span.js';

/** The result of sending one batch. */
export type ExportOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly noCluster?: boolean };

/** Sends batches of spans to a collector (Zipkin v2 JSON, OTLP/HTTP). One implementation per wire format. */
export interface SpanExporter {
  /** Resolves (never rejects) once the batch was accepted or definitely failed. */
  export(spans: readonly ProxySpan[]): Promise<ExportOutcome>;
  shutdown(): Promise<void>;
}

/** Takes finished spans; the connection manager calls report() once per sampled request. */
export interface SpanReporter {
  report(span: ProxySpan): void;
  /** Sends what is queued now and waits for the exports in flight (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A reporter that keeps nothing (a tracer whose provider has no collector configured). */
export const DISCARDING_REPORTER: SpanReporter = {
  report: () => undefined,
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

export interface BatchOptions {
  /** Flush as soon as this many spans wait (Envoy's min_flush_spans). Default 5. */
  readonly minFlushSpans: number;
  /** Flush what waits at least this often (Envoy's flush_interval_ms). Default 5000. */
  readonly flushIntervalMs: number;
  /** Spans held while exports cannot keep up; more are dropped. Default 2048. */
  readonly maxQueue: number;
  /** Spans per export request. Default 512. */
  readonly maxBatch: number;
  /** Export requests outstanding at once. Default 2. */
  readonly maxInFlight: number;
}

export const DEFAULT_BATCH: BatchOptions = { minFlushSpans: 5, flushIntervalMs: 5000, maxQueue: 2048, maxBatch: 512, maxInFlight: 2 };

export interface ReporterStats {
  readonly spansSent: Counter;
  readonly spansDropped: Counter;
  readonly reportsSent: Counter;
  readonly reportsFailed: Counter;
  readonly reportsSkippedNoCluster: Counter;
  readonly timerFlushed: Counter;
}

/** Envoy-style `tracing.<tracer>.*` counters (zipkin, opentelemetry). */
export function reporterStats(stats: StatsRegistry, tracer: string): ReporterStats {
  const s = stats.scope('tracing', { tracer });
  return {
    spansSent: s.counter('spans_sent'),
    spansDropped: s.counter('spans_dropped'),
    reportsSent: s.counter('reports_sent'),
    reportsFailed: s.counter('reports_failed'),
    reportsSkippedNoCluster: s.counter('reports_skipped_no_cluster'),
    timerFlushed: s.counter('timer_flushed'),
  };
}

export class BatchingReporter implements SpanReporter {
  private queue: ProxySpan[] = [];
  private inFlight = 0;
  private timer: Timer | null = null;
  private closed = false;
  /** After close(): nothing more is sent. */
  private shut = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly exporter: SpanExporter,
    private readonly clock: Clock,
    private readonly stats: ReporterStats,
    private readonly opts: BatchOptions = DEFAULT_BATCH,
  ) {}

  /** Spans waiting (not yet handed to the exporter). */
  get queued(): number {
    return this.queue.length;
  }

  /** Exports outstanding. */
  get exporting(): number {
    return this.inFlight;
  }

  report(span: ProxySpan): void {
    if (this.closed || this.queue.length >= this.opts.maxQueue) {
      this.stats.spansDropped.value++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.opts.minFlushSpans) this.send();
    else if (!this.timer) this.timer = this.clock.setTimer(this.opts.flushIntervalMs, this.onTimer);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.queue.length === 0) return;
    this.stats.timerFlushed.value++;
    this.send();
  };

  /** Starts exports while spans wait and slots are free. */
  private send(): void {
    if (this.shut) return;
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) {
      const batch = this.queue.length <= this.opts.maxBatch ? this.queue : this.queue.slice(0, this.opts.maxBatch);
      this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
      this.inFlight++;
      const p = this.exporter.export(batch).then(
        (r) => this.done(batch.length, r),
        (e: unknown) => this.done(batch.length, { ok: false, reason: String(e) }),
      );
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
    if (this.queue.length > 0 && !this.timer && !this.closed) this.timer = this.clock.setTimer(this.opts.flushIntervalMs, this.onTimer);
  }

  private done(n: number, r: ExportOutcome): void {
    this.inFlight--;
    if (r.ok) {
      this.stats.reportsSent.value++;
      this.stats.spansSent.value += n;
    } else if (r.noCluster) {
      this.stats.reportsSkippedNoCluster.value++;
      this.stats.spansDropped.value += n;
    } else {
      this.stats.reportsFailed.value++;
      this.stats.spansDropped.value += n;
    }
    // What waited behind a full pipeline goes out as soon as a slot frees.
    if (this.queue.length >= this.opts.minFlushSpans || (this.closed && this.queue.length > 0)) this.send();
  }

  async flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    for (;;) {
      this.send();
      if (this.pending.size === 0 || this.shut) return;
      await Promise.all([...this.pending]);
    }
  }

  /**
   * Sends what is queued, waiting at most `graceMs` for the collector (a proxy that stops must
   * not hang on a dead one), then aborts what is still in flight.
   */
  async close(graceMs = 1000): Promise<void> {
    this.closed = true;
    let timer: Timer | null = null;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = this.clock.setTimer(graceMs, resolve)))]);
    (timer as Timer | null)?.cancel();
    this.shut = true;
    this.stats.spansDropped.value += this.queue.length;
    this.queue = [];
    await this.exporter.shutdown();
  }
}
