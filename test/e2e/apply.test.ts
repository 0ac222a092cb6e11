// `strait apply -f` and `strait delete -f` against a real `strait up` of the seed, through the
// built CLI: kubectl's semantics (a resource replaces the one with the same kind, namespace and
// name, whether a watched file or an earlier apply defined it; delete removes it), all or
// nothing on errors (file:line:col, exit 1, the mesh unchanged), and kubectl's output lines.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { eventually, request } from '../helpers/http.js';
import { CLI, ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

let mesh: RunningMesh;
let dir: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-apply-'));
  // The seed without its zero-trust policy: these tests route the gateway straight to the
  // backend, which that policy (rightly) refuses.
  mesh = await startMesh(['gateway.yaml', 'frontend.yaml', 'backend.yaml'].map((f) => path.join(ROOT, 'examples/seed', f)));
});

after(async () => {
  await mesh?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function strait(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--server', mesh.apiUrl], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** Which service answers the gateway for `host` (the echo workload names itself). */
async function serviceFor(host: string): Promise<string | undefined> {
  const r = await request(`${mesh.gatewayUrl}/`, { headers: { host } });
  return r.status === 200 ? (JSON.parse(r.body) as { service?: string }).service : `status ${r.status}`;
}

const direct = (name: string, host: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
  namespace: default
spec:
  hosts: ["${host}"]
  gateways: [seed-gateway]
  http:
  - route:
    - destination:
        host: backend
`;

test('apply creates, re-apply configures: the new host routes to the backend', async () => {
  const f = write('direct.yaml', direct('direct', 'direct.example.com'));
  const first = strait('apply', '-f', f);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'virtualservice/direct created\n');
  await eventually(async () => (await serviceFor('direct.example.com')) === 'backend', 'direct.example.com to reach the backend');
  const again = strait('apply', '-f', f);
  assert.equal(again.stdout, 'virtualservice/direct configured\n');
});

test('apply replaces a resource a watched file defines (same kind, namespace and name), like kubectl apply', async () => {
  // The seed's VirtualService `frontend` sends every host to the frontend; this one sends them
  // to the backend instead.
  const f = write('frontend.yaml', direct('frontend', '*'));
  const r = strait('apply', '-f', f);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'virtualservice/frontend configured\n');
  await eventually(async () => (await serviceFor('anything.example.com')) === 'backend', 'the applied frontend VirtualService to win');
});

test('an invalid apply is rejected with file:line:col and exit 1, and nothing changes', async () => {
  const before = (await mesh.status()).controlPlane.configGeneration;
  const f = write('bad.yaml', direct('bad', 'bad.example.com').replace('  hosts:', '  hostz:'));
  const r = strait('apply', '-f', f);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:3: error: .*hostz`));
  assert.match(r.stderr, /last good configuration keeps serving/);
  assert.equal((await mesh.status()).controlPlane.configGeneration, before);
  assert.equal(await serviceFor('direct.example.com'), 'backend');
});

test('delete removes applied resources, and a resource only a watched file defines', async () => {
  const d = strait('delete', '-f', path.join(dir, 'direct.yaml'));
  assert.equal(d.code, 0, d.stderr);
  assert.equal(d.stdout, 'virtualservice/direct deleted\n');
  // Deleting the applied `frontend` and the file's one alike: no VirtualService binds the gateway.
  const f = strait('delete', '-f', path.join(dir, 'frontend.yaml'));
  assert.equal(f.stdout, 'virtualservice/frontend deleted\n');
  await eventually(async () => (await serviceFor('direct.example.com')) === 'status 404', 'every host to be unrouted (404 NR)');
  // Applying the seed's file again brings its resources back.
  const back = strait('apply', '-f', path.join(ROOT, 'examples/seed/gateway.yaml'));
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, 'gateway/seed-gateway configured\nvirtualservice/frontend created\n');
  await eventually(async () => (await serviceFor('direct.example.com')) === 'frontend', 'the seed routing to be back');
});

test('apply without a running mesh says how to point at one', () => {
  const r = spawnSync(process.execPath, [CLI, 'apply', '-f', path.join(ROOT, 'examples/seed/gateway.yaml'), '--server', 'http://127.0.0.1:9'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:9 .*Is `strait up` running\? Use --server URL/);
});

test('a web page cannot change the mesh: a foreign Origin (CSRF) or Host (DNS rebinding) is refused with 403', async () => {
  const body = JSON.stringify({ file: '/tmp/evil.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: evil}\n' });
  const before = (await mesh.status()).controlPlane.configGeneration;
  // A browser posting from another site sends its Origin; text/plain needs no preflight.
  const csrf = await fetch(`${mesh.apiUrl}/api/apply`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://evil.example' }, body });
  assert.equal(csrf.status, 403);
  // A name the attacker controls, rebound to this machine: the Host is not loopback.
  const { status } = await new Promise<{ status: number }>((resolve, reject) => {
    const u = new URL(`${mesh.apiUrl}/api/status`);
    http.get({ host: u.hostname, port: u.port, path: u.pathname, headers: { host: `evil.example:${u.port}` } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    }).on('error', reject);
  });
  assert.equal(status, 403);
  assert.equal((await mesh.status()).controlPlane.configGeneration, before, 'nothing was applied');
  // The CLI (no Origin, loopback Host) still works: the other tests in this file use it.
});
