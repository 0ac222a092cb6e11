// A trace collector for tests: one HTTP server on loopback that takes OTLP/HTTP (protobuf, as
// Envoy and Strait send it, on any path ending in /v1/traces) and Zipkin v2 JSON (/api/v2/spans),
// decoding both into one span shape. The OTLP messages are decoded with protobufjs from the
// field numbers of opentelemetry-proto (written out below), independently of the encoder the
// proxy uses, so a wire mistake shows. It can also answer slowly or never, to play a dead
// collector.

import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

/** A span as either wire format carries it; ids are lower-case hex. */
export interface CollectedSpan {
  readonly format: 'otlp' | 'zipkin';
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: 'SERVER' | 'CLIENT' | 'OTHER';
  readonly serviceName: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Start and end in epoch microseconds. */
  readonly startUs: number;
  readonly endUs: number;
  /** OTLP status code (2 = ERROR), Zipkin: 2 when tagged error. */
  readonly statusCode: number;
}

export interface ExportRequest {
  readonly path: string;
  readonly contentType: string;
  readonly spans: readonly CollectedSpan[];
}

const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; Status status = 15; fixed32 flags = 16;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;

const requestType = protobuf.parse(OTLP_PROTO, { keepCase: true }).root.lookupType('otlp.ExportTraceServiceRequest');

interface KV {
  key: string;
  value?: { string_value?: string; bool_value?: boolean; int_value?: number | string; double_value?: number };
}

function kvObject(list: readonly KV[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = String(v.string_value ?? v.bool_value ?? v.int_value ?? v.double_value ?? '');
  }
  return out;
}

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
const KINDS: Record<number, CollectedSpan['kind']> = { 2: 'SERVER', 3: 'CLIENT' };

export function decodeOtlp(body: Buffer): CollectedSpan[] {
  const msg = requestType.toObject(requestType.decode(body), { longs: String, bytes: Array, defaults: false }) as {
    resource_spans?: { resource?: { attributes?: KV[] }; scope_spans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  const out: CollectedSpan[] = [];
  for (const rs of msg.resource_spans ?? []) {
    const serviceName = kvObject(rs.resource?.attributes)['service.name'] ?? '';
    for (const ss of rs.scope_spans ?? []) {
      for (const s of ss.spans ?? []) {
        const parent = hex(Uint8Array.from((s.parent_span_id as number[] | undefined) ?? []));
        out.push({
          format: 'otlp',
          traceId: hex(Uint8Array.from(s.trace_id as number[])),
          spanId: hex(Uint8Array.from(s.span_id as number[])),
          parentSpanId: parent || undefined,
          name: String(s.name ?? ''),
          kind: KINDS[Number(s.kind ?? 0)] ?? 'OTHER',
          serviceName,
          attributes: kvObject(s.attributes as KV[] | undefined),
          startUs: Math.round(Number(s.start_time_unix_nano) / 1000),
          endUs: Math.round(Number(s.end_time_unix_nano) / 1000),
          statusCode: Number((s.status as { code?: number } | undefined)?.code ?? 0),
        });
      }
    }
  }
  return out;
}

interface ZipkinJson {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  timestamp: number;
  duration: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

export function decodeZipkin(body: Buffer): CollectedSpan[] {
  return (JSON.parse(body.toString()) as ZipkinJson[]).map((z) => ({
    format: 'zipkin' as const,
    traceId: z.traceId,
    spanId: z.id,
    parentSpanId: z.parentId,
    name: z.name,
    kind: z.kind === 'SERVER' || z.kind === 'CLIENT' ? z.kind : 'OTHER',
    serviceName: z.localEndpoint?.serviceName ?? '',
    attributes: z.tags ?? {},
    startUs: z.timestamp,
    endUs: z.timestamp + z.duration,
    statusCode: z.tags?.error === 'true' ? 2 : 0,
  }));
}

export type CollectorMode = 'ok' | 'unavailable' | 'hang';

export interface TraceCollector {
  readonly port: number;
  readonly host: string;
  readonly requests: ExportRequest[];
  /** Every span received, in arrival order. */
  spans(): CollectedSpan[];
  /** How it answers from now on: 200, 503, or never (the connection stays open). */
  mode: CollectorMode;
  close(): Promise<void>;
}

export async function startTraceCollector(host = '127.0.0.1'): Promise<TraceCollector> {
  const requests: ExportRequest[] = [];
  const state = { mode: 'ok' as CollectorMode };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.mode === 'hang') return;
      if (state.mode === 'unavailable') {
        res.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const path = req.url ?? '';
      const contentType = String(req.headers['content-type'] ?? '');
      try {
        const spans = path.endsWith('/api/v2/spans') ? decodeZipkin(body) : decodeOtlp(body);
        requests.push({ path, contentType, spans });
        res.writeHead(path.endsWith('/api/v2/spans') ? 202 : 200, { 'content-type': contentType }).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    requests,
    spans: () => requests.flatMap((r) => r.spans),
    get mode() {
      return state.mode;
    },
    set mode(m: CollectorMode) {
      state.mode = m;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An OTLP/gRPC collector: HTTP/2 cleartext, one unary method
 * (opentelemetry.proto.collector.trace.v1.TraceService/Export), the request message decoded as
 * above; answers an empty ExportTraceServiceResponse with grpc-status 0.
 */
export async function startGrpcTraceCollector(host = '127.0.0.1'): Promise<Omit<TraceCollector, 'mode'>> {
  const requests: ExportRequest[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = String(headers[':path']);
      // One length-prefixed message: flag byte, 4-byte big-endian length, the message.
      const spans = decodeOtlp(body.subarray(5, 5 + body.readUInt32BE(1)));
      requests.push({ path, contentType: String(headers['content-type'] ?? ''), spans });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.alloc(5));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    requests,
    spans: () => requests.flatMap((r) => r.spans),
    // The proxy keeps its HTTP/2 connection pooled: close it, or close() would wait for it.
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
