import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshMetrics } from './mesh-metrics.js';
import { buildServiceGraph } from './service-graph.js';
import { BACKEND_V1, BACKEND_V2, FRONTEND_DST, FRONTEND_SRC, GATEWAY, istioExposition, istioTcpExposition, times } from './test-support.js';
import type { Hop } from './test-support.js';

const T0 = 1_700_000_000_000;

/** The seed's four proxies: an empty baseline scrape, then each proxy's counters after 10 s. */
function seedGraph(after: Record<string, { hop: Hop; latencies: number[] }[]>) {
  const m = new MeshMetrics();
  for (const id of Object.keys(after)) m.ingest(id, istioExposition([]));
  m.endRound(T0);
  for (const [id, hops] of Object.entries(after)) m.ingest(id, istioExposition(hops));
  m.endRound(T0 + 10_000);
  return buildServiceGraph(m.totals(12), m.windowSeconds(12), [{ name: 'istio-ingressgateway', namespace: 'istio-system', gateway: true }, { name: 'idle', namespace: 'default', gateway: false }]);
}

const gwToFrontend: Hop = { reporter: 'source', src: GATEWAY, dst: FRONTEND_DST };
const frontendIn: Hop = { reporter: 'destination', src: GATEWAY, dst: FRONTEND_DST };
const feToV1: Hop = { reporter: 'source', src: FRONTEND_SRC, dst: BACKEND_V1 };
const feToV2: Hop = { reporter: 'source', src: FRONTEND_SRC, dst: BACKEND_V2 };
const v1In: Hop = { reporter: 'destination', src: FRONTEND_SRC, dst: BACKEND_V1 };
const v2In: Hop = { reporter: 'destination', src: FRONTEND_SRC, dst: BACKEND_V2 };

test('the seed flow: gateway → frontend service → frontend → backend service → backend-v1/v2', () => {
  const g = seedGraph({
    gateway: [{ hop: gwToFrontend, latencies: times(20, 8) }],
    frontend: [{ hop: frontendIn, latencies: times(20, 7) }, { hop: feToV1, latencies: times(12, 2) }, { hop: feToV2, latencies: times(8, 2) }],
    'backend-v1': [{ hop: v1In, latencies: times(12, 1) }],
    'backend-v2': [{ hop: v2In, latencies: times(6, 1) }, { hop: { ...v2In, code: 500 }, latencies: times(2, 1) }],
  });
  assert.deepEqual(g.nodes.map((n) => `${n.id}${n.idle ? ' (idle)' : ''}`), [
    'service:backend.default.svc.cluster.local',
    'service:frontend.default.svc.cluster.local',
    'workload:default/backend-v1',
    'workload:default/backend-v2',
    'workload:default/frontend',
    'workload:default/idle (idle)',
    'workload:istio-system/istio-ingressgateway',
  ]);
  const e = Object.fromEntries(g.edges.map((x) => [`${x.source} -> ${x.target}`, x]));
  assert.deepEqual(Object.keys(e).sort(), [
    'service:backend.default.svc.cluster.local -> workload:default/backend-v1',
    'service:backend.default.svc.cluster.local -> workload:default/backend-v2',
    'service:frontend.default.svc.cluster.local -> workload:default/frontend',
    'workload:default/frontend -> service:backend.default.svc.cluster.local',
    'workload:istio-system/istio-ingressgateway -> service:frontend.default.svc.cluster.local',
  ]);
  const gw = e['workload:istio-system/istio-ingressgateway -> service:frontend.default.svc.cluster.local']!;
  assert.equal(gw.reporter, 'source');
  assert.equal(gw.rates.rps, 2);
  assert.equal(gw.rates.errorRate, 0);
  assert.equal(gw.security, 'mtls', "the frontend's destination report says mutual_tls");
  assert.ok(gw.rates.p50! > 5 && gw.rates.p50! <= 10);
  const fe = e['workload:default/frontend -> service:backend.default.svc.cluster.local']!;
  assert.equal(fe.rates.requests, 20, 'the client side counts both versions');
  const v2 = e['service:backend.default.svc.cluster.local -> workload:default/backend-v2']!;
  assert.equal(v2.reporter, 'destination');
  assert.equal(v2.rates.requests, 8);
  assert.equal(v2.rates.errorRate, 0.25);
  const backend = g.nodes.find((n) => n.id === 'service:backend.default.svc.cluster.local')!;
  assert.equal(backend.rates.requests, 20, "the servers' reports of the service");
  assert.equal(backend.rates.errorRate, 0.1);
  const gwNode = g.nodes.find((n) => n.name === 'istio-ingressgateway')!;
  assert.equal(gwNode.gateway, true);
  assert.equal(gwNode.rates.requests, 20, 'a gateway shows what it sent');
});

test('plaintext and mixed mTLS; only a source report leaves the state unknown', () => {
  const g = seedGraph({
    frontend: [{ hop: feToV1, latencies: times(4, 2) }, { hop: { ...feToV2, mtls: false }, latencies: times(4, 2) }],
    'backend-v1': [{ hop: v1In, latencies: times(2, 1) }, { hop: { ...v1In, mtls: false }, latencies: times(2, 1) }],
    'backend-v2': [{ hop: { ...v2In, mtls: false }, latencies: times(4, 1) }],
  });
  const sec = Object.fromEntries(g.edges.map((x) => [x.target, x.security]));
  assert.equal(sec['workload:default/backend-v1'], 'mixed');
  assert.equal(sec['workload:default/backend-v2'], 'plaintext');
  assert.equal(sec['service:backend.default.svc.cluster.local'], 'mixed');
  const onlySource = seedGraph({ gateway: [{ hop: gwToFrontend, latencies: times(2, 8) }] });
  assert.equal(onlySource.edges.find((x) => x.target === 'service:frontend.default.svc.cluster.local')!.security, 'unknown');
});

test('a caller without a proxy is the unknown node; a request with no service goes straight to the workload', () => {
  const unknownSrc: Hop = { reporter: 'destination', src: ['unknown', 'unknown', 'unknown'], dst: FRONTEND_DST, mtls: false };
  const g = seedGraph({ frontend: [{ hop: unknownSrc, latencies: times(3, 2) }] });
  assert.ok(g.nodes.some((n) => n.id === 'unknown' && n.kind === 'unknown'));
  assert.ok(g.edges.some((x) => x.source === 'unknown' && x.target === 'service:frontend.default.svc.cluster.local' && x.security === 'plaintext'));
});

test('TCP traffic (istio_tcp_* counters) makes edges with connection and byte rates', () => {
  const m = new MeshMetrics();
  const db: Hop['dst'] = ['mysql', 'default', 'mysql', 'mysql'];
  m.ingest('fe', '');
  m.ingest('db', '');
  m.endRound(T0);
  m.ingest('fe', istioTcpExposition([{ hop: { reporter: 'source', src: FRONTEND_SRC, dst: db }, opened: 5, sent: 4000, received: 6000 }]));
  m.ingest('db', istioTcpExposition([{ hop: { reporter: 'destination', src: FRONTEND_SRC, dst: db }, opened: 5, sent: 6000, received: 4000 }]));
  m.endRound(T0 + 10_000);
  const g = buildServiceGraph(m.totals(2), m.windowSeconds(2));
  const e = g.edges.find((x) => x.id === 'workload:default/frontend->service:mysql.default.svc.cluster.local')!;
  assert.equal(e.rates.requests, 0);
  assert.equal(e.rates.cps, 0.5);
  assert.equal(e.rates.bytesPerSecond, 1000);
  assert.equal(e.security, 'mtls');
  assert.equal(g.nodes.find((n) => n.id === 'workload:default/mysql')!.idle, false);
});
