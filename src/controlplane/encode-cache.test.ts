// A push encodes each distinct resource once: proxies that see the same endpoints share one
// assignment object (encoded once by identity), equal resources built anew are found by content,
// the last snapshot's encodings are reused by the next, and a sidecar's HTTP config does not grow
// with the mesh's pod count (callers name themselves by metadata exchange, not by a pod table).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigStore } from '../config/config-store.js';
import { loadConfigText } from '../config/load-config.js';
import type { Registry, Workload } from '../registry/registry.js';
import { servicesFromConfig } from '../registry/config-services.js';
import { decodeResource, encodeResource } from '../xds/codec.js';
import { TYPE_URL } from '../xds/resources.js';
import type { Node } from '../xds/resources.js';
import { EncodeCache } from './encode-cache.js';
import { generateProxyResources } from './generate/generate.js';
import { DEFAULT_MESH_CONFIG, MeshSnapshot } from './model/mesh-snapshot.js';
import { parseProxyNode, proxyNodeId } from './model/proxy-node.js';
import type { ProxyNode } from './model/proxy-node.js';

const SERVICES = 3;
const MESH = { ...DEFAULT_MESH_CONFIG, meshMtls: true };

function store(timeout: string): ConfigStore {
  const docs: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: ns}\nspec:\n  selector: {app: svc-${i}}\n  ports: [{name: http, port: 80, targetPort: 8080}]`);
    docs.push(`apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: svc-${i}, namespace: ns}\nspec:\n  hosts: [svc-${i}]\n  http: [{timeout: ${timeout}, route: [{destination: {host: svc-${i}}}]}]`);
  }
  const { resources, diagnostics } = loadConfigText(`${docs.join('\n---\n')}\n`, 'mesh.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  return new ConfigStore(resources);
}

function pod(k: number): Workload {
  const app = `svc-${k % SERVICES}`;
  return { name: `${app}-${k}`, namespace: 'ns', labels: { app }, serviceAccount: app, ip: `10.0.${k >> 8}.${k & 255}`, ready: true, ports: [{ name: 'http', port: 8080 }], hasSidecar: true };
}

function snapshot(version: number, s: ConfigStore, pods: number): MeshSnapshot {
  const registry: Registry = { services: servicesFromConfig(s, MESH.domainSuffix), workloads: Array.from({ length: pods }, (_, k) => pod(k)) };
  return new MeshSnapshot(version, s, registry, MESH);
}

function proxy(k: number): ProxyNode {
  const w = pod(k);
  const p = parseProxyNode({ id: proxyNodeId('sidecar', w.ip, w.name, w.namespace, MESH.domainSuffix), metadata: { NAME: w.name, NAMESPACE: w.namespace, LABELS: w.labels, SERVICE_ACCOUNT: w.serviceAccount } } as Node);
  assert.notEqual(typeof p, 'string');
  return p as ProxyNode;
}

test('the same content is encoded once, by identity or by content; encodings are the codec\'s own', () => {
  const cache = new EncodeCache();
  cache.begin(1);
  const a = { name: 'c', type: 'STATIC', connectTimeout: '1s' } as const;
  const first = cache.encode(TYPE_URL.cluster, a);
  assert.equal(cache.encode(TYPE_URL.cluster, a), first);
  assert.equal(cache.encode(TYPE_URL.cluster, { ...a }), first);
  assert.deepEqual(cache.counts, { encoded: 1, reused: 2 });
  assert.deepEqual(Buffer.from(first.value), Buffer.from(encodeResource(TYPE_URL.cluster, a).value));
  // Another type with the same JSON is another resource.
  assert.notEqual(cache.encode(TYPE_URL.listener, { name: 'c' }).type_url, first.type_url);
  // Kept for one more generation, then dropped.
  cache.begin(2);
  assert.equal(cache.encode(TYPE_URL.cluster, { ...a }), first);
  cache.begin(3);
  cache.begin(4);
  const again = cache.encode(TYPE_URL.cluster, { ...a });
  assert.notEqual(again, first);
  assert.deepEqual(decodeResource(again), decodeResource(first));
});

test('a push over many sidecars encodes each cluster\'s endpoints once; the next push reuses them', () => {
  const proxies = Array.from({ length: 30 }, (_, k) => proxy(k));
  const snap1 = snapshot(1, store('5s'), 30);
  const cache = new EncodeCache();
  cache.begin(1);
  const claEncodings = new Set<unknown>();
  let first: ReturnType<typeof generateProxyResources> | undefined;
  for (const p of proxies) {
    const r = generateProxyResources(snap1, p);
    first ??= r;
    assert.equal(r.endpoints.length, SERVICES);
    // Proxies that see a cluster alike get the very same assignment object.
    for (const [i, cla] of r.endpoints.entries()) assert.equal(cla, first.endpoints[i]);
    for (const cla of r.endpoints) claEncodings.add(cache.encode(TYPE_URL.endpoint, cla));
  }
  assert.equal(claEncodings.size, SERVICES);
  assert.equal(first!.endpoints[0]!.endpoints[0]!.lbEndpoints.length, 30 / SERVICES);
  // A VirtualService change: new snapshot, new objects, same endpoints: nothing encoded again.
  const snap2 = snapshot(2, store('7s'), 30);
  cache.begin(2);
  const before = cache.counts.encoded;
  for (const p of proxies) for (const cla of generateProxyResources(snap2, p).endpoints) assert.ok(claEncodings.has(cache.encode(TYPE_URL.endpoint, cla)));
  assert.equal(cache.counts.encoded, before);
});

test('a sidecar\'s listeners do not grow with the mesh\'s pod count (HTTP callers name themselves)', () => {
  const s = store('5s');
  const size = (pods: number) => JSON.stringify(generateProxyResources(snapshot(1, s, pods), proxy(0)).listeners).length;
  assert.equal(size(300), size(30));
});
