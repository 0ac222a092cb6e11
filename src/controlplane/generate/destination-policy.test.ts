// Unit tests for the policy merge of destination-policy.ts (DR-01, DR-10): port-level settings
// over the top level, a subset's policy over the rule's, field by field (a field replaces the
// other whole); durations in proto3 JSON; consistent-hash keys as Envoy route hash policies (DR-03).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsistentHashLB, TrafficPolicy } from '../../config/types.js';
import { hashPolicyOf, mergeTrafficPolicy, portLevelPolicy, protoDuration } from './destination-policy.js';

const ms = (n: number) => ({ ms: n, text: `${n}ms` });

const RULE: TrafficPolicy = {
  loadBalancer: { simple: 'RANDOM' },
  connectionPool: { tcp: { maxConnections: 10 } },
  outlierDetection: { consecutive5xxErrors: 3, splitExternalLocalOriginErrors: false },
  tls: { mode: 'SIMPLE', subjectAltNames: [], insecureSkipVerify: false },
  portLevelSettings: [
    { port: { number: 9090 }, loadBalancer: { simple: 'ROUND_ROBIN' }, tls: { mode: 'DISABLE', subjectAltNames: [], insecureSkipVerify: false }, path: [] },
  ],
};

const SUBSET: TrafficPolicy = {
  connectionPool: { http: { http1MaxPendingRequests: 1, h2UpgradePolicy: 'DEFAULT', useClientProtocol: false } },
  portLevelSettings: [{ port: { number: 8080 }, outlierDetection: { consecutiveGatewayErrors: 1, splitExternalLocalOriginErrors: false }, path: [] }],
};

test('portLevelPolicy: the port\'s settings replace the top-level fields they set; other ports keep the top level', () => {
  assert.deepEqual(portLevelPolicy(RULE, 9090), { loadBalancer: { simple: 'ROUND_ROBIN' }, connectionPool: RULE.connectionPool, outlierDetection: RULE.outlierDetection, tls: { mode: 'DISABLE', subjectAltNames: [], insecureSkipVerify: false } });
  assert.deepEqual(portLevelPolicy(RULE, 80), { loadBalancer: RULE.loadBalancer, connectionPool: RULE.connectionPool, outlierDetection: RULE.outlierDetection, tls: RULE.tls });
  assert.equal(portLevelPolicy(undefined, 80), undefined);
});

test('mergeTrafficPolicy: the subset\'s fields replace the rule\'s whole (connectionPool is not merged key by key)', () => {
  const merged = mergeTrafficPolicy(RULE, SUBSET, 80);
  assert.deepEqual(merged.connectionPool, SUBSET.connectionPool);
  assert.deepEqual(merged.loadBalancer, { simple: 'RANDOM' });
  assert.deepEqual(merged.outlierDetection, RULE.outlierDetection);
});

test('mergeTrafficPolicy: port level applies to both the rule and the subset before they merge', () => {
  const on9090 = mergeTrafficPolicy(RULE, SUBSET, 9090);
  assert.deepEqual(on9090.loadBalancer, { simple: 'ROUND_ROBIN' });
  assert.equal(on9090.tls?.mode, 'DISABLE');
  const on8080 = mergeTrafficPolicy(RULE, SUBSET, 8080);
  assert.deepEqual(on8080.outlierDetection, { consecutiveGatewayErrors: 1, splitExternalLocalOriginErrors: false });
  assert.equal(on8080.tls?.mode, 'SIMPLE');
});

test('mergeTrafficPolicy: nothing set is {}; a subset policy alone is used as it is', () => {
  assert.deepEqual(mergeTrafficPolicy(undefined, undefined, 80), {});
  assert.deepEqual(mergeTrafficPolicy(undefined, SUBSET, 80), { connectionPool: SUBSET.connectionPool });
});

const DURATIONS: readonly [ms: number, want: string][] = [
  [0, '0s'],
  [10_000, '10s'],
  [250, '0.25s'],
  [1500, '1.5s'],
  [1, '0.001s'],
  [3_600_000, '3600s'],
];

for (const [n, want] of DURATIONS) {
  test(`protoDuration(${n}) is ${want}`, () => {
    assert.equal(protoDuration(n), want);
  });
}

const RING = { ringHash: { minimumRingSize: 1024 } };
const HASHES: readonly [name: string, ch: ConsistentHashLB | undefined, want: unknown][] = [
  ['no consistentHash', undefined, undefined],
  ['no hash key', { ...RING }, undefined],
  ['header', { httpHeaderName: 'x-user', ...RING }, [{ header: { headerName: 'x-user' } }]],
  ['cookie without ttl or path', { httpCookie: { name: 'c', attributes: [] }, ...RING }, [{ cookie: { name: 'c' } }]],
  ['cookie with ttl 0s (a session cookie is generated)', { httpCookie: { name: 'c', ttl: ms(0), path: '/', attributes: [] }, ...RING }, [{ cookie: { name: 'c', ttl: '0s', path: '/' } }]],
  ['source IP', { useSourceIp: true, ...RING }, [{ connectionProperties: { sourceIp: true } }]],
  ['query parameter', { httpQueryParameterName: 'u', ...RING }, [{ queryParameter: { name: 'u' } }]],
];

for (const [name, ch, want] of HASHES) {
  test(`DR-03 hashPolicyOf: ${name}`, () => {
    assert.deepEqual(hashPolicyOf(ch), want);
  });
}
