// Istio's TCP traffic shifting (TASK-04) and egress control (TASK-10) end to end, on one real
// `strait up` of Istio's tcp-echo sample and the sleep client. tcp-echo's files (examples/tcp-echo)
// are applied unchanged and spoken to through the ingress gateway's TCP port 31400, one
// connection per run, as the task's `nc` loop does. For egress there is no internet here: an
// httpbin and a TLS server on loopback stand in for httpbin.org and www.google.com, and the
// task's ServiceEntries (examples/egress) get an endpoint on loopback added (the only change:
// without one, resolution DNS would look the real host up). Requests leave from the sleep pod
// through its sidecar, as `kubectl exec sleep -- curl` does.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { parseDocument } from 'yaml';
import { createHttpbinServer } from '../../src/demo/httpbin/httpbin-server.js';
import type { PodStatus } from '../../src/local/api-server.js';
import { makeCert } from '../helpers/certs.js';
import type { TestCert } from '../helpers/certs.js';
import { accessLog, applyAndSync, ManifestDir, podNamed, readyPods, SIDECAR_OUTBOUND_PORT, tally, tcpExchange, timed, viaSidecar } from '../helpers/istio-tasks.js';
import { ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const TCP = 'examples/tcp-echo';
const EGRESS = 'examples/egress';

let files: ManifestDir;
let mesh: RunningMesh;
let sleep: PodStatus;
/** Stands in for httpbin.org (and, by its IP, for any host the mesh does not know). */
let httpbinOrg: http.Server;
let httpbinPort: number;
/** Stands in for www.google.com: HTTPS with a certificate for that name. */
let google: https.Server;
let googlePort: number;
let googleCert: TestCert;

/**
 * Where the stand-ins for the internet listen: a loopback address outside every pod's addresses.
 * Not 127.0.0.1, which inside a pod means the pod itself (Istio reads a ServiceEntry endpoint
 * 127.0.0.1 that way too, and so does Strait).
 */
const EXTERNAL = '127.0.0.2';

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, EXTERNAL, r));
  return (server.address() as AddressInfo).port;
}

before(async () => {
  httpbinOrg = createHttpbinServer();
  httpbinPort = await listen(httpbinOrg);
  googleCert = makeCert('www.google.com');
  google = https.createServer({ cert: googleCert.cert, key: googleCert.key }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`google stand-in: ${req.method} ${req.url} host=${req.headers.host}\n`);
  });
  googlePort = await listen(google);

  files = new ManifestDir('istio-tcp-egress');
  files.apply(`${TCP}/tcp-echo-services.yaml`, 'examples/sleep/sleep.yaml');
  mesh = await startMesh([files.dir]);
  await readyPods(mesh, ['tcp-echo-v1', 'tcp-echo-v2']);
  sleep = await podNamed(mesh, 'sleep');
});

after(async () => {
  await mesh?.stop();
  files?.remove();
  httpbinOrg?.closeAllConnections();
  httpbinOrg?.close();
  google?.closeAllConnections();
  google?.close();
  if (googleCert) fs.rmSync(path.dirname(googleCert.certFile), { recursive: true, force: true });
});

/** One `(date; sleep 1) | nc $INGRESS_HOST $TCP_INGRESS_PORT` run, without the sleep: the prefix answered. */
async function ncRun(i: number): Promise<string> {
  const lines = [`run ${i} line a`, `run ${i} line b`];
  const got = await tcpExchange(mesh.gatewayAddress, 31400, lines);
  const answers = got.split('\n').filter(Boolean);
  assert.equal(answers.length, 2, `run ${i}: two lines echoed, got ${JSON.stringify(got)}`);
  const prefixes = answers.map((a, j) => {
    const m = /^(\S+) (.*)$/.exec(a);
    assert.ok(m, `run ${i}: ${JSON.stringify(a)}`);
    assert.equal(m[2], lines[j], 'the line comes back after the prefix');
    return m[1]!;
  });
  // Per-connection weighting: both lines of one connection went to the same version.
  assert.equal(prefixes[0], prefixes[1], `run ${i}: one connection, one version`);
  return prefixes[0]!;
}

test('TASK-04 step 1, tcp-echo-all-v1: every connection through the gateway\'s port 31400 is answered by v1 ("one")', async () => {
  await applyAndSync(mesh, () => files.apply(`${TCP}/tcp-echo-all-v1.yaml`), 'tcp-echo-all-v1');
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) seen.push(await ncRun(i));
  assert.deepEqual(tally(seen), { one: 20 });
});

test('TASK-04 step 2, tcp-echo-20-v2: about 20% of the connections are answered by v2 ("two")', async (t) => {
  await applyAndSync(mesh, () => files.apply(`${TCP}/tcp-echo-20-v2.yaml`), 'tcp-echo-20-v2');
  const n = 50;
  const seen: string[] = [];
  for (let i = 0; i < n; i++) seen.push(await ncRun(i));
  const split = tally(seen);
  t.diagnostic(`TASK-04 80/20 over ${n} connections: ${JSON.stringify(split)}`);
  const two = split.two ?? 0;
  assert.equal((split.one ?? 0) + two, n, `only v1 and v2 answer: ${JSON.stringify(split)}`);
  // 20% of 50 is 10; 2..22 (4%..44%) fails for a fair 80/20 split about once in 5000 runs.
  assert.ok(two >= 2 && two <= 22, `two on ${two}/${n} connections, expected about 20%`);
});

test('TCP proxy half-close: a client that shuts its side right after its line (`echo hi | nc -N`) still gets the echo, as through Envoy', async () => {
  const got = await tcpExchange(mesh.gatewayAddress, 31400, ['half-closed'], { halfClose: true });
  assert.match(got, /^(one|two) half-closed\n$/);
});

/** The task's ServiceEntry as Istio ships it, plus an endpoint on loopback for its (only) port. */
function serviceEntryAt(file: string, port: number): string {
  const doc = parseDocument(fs.readFileSync(path.join(ROOT, file), 'utf8'));
  const portName = String(doc.getIn(['spec', 'ports', 0, 'name']));
  doc.setIn(['spec', 'endpoints'], doc.createNode([{ address: EXTERNAL, ports: { [portName]: port } }]));
  return doc.toString();
}

/**
 * `curl https://HOST` from the sleep pod through its sidecar: CONNECT HOST:443, then TLS with SNI
 * HOST trusting only the stand-in's certificate. Resolves with the HTTP status line, or rejects
 * when the tunnel or the handshake fails (curl's exit codes 56/35).
 */
function httpsViaSidecar(connectTo: string, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: sleep.ip, port: SIDECAR_OUTBOUND_PORT, method: 'CONNECT', path: connectTo, headers: { host: connectTo }, agent: false });
    req.once('error', reject);
    req.once('response', (res) => reject(new Error(`CONNECT answered ${res.statusCode} without a tunnel`)));
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`CONNECT ${connectTo}: ${res.statusCode}`));
        return;
      }
      const s = tls.connect({ socket, servername, ca: googleCert.cert });
      const got: Buffer[] = [];
      s.once('secureConnect', () => s.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`));
      s.on('data', (c: Buffer) => got.push(c));
      s.once('error', reject);
      s.once('close', () => {
        const text = Buffer.concat(got).toString();
        if (!text) reject(new Error(`no TLS answer from ${connectTo} (connection closed)`));
        else resolve(text.split('\r\n')[0]!);
      });
      s.setTimeout(10_000, () => s.destroy(new Error('TLS exchange timed out')));
    });
    req.end();
  });
}

test('TASK-10, ALLOW_ANY (the default): a host the mesh does not know passes through the sleep sidecar (HTTP)', async () => {
  const res = await viaSidecar(sleep, `http://${EXTERNAL}:${httpbinPort}/headers`);
  assert.equal(res.status, 200);
  assert.match(res.body, /"Host": ?"127\.0\.0\.2:\d+"/);
  await accessLog(mesh, sleep, [new RegExp(`"GET /headers HTTP/1\\.1" 200 .* "127\\.0\\.0\\.2:${httpbinPort}" PassthroughCluster `)]);
});

test('TASK-10, ALLOW_ANY: HTTPS to a host the mesh does not know passes through (CONNECT, then TLS end to end)', async () => {
  assert.equal(await httpsViaSidecar(`${EXTERNAL}:${googlePort}`, 'www.google.com'), 'HTTP/1.1 200 OK');
});

test('TASK-10, REGISTRY_ONLY: a host the mesh does not know is blocked, 502 with flag NR for HTTP, a closed connection for TLS', async () => {
  await applyAndSync(mesh, () => files.apply(`${EGRESS}/mesh-registry-only.yaml`), 'outboundTrafficPolicy REGISTRY_ONLY');
  const blocked = await viaSidecar(sleep, `http://${EXTERNAL}:${httpbinPort}/headers`);
  assert.equal(blocked.status, 502, 'BlackHoleCluster');
  assert.equal(blocked.headers['x-strait-flags'], 'NR');
  await accessLog(mesh, sleep, [/"GET \/headers HTTP\/1\.1" 502 NR /]);
  await assert.rejects(httpsViaSidecar(`${EXTERNAL}:${googlePort}`, 'www.google.com'), 'an unknown TLS destination is closed (curl exit 35)');
});


test('TASK-10, REGISTRY_ONLY + ServiceEntry httpbin-ext: http://httpbin.org/headers answers 200 with X-Envoy-Decorator-Operation httpbin.org:80/*, logged as outbound|80||httpbin.org', async () => {
  await applyAndSync(mesh, () => {
    files.applyText(serviceEntryAt(`${EGRESS}/service-entry-httpbin-ext.yaml`, httpbinPort), `${EGRESS}/service-entry-httpbin-ext.yaml + endpoint`);
    files.applyText(serviceEntryAt(`${EGRESS}/service-entry-google.yaml`, googlePort), `${EGRESS}/service-entry-google.yaml + endpoint`);
  }, 'the httpbin-ext and google ServiceEntries');
  const ok = await viaSidecar(sleep, 'http://httpbin.org/headers');
  assert.equal(ok.status, 200);
  const headers = (JSON.parse(ok.body) as { headers: Record<string, string> }).headers;
  assert.equal(headers.Host, 'httpbin.org');
  assert.equal(headers['X-Envoy-Decorator-Operation'], 'httpbin.org:80/*');
  await accessLog(mesh, sleep, [/"GET \/headers HTTP\/1\.1" 200 /, /outbound\|80\|\|httpbin\.org/]);
  const still = await viaSidecar(sleep, `http://${EXTERNAL}:${httpbinPort}/get`);
  assert.equal(still.status, 502, 'other hosts stay blocked');
});

test('TASK-10, REGISTRY_ONLY + ServiceEntry google: https://www.google.com works through the sidecar, logged as a TCP line with the SNI', async () => {
  await applyAndSync(mesh, () => files.applyText(serviceEntryAt(`${EGRESS}/service-entry-google.yaml`, googlePort), `${EGRESS}/service-entry-google.yaml + endpoint`), 'the google ServiceEntry');
  assert.equal(await httpsViaSidecar('www.google.com:443', 'www.google.com'), 'HTTP/1.1 200 OK');
  // The TCP line: no method or path, the cluster, and the SNI as the requested server name.
  await accessLog(mesh, sleep, [/"- - -" 0 /, /outbound\|443\|\|www\.google\.com/, / www\.google\.com( |$)/]);
});

test('TASK-10, a 3 s VirtualService timeout on httpbin.org: /delay/5 answers 200 after about 5 s without it, 504 after about 3 s with it', async (t) => {
  await applyAndSync(mesh, () => files.applyText(serviceEntryAt(`${EGRESS}/service-entry-httpbin-ext.yaml`, httpbinPort), `${EGRESS}/service-entry-httpbin-ext.yaml + endpoint`), 'the httpbin-ext ServiceEntry');
  const slow = await timed(() => viaSidecar(sleep, 'http://httpbin.org/delay/5'));
  assert.equal(slow.value.status, 200);
  assert.ok(slow.ms >= 4800 && slow.ms <= 8000, `took ${Math.round(slow.ms)} ms, expected about 5 s`);

  await applyAndSync(mesh, () => files.apply(`${EGRESS}/virtual-service-httpbin-ext-timeout.yaml`), 'the httpbin-ext VirtualService');
  const cut = await timed(() => viaSidecar(sleep, 'http://httpbin.org/delay/5'));
  assert.equal(cut.value.status, 504);
  assert.equal(cut.value.headers['x-strait-flags'], 'UT');
  assert.ok(cut.ms >= 2800 && cut.ms <= 4800, `took ${Math.round(cut.ms)} ms, expected about 3 s`);
  t.diagnostic(`TASK-10 timeout: without the VirtualService ${Math.round(slow.ms)} ms (200), with it ${Math.round(cut.ms)} ms (504)`);
  await accessLog(mesh, sleep, [/"GET \/delay\/5 HTTP\/1\.1" 504 UT /]);
});
