// Unit tests for MeshSnapshot: host resolution as Istio resolves VirtualService hosts (VS-01),
// the VirtualService indexes by gateway (VS-02), endpoint selection (ready pods of the Service's
// namespace, named target ports resolved per pod; a ServiceEntry's own endpoints, SE-03), the
// hostname indexes with Kubernetes Services first, and the root namespace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigStore } from '../../config/config-store.js';
import { loadConfigText } from '../../config/load-config.js';
import type { MeshService, Registry, Workload } from '../../registry/registry.js';
import { DEFAULT_MESH_CONFIG, MeshSnapshot } from './mesh-snapshot.js';

function service(name: string, namespace: string, ports: [number, number | string][], selector: Record<string, string> | undefined = { app: name }, suffix = 'cluster.local'): MeshService {
  return {
    name,
    namespace,
    hostname: `${name}.${namespace}.svc.${suffix}`,
    ports: ports.map(([port, targetPort], i) => ({ name: i ? `http-${i}` : 'http', port, targetPort, protocol: 'HTTP' as const })),
    ...(selector ? { selector } : {}),
  };
}

function workload(name: string, namespace: string, ip: string, labels: Record<string, string>, o: Partial<Workload> = {}): Workload {
  return { name, namespace, ip, labels, serviceAccount: 'default', ready: true, ports: [], hasSidecar: true, ...o };
}

const REGISTRY: Registry = {
  services: [service('backend', 'prod', [[7070, 7070]]), service('reviews', 'default', [[9080, 'http-web']]), service('headless', 'default', [[80, 80]], undefined)],
  workloads: [
    workload('reviews-b', 'default', '127.0.0.3', { app: 'reviews' }, { ports: [{ name: 'http-web', port: 9081 }] }),
    workload('reviews-a', 'default', '127.0.0.2', { app: 'reviews', version: 'v1' }, { ports: [{ name: 'http-web', port: 9080 }] }),
    workload('reviews-nope', 'default', '127.0.0.4', { app: 'reviews' }, { ports: [{ name: 'other', port: 1 }] }),
    workload('reviews-down', 'default', '127.0.0.5', { app: 'reviews' }, { ready: false, ports: [{ name: 'http-web', port: 9080 }] }),
    workload('reviews-elsewhere', 'prod', '127.0.1.2', { app: 'reviews' }, { ports: [{ name: 'http-web', port: 9080 }] }),
    workload('anything', 'default', '127.0.0.9', {}),
  ],
};

const snap = new MeshSnapshot(1, ConfigStore.empty(), REGISTRY);

const RESOLVE: [host: string, namespace: string, want: string][] = [
  ['reviews', 'default', 'reviews.default.svc.cluster.local'],
  ['reviews', 'prod', 'reviews.prod.svc.cluster.local'],
  ['unknown', 'default', 'unknown.default.svc.cluster.local'],
  ['backend.prod', 'default', 'backend.prod.svc.cluster.local'],
  ['example.com', 'default', 'example.com'],
  ['reviews.prod', 'default', 'reviews.prod'],
  ['backend.prod.svc', 'default', 'backend.prod.svc.cluster.local'],
  ['anything.other.svc', 'default', 'anything.other.svc.cluster.local'],
  ['backend.prod.svc.cluster.local', 'default', 'backend.prod.svc.cluster.local'],
  ['api.example.com', 'default', 'api.example.com'],
  ['*.example.com', 'default', '*.example.com'],
  ['*', 'default', '*'],
  ['10.1.2.3', 'default', '10.1.2.3'],
];

for (const [host, ns, want] of RESOLVE) {
  test(`resolveHost("${host}") in namespace ${ns} is ${want}`, () => {
    assert.equal(snap.resolveHost(host, ns), want);
  });
}

test('resolveHost uses the mesh domain suffix', () => {
  const corp = new MeshSnapshot(1, ConfigStore.empty(), { services: [service('backend', 'prod', [[7070, 7070]], { app: 'backend' }, 'corp.internal')], workloads: [] }, { ...DEFAULT_MESH_CONFIG, domainSuffix: 'corp.internal' });
  assert.equal(corp.resolveHost('reviews', 'default'), 'reviews.default.svc.corp.internal');
  assert.equal(corp.resolveHost('backend.prod', 'default'), 'backend.prod.svc.corp.internal');
  assert.equal(corp.resolveHost('backend.prod.svc', 'default'), 'backend.prod.svc.corp.internal');
  // A cluster.local name is not this mesh's: taken as written.
  assert.equal(corp.resolveHost('backend.prod.svc.cluster.local', 'default'), 'backend.prod.svc.cluster.local');
});

test('services are indexed by hostname and workloads by namespace/name', () => {
  assert.deepEqual([...snap.servicesByHost.keys()], ['backend.prod.svc.cluster.local', 'reviews.default.svc.cluster.local', 'headless.default.svc.cluster.local']);
  assert.equal(snap.workloadsByName.get('prod/reviews-elsewhere')?.ip, '127.0.1.2');
  assert.equal(snap.workloadsByName.get('default/reviews-elsewhere'), undefined);
});

test('endpoints: ready pods of the service namespace, named target port resolved per pod, sorted by address', () => {
  const reviews = snap.servicesByHost.get('reviews.default.svc.cluster.local')!;
  const eps = snap.endpoints(reviews, reviews.ports[0]!);
  assert.deepEqual(eps.map((e) => `${e.workload?.name}@${e.address}:${e.port}`), ['reviews-a@127.0.0.2:9080', 'reviews-b@127.0.0.3:9081']);
});

test('endpoints: a service without a selector has none', () => {
  const headless = snap.servicesByHost.get('headless.default.svc.cluster.local')!;
  assert.deepEqual(snap.endpoints(headless, headless.ports[0]!), []);
});

test('servicesOf: the services whose selector picks the workload, in its namespace only', () => {
  assert.deepEqual(snap.servicesOf(snap.workloadsByName.get('default/reviews-a')!).map((s) => s.hostname), ['reviews.default.svc.cluster.local']);
  assert.deepEqual(snap.servicesOf(snap.workloadsByName.get('prod/reviews-elsewhere')!).map((s) => s.hostname), []);
  assert.deepEqual(snap.servicesOf(snap.workloadsByName.get('default/anything')!), []);
});

test('VirtualServices are indexed by the gateways they name; none or `mesh` means sidecars', () => {
  const text = ['a:[]', 'b:[mesh]', 'c:[web]', 'd:[istio-system/web]', 'e:[mesh, web, other/gw]']
    .map((s) => {
      const [name, gws] = s.split(':');
      return `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: ${name}, namespace: default }\nspec:\n  hosts: [${name}.example.com]\n  gateways: ${gws}\n  http: [{ route: [{ destination: { host: backend } }] }]\n`;
    })
    .join('---\n');
  const { resources, diagnostics } = loadConfigText(text, 'vs.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  const s = new MeshSnapshot(1, new ConfigStore(resources), REGISTRY);
  assert.deepEqual(s.meshVirtualServices.map((v) => v.metadata.name), ['a', 'b', 'e']);
  const byGw = Object.fromEntries([...s.virtualServicesByGateway].map(([k, v]) => [k, v.map((x) => x.metadata.name)]));
  assert.deepEqual(byGw, { 'default/web': ['c', 'e'], 'istio-system/web': ['d'], 'other/gw': ['e'] });
});

test('servicesByHost prefers a Kubernetes Service to a ServiceEntry of the same host; servicesByHostname keeps both', () => {
  const entry: MeshService = { name: 'reviews.default.svc.cluster.local', namespace: 'prod', hostname: 'reviews.default.svc.cluster.local', ports: [], registry: 'ServiceEntry', entryEndpoints: [] };
  const s = new MeshSnapshot(1, ConfigStore.empty(), { services: [entry, ...REGISTRY.services], workloads: REGISTRY.workloads });
  assert.equal(s.servicesByHost.get('reviews.default.svc.cluster.local')?.registry, undefined);
  assert.deepEqual(s.servicesByHostname.get('reviews.default.svc.cluster.local')?.map((x) => x.namespace), ['prod', 'default']);
});

test('endpoints of a ServiceEntry: its own, at the mapped port, else the targetPort; unix:// ones skipped', () => {
  const entry: MeshService = {
    name: 'vm.corp',
    namespace: 'default',
    hostname: 'vm.corp',
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'HTTP' }],
    registry: 'ServiceEntry',
    entryEndpoints: [
      { address: '10.0.0.2', ports: {}, labels: { v: '1' } },
      { address: '10.0.0.1', ports: { http: 9090 }, labels: {}, weight: 2 },
      { address: 'unix:///sock', ports: {}, labels: {} },
    ],
  };
  const s = new MeshSnapshot(1, ConfigStore.empty(), { services: [entry], workloads: REGISTRY.workloads });
  assert.deepEqual(s.endpoints(entry, entry.ports[0]!), [
    { address: '10.0.0.1', port: 9090, labels: {}, weight: 2 },
    { address: '10.0.0.2', port: 8080, labels: { v: '1' } },
  ]);
});

test('rootNamespace: the mesh config resource\'s when there is one, else the control plane\'s', () => {
  assert.equal(snap.rootNamespace, 'istio-system');
  const { resources } = loadConfigText('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio, namespace: istio-system }\ndata:\n  mesh: |-\n    rootNamespace: mesh-root\n', 'mesh.yaml');
  assert.equal(new MeshSnapshot(1, new ConfigStore(resources), REGISTRY).rootNamespace, 'mesh-root');
  assert.equal(new MeshSnapshot(1, ConfigStore.empty(), REGISTRY, { ...DEFAULT_MESH_CONFIG, rootNamespace: 'other' }).rootNamespace, 'other');
});
