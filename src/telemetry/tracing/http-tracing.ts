// The connection manager's tracing, per request: two calls, startSpan() when the request headers
// are known and finishSpan() when the exchange ends. startSpan decides sampling (sampling.ts),
// reads the caller's context (trace-context.ts) and writes this hop's context into the headers
// forwarded upstream, so the next hop's span becomes a child of this one.
//
// Hot path: tracing off is one null check in the connection manager. Tracing on, an unsampled
// request allocates no span: it keeps the caller's context as it came (it says "not sampled" to
// every later hop) or, when none came, gets fresh ids with the sampled flag off (Envoy always
// propagates, and Istio's X-B3-* headers show up even at 1 % sampling). Only a sampled request
// gets a ProxySpan, tagged at the end as Envoy tags its spans (tags list below) and handed to
// the reporter, which batches off the request path.

import type { Random } from '../../common/random.js';
import type { HeaderMap } from '../../dataplane/http/headers.js';
import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import type { SpanReporter } from './reporter.js';
import { decideTraceReason, withTraceReason } from './sampling.js';
import type { SamplingConfig } from './sampling.js';
import { ProxySpan } from './span.js';
import type { SpanKind } from './span.js';
import { extractContext, injectContext, newSpanId, newTraceId } from './trace-context.js';
import type { PropagationFormat } from './trace-context.js';

/** A custom tag (Envoy's CustomTag), compiled: environment values are read at config time. */
export type CustomTag =
  | { readonly tag: string; readonly kind: 'literal'; readonly value: string }
  | { readonly tag: string; readonly kind: 'header'; readonly name: string; readonly defaultValue: string }
  | { readonly tag: string; readonly kind: 'metadata'; readonly filter: string; readonly path: readonly string[]; readonly defaultValue: string };

/** An HTTP connection manager's tracing, compiled from its xDS `tracing` (tracing-config.ts). */
export interface HttpTracing {
  /** The provider's header format: B3 for Zipkin, W3C for OpenTelemetry. */
  readonly format: PropagationFormat;
  readonly reporter: SpanReporter;
  /** `service.name` (OTLP) / localEndpoint.serviceName (Zipkin). */
  readonly serviceName: string;
  /** SERVER on inbound listeners (and with spawn_upstream_span), CLIENT on outbound and gateways. */
  readonly kind: SpanKind;
  /** Inbound (Envoy's ingress operation): the caller's x-envoy-decorator-operation names the span. */
  readonly ingress: boolean;
  readonly sampling: SamplingConfig;
  readonly customTags: readonly CustomTag[];
  /** http.url keeps at most this many characters of the path (Envoy's default 256). */
  readonly maxPathTagLength: number;
  readonly nodeId: string;
  readonly zone: string;
  readonly random: Random;
}

const DECORATOR_HEADER = 'x-envoy-decorator-operation';

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Decides whether this request is traced, packs the decision into x-request-id, and propagates
 * the trace context in `headers` (the headers forwarded upstream). Returns the hop's span when
 * sampled, else null. `internal`: the caller is trusted to force a trace.
 */
export function startSpan(t: HttpTracing, headers: HeaderMap, internal: boolean, startTime: number, startMono: number): ProxySpan | null {
  let operation: string | undefined;
  if (t.ingress) {
    // Envoy uses the caller's operation for the server span and never forwards it to the app.
    const op = headers[DECORATOR_HEADER];
    if (op !== undefined) {
      delete headers[DECORATOR_HEADER];
      operation = one(op) || undefined;
    }
  }
  const rid = one(headers['x-request-id']);
  const reason = decideTraceReason(t.sampling, { requestId: rid, clientTraceId: headers['x-client-trace-id'] !== undefined, forceTrace: internal && headers['x-envoy-force-trace'] !== undefined }, t.random);
  if (rid !== undefined) {
    const packed = withTraceReason(rid, reason);
    if (packed !== rid) headers['x-request-id'] = packed;
  }
  const incoming = extractContext(headers, t.format);
  const parent = incoming?.kind === 'context' ? incoming.context : null;
  let sampled: boolean;
  if (reason === 'client_forced' || reason === 'service_forced') sampled = true;
  else if (parent && parent.sampled !== undefined) sampled = parent.sampled;
  else if (incoming?.kind === 'decision') sampled = incoming.sampled;
  else sampled = reason === 'sampling';

  if (!sampled) {
    // The caller's context already says "not sampled" to every later hop: forward it as it is.
    if (parent && parent.sampled === false) return null;
    injectContext(headers, { traceId: parent?.traceId ?? newTraceId(t.random), spanId: newSpanId(t.random), parentSpanId: parent?.spanId, sampled: false, debug: false }, t.format);
    return null;
  }
  const traceId = parent?.traceId ?? newTraceId(t.random);
  const spanId = newSpanId(t.random);
  const debug = parent?.debug ?? false;
  injectContext(headers, { traceId, spanId, parentSpanId: parent?.spanId, sampled: true, debug }, t.format);
  return new ProxySpan(traceId, spanId, parent?.spanId, t.kind, startTime, startMono, debug, parent?.traceState, operation, t.serviceName);
}

/** The client's IP without the port (Istio's spans show `peer.address` as an address). */
function hostOf(address: string): string {
  if (address.startsWith('[')) return address.slice(1, address.indexOf(']'));
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

/** Tags the span from what the request did, names it, and hands it to the reporter. */
export function finishSpan(t: HttpTracing, span: ProxySpan, info: StreamInfo, endMono: number): void {
  span.endTime = span.startTime + Math.max(0, endMono - span.startMono);
  // Envoy: the caller's operation, else the route's decorator, else "ingress" / "egress <host>".
  span.name = span.operation ?? span.decorator ?? (t.ingress ? 'ingress' : `egress ${info.authority}`);
  const h = info.requestHeaders;
  const path = info.path.length > t.maxPathTagLength ? info.path.slice(0, t.maxPathTagLength) : info.path;
  span.tag('node_id', t.nodeId);
  span.tag('zone', t.zone);
  const rid = one(h['x-request-id']);
  if (rid !== undefined) span.tag('guid:x-request-id', rid);
  const clientTraceId = one(h['x-client-trace-id']);
  if (clientTraceId !== undefined) span.tag('guid:x-client-trace-id', clientTraceId);
  span.tag('http.url', `${info.scheme}://${info.authority}${path}`);
  span.tag('http.method', info.method);
  span.tag('downstream_cluster', one(h['x-envoy-downstream-service-cluster']) ?? '-');
  span.tag('user_agent', one(h['user-agent']) ?? '-');
  span.tag('http.protocol', info.protocol);
  span.tag('peer.address', hostOf(info.downstreamRemoteAddress));
  span.tag('request_size', String(info.bytesReceived));
  span.tag('response_size', String(info.bytesSent));
  span.tag('component', 'proxy');
  if (info.upstreamCluster) {
    span.tag('upstream_cluster', info.upstreamCluster);
    span.tag('upstream_cluster.name', info.upstreamCluster);
  }
  if (info.upstreamHost) span.tag('upstream_address', info.upstreamHost);
  span.tag('http.status_code', String(info.responseCode));
  span.tag('response_flags', info.responseFlags.length ? info.responseFlags.join(',') : '-');
  if (info.responseCode === 0 || info.responseCode >= 500) {
    span.error = true;
    span.tag('error', 'true');
  }
  for (const c of t.customTags) {
    let v: string | undefined;
    if (c.kind === 'literal') v = c.value;
    else if (c.kind === 'header') v = one(h[c.name]) ?? (c.defaultValue || undefined);
    else {
      let m: unknown = info.dynamicMetadata[c.filter];
      for (const k of c.path) m = m !== null && typeof m === 'object' ? (m as Record<string, unknown>)[k] : undefined;
      v = m === undefined || m === null ? c.defaultValue || undefined : typeof m === 'string' ? m : JSON.stringify(m);
    }
    if (v !== undefined) span.tag(c.tag, v);
  }
  t.reporter.report(span);
}
