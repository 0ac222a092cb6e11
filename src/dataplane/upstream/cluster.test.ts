// A cluster built from its resource: validation (NACK before anything changes), the healthy
// set and the panic threshold, EDS health, outlier ejections rebuilding the load balancer, host
// identity across updates, hash keys, and the cluster manager's prepare/commit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { StatsRegistry } from '../../telemetry/stats/stats.js';
import { UPSTREAM_TLS_TYPE } from '../../xds/resources.js';
import type { Cluster as ClusterResource, ClusterLoadAssignment, LbEndpoint } from '../../xds/resources.js';
import { ConfigError } from '../config/durations.js';
import { ClusterManager } from './cluster-manager.js';
import type { Host } from './host.js';
import { LOCAL, makeCluster, staticCluster } from './test-support.js';

const endpoint = (address: string, port: number, extra: Partial<LbEndpoint> = {}): LbEndpoint => ({ endpoint: { address: { socketAddress: { address, portValue: port } } }, ...extra });
const cla = (name: string, eps: LbEndpoint[]): ClusterLoadAssignment => ({ clusterName: name, endpoints: [{ lbEndpoints: eps }] });
const eds = (name: string, extra: Partial<ClusterResource> = {}): ClusterResource => ({ name, type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: name }, connectTimeout: '1s', ...extra });

const rejected: [string, Partial<ClusterResource>, RegExp][] = [
  ['unknown discovery type', { type: 'REDIS' as ClusterResource['type'] }, /discovery type REDIS is not supported/],
  ['CLUSTER_PROVIDED outside ORIGINAL_DST', { lbPolicy: 'CLUSTER_PROVIDED' }, /lbPolicy CLUSTER_PROVIDED is not supported/],
  ['ORIGINAL_DST with RING_HASH', { type: 'ORIGINAL_DST', lbPolicy: 'RING_HASH', loadAssignment: undefined }, /ORIGINAL_DST cluster needs lbPolicy CLUSTER_PROVIDED/],
  ['ring minimum above maximum', { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: 4096, maximumRingSize: 1024 } }, /minimumRingSize 4096 exceeds maximumRingSize 1024/],
  ['ring above 8M', { ringHashLbConfig: { maximumRingSize: 8388609 } }, /maximumRingSize: must be an integer between 1 and 8388608/],
  ['Maglev table not prime', { lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: 65536 } }, /tableSize: 65536 is not a prime number/],
  ['choiceCount 1', { leastRequestLbConfig: { choiceCount: 1 } }, /choiceCount: must be an integer between 2/],
  ['panic threshold 101', { commonLbConfig: { healthyPanicThreshold: { value: 101 } } }, /healthyPanicThreshold: must be between 0 and 100/],
  ['negative max requests per connection', { commonHttpProtocolOptions: { maxRequestsPerConnection: -1 } }, /maxRequestsPerConnection: must be an integer/],
  ['bad idle timeout', { commonHttpProtocolOptions: { idleTimeout: 'forever' } }, /idleTimeout: invalid duration "forever"/],
  ['zero concurrent streams', { http2ProtocolOptions: { maxConcurrentStreams: 0 } }, /maxConcurrentStreams: must be an integer between 1/],
  ['zero connect timeout', { connectTimeout: '0s' }, /connectTimeout: must be greater than 0/],
  ['bad DNS family', { dnsLookupFamily: 'V5_ONLY' as ClusterResource['dnsLookupFamily'] }, /dnsLookupFamily: V5_ONLY is not one of/],
  ['LOGICAL_DNS with two endpoints', { type: 'LOGICAL_DNS' }, /LOGICAL_DNS cluster needs exactly one endpoint in loadAssignment, found 2/],
  ['weight 0', { loadAssignment: cla('c', [endpoint('10.0.0.1', 80, { loadBalancingWeight: 0 })]) }, /loadBalancingWeight 0/],
  ['outlier percent', { outlierDetection: { maxEjectionPercent: 200 } }, /outlierDetection.maxEjectionPercent/],
  ['circuit breaker', { circuitBreakers: { thresholds: [{ maxConnections: 1.5 }] } }, /circuitBreakers.maxConnections/],
  ['transport socket type', { transportSocket: { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': 'type.googleapis.com/x.Raw' } as never } }, /transport socket type.googleapis.com\/x.Raw is not supported/],
];

for (const [what, extra, message] of rejected) {
  test(`a cluster with ${what} is rejected: ${message.source}`, () => {
    assert.throws(
      () => makeCluster({ ...staticCluster('c', [8080, 8081]), ...extra }),
      (e: Error) => e instanceof ConfigError && message.test(e.message),
    );
  });
}

test('a valid resource with every supported section builds', () => {
  const { cluster } = makeCluster(
    staticCluster('c', [8080], {
      lbPolicy: 'MAGLEV',
      maglevLbConfig: { tableSize: 251 },
      commonLbConfig: { healthyPanicThreshold: { value: 0 } },
      commonHttpProtocolOptions: { idleTimeout: '60s', maxRequestsPerConnection: 10, maxConnectionDuration: '600s' },
      circuitBreakers: { thresholds: [{ maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295 }] },
      outlierDetection: { consecutive5xx: 1, interval: '1s', baseEjectionTime: '180s', maxEjectionPercent: 100, enforcingSuccessRate: 0 },
      upstreamConnectionOptions: { tcpKeepalive: { keepaliveTime: 300, keepaliveInterval: 75, keepaliveProbes: 9 } },
      transportSocket: { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': UPSTREAM_TLS_TYPE, sni: 'svc.example', commonTlsContext: { validationContext: { trustChainVerification: 'ACCEPT_UNTRUSTED' } } } },
    }),
  );
  assert.equal(cluster.lbPolicy, 'MAGLEV');
  assert.equal(cluster.tls?.servername, 'svc.example');
  assert.deepEqual(cluster.tls?.alpn, ['http/1.1']);
  cluster.close();
});

function pickCounts(choose: () => Host | undefined, n = 400): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = choose();
    const k = h?.key ?? 'none';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

test('EDS health: UNHEALTHY and DRAINING endpoints take no traffic and count in membership', () => {
  const { cluster, stat } = makeCluster(eds('c'));
  cluster.setEndpoints(cla('c', [endpoint('10.0.0.1', 80), endpoint('10.0.0.2', 80, { healthStatus: 'UNHEALTHY' }), endpoint('10.0.0.3', 80, { healthStatus: 'DRAINING' }), endpoint('10.0.0.4', 80, { healthStatus: 'UNKNOWN' })]));
  assert.deepEqual([...pickCounts(() => cluster.chooseHost('')).keys()].sort(), ['10.0.0.1:80', '10.0.0.4:80']);
  assert.equal(stat('membership_total'), 4);
  assert.equal(stat('membership_healthy'), 2);
});

test('panic: below healthyPanicThreshold the cluster balances over every host but DRAINING ones', () => {
  const { cluster, stat } = makeCluster(eds('c'));
  cluster.setEndpoints(
    cla('c', [endpoint('10.0.0.1', 80), endpoint('10.0.0.2', 80, { healthStatus: 'UNHEALTHY' }), endpoint('10.0.0.3', 80, { healthStatus: 'UNHEALTHY' }), endpoint('10.0.0.4', 80, { healthStatus: 'DRAINING' })]),
  );
  // 1 healthy of 3 (DRAINING hosts do not count) = 33% < 50%.
  assert.deepEqual([...pickCounts(() => cluster.chooseHost('')).keys()].sort(), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
  assert.equal(stat('lb_healthy_panic'), 400);
});

test('panic threshold 0 (Istio minHealthPercent 0) never panics: with no healthy host there is no host', () => {
  const { cluster } = makeCluster(eds('c', { commonLbConfig: { healthyPanicThreshold: { value: 0 } } }));
  cluster.setEndpoints(cla('c', [endpoint('10.0.0.1', 80, { healthStatus: 'UNHEALTHY' })]));
  assert.equal(cluster.chooseHost(''), undefined);
});

test('outlier ejection rebuilds the balancer without the host; the sweep brings it back', () => {
  const { cluster, clock, stat } = makeCluster(eds('c', { outlierDetection: { consecutive5xx: 2, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 100 } }));
  cluster.setEndpoints(cla('c', [endpoint('10.0.0.1', 80), endpoint('10.0.0.2', 80), endpoint('10.0.0.3', 80)]));
  cluster.start();
  const bad = cluster.hosts()[1]!;
  cluster.outlier.report(bad, { status: 503 });
  cluster.outlier.report(bad, { localOrigin: 'connect_failed' });
  assert.equal(bad.ejected, true);
  assert.equal(stat('membership_healthy'), 2);
  assert.ok(!pickCounts(() => cluster.chooseHost('')).has(bad.key));
  clock.advance(30_000);
  assert.equal(bad.ejected, false);
  assert.ok(pickCounts(() => cluster.chooseHost('')).has(bad.key));
  assert.equal(stat('outlier_detection_ejections_enforced_total'), 1);
  cluster.close();
});

test('ejecting 2 of 3 hosts with the default 50% threshold panics: ejected hosts take traffic again', () => {
  const { cluster } = makeCluster(eds('c', { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 } }));
  cluster.setEndpoints(cla('c', [endpoint('10.0.0.1', 80), endpoint('10.0.0.2', 80), endpoint('10.0.0.3', 80)]));
  cluster.outlier.report(cluster.hosts()[0]!, { status: 500 });
  assert.equal(pickCounts(() => cluster.chooseHost('')).size, 2);
  cluster.outlier.report(cluster.hosts()[1]!, { status: 500 });
  assert.equal(pickCounts(() => cluster.chooseHost('')).size, 3);
});

test('an EDS update keeps the Host objects of unchanged endpoints (counters, exclusions, ejections)', () => {
  const { cluster } = makeCluster(eds('c', { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 } }));
  cluster.setEndpoints(cla('c', [endpoint('10.0.0.1', 80), endpoint('10.0.0.2', 80), endpoint('10.0.0.3', 80)]));
  const [a, b] = cluster.hosts() as [Host, Host];
  a.activeRequests = 3;
  cluster.outlier.report(b, { status: 500 });
  cluster.setEndpoints(cla('c', [endpoint('10.0.0.1', 80), endpoint('10.0.0.2', 80, { loadBalancingWeight: 2 }), endpoint('10.0.0.4', 80)]));
  const [a2, b2] = cluster.hosts() as [Host, Host];
  assert.equal(a2, a);
  assert.equal(a2.activeRequests, 3);
  assert.notEqual(b2, b); // its weight changed: a new Host, but the endpoint is still ejected
  assert.equal(b2.ejected, true);
});

test('RING_HASH through the cluster: a hash key sticks to a host; a retry excluding it moves on', () => {
  const { cluster } = makeCluster(staticCluster('c', [8001, 8002, 8003, 8004], { lbPolicy: 'RING_HASH' }));
  const first = cluster.chooseHost('', { hashKey: 12345 })!;
  for (let i = 0; i < 10; i++) assert.equal(cluster.chooseHost('', { hashKey: 12345 }), first);
  const retry = cluster.chooseHost('', { hashKey: 12345, exclude: new Set([first]) })!;
  assert.notEqual(retry, first);
});

test('ORIGINAL_DST: the host is the request authority', () => {
  const { cluster } = makeCluster({ name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: '1s' });
  assert.equal(cluster.chooseHost('10.1.2.3:8080')?.key, '10.1.2.3:8080');
  assert.equal(cluster.chooseHost('[::1]:9000')?.key, '[::1]:9000');
  assert.equal(cluster.chooseHost('example.com')?.key, 'example.com:80');
});

test('cluster manager: unchanged resources keep their object; a bad update throws and changes nothing', () => {
  const stats = new StatsRegistry();
  const m = new ClusterManager(stats, seededRandom(1), LOCAL, { clock: new ManualClockForTest() });
  const a = staticCluster('a', [8080]);
  const b = eds('b');
  m.commit(m.prepare([a, b], new Map([['b', cla('b', [endpoint('10.0.0.1', 80)])]])));
  const [ca, cb] = [m.get('a')!, m.get('b')!];
  assert.equal(cb.hosts().length, 1);
  assert.throws(() => m.prepare([a, { ...b, lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: 10 } }], new Map()), ConfigError);
  assert.equal(m.get('b'), cb);
  // b changes: a new object that keeps serving b's hosts until its own assignment arrives.
  m.commit(m.prepare([a, { ...b, lbPolicy: 'RANDOM' }], new Map()));
  assert.equal(m.get('a'), ca);
  assert.notEqual(m.get('b'), cb);
  assert.equal(m.get('b')!.lbPolicy, 'RANDOM');
  assert.deepEqual(m.get('b')!.hosts().map((h) => h.key), ['10.0.0.1:80']);
  assert.notEqual(m.get('b')!.hosts()[0], cb.hosts()[0]);
  m.close();
});
