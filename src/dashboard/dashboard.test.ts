import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClockForTest } from '../common/clock.js';
import { Dashboard, loopbackHost } from './dashboard.js';
import type { DashboardPod, MeshView } from './mesh-view.js';
import { enrich } from './tap-relay.js';
import { FRONTEND_SRC, BACKEND_V1, istioExposition, times } from './test-support.js';
import type { TapEvent } from '../dataplane/http/tap.js';

// One fake proxy admin endpoint whose exposition the test sets, and the API server around a Dashboard.
let exposition = istioExposition([]);
let admin: http.Server;
let api: http.Server;
let base: string;
const clock = new ManualClockForTest();
let dashboard: Dashboard;

const pod = (name: string, ip: string, extra: Partial<DashboardPod> = {}): DashboardPod => ({
  namespace: 'default', name, workload: name.replace(/-[a-z0-9]+-0$/, ''), adminUrl: null, ip, localAddress: ip.replace(/\.(\d+)$/, (_, n) => `.${Number(n) + 1}`), serviceAccount: name.split('-')[0]!, gateway: false, sidecar: true, ready: true, ...extra,
});

before(async () => {
  admin = http.createServer((req, res) => {
    if (req.url === '/stats/prometheus') res.end(exposition);
    else if (req.url === '/config_dump') res.end('{"configs":[]}');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  const adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
  const view: MeshView = {
    trustDomain: 'cluster.local',
    proxiesStartAfterControlPlane: false,
    pods: () => [pod('frontend-abc-0', '127.0.0.10', { adminUrl }), pod('plain-abc-0', '127.0.0.20', { sidecar: false })],
    config: () => ({ generation: 3, snapshot: 7, lastReload: null, files: ['a.yaml'], resources: [], diagnostics: [{ severity: 'warning', file: 'a.yaml', line: 1, col: 1, code: 'x', message: 'm' }] }),
  };
  dashboard = new Dashboard(view, clock, { scrapeIntervalMs: 5000 });
  api = http.createServer((req, res) => {
    if (!dashboard.handle(req, res, new URL(req.url ?? '/', 'http://api'))) res.writeHead(418).end();
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

after(() => {
  admin.close();
  api.close();
});

const get = async (path: string) => {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

test('scrape rounds turn the proxies\' counters into the graph and service metrics the API serves', async () => {
  await dashboard.scrapeRound();
  clock.advance(5000);
  exposition = istioExposition([{ hop: { reporter: 'source', src: FRONTEND_SRC, dst: BACKEND_V1 }, latencies: times(10, 3) }]);
  await dashboard.scrapeRound();
  const g = JSON.parse((await get('/api/graph?window=60')).body) as { windowSeconds: number; edges: { id: string; rates: { rps: number } }[]; nodes: { id: string }[] };
  assert.equal(g.windowSeconds, 5);
  assert.deepEqual(g.edges.map((e) => [e.id, e.rates.rps]), [
    ['service:backend.default.svc.cluster.local->workload:default/backend-v1', 2],
    ['workload:default/frontend->service:backend.default.svc.cluster.local', 2],
  ]);
  assert.ok(g.nodes.some((n) => n.id === 'workload:default/frontend'));
  const s = JSON.parse((await get('/api/services')).body) as { services: { id: string; reporter: string; series: unknown[] }[] };
  assert.deepEqual(s.services.map((x) => [x.id, x.reporter, x.series.length]), [['backend.default.svc.cluster.local', 'source', 1]]);
});

test('the page, its scripts (or a hint to build them), config, and the admin relay', async () => {
  for (const p of ['/', '/dashboard', '/dashboard/']) {
    const r = await get(p);
    assert.equal(r.status, 200);
    assert.match(r.body, /<script type="module" src="\/dashboard\/assets\/main\.js">/);
    assert.doesNotMatch(r.body, /https?:\/\//, 'no asset from elsewhere');
  }
  const js = await get('/dashboard/assets/main.js');
  assert.ok(js.status === 200 ? js.type!.startsWith('text/javascript') : /npm run build/.test(js.body));
  assert.equal((await get('/dashboard/assets/../../etc/passwd')).status, 418);
  assert.equal(JSON.parse((await get('/api/config')).body).generation, 3);
  assert.equal((await get('/api/proxy/config_dump?pod=default/frontend-abc-0')).body, '{"configs":[]}');
  assert.equal((await get('/api/proxy/quitquitquit?pod=default/frontend-abc-0')).status, 404);
  assert.equal((await get('/api/proxy/config_dump?pod=default/plain-abc-0')).status, 400);
  assert.equal((await get('/api/tap?pod=default/nope')).status, 404);
});

test('a request naming another host (DNS rebinding) is refused', async () => {
  const res = await new Promise<number>((resolve, reject) => {
    http.get(`${base}/api/config`, { headers: { host: 'evil.example:8080' } }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(res, 403);
  assert.ok(loopbackHost('localhost:15014') && loopbackHost('127.0.0.1') && loopbackHost('[::1]:80') && !loopbackHost('127.0.0.1.evil.example'));
});

test('tap events get the pods and identities at both ends', () => {
  const pods = [pod('frontend-abc-0', '127.0.0.10'), pod('backend-abc-0', '127.0.0.30'), pod('plain-abc-0', '127.0.0.20', { sidecar: false })];
  const base = { direction: 'outbound', upstreamHost: '127.0.0.30:8080', downstreamRemote: '127.0.0.11:5555', sourcePrincipal: '', destinationPrincipal: '' } as TapEvent;
  const out = enrich(base, pods[0]!, pods, 'cluster.local');
  assert.deepEqual(out.source, { pod: 'default/frontend-abc-0', identity: 'spiffe://cluster.local/ns/default/sa/frontend', verified: false });
  assert.deepEqual(out.destination, { pod: 'default/backend-abc-0', identity: 'spiffe://cluster.local/ns/default/sa/backend', verified: false });
  // Inbound behind a trusted gateway: the address is the outside client's; the certificate names the caller.
  const inbound = enrich({ ...base, direction: 'inbound', downstreamRemote: '10.1.1.1:0', sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/frontend', destinationPrincipal: 'spiffe://cluster.local/ns/default/sa/backend' }, pods[1]!, pods, 'cluster.local');
  assert.deepEqual(inbound.source, { pod: 'default/frontend-abc-0', identity: 'spiffe://cluster.local/ns/default/sa/frontend', verified: true });
  assert.equal(inbound.destination.verified, true);
  // A plaintext caller without a sidecar has no identity.
  const plain = enrich({ ...base, direction: 'inbound', downstreamRemote: '127.0.0.20:4444' }, pods[1]!, pods, 'cluster.local');
  assert.deepEqual(plain.source, { pod: 'default/plain-abc-0', identity: '', verified: false });
});
