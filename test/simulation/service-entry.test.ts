// Simulation tables for ServiceEntries (SE-01..03) and the Sidecar resource (SC-01/02): every host
// and port of an entry becomes a service with its own cluster, whose type follows the resolution
// (STATIC → EDS with the entry's endpoints, DNS → STRICT_DNS, DNS_ROUND_ROBIN → LOGICAL_DNS,
// NONE → ORIGINAL_DST), subsets select entry endpoints by label, exportTo and the proxy's
// namespace decide which declaration a proxy sees, a Sidecar's egress hosts limit what a sidecar
// gets, and the outbound traffic mode comes from the Sidecar, else the mesh config (TASK-10).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProxyResources } from '../../src/controlplane/generate/generate.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { destinationRuleFor } from '../../src/controlplane/generate/destination-policy.js';
import { outboundTrafficMode, servicesForProxy, visibleToProxy } from '../../src/controlplane/generate/sidecar-scope.js';
import type { Workload } from '../../src/registry/registry.js';
import { normalizeResource } from '../../src/xds/codec.js';
import { TYPE_URL } from '../../src/xds/resources.js';
import type { Cluster } from '../../src/xds/resources.js';
import { GATEWAY_POD, buildSnapshot, pick, pod, proxyOf, resourcesFor, yaml } from './mesh.js';

const BASE = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: prod }
  ---
  apiVersion: v1
  kind: Namespace
  metadata: { name: team }
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: web, namespace: default }
  spec:
    selector: { app: web }
    ports: [{ name: http, port: 80, targetPort: 8080 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: db, namespace: prod }
  spec:
    selector: { app: db }
    ports: [{ name: http, port: 80 }]
`;

const SLEEP = pod('sleep-0', 'default', '127.0.0.10', { labels: { app: 'sleep' } });
const CURL = pod('curl-0', 'default', '127.0.0.11', { labels: { app: 'curl', egress: 'locked' } });
const OPS = pod('ops-0', 'prod', '127.0.1.10', { labels: { app: 'ops' } });
const TEAM = pod('team-0', 'team', '127.0.2.10', { labels: { app: 'team' } });
const PODS: readonly Workload[] = [SLEEP, CURL, OPS, TEAM, pod('web-0', 'default', '127.0.0.2', { labels: { app: 'web' } }), pod('db-0', 'prod', '127.0.1.2', { labels: { app: 'db' } })];

/** A ServiceEntry `name` in `namespace` with the given spec (YAML, indented as under `spec:`). */
function entry(entryName: string, spec: string, namespace = 'default'): string {
  const body = spec.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n');
  return `---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: ${entryName}, namespace: ${namespace} }\nspec:\n${body}\n`;
}

function resources(config: string, from: Workload = SLEEP): ProxyResources {
  return resourcesFor({ manifests: BASE + config, pods: PODS }, from);
}

function wireCluster(r: ProxyResources, name: string): Cluster | undefined {
  const c = r.clusters.find((x) => x.name === name);
  return c && normalizeResource(TYPE_URL.cluster, c);
}

/** `address:port` of a cluster's endpoints: its ClusterLoadAssignment (EDS) or loadAssignment (DNS). */
function endpointsOf(r: ProxyResources, name: string): string[] | undefined {
  const c = r.clusters.find((x) => x.name === name);
  const cla = c?.loadAssignment ?? r.endpoints.find((e) => e.clusterName === name);
  return cla?.endpoints.flatMap((l) => l.lbEndpoints.map((e) => `${e.endpoint.address.socketAddress.address}:${e.endpoint.address.socketAddress.portValue}`));
}

// ---- SE-01/02/03: one service per host and port; the cluster type follows the resolution -----------

const STATIC = entry('vms', `
  hosts: [vm.corp.internal]
  location: MESH_INTERNAL
  ports:
  - { number: 80, name: http, protocol: HTTP, targetPort: 8080 }
  - { number: 9000, name: grpc, protocol: GRPC }
  - { number: 5432, name: tcp-db, protocol: TCP }
  resolution: STATIC
  addresses: [10.10.0.1]
  endpoints:
  - { address: 10.0.0.2, labels: { version: v1 }, weight: 3 }
  - { address: 10.0.0.1, ports: { http: 18080, grpc: 19000 }, labels: { version: v2 } }
  - { address: "unix:///var/run/vm.sock", labels: { version: v1 } }
`);

const DNS = entry('external', `
  hosts: [httpbin.org, api.example.com]
  ports: [{ number: 80, name: http, protocol: HTTP }, { number: 443, name: https, protocol: HTTPS }]
  resolution: DNS
  location: MESH_EXTERNAL
`);

const DNS_ENDPOINTS = entry('mirror', `
  hosts: [mirror.example.com]
  ports: [{ number: 80, name: http, protocol: HTTP, targetPort: 8080 }]
  resolution: DNS
  endpoints:
  - { address: us.mirror.example.com, labels: { region: us } }
  - { address: eu.mirror.example.com, ports: { http: 9090 }, labels: { region: eu } }
`);

const ROUND_ROBIN = entry('single', `
  hosts: [single.example.com]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS_ROUND_ROBIN
`);

const NONE = entry('any', `
  hosts: ["*.wild.example.com", legacy.example.com]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: NONE
`);

interface Row {
  readonly name: string;
  readonly config: string;
  readonly from?: Workload;
  readonly cluster: string;
  readonly want: Partial<Cluster> | 'absent';
  readonly endpoints?: readonly string[];
  readonly without?: readonly (keyof Cluster)[];
}

function run(rows: readonly Row[]): void {
  for (const row of rows) {
    test(row.name, () => {
      const r = resources(row.config, row.from);
      const c = wireCluster(r, row.cluster);
      if (row.want === 'absent') {
        assert.equal(c, undefined, `cluster ${row.cluster} should not exist`);
        return;
      }
      assert.ok(c, `cluster ${row.cluster} exists; have ${r.clusters.map((x) => x.name).join(', ')}`);
      assert.deepEqual(pick(c, row.want), row.want, JSON.stringify(c));
      if (row.endpoints) assert.deepEqual(endpointsOf(r, row.cluster), row.endpoints);
      for (const k of row.without ?? []) assert.equal(c[k], undefined, `${k} is not set`);
    });
  }
}

run([
  {
    name: 'SE-02 STATIC: an EDS cluster per port, endpoints at the port mapped by name, else targetPort (unix:// skipped)',
    config: STATIC,
    cluster: 'outbound|80||vm.corp.internal',
    want: { type: 'EDS', lbPolicy: 'LEAST_REQUEST', edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: 'outbound|80||vm.corp.internal' } },
    endpoints: ['10.0.0.1:18080', '10.0.0.2:8080'],
  },
  { name: 'SE-02 STATIC: a port without targetPort or mapping uses its number (9000 → 9000, grpc → 19000)', config: STATIC, cluster: 'outbound|9000||vm.corp.internal', want: { type: 'EDS', http2ProtocolOptions: {} }, endpoints: ['10.0.0.1:19000', '10.0.0.2:9000'] },
  { name: 'SE-01: a TCP port gets its cluster too', config: STATIC, cluster: 'outbound|5432||vm.corp.internal', want: { type: 'EDS' }, endpoints: ['10.0.0.1:5432', '10.0.0.2:5432'], without: ['http2ProtocolOptions'] },
  {
    name: 'SE-02 DNS without endpoints: STRICT_DNS resolving the host itself, IPv4 like the proxy',
    config: DNS,
    cluster: 'outbound|80||httpbin.org',
    want: { type: 'STRICT_DNS', dnsLookupFamily: 'V4_ONLY', lbPolicy: 'LEAST_REQUEST' },
    endpoints: ['httpbin.org:80'],
    without: ['edsClusterConfig'],
  },
  { name: 'SE-01: every host of an entry is its own service (api.example.com:443)', config: DNS, cluster: 'outbound|443||api.example.com', want: { type: 'STRICT_DNS' }, endpoints: ['api.example.com:443'] },
  {
    name: 'SE-02 DNS with endpoints: STRICT_DNS resolving the endpoints, at their mapped port or the targetPort',
    config: DNS_ENDPOINTS,
    cluster: 'outbound|80||mirror.example.com',
    want: { type: 'STRICT_DNS' },
    endpoints: ['eu.mirror.example.com:9090', 'us.mirror.example.com:8080'],
  },
  { name: 'SE-02 DNS_ROUND_ROBIN: LOGICAL_DNS with one endpoint (the host)', config: ROUND_ROBIN, cluster: 'outbound|80||single.example.com', want: { type: 'LOGICAL_DNS', dnsLookupFamily: 'V4_ONLY' }, endpoints: ['single.example.com:80'] },
  {
    name: 'SE-02 NONE: ORIGINAL_DST (the request\'s own destination) with CLUSTER_PROVIDED',
    config: NONE,
    cluster: 'outbound|80||legacy.example.com',
    want: { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' },
    without: ['edsClusterConfig', 'loadAssignment'],
  },
  { name: 'SE-02 NONE with a wildcard host (*.wild.example.com) works through ORIGINAL_DST', config: NONE, cluster: 'outbound|80||*.wild.example.com', want: { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' } },
  {
    name: 'SE-02 NONE on a gateway: EDS (a gateway cannot forward to an original destination), no endpoints',
    config: NONE,
    from: GATEWAY_POD,
    cluster: 'outbound|80||legacy.example.com',
    want: { type: 'EDS', lbPolicy: 'LEAST_REQUEST' },
    endpoints: [],
  },
]);

test('SE-01: cluster metadata names the service as Istio does (host, name = host, the entry\'s namespace; external)', () => {
  const r = resources(DNS + STATIC);
  assert.deepEqual(wireCluster(r, 'outbound|80||httpbin.org')?.metadata, { filterMetadata: { istio: { services: [{ host: 'httpbin.org', name: 'httpbin.org', namespace: 'default' }], external: true } } });
  assert.deepEqual(wireCluster(r, 'outbound|80||vm.corp.internal')?.metadata, { filterMetadata: { istio: { services: [{ host: 'vm.corp.internal', name: 'vm.corp.internal', namespace: 'default' }] } } });
});

test('SE-03: endpoint weights become load-balancing weights; NONE and DNS clusters get no ClusterLoadAssignment', () => {
  const r = resources(STATIC + DNS + NONE);
  const cla = r.endpoints.find((e) => e.clusterName === 'outbound|80||vm.corp.internal');
  assert.deepEqual(cla?.endpoints[0]?.lbEndpoints.map((e) => e.loadBalancingWeight), [undefined, 3]);
  assert.deepEqual(r.endpoints.map((e) => e.clusterName).filter((n) => /httpbin\.org|legacy|wild/.test(n)), []);
});

test('SE-02: DYNAMIC_DNS is not implemented: the cluster exists with no endpoints', () => {
  const r = resources(entry('dyn', `
    hosts: ["*.dyn.example.com"]
    ports: [{ number: 80, name: http, protocol: HTTP }]
    resolution: DYNAMIC_DNS
  `));
  assert.equal(wireCluster(r, 'outbound|80||*.dyn.example.com')?.type, 'EDS');
  assert.deepEqual(endpointsOf(r, 'outbound|80||*.dyn.example.com'), []);
});

// ---- DR-01 on ServiceEntry hosts: subsets select entry endpoints by label ---------------------------

test('DR-01: subsets of a STATIC entry select its endpoints by label', () => {
  const r = resources(STATIC + yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: { name: vm }
    spec:
      host: vm.corp.internal
      subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
  `);
  assert.deepEqual(endpointsOf(r, 'outbound|80|v1|vm.corp.internal'), ['10.0.0.2:8080']);
  assert.deepEqual(endpointsOf(r, 'outbound|80|v2|vm.corp.internal'), ['10.0.0.1:18080']);
});

test('DR-01: subsets of a DNS entry resolve only their endpoints; a subset matching none gets no cluster (as Istio)', () => {
  const r = resources(DNS_ENDPOINTS + yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: { name: mirror }
    spec:
      host: mirror.example.com
      trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
      subsets: [{ name: eu, labels: { region: eu } }, { name: asia, labels: { region: asia } }]
  `);
  assert.deepEqual(endpointsOf(r, 'outbound|80|eu|mirror.example.com'), ['eu.mirror.example.com:9090']);
  assert.equal(wireCluster(r, 'outbound|80|eu|mirror.example.com')?.lbPolicy, 'ROUND_ROBIN');
  assert.equal(wireCluster(r, 'outbound|80|asia|mirror.example.com'), undefined);
});

test('DR-01: a DestinationRule in the entry\'s namespace applies to other namespaces\' proxies (the service namespace step)', () => {
  const config =
    entry('partner', `
      hosts: [partner.example.com]
      ports: [{ number: 80, name: http, protocol: HTTP }]
      resolution: DNS
    `, 'prod') +
    yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: { name: partner, namespace: prod }
      spec:
        host: partner.example.com
        trafficPolicy: { loadBalancer: { simple: RANDOM } }
    `;
  const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
  assert.equal(destinationRuleFor(snap, proxyOf(SLEEP), 'partner.example.com')?.metadata.name, 'partner');
  assert.equal(wireCluster(resources(config), 'outbound|80||partner.example.com')?.lbPolicy, 'RANDOM');
});

// ---- which declaration a proxy sees: exportTo, namespaces, Kubernetes first ----------------------

const PRIVATE_TO_PROD = entry('internal', `
  hosts: [internal.example.com]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS
  exportTo: ["."]
`, 'prod');

run([
  { name: 'SE-03 exportTo ["."]: the entry is invisible to other namespaces', config: PRIVATE_TO_PROD, cluster: 'outbound|80||internal.example.com', want: 'absent' },
  { name: 'SE-03 exportTo ["."]: ... and visible in its own', config: PRIVATE_TO_PROD, from: OPS, cluster: 'outbound|80||internal.example.com', want: { type: 'STRICT_DNS' } },
  { name: 'SE-03 exportTo ["."]: ... but not to gateways in istio-system', config: PRIVATE_TO_PROD, from: GATEWAY_POD, cluster: 'outbound|80||internal.example.com', want: 'absent' },
  {
    name: 'SE-03 exportTo [team]: visible to the named namespace',
    config: PRIVATE_TO_PROD.replace('exportTo: ["."]', 'exportTo: [team]'),
    from: TEAM,
    cluster: 'outbound|80||internal.example.com',
    want: { type: 'STRICT_DNS' },
  },
  {
    name: 'the networking.istio.io/exportTo annotation hides a Service from other namespaces',
    config: yaml`
      ---
      apiVersion: v1
      kind: Service
      metadata: { name: secret, namespace: prod, annotations: { networking.istio.io/exportTo: "." } }
      spec:
        selector: { app: secret }
        ports: [{ name: http, port: 80 }]
    `,
    cluster: 'outbound|80||secret.prod.svc.cluster.local',
    want: 'absent',
  },
]);

const SAME_HOST = [
  entry('shared', `
    hosts: [shared.example.com]
    ports: [{ number: 80, name: http, protocol: HTTP }]
    resolution: STATIC
    endpoints: [{ address: 10.1.0.1 }]
  `, 'prod'),
  entry('shared', `
    hosts: [shared.example.com]
    ports: [{ number: 80, name: http, protocol: HTTP }]
    resolution: STATIC
    endpoints: [{ address: 10.2.0.1 }]
  `, 'team'),
].join('');

test('SE-01: one host declared in two namespaces: each proxy sees its own namespace\'s, others the first declared', () => {
  assert.deepEqual(endpointsOf(resources(SAME_HOST, OPS), 'outbound|80||shared.example.com'), ['10.1.0.1:80']);
  assert.deepEqual(endpointsOf(resources(SAME_HOST, TEAM), 'outbound|80||shared.example.com'), ['10.2.0.1:80']);
  assert.deepEqual(endpointsOf(resources(SAME_HOST, SLEEP), 'outbound|80||shared.example.com'), ['10.1.0.1:80']);
  assert.equal(resources(SAME_HOST, SLEEP).clusters.filter((c) => c.name === 'outbound|80||shared.example.com').length, 1);
});

test('SE-01: an entry naming a Kubernetes Service\'s host does not replace it', () => {
  const squat = entry('squat', `
    hosts: [web.default.svc.cluster.local]
    ports: [{ number: 80, name: http, protocol: HTTP }]
    resolution: STATIC
    endpoints: [{ address: 10.9.9.9 }]
  `);
  assert.deepEqual(endpointsOf(resources(squat), 'outbound|80||web.default.svc.cluster.local'), ['127.0.0.2:8080']);
});

// ---- SC-01: a Sidecar's egress hosts limit the services a sidecar gets ----------------------------

function outboundHosts(r: ProxyResources): string[] {
  return [...new Set(r.clusters.filter((c) => c.name.startsWith('outbound|')).map((c) => c.name.split('|')[3]!))];
}

const ALL_SERVICES = DNS + NONE;
/** A Gateway, so that the implicit istio-ingressgateway Service in istio-system has a port. */
const GATEWAY = yaml`
  ---
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: web, namespace: istio-system }
  spec:
    selector: { istio: ingressgateway }
    servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
`;

function sidecar(name: string, namespace: string, spec: string): string {
  const body = spec.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n');
  return `---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: ${name}, namespace: ${namespace} }\nspec:\n${body}\n`;
}

const EGRESS_ROWS: readonly [row: string, config: string, from: Workload, want: string[]][] = [
  [
    'no Sidecar: every service exported to the namespace',
    ALL_SERVICES,
    SLEEP,
    ['*.wild.example.com', 'api.example.com', 'db.prod.svc.cluster.local', 'httpbin.org', 'legacy.example.com', 'web.default.svc.cluster.local'],
  ],
  [
    './* and istio-system/*: the namespace\'s own services (entries included) and istio-system\'s',
    ALL_SERVICES + GATEWAY + sidecar('default', 'default', `egress: [{ hosts: ["./*", "istio-system/*"] }]`),
    SLEEP,
    ['*.wild.example.com', 'api.example.com', 'httpbin.org', 'istio-ingressgateway.istio-system.svc.cluster.local', 'legacy.example.com', 'web.default.svc.cluster.local'],
  ],
  ['an exact host in any namespace (*/httpbin.org)', ALL_SERVICES + sidecar('default', 'default', `egress: [{ hosts: ["*/httpbin.org"] }]`), SLEEP, ['httpbin.org']],
  ['a wildcard host (./*.example.com) matches hosts under it and the wildcard entry', ALL_SERVICES + sidecar('default', 'default', `egress: [{ hosts: ["./*.example.com"] }]`), SLEEP, ['*.wild.example.com', 'api.example.com', 'legacy.example.com']],
  ['a named namespace (prod/*)', ALL_SERVICES + sidecar('default', 'default', `egress: [{ hosts: [prod/*] }]`), SLEEP, ['db.prod.svc.cluster.local']],
  ['~/* selects nothing', ALL_SERVICES + sidecar('default', 'default', `egress: [{ hosts: ["~/*"] }]`), SLEEP, []],
  [
    'a Sidecar with workloadSelector applies to the workloads it selects, ahead of the namespace\'s',
    ALL_SERVICES + sidecar('default', 'default', `egress: [{ hosts: ["./*"] }]`) + sidecar('locked', 'default', `workloadSelector: { labels: { egress: locked } }\negress: [{ hosts: ["./web.default.svc.cluster.local"] }]`),
    CURL,
    ['web.default.svc.cluster.local'],
  ],
  [
    'the root namespace\'s Sidecar applies where a namespace has none (. is the proxy\'s namespace)',
    ALL_SERVICES + sidecar('default', 'istio-system', `egress: [{ hosts: ["./*"] }]`),
    OPS,
    ['db.prod.svc.cluster.local'],
  ],
  [
    'a namespace\'s own Sidecar wins over the root namespace\'s',
    ALL_SERVICES + sidecar('default', 'istio-system', `egress: [{ hosts: ["./*"] }]`) + sidecar('prod', 'prod', `egress: [{ hosts: ["*/httpbin.org"] }]`),
    OPS,
    ['httpbin.org'],
  ],
  [
    'Sidecars do not apply to gateways',
    ALL_SERVICES + sidecar('default', 'istio-system', `egress: [{ hosts: ["~/*"] }]`),
    GATEWAY_POD,
    ['*.wild.example.com', 'api.example.com', 'db.prod.svc.cluster.local', 'httpbin.org', 'legacy.example.com', 'web.default.svc.cluster.local'],
  ],
];

for (const [row, config, from, want] of EGRESS_ROWS) {
  test(`SC-01: ${row}`, () => {
    const r = resources(config, from);
    assert.deepEqual(outboundHosts(r), want);
    // Endpoints only for the clusters the sidecar has.
    const names = new Set(r.clusters.map((c) => c.name));
    for (const e of r.endpoints) assert.ok(names.has(e.clusterName), e.clusterName);
  });
}

test('SC-01: visibleToProxy agrees with the clusters generated (what the routes generator filters vhosts with)', () => {
  const configs = EGRESS_ROWS.map(([, config, from]) => [config, from] as const).concat([[SAME_HOST, TEAM], [PRIVATE_TO_PROD, SLEEP]]);
  for (const [config, from] of configs) {
    const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
    const proxy = proxyOf(from);
    const clusters = new Set(generateProxyResources(snap, proxy).clusters.map((c) => c.name));
    const visible = servicesForProxy(snap, proxy);
    for (const s of snap.registry.services) {
      assert.equal(visibleToProxy(snap, proxy, s), visible.includes(s), `${s.namespace}/${s.hostname} from ${from.name}`);
      // A visible service has a cluster for each port, from this very declaration (its endpoints).
      for (const p of s.ports) assert.equal(clusters.has(`outbound|${p.port}||${s.hostname}`), visible.some((v) => v.hostname === s.hostname), `${s.hostname}:${p.port}`);
    }
  }
});

// ---- SC-02: the outbound traffic mode --------------------------------------------------------------

const REGISTRY_ONLY_MESH = yaml`
  ---
  apiVersion: v1
  kind: ConfigMap
  metadata: { name: istio, namespace: istio-system }
  data:
    mesh: |-
      outboundTrafficPolicy:
        mode: REGISTRY_ONLY
`;

const MODE_ROWS: readonly [row: string, config: string, from: Workload, want: 'ALLOW_ANY' | 'REGISTRY_ONLY'][] = [
  ['the mesh default is ALLOW_ANY', '', SLEEP, 'ALLOW_ANY'],
  ['MeshConfig outboundTrafficPolicy REGISTRY_ONLY (TASK-10)', REGISTRY_ONLY_MESH, SLEEP, 'REGISTRY_ONLY'],
  ['a namespace Sidecar\'s outboundTrafficPolicy overrides the mesh', REGISTRY_ONLY_MESH + sidecar('default', 'default', `outboundTrafficPolicy: { mode: ALLOW_ANY }`), SLEEP, 'ALLOW_ANY'],
  ['a Sidecar block without mode means REGISTRY_ONLY', sidecar('default', 'default', `outboundTrafficPolicy: {}`), SLEEP, 'REGISTRY_ONLY'],
  ['a Sidecar without outboundTrafficPolicy leaves the mesh\'s mode', REGISTRY_ONLY_MESH + sidecar('default', 'default', `egress: [{ hosts: ["./*"] }]`), SLEEP, 'REGISTRY_ONLY'],
  ['a selecting Sidecar applies to the workloads it selects', sidecar('locked', 'default', `workloadSelector: { labels: { egress: locked } }\noutboundTrafficPolicy: { mode: REGISTRY_ONLY }`), CURL, 'REGISTRY_ONLY'],
  ['... and not to the others', sidecar('locked', 'default', `workloadSelector: { labels: { egress: locked } }\noutboundTrafficPolicy: { mode: REGISTRY_ONLY }`), SLEEP, 'ALLOW_ANY'],
  ['the root namespace\'s Sidecar applies mesh-wide', sidecar('default', 'istio-system', `outboundTrafficPolicy: { mode: REGISTRY_ONLY }`), OPS, 'REGISTRY_ONLY'],
  ['a Sidecar in another namespace does not apply', sidecar('default', 'prod', `outboundTrafficPolicy: { mode: REGISTRY_ONLY }`), SLEEP, 'ALLOW_ANY'],
];

for (const [row, config, from, want] of MODE_ROWS) {
  test(`SC-02: ${row}: ${want}`, () => {
    const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
    assert.equal(outboundTrafficMode(snap, proxyOf(from)), want);
  });
}

// ---- every cluster is a valid Envoy cluster --------------------------------------------------------

test('every cluster generated from ServiceEntries survives the Envoy protobuf round trip', () => {
  const configs = [STATIC, DNS, DNS_ENDPOINTS, ROUND_ROBIN, NONE, SAME_HOST, PRIVATE_TO_PROD];
  let count = 0;
  for (const config of configs) {
    for (const from of [SLEEP, OPS, GATEWAY_POD]) {
      const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
      for (const c of generateProxyResources(snap, proxyOf(from)).clusters) {
        assert.equal(JSON.stringify(sortKeys(normalizeResource(TYPE_URL.cluster, c))), JSON.stringify(sortKeys(c)), c.name);
        count++;
      }
    }
  }
  assert.ok(count > 50);
});

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}
