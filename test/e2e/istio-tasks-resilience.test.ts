// Istio's circuit-breaking (TASK-06) and mirroring (TASK-07) tasks end to end on one real
// `strait up` with the sleep client. Circuit breaking: Istio's httpbin sample and the task's
// DestinationRule (examples/circuit-breaking), loaded from the sleep pod's sidecar the way fortio
// does it (`fortio load -c 3 -qps 0 -n 30`: three keep-alive connections, each sending its
// requests back to back), then the sidecar's stats. Mirroring: the task's httpbin v1 and v2
// (examples/mirroring), told apart by their sidecars' inbound access logs (where the task reads
// gunicorn's log). Requests leave from sleep through its sidecar, as `kubectl exec sleep -- curl`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { PodStatus } from '../../src/local/api-server.js';
import type { TestResponse } from '../helpers/http.js';
import { eventually } from '../helpers/http.js';
import { accessLog, applyAndSync, ManifestDir, podNamed, readyPods, tally, viaSidecar } from '../helpers/istio-tasks.js';
import { startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const HTTPBIN_CLUSTER = 'outbound|8000||httpbin.default.svc.cluster.local';

let files: ManifestDir;
let mesh: RunningMesh;
let sleep: PodStatus;

before(async () => {
  files = new ManifestDir('istio-resilience');
  files.apply('examples/httpbin/httpbin.yaml', 'examples/sleep/sleep.yaml');
  mesh = await startMesh([files.dir]);
  await readyPods(mesh, ['httpbin']);
  sleep = await podNamed(mesh, 'sleep');
});

after(async () => {
  await mesh?.stop();
  files?.remove();
});

/** One counter of the sleep sidecar's /stats (Envoy's text format), 0 when absent. */
async function sidecarStat(name: string): Promise<number> {
  const text = await (await fetch(`${sleep.proxy!.adminUrl}/stats`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
}

/** `fortio load -c C -qps 0 -n N URL`: C connections, N requests in all, each connection sending its share back to back. */
async function fortioLoad(concurrency: number, n: number, url: string): Promise<TestResponse[]> {
  const results: TestResponse[] = [];
  let next = 0;
  const worker = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (next < n) {
        next++;
        results.push(await viaSidecar(sleep, url, { agent }));
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

test('TASK-06: one request through the sleep sidecar with the circuit-breaking DestinationRule: 200, from envoy', async () => {
  await applyAndSync(mesh, () => files.apply('examples/circuit-breaking/destination-rule-httpbin.yaml'), 'the httpbin DestinationRule');
  const res = await viaSidecar(sleep, 'http://httpbin:8000/get');
  assert.equal(res.status, 200);
  assert.equal(res.headers.server, 'envoy');
  assert.match(String(res.headers['x-envoy-upstream-service-time']), /^\d+$/);
});

test('TASK-06: the echoed request shows X-Forwarded-Client-Cert: sidecar to sidecar over mTLS, the client\'s identity forwarded', async () => {
  const res = await viaSidecar(sleep, 'http://httpbin:8000/get');
  const echoed = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
  assert.match(echoed['X-Forwarded-Client-Cert'] ?? '', /By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/httpbin;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep/, JSON.stringify(echoed));
});

test('TASK-06: the echoed request shows X-B3-* trace headers (Istio\'s default Zipkin tracer propagates them even unsampled)', async () => {
  const res = await viaSidecar(sleep, 'http://httpbin:8000/get');
  const echoed = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
  assert.match(echoed['X-B3-Traceid'] ?? '', /^[0-9a-f]{16,32}$/, `X-B3-Traceid in ${JSON.stringify(echoed)}`);
  assert.match(echoed['X-B3-Spanid'] ?? '', /^[0-9a-f]{16}$/);
});

test('TASK-06: fortio load -c 3 -n 30: some requests succeed, the others fail fast with 503 UO; the sidecar counts upstream_rq_pending_overflow', async (t) => {
  const overflowBefore = await sidecarStat(`cluster.${HTTPBIN_CLUSTER}.upstream_rq_pending_overflow`);
  const results = await fortioLoad(3, 30, 'http://httpbin:8000/get');
  const codes = tally(results.map((r) => String(r.status)));
  t.diagnostic(`TASK-06 -c 3 -n 30: ${JSON.stringify(codes)}`);
  assert.equal(results.length, 30);
  assert.equal((codes['200'] ?? 0) + (codes['503'] ?? 0), 30, `only 200 and 503: ${JSON.stringify(codes)}`);
  assert.ok((codes['200'] ?? 0) >= 1, 'some requests get through');
  assert.ok((codes['503'] ?? 0) >= 1, 'with 3 concurrent connections over limits of 1 + 1 pending, some overflow');
  for (const r of results.filter((x) => x.status === 503)) {
    assert.equal(r.headers['x-strait-flags'], 'UO', 'the circuit breaker (upstream overflow), not the upstream');
  }
  const overflow = (await sidecarStat(`cluster.${HTTPBIN_CLUSTER}.upstream_rq_pending_overflow`)) - overflowBefore;
  assert.ok(overflow >= 1, `upstream_rq_pending_overflow grew by ${overflow}`);
  assert.ok(overflow <= (codes['503'] ?? 0), `no more overflows (${overflow}) than 503s`);
  t.diagnostic(`TASK-06 upstream_rq_pending_overflow +${overflow}, upstream_rq_pending_total ${await sidecarStat(`cluster.${HTTPBIN_CLUSTER}.upstream_rq_pending_total`)}`);
  await accessLog(mesh, sleep, [/"GET \/get HTTP\/1\.1" 503 UO /, new RegExp(HTTPBIN_CLUSTER.replace(/[|.]/g, '\\$&'))]);
  // Overflows are the proxy's own 503s: outlier detection (consecutive5xxErrors: 1, 3 min
  // ejection) must not eject httpbin for them.
  const after = await viaSidecar(sleep, 'http://httpbin:8000/get');
  assert.equal(after.status, 200, `httpbin still serves after the load (${after.headers['x-strait-flags'] ?? ''})`);
});

/** The access-log lines of a pod's sidecar that mention `marker` (inbound requests it served). */
async function linesWith(pod: PodStatus, marker: string): Promise<string[]> {
  return (await mesh.logs(pod.name, 'istio-proxy')).filter((l) => l.includes(marker));
}

let v1: PodStatus;
let v2: PodStatus;

test('TASK-07, default route: httpbin v1 gets every request, v2 none', async () => {
  // The task starts without the circuit-breaking setup: `kubectl delete destinationrule httpbin`
  // and Istio's httpbin sample; then its two versions and the route to v1.
  // Separate steps, as the task's separate commands (the DestinationRule and the Service
  // httpbin are deleted, then created again with the mirroring task's content).
  await applyAndSync(mesh, () => files.delete('examples/circuit-breaking/destination-rule-httpbin.yaml', 'examples/httpbin/httpbin.yaml'), 'deleting the DestinationRule and the httpbin sample');
  await applyAndSync(mesh, () => files.apply('examples/mirroring/httpbin-v1-v2.yaml', 'examples/mirroring/httpbin-route-v1.yaml'), 'httpbin v1 and v2 with the route to v1');
  [v1, v2] = await readyPods(mesh, ['httpbin-v1', 'httpbin-v2']);
  await eventually(async () => !(await mesh.status()).pods.some((p) => /^httpbin-[0-9a-f]{10}-0$/.test(p.name)), 'the httpbin sample pod to be gone', 20_000);
  const marker = randomUUID();
  const res = await viaSidecar(sleep, `http://httpbin:8000/headers?probe=${marker}`);
  assert.equal(res.status, 200, `${res.headers['x-strait-flags'] ?? ''} ${res.body}`);
  assert.equal((JSON.parse(res.body) as { headers: Record<string, string> }).headers.Host, 'httpbin:8000');
  const inV1 = await eventually(async () => {
    const l = await linesWith(v1, marker);
    return l.length ? l : undefined;
  }, 'the request in v1\'s log');
  assert.equal(inV1.length, 1);
  assert.match(inV1[0]!, /"GET \/headers\?probe=[0-9a-f-]+ HTTP\/1\.1" 200 .*"httpbin:8000"/);
  // v2's log stays empty of it (give a mirror, if any, the time to arrive).
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await linesWith(v2, marker), []);
});

test('TASK-07, mirror to v2 (mirrorPercentage 100): v1 answers; v2 gets a copy with Host httpbin-shadow:8000', async () => {
  await applyAndSync(mesh, () => files.apply('examples/mirroring/httpbin-mirror-v2.yaml'), 'the mirror to v2');
  for (let i = 0; i < 3; i++) {
    const marker = randomUUID();
    const res = await viaSidecar(sleep, `http://httpbin:8000/headers?probe=${marker}`);
    assert.equal(res.status, 200);
    // The client's answer is v1's: the Host it saw is the original one, not the shadow's.
    assert.equal((JSON.parse(res.body) as { headers: Record<string, string> }).headers.Host, 'httpbin:8000');
    const inV1 = await eventually(async () => {
      const l = await linesWith(v1, marker);
      return l.length ? l : undefined;
    }, 'the request in v1\'s log');
    assert.equal(inV1.length, 1);
    assert.match(inV1[0]!, /"GET \/headers\?probe=[0-9a-f-]+ HTTP\/1\.1" 200 .*"httpbin:8000"/);
    const inV2 = await eventually(async () => {
      const l = await linesWith(v2, marker);
      return l.length ? l : undefined;
    }, 'the mirrored copy in v2\'s log');
    assert.equal(inV2.length, 1, 'one copy per request');
    assert.match(inV2[0]!, /"GET \/headers\?probe=[0-9a-f-]+ HTTP\/1\.1" 200 .*"httpbin-shadow:8000"/);
  }
  // The sleep sidecar logs one request per call (the copy is its own business, not the client's).
  await accessLog(mesh, sleep, [/"GET \/headers\?probe=/, /outbound\|8000\|v1\|httpbin\./]);
});
