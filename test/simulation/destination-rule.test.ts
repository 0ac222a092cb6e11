// Simulation tables for DestinationRules (DR-01..10): the clusters and endpoints a proxy gets for
// a host once a rule applies — subset clusters and the endpoints their labels select (TASK-01's
// destination-rule-all), load balancing per rule, subset and port, circuit breakers (TASK-06),
// outlier detection, HTTP/2, TLS origination, PASSTHROUGH — and which rule applies: Istio's lookup
// order (the proxy's namespace, the service's, the root namespace), exportTo, wildcard hosts and
// workloadSelector. Every cluster is compared after the Envoy protobuf round trip, so each field
// asserted here is one a proxy would really receive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProxyResources } from '../../src/controlplane/generate/generate.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { destinationRuleFor, effectivePolicy, hashPolicyFor, subsetExists } from '../../src/controlplane/generate/destination-policy.js';
import type { Workload } from '../../src/registry/registry.js';
import { opensslSkipReason, testCertificates } from '../../src/config/test-support.js';
import { normalizeResource } from '../../src/xds/codec.js';
import { TYPE_URL } from '../../src/xds/resources.js';
import type { Cluster } from '../../src/xds/resources.js';
import { GATEWAY_POD, buildSnapshot, pick, pod, proxyOf, resourcesFor, yaml } from './mesh.js';
import { simulate } from './simulate.js';

const MAX = 4294967295;
const REVIEWS = 'reviews.default.svc.cluster.local';
const HTTPBIN = 'httpbin.default.svc.cluster.local';
const name = (port: number, subset: string, host: string) => `outbound|${port}|${subset}|${host}`;

/** Bookinfo's services (reviews v1/v2, ratings, productpage), httpbin, a gRPC service and namespace prod. */
const BASE = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: prod }
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: productpage, namespace: default }
  spec:
    selector: { app: productpage }
    ports: [{ name: http, port: 9080 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: reviews, namespace: default }
  spec:
    selector: { app: reviews }
    ports: [{ name: http, port: 9080 }, { name: http-admin, port: 9090 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: ratings, namespace: default }
  spec:
    selector: { app: ratings }
    ports: [{ name: http, port: 9080 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: httpbin, namespace: default }
  spec:
    selector: { app: httpbin }
    ports: [{ name: http, port: 8000, targetPort: 8080 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: greeter, namespace: default }
  spec:
    selector: { app: greeter }
    ports: [{ name: grpc, port: 50051 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: db, namespace: prod }
  spec:
    selector: { app: db }
    ports: [{ name: http, port: 80 }]
`;

const PRODUCTPAGE = pod('productpage-v1-0', 'default', '127.0.0.10', { labels: { app: 'productpage', version: 'v1' } });
const CANARY_CLIENT = pod('productpage-v2-0', 'default', '127.0.0.14', { labels: { app: 'productpage', version: 'v2' } });
const OPS = pod('ops-0', 'prod', '127.0.1.10', { labels: { app: 'ops' } });
const PODS: readonly Workload[] = [
  PRODUCTPAGE,
  CANARY_CLIENT,
  OPS,
  pod('reviews-v1-0', 'default', '127.0.0.11', { labels: { app: 'reviews', version: 'v1' } }),
  pod('reviews-v2-0', 'default', '127.0.0.12', { labels: { app: 'reviews', version: 'v2' } }),
  pod('reviews-v2-1', 'default', '127.0.0.13', { labels: { app: 'reviews', version: 'v2' } }),
  pod('ratings-v1-0', 'default', '127.0.0.20', { labels: { app: 'ratings', version: 'v1' } }),
  pod('httpbin-v1-0', 'default', '127.0.0.30', { labels: { app: 'httpbin', version: 'v1' } }),
  pod('greeter-0', 'default', '127.0.0.40', { labels: { app: 'greeter' } }),
  pod('db-0', 'prod', '127.0.1.2', { labels: { app: 'db' } }),
];

/** TASK-01's destination-rule-all, for reviews and ratings. */
const DESTINATION_RULE_ALL = yaml`
  ---
  apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: { name: reviews }
  spec:
    host: reviews
    subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
    - { name: v3, labels: { version: v3 } }
  ---
  apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: { name: ratings }
  spec:
    host: ratings
    subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;

/** A DestinationRule `name` in `namespace` (default: default) with the given spec (YAML, indented by the caller). */
function rule(ruleName: string, spec: string, namespace = 'default'): string {
  const body = spec.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n');
  return `---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${ruleName}, namespace: ${namespace} }\nspec:\n${body}\n`;
}

function resources(config: string, from: Workload = PRODUCTPAGE): ProxyResources {
  return resourcesFor({ manifests: BASE + config, pods: PODS }, from);
}

/** The named cluster after the protobuf round trip (what the proxy receives), or undefined. */
function wireCluster(r: ProxyResources, clusterName: string): Cluster | undefined {
  const c = r.clusters.find((x) => x.name === clusterName);
  return c && normalizeResource(TYPE_URL.cluster, c);
}

function endpointsOf(r: ProxyResources, clusterName: string): string[] | undefined {
  const cla = r.endpoints.find((e) => e.clusterName === clusterName);
  return cla?.endpoints.flatMap((l) => l.lbEndpoints.map((e) => `${e.endpoint.address.socketAddress.address}:${e.endpoint.address.socketAddress.portValue}`));
}

interface ClusterRow {
  readonly name: string;
  readonly config: string;
  readonly from?: Workload;
  readonly cluster: string;
  /** Fields of the cluster as received; `absent` when the proxy must not get it. */
  readonly want: Partial<Cluster> | 'absent';
  /** Fields the cluster must not have. */
  readonly without?: readonly (keyof Cluster)[];
}

function run(rows: readonly ClusterRow[]): void {
  for (const row of rows) {
    test(row.name, () => {
      const c = wireCluster(resources(row.config, row.from), row.cluster);
      if (row.want === 'absent') {
        assert.equal(c, undefined, `cluster ${row.cluster} should not exist`);
        return;
      }
      assert.ok(c, `cluster ${row.cluster} exists`);
      assert.deepEqual(pick(c, row.want), row.want, JSON.stringify(c));
      for (const k of row.without ?? []) assert.equal(c[k], undefined, `${k} is not set: ${JSON.stringify(c)}`);
    });
  }
}

// ---- DR-01: subsets and the endpoints their labels select ---------------------------------------

test('DR-01: destination-rule-all gives one EDS cluster per subset and port, named and fed like Istio', () => {
  const r = resources(DESTINATION_RULE_ALL);
  const reviews = r.clusters.filter((c) => c.name.endsWith(`|${REVIEWS}`)).map((c) => c.name);
  assert.deepEqual(reviews, [
    name(9080, '', REVIEWS),
    name(9080, 'v1', REVIEWS),
    name(9080, 'v2', REVIEWS),
    name(9080, 'v3', REVIEWS),
    name(9090, '', REVIEWS),
    name(9090, 'v1', REVIEWS),
    name(9090, 'v2', REVIEWS),
    name(9090, 'v3', REVIEWS),
  ]);
  for (const n of reviews) {
    const c = wireCluster(r, n)!;
    assert.equal(c.type, 'EDS');
    assert.equal(c.edsClusterConfig?.serviceName, n);
  }
});

const SUBSET_ENDPOINTS: readonly [cluster: string, endpoints: string[]][] = [
  [name(9080, '', REVIEWS), ['127.0.0.11:9080', '127.0.0.12:9080', '127.0.0.13:9080']],
  [name(9080, 'v1', REVIEWS), ['127.0.0.11:9080']],
  [name(9080, 'v2', REVIEWS), ['127.0.0.12:9080', '127.0.0.13:9080']],
  [name(9080, 'v3', REVIEWS), []],
  [name(9090, 'v2', REVIEWS), ['127.0.0.12:9090', '127.0.0.13:9090']],
  [name(9080, 'v1', 'ratings.default.svc.cluster.local'), ['127.0.0.20:9080']],
  [name(9080, 'v2', 'ratings.default.svc.cluster.local'), []],
];

for (const [cluster, want] of SUBSET_ENDPOINTS) {
  test(`DR-01: ${cluster} holds the endpoints whose labels match the subset: [${want.join(', ')}]`, () => {
    assert.deepEqual(endpointsOf(resources(DESTINATION_RULE_ALL), cluster), want);
  });
}

test('DR-01: a subset without labels selects every endpoint; a label the pods lack selects none', () => {
  const r = resources(rule('reviews', `
    host: reviews
    subsets:
    - { name: all }
    - { name: gold, labels: { version: v1, tier: gold } }
  `));
  assert.deepEqual(endpointsOf(r, name(9080, 'all', REVIEWS)), ['127.0.0.11:9080', '127.0.0.12:9080', '127.0.0.13:9080']);
  assert.deepEqual(endpointsOf(r, name(9080, 'gold', REVIEWS)), []);
});

test('DR-01: a VirtualService route to subset v1 (TASK-01) reaches only the v1 pods', () => {
  const vs = yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: reviews }
    spec:
      hosts: [reviews]
      http:
      - route:
        - destination: { host: reviews, subset: v1 }
  `;
  const got = simulate(resources(DESTINATION_RULE_ALL + vs), { port: 15001, authority: 'reviews:9080', path: '/reviews/0' });
  assert.deepEqual(pick(got, { cluster: name(9080, 'v1', REVIEWS), clusterExists: true, endpoints: ['127.0.0.11:9080'] }), { cluster: name(9080, 'v1', REVIEWS), clusterExists: true, endpoints: ['127.0.0.11:9080'] });
});

test('DR-01: two rules for one host in one namespace merge: subsets concatenated (first name wins), first top-level policy kept', () => {
  const config =
    rule('reviews-a', `
    host: reviews
    trafficPolicy: { loadBalancer: { simple: RANDOM } }
    subsets: [{ name: v1, labels: { version: v1 } }]
  `) +
    rule('reviews-b', `
    host: reviews.default.svc.cluster.local
    trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
    subsets: [{ name: v1, labels: { version: v2 } }, { name: v2, labels: { version: v2 } }]
  `);
  const r = resources(config);
  assert.equal(wireCluster(r, name(9080, '', REVIEWS))?.lbPolicy, 'RANDOM');
  assert.deepEqual(endpointsOf(r, name(9080, 'v1', REVIEWS)), ['127.0.0.11:9080']);
  assert.deepEqual(endpointsOf(r, name(9080, 'v2', REVIEWS)), ['127.0.0.12:9080', '127.0.0.13:9080']);
  const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
  assert.deepEqual(destinationRuleFor(snap, proxyOf(PRODUCTPAGE), REVIEWS)?.spec.subsets.map((s) => s.name), ['v1', 'v2']);
});

test('DR-01: subsetExists tells the routes generator which subsets are defined for the proxy', () => {
  const snap = buildSnapshot({ manifests: BASE + DESTINATION_RULE_ALL, pods: PODS });
  const p = proxyOf(PRODUCTPAGE);
  assert.equal(subsetExists(snap, p, REVIEWS, 'v3'), true);
  assert.equal(subsetExists(snap, p, REVIEWS, 'v4'), false);
  assert.equal(subsetExists(snap, p, HTTPBIN, 'v1'), false);
});

// ---- DR-02/03/10: load balancing per rule, subset and port ---------------------------------------

const LB_POLICY = rule('reviews', `
  host: reviews
  trafficPolicy:
    loadBalancer: { simple: RANDOM }
    portLevelSettings:
    - port: { number: 9090 }
      loadBalancer: { simple: ROUND_ROBIN }
  subsets:
  - name: v1
    labels: { version: v1 }
  - name: v2
    labels: { version: v2 }
    trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } }
  - name: v3
    labels: { version: v3 }
    trafficPolicy:
      portLevelSettings:
      - port: { number: 9080 }
        loadBalancer: { consistentHash: { httpHeaderName: x-user } }
`);

run([
  { name: 'DR-02: without a DestinationRule the policy is LEAST_REQUEST (Istio\'s default)', config: '', cluster: name(9080, '', REVIEWS), want: { lbPolicy: 'LEAST_REQUEST' } },
  { name: 'DR-02: simple RANDOM', config: LB_POLICY, cluster: name(9080, '', REVIEWS), want: { lbPolicy: 'RANDOM' } },
  { name: 'DR-01: a subset without a policy inherits the rule\'s (v1 RANDOM)', config: LB_POLICY, cluster: name(9080, 'v1', REVIEWS), want: { lbPolicy: 'RANDOM' } },
  { name: 'DR-01: a subset\'s loadBalancer overrides the rule\'s (v2 LEAST_REQUEST)', config: LB_POLICY, cluster: name(9080, 'v2', REVIEWS), want: { lbPolicy: 'LEAST_REQUEST' } },
  { name: 'DR-10: portLevelSettings override the top level on their port (9090 ROUND_ROBIN)', config: LB_POLICY, cluster: name(9090, '', REVIEWS), want: { lbPolicy: 'ROUND_ROBIN' } },
  { name: 'DR-10: the rule\'s port-level setting reaches a subset without its own (v1 on 9090)', config: LB_POLICY, cluster: name(9090, 'v1', REVIEWS), want: { lbPolicy: 'ROUND_ROBIN' } },
  { name: 'DR-10: a subset\'s port-level setting applies on its port only (v3 on 9080: RING_HASH)', config: LB_POLICY, cluster: name(9080, 'v3', REVIEWS), want: { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: 1024 } } },
  { name: 'DR-10: ... and not on another port (v3 on 9090 keeps the rule\'s ROUND_ROBIN)', config: LB_POLICY, cluster: name(9090, 'v3', REVIEWS), want: { lbPolicy: 'ROUND_ROBIN' }, without: ['ringHashLbConfig'] },
  {
    name: 'DR-02: the deprecated LEAST_CONN means LEAST_REQUEST',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { loadBalancer: { simple: LEAST_CONN } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { lbPolicy: 'LEAST_REQUEST' },
  },
  {
    name: 'DR-03: consistentHash with ringHash.minimumRingSize is RING_HASH with that ring size',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 4096 } } } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: 4096 } },
  },
  {
    name: 'DR-03: consistentHash with maglev is MAGLEV with its table size',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: user, ttl: 0s }, maglev: { tableSize: 65537 } } } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: 65537 } },
    without: ['ringHashLbConfig'],
  },
  {
    name: 'DR-02: PASSTHROUGH makes the cluster ORIGINAL_DST with CLUSTER_PROVIDED and no EDS',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { loadBalancer: { simple: PASSTHROUGH } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' },
    without: ['edsClusterConfig', 'loadAssignment'],
  },
]);

test('DR-02: a PASSTHROUGH cluster gets no ClusterLoadAssignment; the other EDS clusters all do', () => {
  const r = resources(rule('httpbin', `
    host: httpbin
    trafficPolicy: { loadBalancer: { simple: PASSTHROUGH } }
  `));
  assert.equal(endpointsOf(r, name(8000, '', HTTPBIN)), undefined);
  const eds = r.clusters.filter((c) => c.type === 'EDS').map((c) => c.name).sort();
  assert.deepEqual(r.endpoints.map((e) => e.clusterName).sort(), eds);
});

const HASH_KEYS: readonly [key: string, want: unknown][] = [
  ['{ httpHeaderName: x-user }', [{ header: { headerName: 'x-user' } }]],
  ['{ httpCookie: { name: session, ttl: 3600s, path: /app } }', [{ cookie: { name: 'session', ttl: '3600s', path: '/app' } }]],
  ['{ httpCookie: { name: session, ttl: 1.5s } }', [{ cookie: { name: 'session', ttl: '1.5s' } }]],
  ['{ useSourceIp: true }', [{ connectionProperties: { sourceIp: true } }]],
  ['{ httpQueryParameterName: user }', [{ queryParameter: { name: 'user' } }]],
];

for (const [key, want] of HASH_KEYS) {
  test(`DR-03: hashPolicyFor turns consistentHash ${key} into the route hash policy`, () => {
    const config = rule('httpbin', `
      host: httpbin
      trafficPolicy: { loadBalancer: { consistentHash: ${key} } }
    `);
    const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
    assert.deepEqual(hashPolicyFor(snap, proxyOf(PRODUCTPAGE), HTTPBIN, 8000), want);
  });
}

test('DR-03: hashPolicyFor follows subsets and ports, and is undefined without a consistentHash', () => {
  const snap = buildSnapshot({ manifests: BASE + LB_POLICY, pods: PODS });
  const p = proxyOf(PRODUCTPAGE);
  assert.deepEqual(hashPolicyFor(snap, p, REVIEWS, 9080, 'v3'), [{ header: { headerName: 'x-user' } }]);
  assert.equal(hashPolicyFor(snap, p, REVIEWS, 9090, 'v3'), undefined);
  assert.equal(hashPolicyFor(snap, p, REVIEWS, 9080, 'v1'), undefined);
  assert.equal(hashPolicyFor(snap, p, REVIEWS, 9080), undefined);
  assert.equal(hashPolicyFor(snap, p, HTTPBIN, 8000), undefined);
  assert.deepEqual(effectivePolicy(snap, p, REVIEWS, 9090, 'v2').loadBalancer, { simple: 'LEAST_REQUEST' });
});

// ---- DR-06/07/08: connection pool and outlier detection -------------------------------------------

/** TASK-06's DestinationRule, as written in the task. */
const CIRCUIT_BREAKING = rule('httpbin', `
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 1 }
      http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 }
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
`);

run([
  {
    name: 'DR-06/07: without a rule, every threshold is 2^32-1 (as Istio writes them) and connectTimeout is 10s',
    config: '',
    cluster: name(8000, '', HTTPBIN),
    want: { connectTimeout: '10s', circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }] } },
    without: ['outlierDetection', 'commonHttpProtocolOptions', 'commonLbConfig', 'upstreamConnectionOptions', 'http2ProtocolOptions', 'transportSocket'],
  },
  {
    name: 'TASK-06: maxConnections 1 and http1MaxPendingRequests 1 are the breaker\'s limits; the rest stay 2^32-1',
    config: CIRCUIT_BREAKING,
    cluster: name(8000, '', HTTPBIN),
    want: { circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1, maxRequests: MAX, maxRetries: MAX }] }, commonHttpProtocolOptions: { maxRequestsPerConnection: 1 } },
  },
  {
    name: 'retryBudget becomes the breaker\'s retry budget (defaults 20% and 3), on the wire too',
    config: rule('httpbin', `
host: httpbin
trafficPolicy:
  retryBudget: { percent: { value: 25 } }
`),
    cluster: name(8000, '', HTTPBIN),
    want: { circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX, retryBudget: { budgetPercent: { value: 25 }, minRetryConcurrency: 3 } }] } },
  },
  {
    name: 'TASK-06: outlier detection as Istio converts it (5xx enforced, success rate off, no panic threshold)',
    config: CIRCUIT_BREAKING,
    cluster: name(8000, '', HTTPBIN),
    want: {
      outlierDetection: { consecutive5xx: 1, enforcingConsecutive5xx: 100, interval: '1s', baseEjectionTime: '180s', maxEjectionPercent: 100, enforcingSuccessRate: 0 },
      commonLbConfig: { healthyPanicThreshold: { value: 0 } },
    },
  },
  {
    name: 'TASK-06: the server side\'s inbound cluster gets the same connection limits',
    config: CIRCUIT_BREAKING,
    from: PODS.find((w) => w.name === 'httpbin-v1-0')!,
    cluster: 'inbound|8080||',
    want: { type: 'STATIC', circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1, maxRequests: MAX, maxRetries: MAX }] }, commonHttpProtocolOptions: { maxRequestsPerConnection: 1 } },
    without: ['outlierDetection'],
  },
  {
    name: 'DR-07: http2MaxRequests and maxRetries set maxRequests and maxRetries; tcp.connectTimeout replaces the mesh\'s',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy:
        connectionPool:
          tcp: { connectTimeout: 250ms }
          http: { http2MaxRequests: 50, maxRetries: 3 }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { connectTimeout: '0.25s', circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: 50, maxRetries: 3 }] } },
  },
  {
    name: 'DR-06: tcpKeepalive in seconds; http idleTimeout wins over tcp idleTimeout; maxConnectionDuration',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy:
        connectionPool:
          tcp: { tcpKeepalive: { probes: 3, time: 2m, interval: 30s }, idleTimeout: 1h, maxConnectionDuration: 10m }
          http: { idleTimeout: 90s }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: {
      upstreamConnectionOptions: { tcpKeepalive: { keepaliveProbes: 3, keepaliveTime: 120, keepaliveInterval: 30 } },
      commonHttpProtocolOptions: { idleTimeout: '90s', maxConnectionDuration: '600s' },
    },
  },
  {
    name: 'DR-06: tcp idleTimeout applies when http sets none',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { connectionPool: { tcp: { idleTimeout: 5s } } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { commonHttpProtocolOptions: { idleTimeout: '5s' } },
  },
  {
    name: 'DR-07: a GRPC port is HTTP/2 upstream without being asked',
    config: '',
    cluster: name(50051, '', 'greeter.default.svc.cluster.local'),
    want: { http2ProtocolOptions: {} },
  },
  {
    name: 'DR-07: DO_NOT_UPGRADE never downgrades a GRPC port',
    config: rule('greeter', `
      host: greeter
      trafficPolicy: { connectionPool: { http: { h2UpgradePolicy: DO_NOT_UPGRADE } } }
    `),
    cluster: name(50051, '', 'greeter.default.svc.cluster.local'),
    want: { http2ProtocolOptions: {} },
  },
  {
    name: 'DR-07: h2UpgradePolicy UPGRADE makes an HTTP port HTTP/2, with maxConcurrentStreams',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { connectionPool: { http: { h2UpgradePolicy: UPGRADE, maxConcurrentStreams: 64 } } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { http2ProtocolOptions: { maxConcurrentStreams: 64 } },
  },
  {
    name: 'DR-07: an HTTP port stays HTTP/1.1 by default (maxConcurrentStreams alone does not upgrade)',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { connectionPool: { http: { maxConcurrentStreams: 64 } } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: {},
    without: ['http2ProtocolOptions'],
  },
  {
    name: 'DR-08: consecutiveGatewayErrors alone: gateway failures enforced, 5xx left to Envoy\'s default',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { outlierDetection: { consecutiveGatewayErrors: 3, minHealthPercent: 30 } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { outlierDetection: { consecutiveGatewayFailure: 3, enforcingConsecutiveGatewayFailure: 100, enforcingSuccessRate: 0 }, commonLbConfig: { healthyPanicThreshold: { value: 30 } } },
  },
  {
    name: 'DR-08: consecutive5xxErrors 0 turns 5xx ejection off (count 0, enforcing 0)',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { outlierDetection: { consecutive5xxErrors: 0, baseEjectionTime: 30s } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { outlierDetection: { consecutive5xx: 0, enforcingConsecutive5xx: 0, baseEjectionTime: '30s', enforcingSuccessRate: 0 } },
  },
  {
    name: 'DR-08: the deprecated consecutiveErrors counts gateway errors and disables 5xx counting',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { outlierDetection: { consecutiveErrors: 7 } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { outlierDetection: { consecutive5xx: 0, enforcingConsecutive5xx: 0, consecutiveGatewayFailure: 7, enforcingConsecutiveGatewayFailure: 100, enforcingSuccessRate: 0 } },
  },
  {
    name: 'DR-08: splitExternalLocalOriginErrors with consecutiveLocalOriginFailures',
    config: rule('httpbin', `
      host: httpbin
      trafficPolicy: { outlierDetection: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 } }
    `),
    cluster: name(8000, '', HTTPBIN),
    want: { outlierDetection: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 2, enforcingConsecutiveLocalOriginFailure: 100, enforcingSuccessRate: 0 } },
  },
  {
    name: 'DR-01: a subset\'s connectionPool replaces the rule\'s whole (v2: only its own maxConnections)',
    config: rule('reviews', `
      host: reviews
      trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 }, http: { http1MaxPendingRequests: 5 } } }
      subsets:
      - name: v2
        labels: { version: v2 }
        trafficPolicy: { connectionPool: { tcp: { maxConnections: 2 } } }
    `),
    cluster: name(9080, 'v2', REVIEWS),
    want: { circuitBreakers: { thresholds: [{ maxConnections: 2, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }] } },
  },
]);

test('MeshConfig connectTimeout is every cluster\'s default connect timeout', () => {
  const mesh = yaml`
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: { name: istio, namespace: istio-system }
    data:
      mesh: |-
        connectTimeout: 3s
  `;
  const r = resources(mesh);
  assert.equal(wireCluster(r, name(8000, '', HTTPBIN))?.connectTimeout, '3s');
  assert.equal(wireCluster(r, 'PassthroughCluster')?.connectTimeout, '3s');
});

// ---- DR-09: TLS origination -----------------------------------------------------------------------

const API = 'api.example.com';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
/** The TLS rows need real certificates (the loader checks Secret PEMs), made with openssl. */
const NO_OPENSSL = opensslSkipReason();

/** api.example.com (HTTPS 443, GRPC 8443) and Secrets in the four formats credentialName accepts. */
function tlsHosts(): string {
  const { valid, other } = testCertificates();
  const q = (pem: string) => JSON.stringify(pem);
  return yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: { name: api }
    spec:
      hosts: [api.example.com]
      ports: [{ number: 443, name: https, protocol: HTTPS }, { number: 8443, name: grpc, protocol: GRPC }]
      resolution: DNS
    ---
    apiVersion: v1
    kind: Secret
    metadata: { name: api-ca }
    type: Opaque
    stringData: { ca.crt: ${q(other.cert)} }
    ---
    apiVersion: v1
    kind: Secret
    metadata: { name: api-generic }
    type: Opaque
    stringData: { cert: ${q(valid.cert)}, key: ${q(valid.key)}, cacert: ${q(other.cert)} }
    ---
    apiVersion: v1
    kind: Secret
    metadata: { name: api-client }
    type: kubernetes.io/tls
    stringData: { tls.crt: ${q(valid.cert)}, tls.key: ${q(valid.key)} }
    ---
    apiVersion: v1
    kind: Secret
    metadata: { name: api-client-cacert }
    type: Opaque
    stringData: { ca.crt: ${q(valid.cert)} }
  `;
}

function tlsRule(tls: string, extra = ''): string {
  return tlsHosts() + rule('api', `
    host: api.example.com
    trafficPolicy:
      tls: ${tls}
      ${extra}
  `);
}

type Pems = ReturnType<typeof testCertificates>;

const TLS_ROWS: readonly [row: string, tls: string, want: (c: Pems) => unknown][] = [
  ['SIMPLE: SNI and SAN check default to the host; the system roots verify the chain', '{ mode: SIMPLE }', () => ({ sni: API, commonTlsContext: { validationContext: { matchSubjectAltNames: [{ exact: API }] } } })],
  ['SIMPLE with sni and subjectAltNames: exactly those', '{ mode: SIMPLE, sni: front.example.com, subjectAltNames: [a.example.com, b.example.com] }', () => ({ sni: 'front.example.com', commonTlsContext: { validationContext: { matchSubjectAltNames: [{ exact: 'a.example.com' }, { exact: 'b.example.com' }] } } })],
  ['SIMPLE with an explicit sni and no SANs: the chain only (no auto SAN check)', '{ mode: SIMPLE, sni: front.example.com }', () => ({ sni: 'front.example.com', commonTlsContext: {} })],
  ['SIMPLE with credentialName: the Secret\'s ca.crt, inline', '{ mode: SIMPLE, credentialName: api-ca }', (c) => ({ sni: API, commonTlsContext: { validationContext: { trustedCa: { inlineString: c.other.cert }, matchSubjectAltNames: [{ exact: API }] } } })],
  ['SIMPLE with insecureSkipVerify: any chain, no SAN check', '{ mode: SIMPLE, insecureSkipVerify: true }', () => ({ sni: API, commonTlsContext: { validationContext: { trustChainVerification: 'ACCEPT_UNTRUSTED' } } })],
  ['SIMPLE with a missing Secret: the CA is asked for over SDS, so connections fail closed', '{ mode: SIMPLE, credentialName: nope }', () => ({ sni: API, commonTlsContext: { validationContextSdsSecretConfig: { name: 'kubernetes://nope-cacert', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } } } })],
  [
    'MUTUAL with a generic Secret (cert, key, cacert): client certificate and CA inline',
    '{ mode: MUTUAL, credentialName: api-generic }',
    (c) => ({ sni: API, commonTlsContext: { tlsCertificates: [{ certificateChain: { inlineString: c.valid.cert }, privateKey: { inlineString: c.valid.key } }], validationContext: { trustedCa: { inlineString: c.other.cert }, matchSubjectAltNames: [{ exact: API }] } } }),
  ],
  [
    'MUTUAL with a TLS Secret and its <name>-cacert Secret',
    '{ mode: MUTUAL, credentialName: api-client, subjectAltNames: [api.internal] }',
    (c) => ({ sni: API, commonTlsContext: { tlsCertificates: [{ certificateChain: { inlineString: c.valid.cert }, privateKey: { inlineString: c.valid.key } }], validationContext: { trustedCa: { inlineString: c.valid.cert }, matchSubjectAltNames: [{ exact: 'api.internal' }] } } }),
  ],
  ['MUTUAL with a missing Secret: certificate and CA over SDS (fail closed)', '{ mode: MUTUAL, credentialName: nope }', () => ({ sni: API, commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'kubernetes://nope', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } }], validationContextSdsSecretConfig: { name: 'kubernetes://nope-cacert', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } } } })],
];

for (const [row, tls, want] of TLS_ROWS) {
  test(`DR-09 ${row}`, { skip: NO_OPENSSL }, () => {
    const c = wireCluster(resources(tlsRule(tls)), name(443, '', API));
    assert.equal(c?.transportSocket?.name, 'envoy.transport_sockets.tls');
    assert.deepEqual(c.transportSocket.typedConfig, { '@type': UPSTREAM_TLS, ...(want(testCertificates()) as object) });
  });
}

const TLS_OFF: readonly [row: string, tls: string, extra: string, cluster: string][] = [
  ['DISABLE originates nothing', '{ mode: DISABLE }', '', name(443, '', API)],
  ['ISTIO_MUTUAL is not implemented yet and is treated as DISABLE', '{ mode: ISTIO_MUTUAL }', '', name(443, '', API)],
  ['a port-level DISABLE overrides a top-level SIMPLE on its port (8443)', '{ mode: SIMPLE }', 'portLevelSettings:\n      - port: { number: 8443 }\n        tls: { mode: DISABLE }', name(8443, '', API)],
];

for (const [row, tls, extra, cluster] of TLS_OFF) {
  test(`DR-09: ${row}`, { skip: NO_OPENSSL }, () => {
    const r = resources(tlsRule(tls, extra));
    const c = wireCluster(r, cluster);
    assert.ok(c, `cluster ${cluster} exists`);
    assert.equal(c.transportSocket, undefined);
  });
}

test('DR-10: ... while the top-level SIMPLE still applies to the other port (443)', { skip: NO_OPENSSL }, () => {
  const c = wireCluster(resources(tlsRule('{ mode: SIMPLE }', 'portLevelSettings:\n      - port: { number: 8443 }\n        tls: { mode: DISABLE }')), name(443, '', API));
  assert.equal(c?.transportSocket?.typedConfig.sni, API);
});

test('DR-09: TLS to an HTTP/2 port offers h2 with ALPN, to an HTTP/1.1 one nothing', { skip: NO_OPENSSL }, () => {
  const r = resources(tlsRule('{ mode: SIMPLE }'));
  assert.deepEqual(wireCluster(r, name(8443, '', API))?.transportSocket?.typedConfig.commonTlsContext?.alpnProtocols, ['h2']);
  assert.equal(wireCluster(r, name(443, '', API))?.transportSocket?.typedConfig.commonTlsContext?.alpnProtocols, undefined);
});

test('DR-09: the ServiceEntry\'s subjectAltNames are the default SANs', { skip: NO_OPENSSL }, () => {
  const config = tlsHosts().replace('resolution: DNS', 'resolution: DNS\n  subjectAltNames: [spiffe://corp/api]') + rule('api', `
    host: api.example.com
    trafficPolicy: { tls: { mode: SIMPLE } }
  `);
  const c = wireCluster(resources(config), name(443, '', API));
  assert.deepEqual(c?.transportSocket?.typedConfig.commonTlsContext?.validationContext?.matchSubjectAltNames, [{ exact: 'spiffe://corp/api' }]);
});

// ---- DR-01: which rule applies (lookup order, exportTo, wildcards, workloadSelector) ---------------

/** Rules for prod/db: in prod (exported by default), in default, and in the root namespace. */
const DB = 'db.prod.svc.cluster.local';
const DB_OWNER = rule('db-owner', `
  host: db.prod.svc.cluster.local
  trafficPolicy: { loadBalancer: { simple: RANDOM } }
`, 'prod');
const DB_OWNER_PRIVATE = rule('db-owner', `
  host: db.prod.svc.cluster.local
  exportTo: ["."]
  trafficPolicy: { loadBalancer: { simple: RANDOM } }
`, 'prod');
const DB_CLIENT = rule('db-client', `
  host: db.prod.svc.cluster.local
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
`);
const DB_MESH = rule('db-mesh', `
  host: db.prod.svc.cluster.local
  trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } }
  subsets: [{ name: mesh, labels: { app: db } }]
`, 'istio-system');
const DB_GATEWAY_ONLY = rule('db-gw', `
  host: db.prod.svc.cluster.local
  exportTo: ["."]
`, 'istio-system');
const LOOKUP = DB_OWNER + DB_CLIENT + DB_MESH;

const lookupRows: readonly [row: string, config: string, from: Workload, wantRule: string | undefined][] = [
  ['a rule in the proxy\'s own namespace comes first', LOOKUP, PRODUCTPAGE, 'default/db-client'],
  ['without one there, the service namespace\'s exported rule', LOOKUP, OPS, 'prod/db-owner'],
  ['a gateway (root namespace) without a private root rule uses the service namespace\'s', LOOKUP, GATEWAY_POD, 'prod/db-owner'],
  ['a service namespace\'s rule with exportTo ["."] is invisible elsewhere: the root namespace\'s applies', DB_OWNER_PRIVATE + DB_MESH, PRODUCTPAGE, 'istio-system/db-mesh'],
  ['... while its own namespace still sees it first', DB_OWNER_PRIVATE + DB_MESH, OPS, 'prod/db-owner'],
  [
    'a rule exported to a namespace list reaches those namespaces only',
    rule('db-owner', `
      host: db.prod.svc.cluster.local
      exportTo: [other]
    `, 'prod'),
    PRODUCTPAGE,
    undefined,
  ],
  [
    'a rule exported to the proxy\'s namespace by name is found there',
    rule('db-owner', `
      host: db.prod.svc.cluster.local
      exportTo: [default]
    `, 'prod'),
    PRODUCTPAGE,
    'prod/db-owner',
  ],
  ['the root namespace\'s rule applies mesh-wide when nothing closer exists', DB_MESH, OPS, 'istio-system/db-mesh'],
  ['a private rule of the root namespace applies to proxies there', DB_GATEWAY_ONLY, GATEWAY_POD, 'istio-system/db-gw'],
  ['... and not to sidecars elsewhere', DB_GATEWAY_ONLY, PRODUCTPAGE, undefined],
  ['no rule at all: undefined', '', PRODUCTPAGE, undefined],
];

for (const [row, config, from, wantRule] of lookupRows) {
  test(`DR-01 lookup: ${row}`, () => {
    const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
    const got = destinationRuleFor(snap, proxyOf(from), DB);
    assert.equal(got ? `${got.metadata.namespace}/${got.metadata.name}` : undefined, wantRule);
  });
}

test('DR-01 lookup: the rule found is the one the clusters use (LB and subsets follow it)', () => {
  const fromDefault = resources(LOOKUP);
  assert.equal(wireCluster(fromDefault, name(80, '', DB))?.lbPolicy, 'ROUND_ROBIN');
  assert.equal(wireCluster(fromDefault, name(80, 'mesh', DB)), undefined);
  const fromProd = resources(LOOKUP, OPS);
  assert.equal(wireCluster(fromProd, name(80, '', DB))?.lbPolicy, 'RANDOM');
  const rootOnly = resources(DB_MESH, OPS);
  assert.deepEqual(endpointsOf(rootOnly, name(80, 'mesh', DB)), ['127.0.1.2:80']);
});

test('DR-01 lookup: MeshConfig defaultDestinationRuleExportTo ["."] keeps rules without exportTo private', () => {
  const mesh = yaml`
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: { name: istio, namespace: istio-system }
    data:
      mesh: |-
        defaultDestinationRuleExportTo: ["."]
  `;
  const config = mesh + rule('db-owner', `
    host: db.prod.svc.cluster.local
    trafficPolicy: { loadBalancer: { simple: RANDOM } }
  `, 'prod');
  const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
  assert.equal(destinationRuleFor(snap, proxyOf(PRODUCTPAGE), DB), undefined);
  assert.equal(destinationRuleFor(snap, proxyOf(OPS), DB)?.metadata.name, 'db-owner');
});

const WILDCARDS = [
  rule('all-default', `
    host: "*.default.svc.cluster.local"
    trafficPolicy: { loadBalancer: { simple: RANDOM } }
  `),
  rule('all-local', `
    host: "*.svc.cluster.local"
    trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
  `),
  rule('ratings', `
    host: ratings
    trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } }
  `),
].join('');

run([
  { name: 'DR-01: a wildcard rule applies to the hosts it matches (*.default.svc.cluster.local → reviews)', config: WILDCARDS, cluster: name(9080, '', REVIEWS), want: { lbPolicy: 'RANDOM' } },
  { name: 'DR-01: the most specific host wins: an exact rule beats the wildcards (ratings)', config: WILDCARDS, cluster: name(9080, '', 'ratings.default.svc.cluster.local'), want: { lbPolicy: 'LEAST_REQUEST' } },
  { name: 'DR-01: a shorter wildcard covers what the longer does not (*.svc.cluster.local → db.prod)', config: WILDCARDS, cluster: name(80, '', DB), want: { lbPolicy: 'ROUND_ROBIN' } },
]);

const SELECTOR_RULES =
  rule('reviews-canary', `
    host: reviews
    workloadSelector: { matchLabels: { version: v2 } }
    trafficPolicy: { loadBalancer: { simple: RANDOM } }
    subsets: [{ name: canary, labels: { version: v2 } }]
  `) +
  rule('reviews', `
    host: reviews
    trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
    subsets: [{ name: v1, labels: { version: v1 } }]
  `);

test('DR-01: a rule with workloadSelector applies only to the sidecars it selects, ahead of the rule without', () => {
  const selected = resources(SELECTOR_RULES, CANARY_CLIENT);
  assert.equal(wireCluster(selected, name(9080, '', REVIEWS))?.lbPolicy, 'RANDOM');
  assert.deepEqual(endpointsOf(selected, name(9080, 'canary', REVIEWS)), ['127.0.0.12:9080', '127.0.0.13:9080']);
  const other = resources(SELECTOR_RULES, PRODUCTPAGE);
  assert.equal(wireCluster(other, name(9080, '', REVIEWS))?.lbPolicy, 'ROUND_ROBIN');
  assert.equal(wireCluster(other, name(9080, 'canary', REVIEWS)), undefined);
  assert.deepEqual(endpointsOf(other, name(9080, 'v1', REVIEWS)), ['127.0.0.11:9080']);
});

test('DR-01: a workloadSelector rule is private to its namespace (a prod sidecar with matching labels ignores it)', () => {
  const prodV2 = pod('client-0', 'prod', '127.0.1.20', { labels: { app: 'client', version: 'v2' } });
  const r = resourcesFor({ manifests: BASE + SELECTOR_RULES, pods: [...PODS, prodV2] }, prodV2);
  assert.equal(wireCluster(r, name(9080, '', REVIEWS))?.lbPolicy, 'ROUND_ROBIN');
});

test('DR-01: a gateway applies the rule for the host it routes to (subset clusters on the gateway)', () => {
  const r = resources(DESTINATION_RULE_ALL, GATEWAY_POD);
  assert.deepEqual(endpointsOf(r, name(9080, 'v2', REVIEWS)), ['127.0.0.12:9080', '127.0.0.13:9080']);
  assert.equal(wireCluster(r, 'PassthroughCluster'), undefined, 'gateways have no PassthroughCluster (Istio)');
});

// ---- every cluster is a valid Envoy cluster --------------------------------------------------------

test('every cluster generated from these rules survives the Envoy protobuf round trip', () => {
  const tls = NO_OPENSSL ? [] : [tlsRule('{ mode: MUTUAL, credentialName: api-generic }'), tlsRule('{ mode: MUTUAL, credentialName: nope }'), tlsRule('{ mode: SIMPLE, insecureSkipVerify: true }')];
  const configs = [DESTINATION_RULE_ALL, LB_POLICY, CIRCUIT_BREAKING, LOOKUP, WILDCARDS, SELECTOR_RULES, ...tls];
  let count = 0;
  for (const config of configs) {
    for (const from of [PRODUCTPAGE, GATEWAY_POD]) {
      const snap = buildSnapshot({ manifests: BASE + config, pods: PODS });
      for (const c of generateProxyResources(snap, proxyOf(from)).clusters) {
        const back = normalizeResource(TYPE_URL.cluster, c);
        assert.equal(JSON.stringify(sortKeys(back)), JSON.stringify(sortKeys(c)), c.name);
        count++;
      }
    }
  }
  assert.ok(count > 100);
});

/** Keys sorted, so objects compare regardless of field order (the codec writes proto order). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}
