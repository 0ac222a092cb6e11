// The control plane and real proxies over a real ADS gRPC stream on loopback: a gateway proxy
// gets its listener, routes, clusters and endpoints from Gateway/VirtualService/Service config;
// config changes reach it; a config it cannot apply is NACKed and the old routes keep serving.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { systemClock } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { loadConfigText } from '../../src/config/load-config.js';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { Proxy } from '../../src/dataplane/proxy.js';
import { DEFAULT_GATEWAY, servicesFromConfig } from '../../src/registry/config-services.js';
import type { Registry, Workload } from '../../src/registry/registry.js';
import { eventually, request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';

function yaml(backendPort: number, gatewayPort: number, extraHost = 'shop.example.com'): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: backend, namespace: default }
spec:
  selector: { app: backend }
  ports: [{ name: http, port: 8080, targetPort: ${backendPort} }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: ${gatewayPort}, name: http, protocol: HTTP }
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: shop, namespace: default }
spec:
  hosts: ["${extraHost}"]
  gateways: [web]
  http:
  - match: [{ uri: { prefix: /api } }]
    route: [{ destination: { host: backend } }]
`;
}

function store(text: string): ConfigStore {
  const { resources, diagnostics } = loadConfigText(text, 'test.yaml');
  const errors = diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors, []);
  return new ConfigStore(resources);
}

const backendPod = (ip: string): Workload => ({ name: 'backend-1', namespace: 'default', labels: { app: 'backend' }, serviceAccount: 'default', ip, ready: true, ports: [], hasSidecar: false });
const gatewayPod: Workload = { name: 'gw-0', namespace: 'istio-system', labels: DEFAULT_GATEWAY.labels, serviceAccount: 'default', ip: '127.0.0.1', ready: true, ports: [], hasSidecar: false };

let upstream: TestUpstream;
let cp: ControlPlane;
let proxy: Proxy;
let xdsPort: number;

function registryFor(s: ConfigStore): Registry {
  // Gateway server port 80 binds port 0 here, so the test never needs a fixed free port.
  return { services: servicesFromConfig(s, 'cluster.local', { ...DEFAULT_GATEWAY, bindPort: () => 0 }), workloads: [backendPod('127.0.0.1'), gatewayPod] };
}

before(async () => {
  upstream = await startUpstream();
  cp = new ControlPlane({ clock: systemClock, log: () => undefined, debounceMs: 10 });
  xdsPort = await cp.listen('127.0.0.1', 0);
  const s = store(yaml(upstream.port, 80));
  cp.update({ store: s, registry: registryFor(s) });
  proxy = new Proxy({
    bootstrap: {
      node: { id: 'router~127.0.0.1~gw-0.istio-system~istio-system.svc.cluster.local', metadata: { LABELS: DEFAULT_GATEWAY.labels, NAMESPACE: 'istio-system', NAME: 'gw-0' } },
      dynamicResources: { adsServer: `127.0.0.1:${xdsPort}` },
    },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(3),
    log: () => undefined,
  });
  await proxy.start();
  await eventually(() => proxy.ready(), 'the gateway proxy to receive its config');
});

after(async () => {
  await proxy.stop();
  await cp.close();
  await upstream.close();
});

const gatewayUrl = () => `http://127.0.0.1:${proxy.listeners.list().find((l) => l.name === '0.0.0.0_0')!.port}`;

test('the gateway serves a VirtualService route to the backend endpoints it got over EDS', async () => {
  assert.deepEqual(proxy.listeners.list().map((l) => l.name), ['0.0.0.0_0']);
  const res = await request(`${gatewayUrl()}/api/items`, { headers: { host: 'shop.example.com' } });
  assert.equal(res.status, 200);
  assert.equal(upstream.requests.at(-1)?.url, '/api/items');
  const nr = await request(`${gatewayUrl()}/other`, { headers: { host: 'shop.example.com' } });
  assert.equal(nr.status, 404);
  assert.equal(nr.headers['x-strait-flags'], 'NR');
});

test('the control plane reports the proxy connected and in sync', async () => {
  await cp.waitForSync();
  const [st] = cp.status();
  assert.equal(st?.pod, 'gw-0');
  assert.equal(st?.type, 'router');
  assert.equal(st?.synced, true);
  for (const t of ['CDS', 'EDS', 'LDS', 'RDS']) assert.ok(st?.types[t]?.acked, `${t} not acknowledged`);
});

test('a config change reaches the proxy (new host routes) without dropping the listener', async () => {
  const s = store(yaml(upstream.port, 80, 'store.example.com'));
  const v = cp.update({ store: s, registry: registryFor(s) });
  await cp.waitForSync(v);
  const res = await request(`${gatewayUrl()}/api/x`, { headers: { host: 'store.example.com' } });
  assert.equal(res.status, 200);
  const old = await request(`${gatewayUrl()}/api/x`, { headers: { host: 'shop.example.com' } });
  assert.equal(old.status, 404);
});

test('a listener the proxy cannot bind is NACKed; the previous routes keep serving', async () => {
  // Hold a port, then ask the gateway to listen on it.
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as net.AddressInfo).port;
  try {
    const s = store(yaml(upstream.port, 80, 'store.example.com') + `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: blocked, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: ${taken}, name: http, protocol: HTTP }
    hosts: ["*"]
`);
    cp.update({ store: s, registry: { ...registryFor(s), services: servicesFromConfig(s, 'cluster.local', { ...DEFAULT_GATEWAY, bindPort: (p) => (p === 80 ? 0 : p) }) } });
    const nack = await eventually(() => cp.status()[0]?.types.LDS?.nack ?? undefined, 'the proxy to NACK the listener update');
    assert.match(nack, new RegExp(`cannot bind 127\\.0\\.0\\.1:${taken}: EADDRINUSE`));
    assert.equal(proxy.xdsStatus()?.nacks, 1);
    const res = await request(`${gatewayUrl()}/api/still`, { headers: { host: 'store.example.com' } });
    assert.equal(res.status, 200);
    assert.deepEqual(proxy.listeners.list().map((l) => l.name), ['0.0.0.0_0']);
  } finally {
    blocker.close();
  }
});

test('when the control plane goes away the proxy keeps serving, and it resyncs when it returns', async () => {
  const s = store(yaml(upstream.port, 80, 'store.example.com'));
  const registry = registryFor(s);
  const cp2 = new ControlPlane({ clock: systemClock, log: () => undefined, debounceMs: 10 });
  const port = await cp2.listen('127.0.0.1', 0);
  cp2.update({ store: s, registry });
  const p2 = new Proxy({
    bootstrap: {
      node: { id: 'router~127.0.0.1~gw-1.istio-system~istio-system.svc.cluster.local', metadata: { LABELS: DEFAULT_GATEWAY.labels, NAMESPACE: 'istio-system', NAME: 'gw-1' } },
      dynamicResources: { adsServer: `127.0.0.1:${port}` },
    },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(5),
    log: () => undefined,
  });
  let cp3: ControlPlane | undefined;
  try {
    await p2.start();
    await eventually(() => p2.ready(), 'the second proxy to be ready');
    const url = `http://127.0.0.1:${p2.listeners.list()[0]!.port}/api/x`;
    await cp2.close();
    await eventually(() => p2.xdsStatus()?.connected === false, 'the proxy to notice the control plane is gone');
    assert.equal((await request(url, { headers: { host: 'store.example.com' } })).status, 200);
    // A new control plane on the same port, with a changed config: the proxy reconnects and applies it.
    cp3 = new ControlPlane({ clock: systemClock, log: () => undefined, debounceMs: 10 });
    await cp3.listen('127.0.0.1', port);
    const s3 = store(yaml(upstream.port, 80, 'later.example.com'));
    cp3.update({ store: s3, registry: registryFor(s3) });
    await eventually(async () => (await request(url, { headers: { host: 'later.example.com' } })).status === 200, 'the proxy to resync with the new control plane', 20_000);
  } finally {
    await p2.stop();
    await cp3?.close();
  }
});
