// `strait proxy-config`, `strait proxy-status`, `strait tap` and `strait dashboard` run as a
// user runs them (the built CLI) against a real `strait up examples/seed`: the tables show what
// the frontend's sidecar really runs (its listeners, routes, clusters, the backend pods as
// endpoints, its SPIFFE certificate), every proxy is SYNCED, and a request made during the test
// shows up in the terminal tap.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { request } from '../helpers/http.js';
import { CLI, ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';
import type { PodStatus } from '../../src/local/api-server.js';

const run = promisify(execFile);
let mesh: RunningMesh;
let pods: PodStatus[];

const strait = async (...args: string[]) => (await run(process.execPath, [CLI, ...args, '--server', mesh.apiUrl], { cwd: ROOT })).stdout;

before(async () => {
  mesh = await startMesh(['examples/seed']);
  pods = (await mesh.status()).pods;
});

after(async () => {
  await mesh?.stop();
});

const pod = (prefix: string) => pods.find((p) => p.name.startsWith(prefix))!;

test("listeners: the sidecar's inbound port and its outbound capture listener", async () => {
  const out = await strait('proxy-config', 'listeners', 'deploy/frontend');
  assert.match(out, /^ADDRESSES\s+PORT\s+MATCH\s+DESTINATION$/m);
  assert.match(out, /^0\.0\.0\.0\s+8080\s+Trans: tls\s+Inline Route: inbound\|8080\|\|$/m);
  assert.match(out, /^0\.0\.0\.0\s+15001\s+Trans: raw_buffer\s+Route: virtualOutbound$/m);
  const json = JSON.parse(await strait('proxy-config', 'listeners', 'deploy/frontend', '--port', '15001', '-o', 'json')) as { name: string }[];
  assert.deepEqual(json.map((l) => l.name), ['virtualOutbound']);
});

test('routes and clusters: the backend service as Istio names it', async () => {
  const routes = await strait('proxy-config', 'routes', 'deploy/frontend');
  assert.match(routes, /^virtualOutbound\s+backend\.default\.svc\.cluster\.local:8080\s+backend\.default\.svc\.cluster\.local:8080, backend\.default\.svc:8080 \+ 2 more\.\.\.\s+\/\*/m);
  const clusters = await strait('proxy-config', 'clusters', `${pod('frontend').name}.default`);
  assert.match(clusters, /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE$/m);
  assert.match(clusters, /^backend\.default\.svc\.cluster\.local\s+8080\s+-\s+outbound\s+EDS\s+-$/m);
  assert.match(clusters, /^\s+8080\s+-\s+inbound\s+STATIC\s+-$/m);
  const json = JSON.parse(await strait('proxy-config', 'clusters', 'deploy/frontend', '--fqdn', 'backend.default.svc.cluster.local', '-o', 'json')) as { name: string; lbPolicy: string }[];
  assert.deepEqual(json.map((c) => [c.name, c.lbPolicy]), [['outbound|8080||backend.default.svc.cluster.local', 'LEAST_REQUEST']]);
});

test('endpoints: both backend pods, healthy', async () => {
  const out = await strait('proxy-config', 'endpoints', 'deploy/frontend', '--cluster', 'outbound|8080||backend.default.svc.cluster.local');
  const rows = out.trim().split('\n').slice(1);
  assert.deepEqual(rows.map((r) => r.split(/\s+/)[0]).sort(), [`${pod('backend-v1').ip}:8080`, `${pod('backend-v2').ip}:8080`].sort());
  for (const r of rows) assert.match(r, /\sHEALTHY\s+OK\s/);
});

test('secrets: the workload certificate the CA issued, and the root', async () => {
  const out = await strait('proxy-config', 'secrets', 'deploy/frontend');
  const serial = pod('frontend').proxy!.certificate!.serial;
  assert.match(out, new RegExp(`^default\\s+Cert Chain\\s+ACTIVE\\s+true\\s+${serial}\\s`, 'm'));
  assert.match(out, /^ROOTCA\s+CA\s+ACTIVE\s+true\s/m);
});

test('proxy-status: every proxy SYNCED on every type; one pod shows the versions side by side', async () => {
  const out = await strait('proxy-status');
  const rows = out.trim().split('\n');
  assert.match(rows[0]!, /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+SDS\s+CONTROL PLANE\s+VERSION$/);
  assert.equal(rows.length, 1 + pods.length);
  for (const r of rows.slice(1)) assert.match(r, /\sLocal\s+SYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s+strait@127\.0\.0\.1:\d+\s/);
  const one = await strait('proxy-status', 'deploy/backend-v1');
  const versions = pod('backend-v1').proxy!.versions;
  assert.match(one, new RegExp(`^LDS\\s+SYNCED\\s+${versions.LDS!.sent}\\s+${versions.LDS!.acked}\\s+${versions.LDS!.acked}`, 'm'));
  const json = JSON.parse(await strait('proxy-status', '-o', 'json')) as { proxies: { state: Record<string, string> }[] };
  assert.ok(json.proxies.every((p) => Object.values(p.state).every((s) => s === 'SYNCED')));
});

test('an unknown pod is a clear error', async () => {
  const err = await strait('proxy-config', 'clusters', 'nope').catch((e: { code: number; stderr: string }) => e);
  assert.equal((err as { code: number }).code, 1);
  assert.match((err as { stderr: string }).stderr, /strait proxy-config: no pod "nope"/);
});

test('strait tap shows a request made while it runs; strait dashboard prints the URL', async () => {
  const tap = spawn(process.execPath, [CLI, 'tap', 'deploy/frontend', '--path', '/tapped', '--max', '1', '-o', 'json', '--server', mesh.apiUrl], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  readline.createInterface({ input: tap.stdout! }).on('line', (l) => lines.push(l));
  const ready = new Promise<void>((resolve) => readline.createInterface({ input: tap.stderr! }).on('line', (l) => l.startsWith('tapping') && resolve()));
  const exited = new Promise<number | null>((resolve) => tap.once('exit', resolve));
  try {
    await ready;
    assert.equal((await request(`${mesh.gatewayUrl}/tapped?x=1`, { headers: { 'x-request-id': 'e2e-cli-tap' } })).status, 200);
    assert.equal(await exited, 0);
    const e = JSON.parse(lines[0]!) as { direction: string; method: string; path: string; status: number; requestId: string; flags: string; source: unknown; destination: unknown };
    assert.equal(e.direction, 'inbound');
    assert.equal(e.method, 'GET');
    assert.equal(e.path, '/tapped?x=1');
    assert.equal(e.status, 200);
    assert.equal(e.flags, '-');
    assert.equal(e.requestId, 'e2e-cli-tap');
    const gw = pods.find((p) => p.namespace === 'istio-system')!;
    assert.deepEqual(e.source, { pod: `istio-system/${gw.name}`, identity: 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account', verified: true });
    assert.deepEqual(e.destination, { pod: `default/${pod('frontend').name}`, identity: 'spiffe://cluster.local/ns/default/sa/frontend', verified: true });
  } finally {
    if (tap.exitCode === null) tap.kill();
  }
  assert.equal((await strait('dashboard', '--no-open')).trim(), `${mesh.apiUrl}/dashboard`);
  assert.ok(mesh.output.some((l) => l === `strait | dashboard: ${mesh.apiUrl}/dashboard   (service graph, golden metrics, config, live tap)`));
});
