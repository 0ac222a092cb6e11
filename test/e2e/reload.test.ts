// Hot reload through a real `strait up` on a copy of the seed: a valid change is applied, an
// invalid one is reported with file:line:col and the last good config keeps serving, a Deployment
// scaled up gets a new pod, and a Gateway port the gateway cannot bind is NACKed while the old
// routes keep serving.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, request } from '../helpers/http.js';
import { ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

let dir: string;
let mesh: RunningMesh;

const extraRoute = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: direct
  namespace: default
spec:
  hosts: ["direct.example.com"]
  gateways: [seed-gateway]
  http:
  - route:
    - destination:
        host: backend
`;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-reload-'));
  // The seed without its zero-trust policy: these tests route the gateway straight to the
  // backend, which that policy (rightly) refuses.
  for (const f of ['gateway.yaml', 'frontend.yaml', 'backend.yaml']) fs.copyFileSync(path.join(ROOT, 'examples/seed', f), path.join(dir, f));
  mesh = await startMesh([dir]);
});

after(async () => {
  await mesh?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function generation(): Promise<number> {
  return (await mesh.status()).controlPlane.configGeneration;
}

test('a valid change is applied: a new host routes straight to the backend', async () => {
  const before = await generation();
  fs.writeFileSync(path.join(dir, 'direct.yaml'), extraRoute);
  await eventually(async () => (await generation()) > before, 'the reload to be applied');
  const res = await eventually(async () => {
    const r = await request(`${mesh.gatewayUrl}/`, { headers: { host: 'direct.example.com' } });
    return (JSON.parse(r.body) as { service?: string }).service === 'backend' ? r : undefined;
  }, 'direct.example.com to reach the backend');
  assert.equal(res.status, 200);
});

test('an invalid change is reported with its position and the last good config keeps serving', async () => {
  const before = await generation();
  fs.writeFileSync(path.join(dir, 'direct.yaml'), extraRoute.replace('  hosts: ["direct.example.com"]', '  hostz: ["direct.example.com"]'));
  const line = await mesh.waitForOutput(/direct\.yaml:\d+:\d+: error: .*hostz/);
  assert.match(line, /did you mean 'hosts'/);
  await mesh.waitForOutput(/the new configuration has errors; the last good configuration keeps serving/);
  const status = await mesh.status();
  assert.equal(status.controlPlane.lastReload?.ok, false);
  assert.equal(status.controlPlane.configGeneration, before);
  const r = await request(`${mesh.gatewayUrl}/`, { headers: { host: 'direct.example.com' } });
  assert.equal((JSON.parse(r.body) as { service: string }).service, 'backend');
  // Put the valid file back for the next tests.
  fs.writeFileSync(path.join(dir, 'direct.yaml'), extraRoute);
  await eventually(async () => (await generation()) > before, 'the repaired config to be applied');
});

test('a file replaced by rename (how editors save) is reloaded, and so is one in a new subdirectory', async () => {
  const before = await generation();
  // Written aside, then renamed over the original: the file's inode changes.
  const aside = path.join(dir, '.direct.yaml.swp');
  fs.writeFileSync(aside, extraRoute.replace('direct.example.com', 'renamed.example.com'));
  fs.renameSync(aside, path.join(dir, 'direct.yaml'));
  await eventually(async () => (await generation()) > before, 'the renamed file to be applied');
  const r = await eventually(async () => {
    const x = await request(`${mesh.gatewayUrl}/`, { headers: { host: 'renamed.example.com' } });
    // The seed gateway sends unknown hosts to the frontend; the new route goes to the backend.
    return (JSON.parse(x.body) as { service?: string }).service === 'backend' ? x : undefined;
  }, 'renamed.example.com to reach the backend');
  assert.equal(r.status, 200);
  // A second edit the same way still reaches the runner (the watch survived the first rename).
  const again = await generation();
  fs.writeFileSync(aside, extraRoute);
  fs.renameSync(aside, path.join(dir, 'direct.yaml'));
  await eventually(async () => (await generation()) > again, 'the second renamed file to be applied');
  // New subdirectories are watched too.
  const sub = path.join(dir, 'more');
  fs.mkdirSync(sub);
  const afterMkdir = await eventually(async () => (await generation()) >= again + 1 && (await generation()), 'the mkdir reload');
  await new Promise((r2) => setTimeout(r2, 500));
  fs.writeFileSync(path.join(sub, 'deep.yaml'), extraRoute.replace('name: direct', 'name: deep').replace('direct.example.com', 'deep.example.com'));
  await eventually(async () => (await generation()) > afterMkdir, 'the file in the new subdirectory to be applied');
  const deep = await eventually(async () => {
    const x = await request(`${mesh.gatewayUrl}/`, { headers: { host: 'deep.example.com' } });
    return (JSON.parse(x.body) as { service?: string }).service === 'backend' ? x : undefined;
  }, 'deep.example.com to reach the backend');
  assert.equal(deep.status, 200);
});

test('scaling a Deployment up starts a new pod that joins the service once ready', async () => {
  const file = path.join(dir, 'backend.yaml');
  const text = fs.readFileSync(file, 'utf8');
  // backend-v1 is the first Deployment in the file.
  fs.writeFileSync(file, text.replace('replicas: 1', 'replicas: 2'));
  const pod = await eventually(async () => (await mesh.status()).pods.find((p) => /^backend-v1-[0-9a-f]{10}-1$/.test(p.name) && p.ready), 'backend-v1 replica 1 to be ready', 20_000);
  assert.equal(pod.sidecar, true);
  const seen = await eventually(async () => {
    const r = await request(`${mesh.gatewayUrl}/`, { headers: { host: 'direct.example.com' } });
    return (JSON.parse(r.body) as { pod: string }).pod === pod.name ? true : undefined;
  }, 'the new replica to answer through the gateway', 20_000);
  assert.equal(seen, true);
});

test('a Gateway port that cannot be bound is NACKed by the gateway; the old routes keep serving', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, mesh.gatewayAddress, r));
  const taken = (blocker.address() as net.AddressInfo).port;
  try {
    fs.writeFileSync(
      path.join(dir, 'blocked.yaml'),
      `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: blocked, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: ${taken}, name: http-blocked, protocol: HTTP }
    hosts: ["*"]
`,
    );
    const nack = await eventually(async () => {
      const gw = (await mesh.status()).pods.find((p) => p.namespace === 'istio-system');
      return gw?.proxy?.versions.LDS?.nack ?? undefined;
    }, 'the gateway to NACK the new listener', 20_000);
    assert.match(nack, /EADDRINUSE/);
    const r = await request(`${mesh.gatewayUrl}/`, { headers: { host: 'direct.example.com' } });
    assert.equal(r.status, 200);
  } finally {
    blocker.close();
    fs.rmSync(path.join(dir, 'blocked.yaml'), { force: true });
  }
});
