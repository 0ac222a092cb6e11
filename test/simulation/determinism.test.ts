// Generator output is a pure function of (snapshot, proxy): generating twice, or from a rebuilt
// snapshot of the same input, gives identical resources, and input order that carries no meaning
// (Service manifests, pods) does not show in the output. Every generated resource is a valid
// Envoy v3 resource: it survives the protobuf round trip of src/xds/codec.ts unchanged, apart from
// proto3 default omission.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { generateProxyResources } from '../../src/controlplane/generate/generate.js';
import { normalizeResource } from '../../src/xds/codec.js';
import { TYPE_URL } from '../../src/xds/resources.js';
import type { TypeUrl, XdsResource } from '../../src/xds/resources.js';
import { GATEWAY_POD, buildSnapshot, pod, proxyOf, yaml } from './mesh.js';

const DOCS = [
  yaml`
    apiVersion: v1
    kind: Namespace
    metadata: { name: prod }
  `,
  yaml`
    apiVersion: v1
    kind: Service
    metadata: { name: backend, namespace: default }
    spec:
      selector: { app: backend }
      ports: [{ name: http, port: 8080, targetPort: 9000 }, { name: http-admin, port: 8081, targetPort: admin }]
  `,
  yaml`
    apiVersion: v1
    kind: Service
    metadata: { name: canary, namespace: default }
    spec:
      selector: { app: canary }
      ports: [{ name: http, port: 8080 }]
  `,
  yaml`
    apiVersion: v1
    kind: Service
    metadata: { name: frontend, namespace: default }
    spec:
      selector: { app: frontend }
      ports: [{ name: http, port: 80, targetPort: http-app }]
  `,
  yaml`
    apiVersion: v1
    kind: Service
    metadata: { name: redis, namespace: prod }
    spec:
      selector: { app: redis }
      ports: [{ name: tcp-redis, port: 6379 }]
  `,
];

const ROUTING = yaml`
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: web, namespace: istio-system }
  spec:
    selector: { istio: ingressgateway }
    servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: ["*"]
    - port: { number: 9000, name: http-alt, protocol: HTTP }
      hosts: ["*.example.com"]
  ---
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: { name: shop, namespace: default }
  spec:
    hosts: [shop.example.com, "*.example.com"]
    gateways: [istio-system/web, mesh]
    http:
    - name: jason
      match: [{ headers: { end-user: { exact: jason }, x-version: { prefix: v2 }, x-debug: {} }, ignoreUriCase: true, uri: { prefix: /API } }]
      route: [{ destination: { host: canary } }]
    - name: post
      match: [{ method: { exact: POST }, uri: { exact: /orders } }]
      route: [{ destination: { host: backend, port: { number: 8081 } } }]
    - route:
      - { destination: { host: backend }, weight: 80 }
      - { destination: { host: canary }, weight: 20 }
  ---
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: { name: backend, namespace: default }
  spec:
    hosts: [backend]
    http:
    - match: [{ sourceLabels: { app: frontend } }]
      route: [{ destination: { host: canary } }]
    - route: [{ destination: { host: backend, subset: v1 } }]
`;

const PODS = [
  pod('frontend-0', 'default', '127.0.0.10', { ports: [{ name: 'http-app', port: 3000 }] }),
  pod('backend-0', 'default', '127.0.0.2', { ports: [{ name: 'admin', port: 9901 }] }),
  pod('backend-1', 'default', '127.0.0.3', { ports: [{ name: 'admin', port: 9901 }] }),
  pod('backend-2', 'default', '127.0.0.4', { ready: false }),
  pod('canary-0', 'default', '127.0.0.5'),
  pod('redis-0', 'prod', '127.0.1.2', { ports: [{ name: 'redis', port: 6379 }] }),
];

const MANIFESTS = `${DOCS.join('---\n')}---\n${ROUTING}`;
const PROXIES = [GATEWAY_POD, ...PODS.filter((p) => p.ready)];

test('generating twice from one snapshot gives identical output, for the gateway and every sidecar', () => {
  const snap = buildSnapshot({ manifests: MANIFESTS, pods: PODS });
  for (const w of PROXIES) {
    const a = generateProxyResources(snap, proxyOf(w));
    const b = generateProxyResources(snap, proxyOf(w));
    assert.deepEqual(b, a, w.name);
    assert.equal(JSON.stringify(b), JSON.stringify(a), `${w.name}: same key order too`);
    assert.ok(a.listeners.length > 0, `${w.name} has listeners`);
  }
});

test('a snapshot rebuilt from the same input (new version) gives identical output', () => {
  const one = buildSnapshot({ manifests: MANIFESTS, pods: PODS }, 1);
  const two = buildSnapshot({ manifests: MANIFESTS, pods: PODS }, 2);
  for (const w of PROXIES) assert.equal(JSON.stringify(generateProxyResources(two, proxyOf(w))), JSON.stringify(generateProxyResources(one, proxyOf(w))), w.name);
});

test('the order of Service manifests and of pods does not show in the output', () => {
  const forward = buildSnapshot({ manifests: MANIFESTS, pods: PODS });
  const backward = buildSnapshot({ manifests: `${[...DOCS].reverse().join('---\n')}---\n${ROUTING}`, pods: [...PODS].reverse() });
  for (const w of PROXIES) {
    assert.deepEqual(generateProxyResources(backward, proxyOf(w)), generateProxyResources(forward, proxyOf(w)), w.name);
  }
});

test('generation does not mutate the snapshot it reads', () => {
  const snap = buildSnapshot({ manifests: MANIFESTS, pods: PODS });
  const before = JSON.stringify({ services: snap.registry.services, workloads: snap.registry.workloads, vs: snap.store.list('VirtualService').map((v) => v.spec), gw: snap.gateways.map((g) => g.spec) });
  for (const w of PROXIES) generateProxyResources(snap, proxyOf(w));
  const after = JSON.stringify({ services: snap.registry.services, workloads: snap.registry.workloads, vs: snap.store.list('VirtualService').map((v) => v.spec), gw: snap.gateways.map((g) => g.spec) });
  assert.equal(after, before);
});

/** Drops what proto3 JSON omits: unset, false, 0, '' and empty lists (messages like `ads: {}` stay). */
function withoutProto3Defaults(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutProto3Defaults);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || x === null || x === false || x === 0 || x === '' || (Array.isArray(x) && x.length === 0)) continue;
      out[k] = withoutProto3Defaults(x);
    }
    return out;
  }
  return v;
}

const TYPES: readonly [keyof ProxyResources, TypeUrl][] = [
  ['listeners', TYPE_URL.listener],
  ['routes', TYPE_URL.route],
  ['clusters', TYPE_URL.cluster],
  ['endpoints', TYPE_URL.endpoint],
];

for (const [kind, typeUrl] of TYPES) {
  test(`every generated ${kind.replace(/s$/, '')} round-trips through the Envoy protobuf codec unchanged`, () => {
    const snap = buildSnapshot({ manifests: MANIFESTS, pods: PODS });
    let count = 0;
    for (const w of PROXIES) {
      for (const r of generateProxyResources(snap, proxyOf(w))[kind] as XdsResource[]) {
        const back = normalizeResource(typeUrl, r);
        assert.deepEqual(withoutProto3Defaults(back), withoutProto3Defaults(r), `${w.name}: ${JSON.stringify(r)}`);
        count++;
      }
    }
    assert.ok(count > 0, `some ${kind} were generated`);
  });
}

test('the round-trip comparison can fail: a changed field is caught', () => {
  const snap = buildSnapshot({ manifests: MANIFESTS, pods: PODS });
  const rc = generateProxyResources(snap, proxyOf(GATEWAY_POD)).routes[0]!;
  const back = normalizeResource(TYPE_URL.route, rc);
  back.virtualHosts[0]!.domains.push('extra.example.com');
  assert.notDeepEqual(withoutProto3Defaults(back), withoutProto3Defaults(rc));
});

test('two Services selecting one pod port: the inbound listener does not depend on which manifest comes first', () => {
  const svc = (name: string) => yaml`
    apiVersion: v1
    kind: Service
    metadata: { name: ${name}, namespace: default }
    spec:
      selector: { app: frontend }
      ports: [{ name: http, port: 80, targetPort: http-app }]
  `;
  const frontend = PODS[0]!;
  const ab = buildSnapshot({ manifests: `${svc('frontend')}---\n${svc('alias')}`, pods: [frontend] });
  const ba = buildSnapshot({ manifests: `${svc('alias')}---\n${svc('frontend')}`, pods: [frontend] });
  assert.deepEqual(generateProxyResources(ba, proxyOf(frontend)).listeners, generateProxyResources(ab, proxyOf(frontend)).listeners);
});
