// Istio's standard metrics end to end (MET-01..08, TEL-03, TASK-16) on a real `strait up` of the
// seed (gateway → frontend → backend v1/v2) plus a Telemetry that changes backend v2's metrics:
// every proxy's /stats/prometheus carries istio_requests_total as the source and as the
// destination with the right workload, service, principal, version, response code and
// connection security labels; the pods' merged :15020 endpoint serves the same; the exposition
// passes `promtool check metrics`; and a real Prometheus (Debian's `prometheus`) scraping the
// proxies answers TASK-16's PromQL queries. Tests wait for series to appear; none asserts timing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../helpers/http.js';
import { CLI, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const run = promisify(execFile);
const REQUESTS = 20;
const TD = 'spiffe://cluster.local';

interface PodStatus {
  name: string;
  namespace: string;
  localAddress: string;
  proxy?: { adminUrl?: string };
}

let mesh: RunningMesh;
let pods: PodStatus[];

before(async () => {
  mesh = await startMesh(['examples/seed', 'test/fixtures/telemetry-metrics']);
  const { stdout } = await run(process.execPath, [CLI, 'status', '-o', 'json', '--server', mesh.apiUrl]);
  pods = (JSON.parse(stdout) as { pods: PodStatus[] }).pods.filter((p) => p.proxy?.adminUrl);
  for (let i = 0; i < REQUESTS; i++) {
    const res = await fetch(`${mesh.gatewayUrl}/metrics-e2e`);
    assert.equal(res.status, 200);
    await res.text();
  }
});

after(async () => {
  await mesh?.stop();
});

function pod(prefix: string): PodStatus {
  const p = pods.find((x) => x.name.startsWith(prefix));
  assert.ok(p, `a pod named ${prefix}*`);
  return p;
}

async function exposition(p: PodStatus): Promise<string> {
  return (await fetch(`${p.proxy!.adminUrl}/stats/prometheus`)).text();
}

/** Parses `family{a="b",...} value` lines into label maps with their values. */
function parse(text: string, family: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice(family.length + 1, close).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    out.push({ labels, value: Number(line.slice(close + 2)) });
  }
  return out;
}

/** Sum of the series whose labels include `want`. */
function total(text: string, family: string, want: Record<string, string>): number {
  return parse(text, family)
    .filter((s) => Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const gatewayLabels = { workload: 'istio-ingressgateway', namespace: 'istio-system', principal: `${TD}/ns/istio-system/sa/istio-ingressgateway-service-account`, app: 'istio-ingressgateway' };
const side = (prefix: 'source' | 'destination', l: Record<string, string>) => Object.fromEntries(Object.entries(l).map(([k, v]) => [k === 'namespace' ? `${prefix}_workload_namespace` : `${prefix}_${k}`, v]));

test('MET-01/TASK-16: the gateway reports as the source, with the frontend as destination (workload, service, principal, version)', async () => {
  const want = {
    reporter: 'source',
    ...side('source', gatewayLabels),
    source_canonical_service: 'istio-ingressgateway',
    destination_workload: 'frontend',
    destination_workload_namespace: 'default',
    destination_principal: `${TD}/ns/default/sa/frontend`,
    destination_app: 'frontend',
    destination_version: 'v1',
    destination_service: 'frontend.default.svc.cluster.local',
    destination_service_name: 'frontend',
    destination_service_namespace: 'default',
    destination_canonical_service: 'frontend',
    destination_canonical_revision: 'v1',
    destination_cluster: 'Kubernetes',
    request_protocol: 'http',
    response_code: '200',
    grpc_response_status: '',
    response_flags: '-',
    connection_security_policy: 'unknown',
  };
  await eventually(async () => total(await exposition(pod('istio-ingressgateway')), 'istio_requests_total', want) === REQUESTS, 'the gateway to count every request as the source');
});

test('MET-01: the frontend reports the gateway\'s calls as destination (mutual_tls) and its own calls to both backend versions as source', async () => {
  const text = await eventually(async () => {
    const t = await exposition(pod('frontend-'));
    return total(t, 'istio_requests_total', { reporter: 'source' }) === REQUESTS ? t : undefined;
  }, 'the frontend to count its calls to the backend');
  assert.equal(
    total(text, 'istio_requests_total', { reporter: 'destination', ...side('source', gatewayLabels), destination_workload: 'frontend', destination_principal: `${TD}/ns/default/sa/frontend`, destination_service: 'frontend.default.svc.cluster.local', connection_security_policy: 'mutual_tls', response_code: '200' }),
    REQUESTS,
  );
  const v1 = total(text, 'istio_requests_total', { reporter: 'source', source_workload: 'frontend', source_principal: `${TD}/ns/default/sa/frontend`, destination_workload: 'backend-v1', destination_version: 'v1', destination_service_name: 'backend', connection_security_policy: 'unknown' });
  const v2 = total(text, 'istio_requests_total', { reporter: 'source', source_workload: 'frontend', destination_workload: 'backend-v2', destination_version: 'v2', destination_principal: `${TD}/ns/default/sa/backend`, destination_service: 'backend.default.svc.cluster.local' });
  assert.equal(v1 + v2, REQUESTS);
  assert.ok(v1 > 0 && v2 > 0, `both versions called (v1 ${v1}, v2 ${v2})`);
  // The histograms count the same requests.
  assert.equal(total(text, 'istio_request_duration_milliseconds_count', { reporter: 'source' }), REQUESTS);
  assert.equal(total(text, 'istio_response_bytes_count', { reporter: 'destination' }), REQUESTS);
});

test('MET-01/TEL-03: each backend reports the frontend as its caller; the Telemetry for v2 adds request_method, drops response_flags and request_bytes', async () => {
  const v1 = await exposition(pod('backend-v1-'));
  const v2 = await exposition(pod('backend-v2-'));
  const caller = { reporter: 'destination', source_workload: 'frontend', source_principal: `${TD}/ns/default/sa/frontend`, source_version: 'v1', destination_principal: `${TD}/ns/default/sa/backend`, destination_service: 'backend.default.svc.cluster.local', connection_security_policy: 'mutual_tls', response_code: '200' };
  const n1 = total(v1, 'istio_requests_total', { ...caller, destination_workload: 'backend-v1', destination_version: 'v1', response_flags: '-' });
  const n2 = total(v2, 'istio_requests_total', { ...caller, destination_workload: 'backend-v2', destination_version: 'v2', request_method: 'GET' });
  assert.equal(n1 + n2, REQUESTS);
  assert.ok(parse(v2, 'istio_requests_total').every((s) => !('response_flags' in s.labels)), 'backend v2: no response_flags label');
  assert.ok(parse(v1, 'istio_requests_total').every((s) => !('request_method' in s.labels)), 'backend v1: untouched');
  assert.doesNotMatch(v2, /^istio_request_bytes/m);
  assert.match(v1, /^istio_request_bytes_count\{/m);
  // Other metrics of v2 keep Istio's labels.
  assert.ok(parse(v2, 'istio_response_bytes_count').every((s) => s.labels.response_flags === '-'));
});

test('Envoy-style proxy stats sit beside them: cluster, HCM and listener counters, circuit-breaker gauges', async () => {
  const text = await exposition(pod('frontend-'));
  assert.match(text, /^envoy_cluster_upstream_rq_total\{cluster_name="outbound\|8080\|\|backend\.default\.svc\.cluster\.local"\} [1-9]/m);
  assert.match(text, /^envoy_http_downstream_rq_total\{http_conn_manager_prefix="[^"]+"\} [1-9]/m);
  assert.match(text, /^envoy_cluster_circuit_breakers_default_remaining_rq\{cluster_name="outbound\|8080\|\|backend\.default\.svc\.cluster\.local"\} \d+/m);
  assert.match(text, /^envoy_listener_downstream_cx_total\{listener_address="[\d.]+_15001"\} [1-9]/m);
});

test('the pod\'s merged endpoint (:15020/stats/prometheus on the pod-local address) serves the same metrics', async () => {
  const p = pod('frontend-');
  const text = await (await fetch(`http://${p.localAddress}:15020/stats/prometheus`)).text();
  assert.ok(total(text, 'istio_requests_total', { reporter: 'source', source_workload: 'frontend' }) >= REQUESTS);
});

test('promtool check metrics: every proxy\'s exposition parses; istio_ families lint clean (but Istio\'s milliseconds unit)', async () => {
  for (const p of pods) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await exposition(p), encoding: 'utf8' });
    const out = `${r.stdout}${r.stderr}`;
    assert.notEqual(r.status, 1, `${p.name}: ${out}`);
    assert.doesNotMatch(out, /error while linting|parsing error/i, p.name);
    assert.deepEqual(out.split('\n').filter((l) => l.startsWith('istio_') && !l.includes('instead of "milliseconds"')), [], p.name);
  }
});

// ---- a real Prometheus ---------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function query(base: string, promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', promql);
  return body.data.result;
}

test('TASK-16: a real Prometheus scrapes every proxy and answers rate() and histogram_quantile() over Istio\'s metrics', async (t) => {
  if (spawnSync('prometheus', ['--version']).status !== 0) {
    t.skip('prometheus not installed (scripts/install-system-deps.sh)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-prom-'));
  const targets = pods.map((p) => ({ targets: [new URL(p.proxy!.adminUrl!).host], labels: { pod: p.name, namespace: p.namespace } }));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    JSON.stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: [{ job_name: 'strait-proxies', metrics_path: '/stats/prometheus', static_configs: targets }] }),
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let prom: ChildProcess | undefined;
  let stopTraffic = false;
  try {
    prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: string[] = [];
    prom.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
    await eventually(async () => (await query(base, 'up')).filter((r) => r.value[1] === '1').length === pods.length, `Prometheus to scrape all ${pods.length} proxies (${stderr.join('').slice(-500)})`, 30_000);
    // Traffic while Prometheus takes several samples, so rate() has an increase to see.
    const traffic = (async () => {
      while (!stopTraffic) {
        const r = await fetch(`${mesh.gatewayUrl}/promql`).catch(() => undefined);
        await r?.text();
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const rate = await eventually(async () => {
      const r = await query(base, 'sum(rate(istio_requests_total{destination_service_name="backend"}[1m]))');
      return r.length === 1 && Number(r[0]!.value[1]) > 0 ? r : undefined;
    }, 'a positive request rate to the backend', 30_000);
    assert.ok(Number(rate[0]!.value[1]) > 0);
    const p50 = await eventually(async () => {
      const r = await query(base, 'histogram_quantile(0.5, sum(rate(istio_request_duration_milliseconds_bucket[1m])) by (le))');
      return r.length === 1 && Number.isFinite(Number(r[0]!.value[1])) ? r : undefined;
    }, 'a median request duration', 30_000);
    assert.ok(Number(p50[0]!.value[1]) >= 0);
    // TASK-16's queries, on the seed's services: series from both reporters, the v2 subset, per-code rates.
    const all = await query(base, 'istio_requests_total');
    assert.deepEqual([...new Set(all.map((r) => r.metric.reporter))].sort(), ['destination', 'source']);
    const frontend = await query(base, 'istio_requests_total{destination_service="frontend.default.svc.cluster.local"}');
    assert.deepEqual([...new Set(frontend.map((r) => r.metric.pod))].sort(), [pod('frontend-').name, pod('istio-ingressgateway').name].sort());
    const v2 = await query(base, 'istio_requests_total{destination_service="backend.default.svc.cluster.local", destination_version="v2"}');
    assert.deepEqual([...new Set(v2.map((r) => r.metric.reporter))].sort(), ['destination', 'source']);
    assert.ok(v2.every((r) => r.metric.destination_workload === 'backend-v2'));
    // Each target is scraped at its own offset: wait until both reporters' series have two samples.
    const ok = await eventually(async () => {
      const r = await query(base, 'sum by (reporter) (rate(istio_requests_total{destination_service=~"frontend.*", response_code="200"}[5m]))');
      return r.length === 2 ? r : undefined;
    }, 'a 200 rate to the frontend from both reporters', 30_000);
    assert.deepEqual(ok.map((r) => r.metric.reporter).sort(), ['destination', 'source']);
    assert.ok(ok.every((r) => Number(r.value[1]) > 0), JSON.stringify(ok));
    stopTraffic = true;
    await traffic;
  } finally {
    stopTraffic = true;
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
