// Distributed tracing end to end on real `strait up` meshes, with an in-test collector standing
// in for the OpenTelemetry Collector / Zipkin (reached as a ServiceEntry, as a collector outside
// the mesh would be):
//
// - the seed demo with the mesh config providing the OTLP/HTTP provider at 100 % sampling: one
//   request through gateway → frontend sidecar → frontend → frontend sidecar → backend sidecar →
//   backend gives four spans (gateway, frontend inbound, frontend outbound, backend inbound) in
//   one trace, each the parent of the next, named and tagged as Istio's;
// - TASK-18 (observability/distributed-tracing): Bookinfo with the task's Telemetry
//   `mesh-default` (provider otel-tracing, randomSamplingPercentage 10): after hits to
//   /productpage, a trace for service productpage.default covers each Bookinfo hop and the
//   ingress gateway, and only some of the requests are traced.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, request } from '../helpers/http.js';
import { ManifestDir } from '../helpers/istio-tasks.js';
import { startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';
import { startTraceCollector } from '../helpers/trace-collector.js';
import type { CollectedSpan, TraceCollector } from '../helpers/trace-collector.js';

/** A loopback address outside every pod's addresses (127.0.0.1 in an endpoint means the pod itself). */
const EXTERNAL = '127.0.0.2';
const COLLECTOR_HOST = 'otel-collector.observability.svc.cluster.local';

/** The collector as the mesh sees it: a ServiceEntry with its OTLP/HTTP and Zipkin ports. */
function collectorEntry(port: number): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: otel-collector, namespace: istio-system }
spec:
  hosts: [${COLLECTOR_HOST}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - { number: 4318, name: http-otlp, protocol: HTTP }
  - { number: 9411, name: http-zipkin, protocol: HTTP }
  endpoints:
  - address: ${EXTERNAL}
    ports: { http-otlp: ${port}, http-zipkin: ${port} }
`;
}

/** The istio ConfigMap's mesh config (Istio's OpenTelemetry task, HTTP exporter). */
function meshConfig(extra: string): string {
  const mesh = `enableTracing: true
extensionProviders:
- name: otel-tracing
  opentelemetry:
    port: 4318
    service: ${COLLECTOR_HOST}
    http:
      path: /v1/traces
      timeout: 5s
${extra}`;
  return `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |-
${mesh.split('\n').map((l) => `    ${l}`).join('\n')}
`;
}

/** Groups spans by trace id. */
function traces(spans: readonly CollectedSpan[]): Map<string, CollectedSpan[]> {
  const out = new Map<string, CollectedSpan[]>();
  for (const s of spans) {
    let l = out.get(s.traceId);
    if (!l) out.set(s.traceId, (l = []));
    l.push(s);
  }
  return out;
}

/** Every span but one root has its parent in the trace. */
function assertConnected(trace: readonly CollectedSpan[]): void {
  const ids = new Set(trace.map((s) => s.spanId));
  const roots = trace.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  assert.equal(roots.length, 1, `one root: ${JSON.stringify(trace.map((s) => [s.serviceName, s.kind, s.spanId, s.parentSpanId]))}`);
  assert.equal(new Set(trace.map((s) => s.spanId)).size, trace.length, 'span ids are unique');
}

describe('seed: OTLP provider at 100 %', () => {
  let collector: TraceCollector;
  let files: ManifestDir;
  let mesh: RunningMesh;

  before(async () => {
    collector = await startTraceCollector(EXTERNAL);
    files = new ManifestDir('tracing-seed');
    files.apply('examples/seed/backend.yaml', 'examples/seed/frontend.yaml', 'examples/seed/gateway.yaml', 'examples/seed/security.yaml');
    files.applyText(collectorEntry(collector.port), 'collector ServiceEntry');
    files.applyText(meshConfig('defaultProviders: { tracing: [otel-tracing] }\ndefaultConfig: { tracing: { sampling: 100 } }'), 'mesh config');
    mesh = await startMesh([files.dir]);
  });

  after(async () => {
    await mesh?.stop();
    files?.remove();
    await collector?.close();
  });

  test('one request through gateway → frontend → backend is one trace of four spans, each hop the parent of the next', async () => {
    const rid = 'trace-e2e-seed-1';
    const res = await eventually(async () => {
      const r = await request(`${mesh.gatewayUrl}/traced`, { headers: { 'x-request-id': rid } });
      return r.status === 200 ? r : undefined;
    }, 'the seed flow to answer');
    const reply = JSON.parse(res.body) as { headers: Record<string, string>; forwarded?: { body: { headers: Record<string, string> } } };
    // What the apps saw: W3C context, the backend's a child of the frontend's.
    const fe = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(reply.headers.traceparent ?? '');
    const be = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(reply.forwarded?.body.headers.traceparent ?? '');
    assert.ok(fe && be, `traceparent at frontend ${reply.headers.traceparent} and backend ${reply.forwarded?.body.headers.traceparent}`);
    assert.equal(fe[1], be[1], 'one trace id at both apps');
    const traceId = fe[1]!;

    // The proxies batch (5 spans or 5 s): wait for the four spans to arrive.
    const spans = await eventually(() => {
      const t = collector.spans().filter((s) => s.traceId === traceId);
      return t.length >= 4 ? t : undefined;
    }, 'four spans of the trace at the collector', 30_000);
    assert.equal(spans.length, 4, JSON.stringify(spans.map((s) => [s.serviceName, s.kind, s.name])));
    assertConnected(spans);
    const find = (service: string, kind: string) => {
      const s = spans.find((x) => x.serviceName === service && x.kind === kind);
      assert.ok(s, `${kind} span of ${service}: ${JSON.stringify(spans.map((x) => [x.serviceName, x.kind]))}`);
      return s;
    };
    const gateway = find('istio-ingressgateway.istio-system', 'CLIENT');
    const frontendIn = find('frontend.default', 'SERVER');
    const frontendOut = find('frontend.default', 'CLIENT');
    const backendIn = find('backend.default', 'SERVER');
    assert.equal(gateway.parentSpanId, undefined, 'the gateway starts the trace');
    assert.equal(frontendIn.parentSpanId, gateway.spanId);
    assert.equal(frontendOut.parentSpanId, frontendIn.spanId, 'the frontend app carried its inbound context to its outbound call');
    assert.equal(backendIn.parentSpanId, frontendOut.spanId);
    assert.equal(fe[2], frontendIn.spanId);
    assert.equal(be[2], backendIn.spanId);
    // Names: the route decorator (<host>:<port>/*); the server side takes the caller's.
    assert.equal(gateway.name, 'frontend.default.svc.cluster.local:8080/*');
    assert.equal(frontendIn.name, gateway.name);
    assert.equal(frontendOut.name, 'backend.default.svc.cluster.local:8080/*');
    assert.equal(backendIn.name, frontendOut.name);
    for (const s of spans) {
      assert.equal(s.attributes.component, 'proxy');
      assert.equal(s.attributes['guid:x-request-id'], rid);
      assert.equal(s.attributes['http.status_code'], '200');
      assert.equal(s.attributes['istio.mesh_id'], 'cluster.local');
      assert.match(s.attributes.node_id ?? '', /^(router|sidecar)~/);
    }
    assert.equal(gateway.attributes['istio.canonical_service'], 'istio-ingressgateway');
    assert.equal(frontendIn.attributes['istio.canonical_service'], 'frontend');
    assert.equal(backendIn.attributes['istio.canonical_service'], 'backend');
    assert.equal(frontendOut.attributes['upstream_cluster'], 'outbound|8080||backend.default.svc.cluster.local');
    assert.equal(frontendIn.attributes['upstream_cluster'], 'inbound|8080||');
    assert.match(backendIn.attributes['istio.canonical_revision'] ?? '', /^v[12]$/);
    assert.ok(collector.requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/x-protobuf'));
  });
});

describe('TASK-18: Bookinfo with the task\'s Telemetry (otel-tracing, 10 %)', () => {
  let collector: TraceCollector;
  let files: ManifestDir;
  let mesh: RunningMesh;

  before(async () => {
    collector = await startTraceCollector(EXTERNAL);
    files = new ManifestDir('tracing-task18');
    files.apply('examples/bookinfo/bookinfo.yaml', 'examples/bookinfo/networking/bookinfo-gateway.yaml');
    files.applyText(collectorEntry(collector.port), 'collector ServiceEntry');
    files.applyText(meshConfig(''), 'mesh config');
    // The task's Telemetry, as written on the sampling page.
    files.applyText(`apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing:
  - providers:
    - name: otel-tracing
    randomSamplingPercentage: 10
`, 'telemetry mesh-default');
    mesh = await startMesh([files.dir]);
  });

  after(async () => {
    await mesh?.stop();
    files?.remove();
    await collector?.close();
  });

  test('after hits to /productpage, a trace for productpage.default covers each Bookinfo hop and the ingress gateway; about 10 % are traced', async () => {
    await eventually(async () => (await request(`${mesh.gatewayUrl}/productpage`)).status === 200, 'productpage through the gateway', 30_000);
    const N = 100;
    for (let i = 0; i < N; i += 10) {
      const rs = await Promise.all(Array.from({ length: 10 }, () => request(`${mesh.gatewayUrl}/productpage`)));
      for (const r of rs) assert.equal(r.status, 200);
    }
    // Spans go out at 5 per batch or every 5 s: wait until a full trace is in.
    const trace = await eventually(() => {
      for (const t of traces(collector.spans()).values()) {
        const services = new Set(t.map((s) => s.serviceName));
        if (['istio-ingressgateway.istio-system', 'productpage.default', 'details.default', 'reviews.default'].every((s) => services.has(s)) && t.length >= 6) return t;
      }
      return undefined;
    }, 'a trace covering the gateway, productpage, details and reviews', 30_000);
    assertConnected(trace);
    const root = trace.find((s) => !s.parentSpanId)!;
    assert.equal(root.serviceName, 'istio-ingressgateway.istio-system');
    // productpage's own calls: one client span per service it calls, each the parent of that service's server span.
    for (const callee of ['details', 'reviews']) {
      const server = trace.find((s) => s.serviceName === `${callee}.default` && s.kind === 'SERVER')!;
      const client = trace.find((s) => s.spanId === server.parentSpanId)!;
      assert.equal(client.serviceName, 'productpage.default');
      assert.equal(client.kind, 'CLIENT');
      assert.equal(client.name, `${callee}.default.svc.cluster.local:9080/*`);
    }
    // Wait for stragglers, then count: 10 % of 101 requests, nowhere near all of them.
    await new Promise((r) => setTimeout(r, 6000));
    const sampled = [...traces(collector.spans()).values()].filter((t) => t.some((s) => s.serviceName === 'istio-ingressgateway.istio-system')).length;
    assert.ok(sampled >= 1 && sampled <= 40, `${sampled} of ${N + 1} requests traced at 10 %`);
  });
});
