// Zipkin v2 JSON (`POST /api/v2/spans`, a JSON array of spans), as Envoy's Zipkin tracer sends
// it with collector_endpoint_version HTTP_JSON, to the collector cluster of the proxy (the
// cluster Istio names after the provider's service and port) through the proxy's own async HTTP
// client: its load balancing, connection pool, circuit breakers and TLS apply. Timestamps and
// durations are microseconds; every tag is a string.

import type { AsyncHttpClient } from '../../filters/http/api.js';
import type { ExportOutcome, SpanExporter } from './reporter.js';
import type { ProxySpan } from './span.js';

export interface ZipkinTarget {
  readonly cluster: string;
  /** The collector's path, e.g. /api/v2/spans. */
  readonly path: string;
  /** Host header; Envoy's default is the cluster name. */
  readonly hostname: string;
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
}

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind: 'SERVER' | 'CLIENT';
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string; ipv4?: string };
  tags: Record<string, string>;
  debug?: true;
  shared?: false;
}

/** One span in Zipkin's v2 model. */
export function toZipkinSpan(s: ProxySpan, localIp?: string): ZipkinSpan {
  const out: ZipkinSpan = {
    traceId: s.traceId,
    id: s.spanId,
    name: s.name,
    kind: s.kind,
    timestamp: Math.round(s.startTime * 1000),
    // Zipkin treats 0 as "unknown": a sub-microsecond span still lasted.
    duration: Math.max(1, Math.round((s.endTime - s.startTime) * 1000)),
    localEndpoint: { serviceName: s.serviceName, ...(localIp ? { ipv4: localIp } : {}) },
    tags: s.tagObject(),
  };
  if (s.parentSpanId) out.parentId = s.parentSpanId;
  if (s.debug) out.debug = true;
  return out;
}

export class ZipkinExporter implements SpanExporter {
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly client: AsyncHttpClient,
    private readonly target: ZipkinTarget,
    private readonly localIp?: string,
  ) {}

  async export(spans: readonly ProxySpan[]): Promise<ExportOutcome> {
    const body = Buffer.from(JSON.stringify(spans.map((s) => toZipkinSpan(s, this.localIp))));
    const abort = new AbortController();
    this.inFlight.add(abort);
    try {
      const r = await this.client.send(
        this.target.cluster,
        { method: 'POST', path: this.target.path, authority: this.target.hostname, headers: { ...this.target.headers, 'content-type': 'application/json' }, body },
        this.target.timeoutMs,
        abort.signal,
      );
      if (r.kind === 'failure') return { ok: false, reason: r.reason, noCluster: r.reason.includes('is not known to this proxy') };
      if (r.status >= 200 && r.status < 300) return { ok: true };
      return { ok: false, reason: `the collector answered ${r.status}` };
    } finally {
      this.inFlight.delete(abort);
    }
  }

  shutdown(): Promise<void> {
    for (const a of this.inFlight) a.abort();
    return Promise.resolve();
  }
}
