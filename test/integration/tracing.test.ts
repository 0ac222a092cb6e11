// Distributed tracing through real proxies on loopback: a client-side proxy (outbound, CLIENT
// spans) in front of a server-side proxy (inbound, SERVER spans) in front of an echo upstream,
// exporting to an in-test collector over OTLP/HTTP (protobuf) and Zipkin v2 JSON. Checks one
// trace across both hops with correct parent/child ids, what the upstream receives, Envoy's and
// Istio's tags, batching, sampling (unsampled requests propagate and export nothing; x-client-
// trace-id forces), and that a dead collector neither slows requests nor holds more spans than
// the bound. No timings are asserted.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import { Proxy } from '../../src/dataplane/proxy.js';
import { OPENTELEMETRY_CONFIG_TYPE, ZIPKIN_CONFIG_TYPE } from '../../src/xds/resources.js';
import type { Cluster, HcmTracing, Listener, Route } from '../../src/xds/resources.js';
import type { BatchOptions } from '../../src/telemetry/tracing/reporter.js';
import { eventually, request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, loopbackListener, staticCluster } from '../helpers/proxy.js';
import { startGrpcTraceCollector, startTraceCollector } from '../helpers/trace-collector.js';
import type { TraceCollector } from '../helpers/trace-collector.js';

let upstream: TestUpstream;
let collector: TraceCollector;
const running: Proxy[] = [];

const ISTIO_TAGS = [
  { tag: 'istio.canonical_service', literal: { value: 'frontend' } },
  { tag: 'istio.namespace', literal: { value: 'default' } },
  { tag: 'team', requestHeader: { name: 'x-team', defaultValue: 'none' } },
];

const otel = (cluster: string, service: string): HcmTracing['provider'] => ({
  name: 'envoy.tracers.opentelemetry',
  typedConfig: { '@type': OPENTELEMETRY_CONFIG_TYPE, httpService: { httpUri: { uri: 'collector.test/v1/traces', cluster, timeout: '30s' } }, serviceName: service },
});
const zipkin = (cluster: string): HcmTracing['provider'] => ({
  name: 'envoy.tracers.zipkin',
  typedConfig: { '@type': ZIPKIN_CONFIG_TYPE, collectorCluster: cluster, collectorEndpoint: '/api/v2/spans', traceId128bit: true, sharedSpanContext: false, collectorEndpointVersion: 'HTTP_JSON', collectorHostname: 'zipkin.test' },
});

interface Hop {
  readonly proxy: Proxy;
  readonly base: string;
}

/** A proxy with one HTTP listener routing everything to `target` (a port on loopback). */
async function hop(name: string, direction: 'INBOUND' | 'OUTBOUND', target: number, tracing: HcmTracing, batch: Partial<BatchOptions> = {}, collectorPort = collector.port, collectorCluster: Partial<Cluster> = {}): Promise<Hop> {
  const routes: Route[] = [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' }, decorator: { operation: `${name}.default.svc.cluster.local:8080/*` } }];
  const listener: Listener = { ...loopbackListener(name, [httpChain(name, routes, { tracing })]), trafficDirection: direction };
  const clusters: Cluster[] = [staticCluster('app', target), staticCluster('collector', collectorPort, collectorCluster)];
  const proxy = new Proxy({
    bootstrap: { node: { id: `sidecar~127.0.0.1~${name}-0.default~default.svc.cluster.local`, cluster: `${name}.default` }, staticResources: { listeners: [listener], clusters } },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(running.length + 1),
    log: () => undefined,
    tracingBatch: { minFlushSpans: 1_000, flushIntervalMs: 60_000, ...batch },
  });
  await proxy.start();
  running.push(proxy);
  return { proxy, base: `http://127.0.0.1:${proxy.listeners.list()[0]!.port}` };
}

before(async () => {
  upstream = await startUpstream();
  collector = await startTraceCollector();
});

after(async () => {
  for (const p of running) await p.stop();
  await upstream.close();
  await collector.close();
});

const seen = (body: string) => (JSON.parse(body) as { headers: Record<string, string> }).headers;
const byTrace = (traceId: string) => collector.spans().filter((s) => s.traceId === traceId);

test('OTLP/HTTP: client span and server span form one trace; the upstream sees the server span as its parent', async () => {
  const sampled = { randomSampling: { value: 100 }, customTags: ISTIO_TAGS };
  const server = await hop('backend', 'INBOUND', upstream.port, { ...sampled, provider: otel('collector', 'backend.default') });
  const client = await hop('frontend', 'OUTBOUND', Number(new URL(server.base).port), { ...sampled, provider: otel('collector', 'frontend.default') });
  const r = await request(`${client.base}/items/7?x=1`, { headers: { host: 'backend:8080', 'x-team': 'checkout', 'user-agent': 'tracing-test' } });
  assert.equal(r.status, 200);
  const headers = seen(r.body);
  const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(headers.traceparent ?? '');
  assert.ok(tp, `traceparent at the upstream: ${headers.traceparent}`);
  const traceId = tp[1]!;
  // The inbound proxy consumed the caller's operation name; the app never sees it.
  assert.equal(headers['x-envoy-decorator-operation'], undefined);
  assert.equal(headers['x-request-id']!.charAt(14), '9', 'the request id says "sampled"');

  await Promise.all([client.proxy.tracers.flush(), server.proxy.tracers.flush()]);
  const spans = byTrace(traceId);
  assert.equal(spans.length, 2, JSON.stringify(spans));
  const c = spans.find((s) => s.kind === 'CLIENT')!;
  const s = spans.find((x) => x.kind === 'SERVER')!;
  assert.equal(c.parentSpanId, undefined, 'the first hop starts the trace');
  assert.equal(s.parentSpanId, c.spanId);
  assert.equal(tp[2], s.spanId, 'the app is a child of the server span');
  assert.equal(c.serviceName, 'frontend.default');
  assert.equal(s.serviceName, 'backend.default');
  // Envoy: the route decorator names the client span; the server span takes the caller's operation.
  assert.equal(c.name, 'frontend.default.svc.cluster.local:8080/*');
  assert.equal(s.name, 'frontend.default.svc.cluster.local:8080/*');
  for (const span of [c, s]) {
    assert.equal(span.format, 'otlp');
    assert.equal(span.attributes.component, 'proxy');
    assert.equal(span.attributes['http.method'], 'GET');
    assert.equal(span.attributes['http.status_code'], '200');
    assert.equal(span.attributes['http.url'], 'http://backend:8080/items/7?x=1');
    assert.equal(span.attributes['http.protocol'], 'HTTP/1.1');
    assert.equal(span.attributes['user_agent'], 'tracing-test');
    assert.equal(span.attributes['response_flags'], '-');
    assert.equal(span.attributes['upstream_cluster'], 'app');
    assert.equal(span.attributes['guid:x-request-id'], headers['x-request-id']);
    assert.equal(span.attributes['istio.canonical_service'], 'frontend');
    assert.equal(span.attributes.team, 'checkout');
    assert.equal(span.attributes['peer.address'], '127.0.0.1');
    assert.match(span.attributes.node_id!, /^sidecar~127\.0\.0\.1~(frontend|backend)-0\.default~/);
    assert.ok(span.endUs >= span.startUs);
  }
  // The request id the caller sent travels on (both hops log the same one).
  assert.equal(c.attributes['guid:x-request-id'], s.attributes['guid:x-request-id']);
});

test('OTLP/HTTP: an incoming W3C context is continued (its sampled flag and parent kept); the span of a failed request is an error', async () => {
  const h = await hop('edge', 'OUTBOUND', 1, { randomSampling: { value: 0 }, provider: otel('collector', 'edge.istio-system') });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const r = await request(`${h.base}/`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'congo=t61rcWkgMzE' } });
  assert.equal(r.status, 503, 'nothing listens on port 1');
  await h.proxy.tracers.flush();
  const [span] = byTrace(traceId);
  assert.ok(span, 'sampled by the caller although random sampling is 0 %');
  assert.equal(span.parentSpanId, '00f067aa0ba902b7');
  assert.equal(span.statusCode, 2);
  assert.equal(span.attributes.error, 'true');
  assert.equal(span.attributes['response_flags'], 'UF');
});

test('Zipkin v2 JSON: B3 in, B3 out with the new span id and the caller as parent; 64-bit trace ids stay 64-bit', async () => {
  const h = await hop('zipkin-hop', 'OUTBOUND', upstream.port, { randomSampling: { value: 0 }, provider: zipkin('collector') });
  const r = await request(`${h.base}/z`, { headers: { 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': 'e457b5a2e4d86bd1', 'x-b3-sampled': '1' } });
  const headers = seen(r.body);
  assert.equal(headers['x-b3-traceid'], 'a3ce929d0e0e4736');
  assert.equal(headers['x-b3-parentspanid'], 'e457b5a2e4d86bd1');
  assert.equal(headers['x-b3-sampled'], '1');
  assert.match(headers['x-b3-spanid']!, /^[0-9a-f]{16}$/);
  assert.equal(headers.traceparent, undefined, 'the Zipkin tracer writes W3C only where the request carried it');
  await h.proxy.tracers.flush();
  const [span] = collector.spans().filter((s) => s.traceId === 'a3ce929d0e0e4736');
  assert.ok(span);
  assert.equal(span.format, 'zipkin');
  assert.equal(span.spanId, headers['x-b3-spanid']);
  assert.equal(span.parentSpanId, 'e457b5a2e4d86bd1');
  assert.equal(span.kind, 'CLIENT');
  assert.equal(span.serviceName, 'zipkin-hop.default');
  assert.equal(span.name, 'zipkin-hop.default.svc.cluster.local:8080/*');
  const req = collector.requests.find((x) => x.spans.includes(span))!;
  assert.equal(req.contentType, 'application/json');
});

test('unsampled: fresh ids with the sampled flag off travel upstream, nothing is exported; x-client-trace-id forces a trace', async () => {
  const h = await hop('quiet', 'OUTBOUND', upstream.port, { randomSampling: { value: 0 }, provider: zipkin('collector') });
  const before = collector.spans().length;
  const r = await request(`${h.base}/q`, { headers: { 'x-request-id': 'da543297-0dd6-498b-bd29-fdb184134c8c' } });
  const headers = seen(r.body);
  assert.match(headers['x-b3-traceid']!, /^[0-9a-f]{32}$/);
  assert.match(headers['x-b3-spanid']!, /^[0-9a-f]{16}$/);
  assert.equal(headers['x-b3-sampled'], '0');
  assert.equal(headers['x-request-id'], 'da543297-0dd6-498b-bd29-fdb184134c8c', 'no trace reason packed');
  await h.proxy.tracers.flush();
  assert.equal(collector.spans().length, before);

  const forced = seen((await request(`${h.base}/q`, { headers: { 'x-client-trace-id': 'debug-1', 'x-request-id': 'da543297-0dd6-498b-bd29-fdb184134c8c' } })).body);
  assert.equal(forced['x-b3-sampled'], '1');
  assert.equal(forced['x-request-id'], 'da543297-0dd6-b98b-bd29-fdb184134c8c', 'client-forced: nibble b');
  await h.proxy.tracers.flush();
  const span = collector.spans().find((s) => s.traceId === forced['x-b3-traceid']);
  assert.equal(span?.attributes['guid:x-client-trace-id'], 'debug-1');
});

test('OTLP/gRPC: TraceService/Export over the cluster\'s HTTP/2 connections, the same spans', async () => {
  const grpc = await startGrpcTraceCollector();
  const provider: HcmTracing['provider'] = {
    name: 'envoy.tracers.opentelemetry',
    typedConfig: { '@type': OPENTELEMETRY_CONFIG_TYPE, grpcService: { envoyGrpc: { clusterName: 'collector', authority: 'otel-collector.observability.svc.cluster.local' }, timeout: '5s', initialMetadata: [{ key: 'x-tenant', value: 'strait' }] }, serviceName: 'grpc-hop.default' },
  };
  const h = await hop('grpc-hop', 'OUTBOUND', upstream.port, { randomSampling: { value: 100 }, provider }, { minFlushSpans: 1 }, grpc.port, { http2ProtocolOptions: {} });
  const tp = seen((await request(`${h.base}/g`)).body).traceparent!;
  const got = await eventually(() => grpc.requests[0], 'an export call');
  assert.equal(got.path, '/opentelemetry.proto.collector.trace.v1.TraceService/Export');
  assert.equal(got.contentType, 'application/grpc');
  assert.equal(got.spans[0]!.traceId, tp.slice(3, 35));
  assert.equal(got.spans[0]!.serviceName, 'grpc-hop.default');
  await eventually(() => (h.proxy.stats.valueOf('envoy_tracing_spans_sent', { tracer: 'opentelemetry' }) ?? 0) >= 1, 'spans_sent');
  await grpc.close();
});

test('batching: spans wait until min_flush_spans, then go out together in one export request', async () => {
  const h = await hop('batched', 'OUTBOUND', upstream.port, { randomSampling: { value: 100 }, provider: otel('collector', 'batched.default') }, { minFlushSpans: 4 });
  const before = collector.requests.length;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(seen((await request(`${h.base}/b${i}`)).body).traceparent!.slice(3, 35));
  assert.equal(h.proxy.tracers.backlog().queued, 3, 'three spans wait for the fourth');
  assert.equal(collector.requests.length, before);
  ids.push(seen((await request(`${h.base}/b3`)).body).traceparent!.slice(3, 35));
  const req = await eventually(() => collector.requests.slice(before).find((x) => x.spans.some((s) => ids.includes(s.traceId))), 'the batch');
  assert.deepEqual(req.spans.map((s) => s.traceId).sort(), [...ids].sort(), 'four spans, one request');
  assert.equal(req.contentType, 'application/x-protobuf');
  assert.equal(h.proxy.stats.valueOf('envoy_tracing_spans_sent', { tracer: 'opentelemetry' })! >= 4, true);
});

test('a dead collector neither blocks requests nor holds more spans than the bound; the rest are dropped and counted', async () => {
  const dead = await startTraceCollector();
  dead.mode = 'hang';
  const bound = { minFlushSpans: 5, maxBatch: 5, maxInFlight: 1, maxQueue: 20 };
  const h = await hop('stuck', 'OUTBOUND', upstream.port, { randomSampling: { value: 100 }, provider: otel('collector', 'stuck.default') }, bound, dead.port);
  const N = 150;
  for (let i = 0; i < N; i += 10) {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, j) => request(`${h.base}/d${i + j}`)));
    for (const r of rs) assert.equal(r.status, 200);
    const b = h.proxy.tracers.backlog();
    assert.ok(b.queued <= bound.maxQueue, `queued ${b.queued}`);
    assert.ok(b.exporting <= bound.maxInFlight);
  }
  const dropped = h.proxy.stats.valueOf('envoy_tracing_spans_dropped', { tracer: 'opentelemetry' }) ?? 0;
  const held = h.proxy.tracers.backlog().queued + bound.maxBatch * bound.maxInFlight;
  assert.ok(dropped >= N - held, `dropped ${dropped} of ${N}`);
  assert.equal(dead.requests.length, 0);
  // Stopping the proxy does not wait for the hung collector beyond the grace period.
  await h.proxy.stop();
  running.splice(running.indexOf(h.proxy), 1);
  await dead.close();
});

test('a collector answering 503 counts failed reports; requests are unaffected', async () => {
  const down = await startTraceCollector();
  down.mode = 'unavailable';
  const h = await hop('flaky-collector', 'OUTBOUND', upstream.port, { randomSampling: { value: 100 }, provider: zipkin('collector') }, { minFlushSpans: 1 }, down.port);
  for (let i = 0; i < 3; i++) assert.equal((await request(`${h.base}/f`)).status, 200);
  await h.proxy.tracers.flush();
  assert.ok((h.proxy.stats.valueOf('envoy_tracing_reports_failed', { tracer: 'zipkin' }) ?? 0) >= 1);
  assert.ok((h.proxy.stats.valueOf('envoy_tracing_spans_dropped', { tracer: 'zipkin' }) ?? 0) >= 3);
  await down.close();
});

test('a provider cluster the proxy does not have: reports are skipped and counted (Istio\'s zipkin.istio-system default)', async () => {
  const h = await hop('no-zipkin', 'OUTBOUND', upstream.port, { randomSampling: { value: 100 }, provider: zipkin('outbound|9411||zipkin.istio-system.svc.cluster.local') }, { minFlushSpans: 1 });
  const r = await request(`${h.base}/n`);
  assert.equal(r.status, 200);
  assert.equal(seen(r.body)['x-b3-sampled'], '1');
  await h.proxy.tracers.flush();
  assert.ok((h.proxy.stats.valueOf('envoy_tracing_reports_skipped_no_cluster', { tracer: 'zipkin' }) ?? 0) >= 1);
});

