// Workload identity on a real `strait up`: every proxy (sidecars and the gateway) gets a
// certificate for its pod's service account from the mesh CA, a pod without a sidecar gets none,
// `strait ca rotate-root` moves the mesh to a new root while requests keep succeeding (the old
// root stays trusted until every proxy has renewed), and an operator's intermediate CA (--cacerts)
// signs certificates whose chain `openssl verify` accepts against the operator's root.
// Each mesh gets its own CA directory, so nothing here touches the user's CA state.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSelfSignedRoot } from '../../src/ca/ca-material.js';
import { intermediateForTest } from '../../src/ca/test-support.js';
import { systemClock } from '../../src/common/clock.js';
import type { CaStatus, PodStatus } from '../../src/local/api-server.js';
import { eventually, request } from '../helpers/http.js';
import { ManifestDir, readyPods, viaSidecar } from '../helpers/istio-tasks.js';
import { CLI, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const run = promisify(execFile);
const haveOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

const LEGACY = `apiVersion: v1
kind: Namespace
metadata: {name: legacy, labels: {istio-injection: disabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep, namespace: legacy}
spec:
  selector: {matchLabels: {app: sleep}}
  template:
    metadata: {labels: {app: sleep}}
    spec:
      serviceAccountName: sleep
      containers: [{name: sleep, image: curlimages/curl, command: [/bin/sleep, infinity]}]
`;

interface Identity {
  serial: string;
  roots: string[];
}

async function identityOf(p: PodStatus): Promise<Identity> {
  return (JSON.parse((await request(`${p.proxy!.adminUrl}/server_info`)).body) as { identity: Identity }).identity;
}

async function caStatus(mesh: RunningMesh): Promise<CaStatus> {
  return (await (await fetch(`${mesh.apiUrl}/api/ca`)).json()) as CaStatus;
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe('a self-signed mesh CA', () => {
  let files: ManifestDir;
  let caDir: string;
  let mesh: RunningMesh;
  let sleep: PodStatus;

  before(async () => {
    files = new ManifestDir('identity');
    files.apply('examples/httpbin/httpbin.yaml', 'examples/sleep/sleep.yaml');
    files.applyText(LEGACY, 'legacy sleep');
    caDir = path.join(tempDir('strait-e2e-ca-'), 'ca');
    mesh = await startMesh([files.dir], { extraArgs: ['--ca-dir', caDir] });
    await readyPods(mesh, ['httpbin']);
    sleep = await eventually(async () => (await mesh.status()).pods.find((p) => p.namespace === 'default' && p.name.startsWith('sleep') && p.proxy?.certificate), 'the sleep pod with its certificate');
  });

  after(async () => {
    await mesh?.stop();
    files?.remove();
    if (caDir) fs.rmSync(path.dirname(caDir), { recursive: true, force: true });
  });

  it('gives every proxy a certificate for its pod, and the pod without a sidecar none', async () => {
    const status = await mesh.status();
    const ca = await caStatus(mesh);
    assert.equal(ca.ca?.source, 'self-signed');
    assert.equal(ca.ca?.dir, caDir);
    const holders = ca.certificates.map((c) => `${c.holder.replace(/-[0-9a-f]{10}-0$|-local-0$/, '')} ${c.spiffeId}`).sort();
    assert.deepEqual(holders, [
      'default/httpbin spiffe://cluster.local/ns/default/sa/httpbin',
      'default/sleep spiffe://cluster.local/ns/default/sa/sleep',
      'istio-system/istio-ingressgateway spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
    ]);
    const legacy = status.pods.find((p) => p.namespace === 'legacy')!;
    assert.equal(legacy.sidecar, false);
    assert.equal(legacy.proxy, null);
    assert.equal(fs.statSync(path.join(caDir, 'ca-key.pem')).mode & 0o777, 0o600);
    const table = await run(process.execPath, [CLI, 'ca', 'status', '--server', mesh.apiUrl]);
    assert.match(table.stdout, /^root\s+[0-9A-F:]{95}\s+until \S+\s+signing$/m);
    assert.match(table.stdout, /^default\/sleep-[0-9a-f]{10}-0\s+spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep\s+[0-9a-f]{32}\s+2[34]h\d+m\s/m);
  });

  it('rotates the root while requests flow: every proxy trusts [new, old] at once, and old roots stay until every proxy has renewed', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const failures: string[] = [];
    let ok = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const r = await viaSidecar(sleep, 'http://httpbin:8000/status/200', { agent }).catch((e: Error) => ({ status: 0, body: e.message, headers: {} }));
        if (r.status === 200) ok++;
        else failures.push(`${r.status} ${r.body.slice(0, 200)}`);
      }
    })();
    try {
      await eventually(() => ok >= 10, 'traffic before the rotation');
      const before = await caStatus(mesh);
      const rotated = await run(process.execPath, [CLI, 'ca', 'rotate-root', '--server', mesh.apiUrl]);
      assert.match(rotated.stdout, /^mesh CA: new root [0-9A-F:]+\.\.\. signs; proxies trust it and the previous roots/);
      const after = await caStatus(mesh);
      assert.equal(after.ca!.roots.length, 2);
      assert.equal(after.ca!.roots[1]!.fingerprint, before.ca!.roots[0]!.fingerprint);
      const proxies = (await mesh.status()).pods.filter((p) => p.proxy);
      await eventually(async () => (await Promise.all(proxies.map(identityOf))).every((id) => id.roots.length === 2 && id.roots[0] === after.ca!.roots[0]!.fingerprint), 'every proxy trusting [new, old]');
      const okAt = ok;
      await eventually(() => ok >= okAt + 10, 'traffic after the rotation');
      // Retiring now is refused for the proxies still on the old root (they renew within 5 minutes).
      const st = await caStatus(mesh);
      const behind = st.certificates.filter((c) => c.root !== st.ca!.roots[0]!.fingerprint).map((c) => c.holder);
      const retire = await run(process.execPath, [CLI, 'ca', 'retire-roots', '--server', mesh.apiUrl]).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }),
      );
      if (behind.length > 0) {
        assert.equal(retire.code, 1);
        for (const h of behind) assert.ok(retire.out.includes(h), `${h} named in: ${retire.out}`);
        assert.match(retire.out, /still use a certificate from an old root; wait for them to renew/);
        assert.equal((await caStatus(mesh)).ca!.roots.length, 2, 'nothing retired');
      } else {
        assert.equal(retire.code, 0, retire.out);
      }
    } finally {
      running = false;
      await loop;
      agent.destroy();
    }
    assert.deepEqual(failures, [], 'no request failed during the root rotation');
    // The new root was persisted with the old one still trusted, for the next start.
    assert.equal((fs.readFileSync(path.join(caDir, 'root-cert.pem'), 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
  });
});

describe("an operator's intermediate CA (--cacerts)", { skip: !haveOpenssl && 'openssl is not installed' }, () => {
  let files: ManifestDir;
  let cacerts: string;
  let mesh: RunningMesh;

  before(async () => {
    const root = await createSelfSignedRoot('cluster.local', systemClock);
    const inter = await intermediateForTest(root);
    cacerts = tempDir('strait-e2e-cacerts-');
    fs.writeFileSync(path.join(cacerts, 'ca-cert.pem'), inter.certPem);
    fs.writeFileSync(path.join(cacerts, 'ca-key.pem'), inter.keyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(cacerts, 'cert-chain.pem'), inter.certPem + root.certPem);
    fs.writeFileSync(path.join(cacerts, 'root-cert.pem'), root.certPem);
    files = new ManifestDir('identity-cacerts');
    files.apply('examples/httpbin/httpbin.yaml', 'examples/sleep/sleep.yaml');
    mesh = await startMesh([files.dir], { extraArgs: ['--cacerts', cacerts] });
    await readyPods(mesh, ['httpbin']);
  });

  after(async () => {
    await mesh?.stop();
    files?.remove();
    if (cacerts) fs.rmSync(cacerts, { recursive: true, force: true });
  });

  it('signs under the intermediate; sidecars present [leaf, intermediate], which openssl verifies against the root', async () => {
    assert.ok(mesh.output.some((l) => /mesh CA: operator files \(--cacerts\), trust domain cluster\.local/.test(l)), 'the CA says where its material comes from');
    const sleep = await eventually(async () => (await mesh.status()).pods.find((p) => p.name.startsWith('sleep') && p.proxy?.certificate), 'sleep with its certificate');
    const res = await eventually(async () => {
      const r = await viaSidecar(sleep, 'http://httpbin:8000/headers');
      return r.status === 200 ? r : undefined;
    }, 'sleep → httpbin through the sidecars');
    assert.match(res.body, /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep/);
    const httpbin = (await mesh.status()).pods.find((p) => p.name.startsWith('httpbin'))!;
    const certs = JSON.parse((await request(`${httpbin.proxy!.adminUrl}/certs`)).body) as { certificates: { name: string; cert_chain: unknown[]; ca_cert: unknown[] }[] };
    assert.equal(certs.certificates.find((c) => c.name === 'default')!.cert_chain.length, 2, 'leaf and intermediate');
    assert.equal(certs.certificates.find((c) => c.name === 'ROOTCA')!.ca_cert.length, 1, "the operator's root");
    // What the server sidecar presents on its inbound port (the handshake then fails without a
    // client certificate, after the server's chain was sent).
    const s = spawnSync('openssl', ['s_client', '-connect', `${httpbin.ip}:8080`, '-showcerts', '-tls1_3'], { input: '', encoding: 'utf8', timeout: 10_000 });
    const presented = s.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    assert.equal(presented.length, 2, s.stdout + s.stderr);
    const dir = tempDir('strait-e2e-verify-');
    try {
      fs.writeFileSync(path.join(dir, 'leaf.pem'), presented[0]! + '\n');
      fs.writeFileSync(path.join(dir, 'inter.pem'), presented[1]! + '\n');
      const v = spawnSync('openssl', ['verify', '-CAfile', path.join(cacerts, 'root-cert.pem'), '-untrusted', path.join(dir, 'inter.pem'), '-purpose', 'sslserver', path.join(dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stdout + v.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.match(s.stdout, /Protocol\s*:\s*TLSv1\.3|New, TLSv1\.3/, 'TLS 1.3');
  });
});
