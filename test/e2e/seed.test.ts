// The seed flow end to end through a real `strait up examples/seed`: User → gateway → frontend
// sidecar → frontend → frontend sidecar → backend sidecar → backend, with real clients (curl and
// Node's http), the access logs of every hop sharing one x-request-id, mesh mTLS between the
// proxies with the identities the mesh CA issued, and `strait status`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually, request } from '../helpers/http.js';
import { CLI, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const run = promisify(execFile);

interface EchoReply {
  peer?: { identity: string | null };
  service: string;
  version: string;
  pod: string;
  host: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  forwarded?: { url: string; status: number; body: EchoReply };
}

let mesh: RunningMesh;

before(async () => {
  mesh = await startMesh(['examples/seed']);
});

after(async () => {
  await mesh?.stop();
});

test('strait up prints the gateway URL and a curl line to try', () => {
  assert.match(mesh.gatewayUrl, /^http:\/\/127\.\d+\.\d+\.1:8080$/);
  assert.ok(mesh.output.some((l) => l.includes(`try: curl ${mesh.gatewayUrl}/`)));
});

test('curl through the gateway reaches frontend, which reaches backend through the sidecars', async () => {
  const { stdout } = await run('curl', ['-s', '-i', '-H', 'x-request-id: seed-e2e-1', `${mesh.gatewayUrl}/hello?name=strait`]);
  const [head, body] = stdout.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 200 OK/);
  assert.match(head!, /\r\nserver: istio-envoy\r\n/i);
  const reply = JSON.parse(body!) as EchoReply;
  assert.equal(reply.service, 'frontend');
  assert.match(reply.pod, /^frontend-[0-9a-f]{10}-0$/);
  assert.equal(reply.path, '/hello');
  assert.deepEqual(reply.query, { name: 'strait' });
  assert.equal(reply.headers['x-request-id'], 'seed-e2e-1');
  assert.equal(reply.headers['x-forwarded-proto'], 'http');
  assert.equal(reply.forwarded?.status, 200);
  assert.equal(reply.forwarded?.url, 'http://backend:8080/');
  const backend = reply.forwarded!.body;
  assert.equal(backend.service, 'backend');
  assert.match(backend.pod, /^backend-v[12]-[0-9a-f]{10}-0$/);
  assert.equal(backend.host, 'backend:8080');
  assert.equal(backend.headers['x-request-id'], 'seed-e2e-1');
});

test("every proxy hop is mTLS: the frontend sees the gateway's identity, the backend the frontend's", async () => {
  const reply = JSON.parse((await request(`${mesh.gatewayUrl}/who`)).body) as EchoReply;
  assert.equal(reply.peer?.identity, 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account');
  assert.equal(reply.forwarded?.body.peer?.identity, 'spiffe://cluster.local/ns/default/sa/frontend');
  assert.match(reply.forwarded!.body.headers['x-forwarded-client-cert'] ?? '', /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/backend;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/frontend$/);
  // The sidecars exchange workload metadata (x-envoy-peer-metadata); the workloads never see it.
  for (const h of [reply.headers, reply.forwarded!.body.headers]) {
    assert.equal(h['x-envoy-peer-metadata'], undefined);
    assert.equal(h['x-envoy-peer-metadata-id'], undefined);
  }
});

test("each proxy's workload certificate shows in its admin /certs and in strait status", async () => {
  const status = await mesh.status();
  const ca = status.controlPlane.ca!;
  assert.equal(ca.trustDomain, 'cluster.local');
  assert.equal(ca.roots.filter((r) => r.signing).length, 1);
  for (const p of status.pods) {
    const cert = p.proxy!.certificate!;
    assert.equal(cert.spiffeId, `spiffe://cluster.local/ns/${p.namespace}/sa/${p.serviceAccount}`);
    const hours = (Date.parse(cert.notAfter) - Date.parse(cert.notBefore)) / 3600e3;
    assert.ok(hours > 24 && hours < 24.1, `24 h (and the CA's 2 min of clock skew): ${hours}`);
    const certs = JSON.parse((await request(`${p.proxy!.adminUrl}/certs`)).body) as { certificates: { name: string; cert_chain: { serial_number: string; subject_alt_names: { uri?: string }[]; days_until_expiration: string }[]; ca_cert: unknown[] }[] };
    const own = certs.certificates.find((c) => c.name === 'default')!;
    assert.equal(own.cert_chain[0]!.serial_number, cert.serial, `${p.name} runs the certificate the CA issued last`);
    assert.deepEqual(own.cert_chain[0]!.subject_alt_names, [{ uri: cert.spiffeId }]);
    assert.equal(certs.certificates.find((c) => c.name === 'ROOTCA')!.ca_cert.length, ca.roots.length);
  }
  const table = await run(process.execPath, [CLI, 'status', '--server', mesh.apiUrl]);
  assert.match(table.stdout, /^mesh CA\s+self-signed in \S+\s+trust domain cluster\.local\s+roots [0-9A-F:]+ until \d{4}-\d\d-\d\d \(signing\)$/m);
  assert.match(table.stdout, /default\s+frontend-[0-9a-f]{10}-0\s+2\/2\s+Running\s+0\s+127\.\S+\s+SYNCED\s+2[34]h\s/);
});

test('the backend service balances over both versions', async () => {
  const versions = new Set<string>();
  // LEAST_REQUEST (Istio's default) picks at random between idle hosts: 20 tries make a miss
  // of one version a one-in-a-million event.
  for (let i = 0; i < 20; i++) {
    const res = await request(`${mesh.gatewayUrl}/`);
    assert.equal(res.status, 200);
    versions.add((JSON.parse(res.body) as EchoReply).forwarded!.body.version);
  }
  assert.deepEqual([...versions].sort(), ['v1', 'v2']);
});

test('the access logs of all four hops carry the same x-request-id', async () => {
  const id = 'seed-e2e-logs-1';
  const res = await request(`${mesh.gatewayUrl}/logged`, { headers: { 'x-request-id': id } });
  assert.equal(res.status, 200);
  const reply = JSON.parse(res.body) as EchoReply;
  const status = await mesh.status();
  const gateway = status.pods.find((p) => p.namespace === 'istio-system')!;
  const frontend = status.pods.find((p) => p.name === reply.pod)!;
  const backend = status.pods.find((p) => p.name === reply.forwarded!.body.pod)!;
  const lines = await eventually(async () => {
    const all = [
      ...(await mesh.logs(`${gateway.namespace}/${gateway.name}`, 'istio-proxy')),
      ...(await mesh.logs(frontend.name, 'istio-proxy')),
      ...(await mesh.logs(backend.name, 'istio-proxy')),
    ].filter((l) => l.includes(`"${id}"`));
    return all.length >= 4 ? all : undefined;
  }, 'four access-log lines with the request id');
  assert.equal(lines.length, 4);
  // gateway → frontend (outbound), frontend inbound, frontend → backend (outbound), backend inbound
  assert.ok(lines.some((l) => / outbound\|8080\|\|frontend\.default\.svc\.cluster\.local /.test(l) && l.includes('"GET /logged HTTP/1.1" 200')));
  assert.equal(lines.filter((l) => / inbound\|8080\|\| /.test(l)).length, 2);
  assert.ok(lines.some((l) => / outbound\|8080\|\|backend\.default\.svc\.cluster\.local /.test(l)));
});

test('CONNECT is refused at the gateway with 405, never forwarded', async () => {
  const { stdout } = await run('curl', ['-s', '-i', '-p', '-x', mesh.gatewayUrl, 'http://backend:8080/']).catch((e: { stdout: string }) => e);
  assert.match(stdout, /^HTTP\/1\.1 405 Method Not Allowed/);
  assert.match(stdout, /x-strait-details: connect_not_supported/);
});

test('strait status -o json lists every pod with its address, labels, admin URL and acknowledged config', async () => {
  const { stdout } = await run(process.execPath, [CLI, 'status', '-o', 'json', '--server', mesh.apiUrl]);
  const status = JSON.parse(stdout) as Awaited<ReturnType<RunningMesh['status']>>;
  const names = status.pods.map((p) => p.name.replace(/-[0-9a-f]{10}-/, '-*-'));
  assert.deepEqual(names.sort(), ['backend-v1-*-0', 'backend-v2-*-0', 'frontend-*-0', 'istio-ingressgateway-local-0']);
  for (const p of status.pods) {
    assert.equal(p.ready, true, `${p.name} not ready`);
    assert.match(p.ip, /^127\./);
    assert.ok(p.proxy?.adminUrl.startsWith('http://127.'), `${p.name} has no admin URL`);
    assert.equal(p.proxy?.connected, true, `${p.name} proxy not connected: ${JSON.stringify(p.proxy)}`);
    assert.ok(p.proxy?.versions.LDS?.acked, `${p.name} has no acknowledged LDS version`);
  }
  const gw = status.pods.find((p) => p.namespace === 'istio-system')!;
  assert.deepEqual(gw.labels, { istio: 'ingressgateway', app: 'istio-ingressgateway' });
  const table = await run(process.execPath, [CLI, 'status', '--server', mesh.apiUrl]);
  assert.match(table.stdout, /NAMESPACE\s+POD\s+READY\s+STATUS/);
  assert.match(table.stdout, /default\s+frontend-[0-9a-f]{10}-0\s+2\/2\s+Running\s+0\s+127\.\S+\s+SYNCED/);
});

test("a proxy's admin endpoint serves ready, config dump and Prometheus stats", async () => {
  const status = await mesh.status();
  const frontend = status.pods.find((p) => p.name.startsWith('frontend-'))!;
  const admin = frontend.proxy!.adminUrl;
  assert.equal((await request(`${admin}/ready`)).body, 'LIVE\n');
  const dump = JSON.parse((await request(`${admin}/config_dump`)).body) as { configs: { '@type': string; dynamicListeners?: { name: string }[] }[] };
  const listeners = dump.configs.find((c) => c['@type'].endsWith('ListenersConfigDump'))!.dynamicListeners!.map((l) => l.name);
  assert.deepEqual(listeners.sort(), ['inbound_0.0.0.0_8080', 'virtualOutbound']);
  const prom = (await request(`${admin}/stats/prometheus`)).body;
  assert.match(prom, /^envoy_cluster_upstream_rq_total\{cluster_name="inbound\|8080\|\|"\} [1-9]\d*$/m);
});

test('zero trust (examples/seed/security.yaml): only the frontend may call the backend; plaintext is refused mesh-wide', async () => {
  const backend = (await mesh.status()).pods.find((p) => p.name.startsWith('backend-v1-'))!;
  // The README's command: the backend's own identity is not the frontend's.
  const exec = await run(process.execPath, [CLI, 'exec', '--server', mesh.apiUrl, 'backend-v1', '--', 'curl', '-s', '-w', '\n%{http_code}', 'http://backend:8080/']);
  assert.equal(exec.stdout, 'RBAC: access denied\n403');
  // A caller without a sidecar (plaintext) to the backend pod: STRICT refuses it.
  const plain = await request(`http://${backend.ip}:8080/`);
  assert.equal(plain.status, 503);
  assert.match(String(plain.headers['x-strait-details']), /plaintext/);
  // The frontend is let through for GET (the curl test above), and only for GET.
  const viaFrontend = JSON.parse((await request(`${mesh.gatewayUrl}/`)).body) as EchoReply;
  assert.equal(viaFrontend.forwarded?.status, 200);
});
