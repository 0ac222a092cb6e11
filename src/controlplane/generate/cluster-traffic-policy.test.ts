// Unit tests for the conversion of a resolved traffic policy into Envoy Cluster fields, as
// Istio's cluster_traffic_policy.go writes them (DR-02..08): defaults, the load balancer table,
// outlier detection only for what is set, and HTTP/2 selection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MESH_CONFIG } from '../../config/types.js';
import type { LoadBalancerSettings } from '../../config/types.js';
import type { PortProtocol } from '../../registry/registry.js';
import type { Cluster } from '../../xds/resources.js';
import { UINT32_MAX, applyConnectionPool, applyLoadBalancer, applyOutlierDetection, speaksHttp2 } from './cluster-traffic-policy.js';
import type { EffectivePolicy } from './destination-policy.js';

const eds = (): Cluster => ({ name: 'c', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: 'c' } });
const ms = (n: number) => ({ ms: n, text: `${n}ms` });

test('applyConnectionPool: without settings, Istio\'s defaults (mesh connect timeout, every threshold 2^32-1) and nothing else', () => {
  const c = eds();
  applyConnectionPool(c, {}, { ...DEFAULT_MESH_CONFIG, connectTimeout: ms(2500) });
  assert.deepEqual(c, { ...eds(), connectTimeout: '2.5s', circuitBreakers: { thresholds: [{ maxConnections: UINT32_MAX, maxPendingRequests: UINT32_MAX, maxRequests: UINT32_MAX, maxRetries: UINT32_MAX }] } });
});

test('applyConnectionPool: maxConcurrentStreams only on an HTTP/2 cluster', () => {
  const policy: EffectivePolicy = { connectionPool: { http: { maxConcurrentStreams: 7, h2UpgradePolicy: 'DEFAULT', useClientProtocol: false } } };
  const h1 = eds();
  applyConnectionPool(h1, policy, DEFAULT_MESH_CONFIG);
  assert.equal(h1.http2ProtocolOptions, undefined);
  const h2: Cluster = { ...eds(), http2ProtocolOptions: {} };
  applyConnectionPool(h2, policy, DEFAULT_MESH_CONFIG);
  assert.deepEqual(h2.http2ProtocolOptions, { maxConcurrentStreams: 7 });
});

test('applyConnectionPool: an empty tcpKeepalive turns keepalive on with the OS\'s settings', () => {
  const c = eds();
  applyConnectionPool(c, { connectionPool: { tcp: { tcpKeepalive: {} } } }, DEFAULT_MESH_CONFIG);
  assert.deepEqual(c.upstreamConnectionOptions, { tcpKeepalive: {} });
});

const LB: readonly [name: string, lb: LoadBalancerSettings | undefined, want: Partial<Cluster>][] = [
  ['unset', undefined, { lbPolicy: 'LEAST_REQUEST' }],
  ['LEAST_REQUEST', { simple: 'LEAST_REQUEST' }, { lbPolicy: 'LEAST_REQUEST' }],
  ['ROUND_ROBIN', { simple: 'ROUND_ROBIN' }, { lbPolicy: 'ROUND_ROBIN' }],
  ['RANDOM', { simple: 'RANDOM' }, { lbPolicy: 'RANDOM' }],
  ['ring hash', { consistentHash: { httpHeaderName: 'x', ringHash: { minimumRingSize: 2048 } } }, { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: 2048 } }],
  ['ring hash of size 0 (Envoy\'s default ring)', { consistentHash: { httpHeaderName: 'x', ringHash: { minimumRingSize: 0 } } }, { lbPolicy: 'RING_HASH' }],
  ['maglev', { consistentHash: { useSourceIp: true, maglev: { tableSize: 131 } } }, { lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: 131 } }],
];

for (const [name, lb, want] of LB) {
  test(`DR-02/03 applyLoadBalancer: ${name}`, () => {
    const c = eds();
    applyLoadBalancer(c, lb ? { loadBalancer: lb } : {});
    assert.deepEqual(c, { ...eds(), ...want });
  });
}

test('DR-02 applyLoadBalancer: PASSTHROUGH turns any cluster into ORIGINAL_DST; an ORIGINAL_DST cluster stays CLUSTER_PROVIDED', () => {
  const dns: Cluster = { name: 'd', type: 'STRICT_DNS', dnsLookupFamily: 'V4_ONLY', loadAssignment: { clusterName: 'd', endpoints: [] } };
  applyLoadBalancer(dns, { loadBalancer: { simple: 'PASSTHROUGH' } });
  assert.deepEqual(dns, { name: 'd', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' });
  const od: Cluster = { name: 'o', type: 'ORIGINAL_DST' };
  applyLoadBalancer(od, { loadBalancer: { simple: 'RANDOM' } });
  assert.deepEqual(od, { name: 'o', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' });
});

test('DR-08 applyOutlierDetection: nothing without outlierDetection; with it, only what is set', () => {
  const none = eds();
  applyOutlierDetection(none, {});
  assert.deepEqual(none, eds());
  const c = eds();
  applyOutlierDetection(c, { outlierDetection: { interval: ms(5000), maxEjectionPercent: 0, splitExternalLocalOriginErrors: true } });
  assert.deepEqual(c.outlierDetection, { enforcingSuccessRate: 0, interval: '5s', splitExternalLocalOriginErrors: true });
  assert.deepEqual(c.commonLbConfig, { healthyPanicThreshold: { value: 0 } });
});

const H2: readonly [protocol: PortProtocol | undefined, policy: EffectivePolicy['connectionPool'], want: boolean][] = [
  ['HTTP', undefined, false],
  ['HTTP2', undefined, true],
  ['GRPC', undefined, true],
  ['TCP', undefined, false],
  ['UNKNOWN', undefined, false],
  ['HTTP', { http: { h2UpgradePolicy: 'UPGRADE', useClientProtocol: false } }, true],
  ['TCP', { http: { h2UpgradePolicy: 'UPGRADE', useClientProtocol: false } }, true],
  ['GRPC', { http: { h2UpgradePolicy: 'DO_NOT_UPGRADE', useClientProtocol: false } }, true],
  ['HTTP', { http: { h2UpgradePolicy: 'DEFAULT', useClientProtocol: false } }, false],
];

for (const [protocol, pool, want] of H2) {
  test(`DR-07 speaksHttp2: ${protocol} with h2UpgradePolicy ${pool?.http?.h2UpgradePolicy ?? '(unset)'} is ${want}`, () => {
    assert.equal(speaksHttp2(protocol, pool ? { connectionPool: pool } : {}), want);
  });
}
