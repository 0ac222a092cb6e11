// Istio's ingress tasks end to end on one real `strait up` of httpbin: ingress gateways (TASK-08,
// examples/httpbin/httpbin-gateway.yaml and the browser variant) and secure gateways (TASK-09,
// examples/ingress-gateways: SIMPLE TLS, certificate rotation, two hosts by SNI, MUTUAL). The
// certificates are made with openssl the way the task makes them (a CA example.com, leaves it
// signs) and handed to the gateway as kubernetes.io/tls or generic Secrets in istio-system,
// written as YAML into the watched directory (what `kubectl create secret` would store). Requests
// are made with curl exactly as the task does (`--resolve`, `--cacert`, `--cert/--key`).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { makeCa, makeSignedCert } from '../helpers/certs.js';
import type { TestCert } from '../helpers/certs.js';
import { eventually, request } from '../helpers/http.js';
import { applyAndSync, ManifestDir, readyPods } from '../helpers/istio-tasks.js';
import { ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const run = promisify(execFile);
const GW = 'examples/ingress-gateways';

let files: ManifestDir;
let mesh: RunningMesh;
/** Every certificate made here, so that their temporary directories go at the end. */
const made: TestCert[] = [];
function ca(): TestCert {
  const c = makeCa('example.com');
  made.push(c);
  return c;
}
function signed(by: TestCert, cn: string, org?: string): TestCert {
  const c = makeSignedCert(by, cn, org);
  made.push(c);
  return c;
}
/** The gateway's port 443, bound as 8443. */
let securePort: number;

before(async () => {
  files = new ManifestDir('istio-gateway');
  files.apply('examples/httpbin/httpbin.yaml');
  mesh = await startMesh([files.dir]);
  await readyPods(mesh, ['httpbin']);
  securePort = Number(new URL(mesh.gatewayUrlFor(443)).port);
});

after(async () => {
  await mesh?.stop();
  files?.remove();
  for (const c of made) fs.rmSync(path.dirname(c.certFile), { recursive: true, force: true });
});

/** The task's `curl -s -I -HHost:httpbin.example.com http://$INGRESS_HOST:$INGRESS_PORT/...`. */
function viaGateway(path: string, host?: string) {
  return request(`${mesh.gatewayUrlFor(80)}${path}`, { headers: host ? { host } : {} });
}

test('TASK-08, httpbin-gateway: /status/200 for httpbin.example.com is 200 from istio-envoy; /headers and other hosts are 404', async () => {
  await applyAndSync(mesh, () => files.apply('examples/httpbin/httpbin-gateway.yaml'), 'httpbin-gateway');
  const ok = await viaGateway('/status/200', 'httpbin.example.com');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.server, 'istio-envoy');
  assert.match(String(ok.headers['x-envoy-upstream-service-time']), /^\d+$/);
  assert.equal((await viaGateway('/status/418', 'httpbin.example.com')).status, 418);
  assert.equal((await viaGateway('/delay/0', 'httpbin.example.com')).status, 200, '/delay is exposed too');
  const hidden = await viaGateway('/headers', 'httpbin.example.com');
  assert.equal(hidden.status, 404, '/headers is not exposed');
  assert.equal((await viaGateway('/status/200', 'other.example.com')).status, 404, 'only httpbin.example.com is served');
  assert.equal((await viaGateway('/status/200')).status, 404, 'no Host header of that name, no route');
});

test('TASK-08, the browser variant (hosts "*", /headers): /headers answers without a Host header', async () => {
  await applyAndSync(mesh, () => files.apply(`${GW}/httpbin-gateway-any-host.yaml`), 'httpbin-gateway for any host');
  const res = await viaGateway('/headers');
  assert.equal(res.status, 200);
  const headers = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
  assert.equal(headers.Host, new URL(mesh.gatewayUrlFor(80)).host);
  assert.equal((await viaGateway('/status/200')).status, 404, 'only /headers is exposed now');
  // The task's cleanup, before the secure gateways: `kubectl delete gateway httpbin-gateway; kubectl delete virtualservice httpbin`.
  await applyAndSync(mesh, () => files.delete(`${GW}/httpbin-gateway-any-host.yaml`), 'deleting httpbin-gateway');
  await eventually(async () => (await viaGateway('/headers').catch(() => ({ status: 0 }))).status !== 200, 'port 80 to stop serving /headers');
});

/** What `kubectl create -n istio-system secret tls NAME --key --cert` stores, as YAML. */
function tlsSecret(name: string, leaf: TestCert): string {
  return secretYaml(name, 'kubernetes.io/tls', { 'tls.crt': leaf.cert, 'tls.key': leaf.key });
}

/** `kubectl create -n istio-system secret generic NAME --from-file=tls.key --from-file=tls.crt --from-file=ca.crt`. */
function genericSecret(name: string, leaf: TestCert, ca: TestCert): string {
  return secretYaml(name, 'Opaque', { 'tls.key': leaf.key, 'tls.crt': leaf.cert, 'ca.crt': ca.cert });
}

function secretYaml(name: string, type: string, data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}`);
  return ['apiVersion: v1', 'kind: Secret', 'metadata:', `  name: ${name}`, '  namespace: istio-system', `type: ${type}`, 'data:', ...lines, ''].join('\n');
}

interface CurlResult {
  code: number;
  httpVersion: string;
  status: string;
  body: string;
  stderr: string;
}

/**
 * The task's `curl -v -HHost:HOST --resolve "HOST:$SECURE_INGRESS_PORT:$INGRESS_HOST" --cacert CA
 * "https://HOST:$SECURE_INGRESS_PORT/PATH"`, with `--cert/--key` for MUTUAL. Never rejects: a
 * failed handshake is curl's exit code (35, 56, 60).
 */
async function curl(host: string, path: string, ca: TestCert, client?: TestCert): Promise<CurlResult> {
  const args = ['-s', '-S', '-HHost:' + host, '--resolve', `${host}:${securePort}:${mesh.gatewayAddress}`, '--cacert', ca.certFile, '-w', '\n%{http_version} %{http_code}', '--max-time', '10'];
  if (client) args.push('--cert', client.certFile, '--key', client.keyFile);
  args.push(`https://${host}:${securePort}${path}`);
  try {
    const { stdout, stderr } = await run('curl', args);
    const cut = stdout.lastIndexOf('\n');
    const [httpVersion = '', status = ''] = stdout.slice(cut + 1).split(' ');
    return { code: 0, httpVersion, status, body: stdout.slice(0, cut), stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, httpVersion: '', status: '', body: '', stderr: err.stderr ?? '' };
  }
}

/** The subject CN of the certificate the gateway presents for an SNI. */
function presentedCn(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: mesh.gatewayAddress, port: securePort, servername, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.destroy();
      resolve(Array.isArray(cn) ? cn.join(',') : String(cn));
    });
    s.once('error', reject);
  });
}

let ca1: TestCert;
let httpbinCert1: TestCert;

test('TASK-09, SIMPLE: https://httpbin.example.com/status/418 answers HTTP/2 418 (the teapot) with the example.com CA; another SNI fails', async () => {
  ca1 = ca();
  httpbinCert1 = signed(ca1, 'httpbin.example.com');
  await applyAndSync(mesh, () => {
    files.applyText(tlsSecret('httpbin-credential', httpbinCert1), 'kubectl create secret tls httpbin-credential');
    files.apply(`${GW}/mygateway-simple.yaml`);
  }, 'the httpbin-credential Secret and mygateway (SIMPLE)');
  const r = await eventually(async () => {
    const c = await curl('httpbin.example.com', '/status/418', ca1);
    return c.code === 0 ? c : undefined;
  }, 'port 443 to serve httpbin.example.com');
  assert.equal(r.httpVersion, '2', 'HTTP/2 negotiated by ALPN');
  assert.equal(r.status, '418');
  assert.match(r.body, /-=\[ teapot \]=-/);
  assert.equal(await presentedCn('httpbin.example.com'), 'httpbin.example.com');
  // Hosts other than `*` are matched by SNI before anything else: no chain, no handshake.
  const other = await curl('other.example.com', '/status/418', ca1);
  assert.notEqual(other.code, 0, `a request whose SNI matches no server fails (${other.stderr.trim()})`);
  assert.equal(other.status, '');
});

test('TASK-09, rotation: the Secret recreated from a new CA is served without a restart; the old CA now fails', async () => {
  const ca2 = ca();
  const httpbinCert2 = signed(ca2, 'httpbin.example.com');
  const pid = mesh.proc.pid;
  // `kubectl -n istio-system delete secret httpbin-credential`, then create it again: two
  // commands, and the gateway goes without the credential in between, as in the task.
  await applyAndSync(mesh, () => files.deleteText(tlsSecret('httpbin-credential', httpbinCert1)), 'deleting httpbin-credential');
  await applyAndSync(mesh, () => files.applyText(tlsSecret('httpbin-credential', httpbinCert2), 'kubectl create secret tls httpbin-credential (new CA)'), 'the rotated httpbin-credential');
  const fresh = await eventually(async () => {
    const c = await curl('httpbin.example.com', '/status/418', ca2);
    return c.code === 0 ? c : undefined;
  }, 'the new certificate to be served');
  assert.equal(fresh.status, '418');
  assert.equal(fresh.httpVersion, '2');
  const stale = await curl('httpbin.example.com', '/status/418', ca1);
  assert.notEqual(stale.code, 0, 'the old CA no longer verifies the gateway');
  assert.match(stale.stderr, /certificate|SSL/i);
  assert.equal(mesh.proc.pid, pid);
  assert.equal(mesh.proc.exitCode, null, 'no restart');
  // Back to the first credential for the next steps (the task does the same).
  await applyAndSync(mesh, () => files.applyText(tlsSecret('httpbin-credential', httpbinCert1), 'httpbin-credential (first CA)'), 'httpbin-credential back to the first CA');
});

test('TASK-09, two hosts: helloworld-v1.example.com and httpbin.example.com, each with its own certificate, chosen by SNI', async () => {
  const helloCert = signed(ca1, 'helloworld-v1.example.com');
  await applyAndSync(mesh, () => {
    files.applyText(tlsSecret('helloworld-credential', helloCert), 'kubectl create secret tls helloworld-credential');
    files.apply(`${GW}/helloworld.yaml`, `${GW}/mygateway-two-hosts.yaml`);
  }, 'helloworld and mygateway with two hosts');
  await readyPods(mesh, ['helloworld-v1']);
  const hello = await eventually(async () => {
    const c = await curl('helloworld-v1.example.com', '/hello', ca1);
    return c.code === 0 && c.status === '200' ? c : undefined;
  }, 'helloworld-v1.example.com to answer');
  assert.equal(hello.httpVersion, '2');
  const bin = await curl('httpbin.example.com', '/status/418', ca1);
  assert.equal(bin.code, 0, bin.stderr);
  assert.equal(bin.status, '418');
  assert.equal(await presentedCn('helloworld-v1.example.com'), 'helloworld-v1.example.com');
  assert.equal(await presentedCn('httpbin.example.com'), 'httpbin.example.com');
  assert.equal((await curl('helloworld-v1.example.com', '/status/418', ca1)).status, '404', 'helloworld exposes only /hello');
});

let client: TestCert;

test('TASK-09, MUTUAL: with a client certificate signed by the CA (client.example.com), 418', async () => {
  client = signed(ca1, 'client.example.com', 'client organization');
  await applyAndSync(mesh, () => {
    files.applyText(genericSecret('httpbin-credential', httpbinCert1, ca1), 'kubectl create secret generic httpbin-credential (with ca.crt)');
    files.apply(`${GW}/mygateway-mutual.yaml`);
  }, 'the generic httpbin-credential and mygateway (MUTUAL)');
  const ok = await curl('httpbin.example.com', '/status/418', ca1, client);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.httpVersion, '2');
  assert.equal(ok.status, '418');
  assert.match(ok.body, /-=\[ teapot \]=-/);
});

test('TASK-09, MUTUAL: without a client certificate, or with one from another CA, the handshake fails', async () => {
  const refused = await eventually(async () => {
    const c = await curl('httpbin.example.com', '/status/418', ca1);
    return c.code !== 0 ? c : undefined;
  }, 'the gateway to require a client certificate');
  // TLS 1.3 checks the client's certificate after the client's Finished, so curl may already be
  // writing its request when the alert and close arrive: it then reports the reset of that write
  // (errno 104/107) instead of the alert. Either way no HTTP exchange happened.
  assert.match(refused.stderr, /certificate required|alert|handshake|SSL|reset by peer|Send failure|not connected/i, `curl: ${refused.stderr.trim()}`);
  const stranger = signed(ca(), 'client.example.com');
  assert.notEqual((await curl('httpbin.example.com', '/status/418', ca1, stranger)).code, 0, 'a client certificate from another CA is refused');
  // The right certificate still works.
  assert.equal((await curl('httpbin.example.com', '/status/418', ca1, client)).status, '418');
});

test('TASK-09, OPTIONAL_MUTUAL: no client certificate is served, the CA\'s certificate too, one from another CA is refused', async () => {
  const optional = fs.readFileSync(path.join(ROOT, `${GW}/mygateway-mutual.yaml`), 'utf8').replace('mode: MUTUAL', 'mode: OPTIONAL_MUTUAL');
  assert.match(optional, /mode: OPTIONAL_MUTUAL/);
  await applyAndSync(mesh, () => files.applyText(optional, 'mygateway (OPTIONAL_MUTUAL)'), 'mygateway with OPTIONAL_MUTUAL');
  const anonymous = await eventually(async () => {
    const c = await curl('httpbin.example.com', '/status/418', ca1);
    return c.code === 0 ? c : undefined;
  }, 'the gateway to accept a client without a certificate');
  assert.equal(anonymous.status, '418');
  assert.equal((await curl('httpbin.example.com', '/status/418', ca1, client)).status, '418');
  const stranger = await curl('httpbin.example.com', '/status/418', ca1, signed(ca(), 'client.example.com'));
  assert.notEqual(stranger.code, 0, 'a certificate that does not verify is refused, even when optional');
});
