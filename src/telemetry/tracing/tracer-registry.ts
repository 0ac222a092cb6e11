// The tracers of one proxy process: one reporter (batch queue + exporter) per distinct provider
// configuration, shared by every connection manager that names it and kept across config pushes
// (Envoy also keeps one tracer per provider config), so a push neither loses queued spans nor
// opens a new exporter per listener. The proxy closes the registry when it stops, which flushes
// what is queued.

import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { AsyncHttpClient } from '../../filters/http/api.js';
import type { StatsRegistry } from '../stats/stats.js';
import type { OtlpExporter, OtlpTarget } from './otlp-exporter.js';
import { BatchingReporter, DEFAULT_BATCH, reporterStats } from './reporter.js';
import type { BatchOptions, ExportOutcome, ReporterStats, SpanExporter, SpanReporter } from './reporter.js';
import type { ProxySpan } from './span.js';
import { ZipkinExporter } from './zipkin-exporter.js';
import type { ZipkinTarget } from './zipkin-exporter.js';

/** Who this proxy is, as its spans say it (Envoy's LocalInfo). */
export interface TracingNode {
  /** node_id tag: Istio's `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`. */
  readonly id: string;
  /** The bootstrap's node.cluster (`frontend.default`): the default span service name. */
  readonly cluster: string;
  readonly zone: string;
  /** The proxy's address (Zipkin localEndpoint.ipv4). */
  readonly ip?: string;
}

export type ExportTarget = ({ readonly kind: 'zipkin' } & ZipkinTarget) | ({ readonly kind: 'otlp' } & OtlpTarget);

export interface TracerRegistryOptions {
  readonly client: AsyncHttpClient;
  readonly clock: Clock;
  readonly random: Random;
  readonly stats: StatsRegistry;
  readonly node: TracingNode;
  /** Batching and bounds (tests shrink them). */
  readonly batch?: Partial<BatchOptions>;
}

export class TracerRegistry {
  private readonly reporters = new Map<string, BatchingReporter>();
  private readonly statsByTracer = new Map<string, ReporterStats>();
  private readonly batch: BatchOptions;

  constructor(private readonly opts: TracerRegistryOptions) {
    this.batch = { ...DEFAULT_BATCH, ...opts.batch };
  }

  get node(): TracingNode {
    return this.opts.node;
  }

  get random(): Random {
    return this.opts.random;
  }

  private statsFor(tracer: string): ReporterStats {
    let s = this.statsByTracer.get(tracer);
    if (!s) this.statsByTracer.set(tracer, (s = reporterStats(this.opts.stats, tracer)));
    return s;
  }

  /** The reporter for one provider configuration, made on first use. */
  reporterFor(target: ExportTarget, serviceName: string): SpanReporter {
    const key = JSON.stringify([target, serviceName]);
    let r = this.reporters.get(key);
    if (!r) {
      const { client, clock } = this.opts;
      if (target.kind === 'zipkin') {
        r = new BatchingReporter(new ZipkinExporter(client, target, this.opts.node.ip), clock, this.statsFor('zipkin'), this.batch);
      } else {
        r = new BatchingReporter(new LazyOtlpExporter(client, target, serviceName), clock, this.statsFor('opentelemetry'), this.batch);
      }
      this.reporters.set(key, r);
    }
    return r;
  }

  /** Spans held in memory across reporters: waiting, and in exports outstanding (bounded). */
  backlog(): { queued: number; exporting: number } {
    let queued = 0;
    let exporting = 0;
    for (const r of this.reporters.values()) {
      queued += r.queued;
      exporting += r.exporting;
    }
    return { queued, exporting };
  }

  /** Sends everything queued and waits for it (tests; the admin endpoint could use it). */
  async flush(): Promise<void> {
    await Promise.all([...this.reporters.values()].map((r) => r.flush()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.reporters.values()].map((r) => r.close()));
  }
}

/**
 * The OTLP exporter, loaded with its first batch: the OpenTelemetry packages it is built on cost
 * a proxy memory, and most proxies never export to an OpenTelemetry collector.
 */
class LazyOtlpExporter implements SpanExporter {
  private real: Promise<OtlpExporter> | undefined;

  constructor(
    private readonly client: AsyncHttpClient,
    private readonly target: OtlpTarget,
    private readonly serviceName: string,
  ) {}

  private load(): Promise<OtlpExporter> {
    return (this.real ??= import('./otlp-exporter.js').then((m) => new m.OtlpExporter(this.client, this.target, this.serviceName)));
  }

  async export(spans: readonly ProxySpan[]): Promise<ExportOutcome> {
    return (await this.load()).export(spans);
  }

  async shutdown(): Promise<void> {
    if (this.real) await (await this.real).shutdown();
  }
}
