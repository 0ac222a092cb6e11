// OTLP export, as Envoy's OpenTelemetry tracer does it: over HTTP (protobuf, `POST /v1/traces`)
// with an http_service, or over gRPC (TraceService/Export, unary) with a grpc_service. The encoding and the export bookkeeping are OpenTelemetry's own: the spans are
// presented as `ReadableSpan`s (@opentelemetry/sdk-trace-base's interface), serialized by
// @opentelemetry/otlp-transformer's ProtobufTraceSerializer, and handed through
// @opentelemetry/otlp-exporter-base's export delegate (what OTLPTraceExporter is built from).
// Only the transport is Strait's: the request goes to the provider's cluster through the proxy's
// async HTTP client (load balancing, pools, TLS, circuit breakers; the timeout from the injected
// clock), as Envoy sends to its collector cluster, instead of the SDK's own HTTP agent.

import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { ExporterMetrics, OTLPExporterBase, createOtlpNetworkExportDelegate } from '@opentelemetry/otlp-exporter-base';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AsyncHttpClient } from '../../filters/http/api.js';
import type { ExportOutcome, SpanExporter } from './reporter.js';
import type { ProxySpan } from './span.js';

export interface OtlpTarget {
  /** OTLP/HTTP (POST of the protobuf to `path`) or OTLP/gRPC (TraceService/Export, unary). */
  readonly protocol: 'http' | 'grpc';
  readonly cluster: string;
  /** e.g. /v1/traces (HTTP only). */
  readonly path: string;
  /** :authority of the export request (the provider's service host). */
  readonly authority: string;
  readonly timeoutMs: number;
  /** HttpService request_headers_to_add, or GrpcService initial_metadata. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** OTLP/gRPC's method; its request message is the same ExportTraceServiceRequest as OTLP/HTTP's body. */
const GRPC_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const SCOPE = { name: 'strait' };
const ZERO_PAD = '0000000000000000';

function hrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}

/** A finished ProxySpan as the OpenTelemetry SDK's ReadableSpan (what the serializer reads). */
export function toReadableSpan(s: ProxySpan, resource: Resource): ReadableSpan {
  const traceId = s.traceId.length === 16 ? ZERO_PAD + s.traceId : s.traceId;
  const attributes: Attributes = s.tagObject();
  const duration = Math.max(0, s.endTime - s.startTime);
  return {
    name: s.name,
    kind: s.kind === 'SERVER' ? SpanKind.SERVER : SpanKind.CLIENT,
    spanContext: () => ({ traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED }),
    ...(s.parentSpanId ? { parentSpanContext: { traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true } } : {}),
    startTime: hrTime(s.startTime),
    endTime: hrTime(s.endTime),
    duration: hrTime(duration),
    status: { code: s.error ? SpanStatusCode.ERROR : SpanStatusCode.UNSET },
    attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** A failed send, carried through the delegate to the outcome the reporter counts. */
class SendFailure extends Error {
  constructor(
    message: string,
    readonly noCluster: boolean,
  ) {
    super(message);
  }
}

/** The OTLP exporter's transport: one POST (or one unary gRPC call) over the proxy's cluster. */
class ClusterTransport implements IExporterTransport {
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly client: AsyncHttpClient,
    private readonly target: OtlpTarget,
  ) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const abort = new AbortController();
    this.inFlight.add(abort);
    try {
      if (this.target.protocol === 'grpc') {
        const g = await this.client.grpcUnary(this.target.cluster, { path: GRPC_EXPORT, authority: this.target.authority, metadata: Object.entries(this.target.headers ?? {}), message: data }, timeoutMillis, abort.signal);
        if (g.kind === 'ok') return { status: 'success', data: new Uint8Array(g.message) };
        return { status: 'failure', error: new SendFailure(g.reason, g.reason.includes('is not known to this proxy')) };
      }
      const r = await this.client.send(
        this.target.cluster,
        { method: 'POST', path: this.target.path, authority: this.target.authority, headers: { ...this.target.headers, 'content-type': 'application/x-protobuf' }, body: Buffer.from(data.buffer, data.byteOffset, data.byteLength) },
        timeoutMillis,
        abort.signal,
      );
      if (r.kind === 'failure') return { status: 'failure', error: new SendFailure(r.reason, r.reason.includes('is not known to this proxy')) };
      if (r.status >= 200 && r.status < 300) return { status: 'success', data: new Uint8Array(r.body) };
      return { status: 'failure', error: new SendFailure(`the collector answered ${r.status}`, false) };
    } finally {
      this.inFlight.delete(abort);
    }
  }

  shutdown(): void {
    for (const a of this.inFlight) a.abort();
  }
}

export class OtlpExporter implements SpanExporter {
  private readonly resource: Resource;
  private readonly transport: ClusterTransport;
  private readonly otlp: OTLPExporterBase<ReadableSpan[]>;

  constructor(client: AsyncHttpClient, target: OtlpTarget, serviceName: string) {
    this.resource = resourceFromAttributes({ 'service.name': serviceName });
    this.transport = new ClusterTransport(client, target);
    const metrics = new ExporterMetrics<ReadableSpan[]>({
      componentType: 'strait_otlp_http_span_exporter',
      metricsHelper: TraceExporterMetricsHelper,
      url: undefined,
      meterProvider: undefined,
      responseAttributesFromError: () => ({}),
    });
    // The reporter already bounds what is outstanding; the delegate's own limit matches it.
    const delegate = createOtlpNetworkExportDelegate({ timeoutMillis: target.timeoutMs, concurrencyLimit: 8, compression: 'none' }, ProtobufTraceSerializer, metrics, this.transport);
    this.otlp = new OTLPExporterBase(delegate);
  }

  export(spans: readonly ProxySpan[]): Promise<ExportOutcome> {
    const readable = spans.map((s) => toReadableSpan(s, this.resource));
    return new Promise((resolve) => {
      this.otlp.export(readable, (r: ExportResult) => {
        if (r.code === ExportResultCode.SUCCESS) resolve({ ok: true });
        else resolve({ ok: false, reason: r.error?.message ?? 'export failed', noCluster: r.error instanceof SendFailure && r.error.noCluster });
      });
    });
  }

  async shutdown(): Promise<void> {
    this.transport.shutdown();
    await this.otlp.shutdown();
  }
}
