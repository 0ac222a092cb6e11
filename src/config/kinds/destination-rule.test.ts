import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';

const dr = (spec: Record<string, unknown>) => stringify({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'bookinfo' }, spec: { host: 'reviews', ...spec } });
const codes = (spec: Record<string, unknown>) => loadText(dr(spec)).codes;
const policy = (trafficPolicy: Record<string, unknown>) => codes({ trafficPolicy });

test('DestinationRule: subsets with labels and paths, defaults applied (DR-01)', () => {
  const { resource, diagnostics } = loadOne('DestinationRule', dr({ subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'all' }], exportTo: ['.'] }));
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec, {
    host: 'reviews',
    subsets: [
      { name: 'v1', labels: { version: 'v1' }, path: ['spec', 'subsets', 0] },
      { name: 'all', labels: {}, path: ['spec', 'subsets', 1] },
    ],
    exportTo: ['.'],
  });
});

test('DestinationRule: the circuit-breaking task policy is typed with durations in ms (TASK-06, DR-06..08)', () => {
  const { resource, diagnostics } = loadOne(
    'DestinationRule',
    dr({
      trafficPolicy: {
        connectionPool: { tcp: { maxConnections: 1, connectTimeout: '30ms', tcpKeepalive: { time: '7200s', interval: '75s' } }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } },
        outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '3m', maxEjectionPercent: 100 },
      },
    }),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec.trafficPolicy, {
    connectionPool: {
      tcp: { maxConnections: 1, connectTimeout: { ms: 30, text: '30ms' }, tcpKeepalive: { time: { ms: 7_200_000, text: '7200s' }, interval: { ms: 75_000, text: '75s' } } },
      http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1, h2UpgradePolicy: 'DEFAULT', useClientProtocol: false },
    },
    outlierDetection: { consecutive5xxErrors: 1, interval: { ms: 1000, text: '1s' }, baseEjectionTime: { ms: 180_000, text: '3m' }, maxEjectionPercent: 100, splitExternalLocalOriginErrors: false },
    portLevelSettings: [],
  });
});

test('DestinationRule load balancer: simple or consistentHash, LEAST_CONN folded, ring hash by default (DR-02/03)', () => {
  const lb = (loadBalancer: Record<string, unknown>) => loadOne('DestinationRule', dr({ trafficPolicy: { loadBalancer } }));
  assert.deepEqual(lb({ simple: 'ROUND_ROBIN' }).resource.spec.trafficPolicy?.loadBalancer, { simple: 'ROUND_ROBIN' });
  const conn = lb({ simple: 'LEAST_CONN' });
  assert.deepEqual(conn.codes, ['warning:deprecated-value']);
  assert.deepEqual(conn.resource.spec.trafficPolicy?.loadBalancer, { simple: 'LEAST_REQUEST' });
  assert.deepEqual(lb({ consistentHash: { httpCookie: { name: 'user', ttl: '0s' } } }).resource.spec.trafficPolicy?.loadBalancer, {
    consistentHash: { httpCookie: { name: 'user', ttl: { ms: 0, text: '0s' }, attributes: [] }, ringHash: { minimumRingSize: 1024 } },
  });
  assert.deepEqual(lb({ consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } }).resource.spec.trafficPolicy?.loadBalancer, { consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } });
  const legacy = lb({ consistentHash: { httpHeaderName: 'x-user', minimumRingSize: 2048 } });
  assert.deepEqual(legacy.codes, ['warning:deprecated-field']);
  assert.deepEqual(legacy.resource.spec.trafficPolicy?.loadBalancer?.consistentHash, { httpHeaderName: 'x-user', ringHash: { minimumRingSize: 2048 } });
  assert.deepEqual(policy({ loadBalancer: { simple: 'RANDOM', consistentHash: { useSourceIp: true } } }), ['error:one-of']);
  assert.deepEqual(policy({ loadBalancer: { consistentHash: { useSourceIp: true, httpHeaderName: 'a' } } }), ['error:one-of']);
  assert.deepEqual(policy({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 1000 } } } }), ['error:invalid-value']);
  assert.deepEqual(policy({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: {} } } }), ['error:missing-field']);
  assert.deepEqual(policy({ loadBalancer: { consistentHash: { httpCookie: { path: '/' } } } }), ['error:missing-field']);
  assert.deepEqual(policy({ loadBalancer: { consistentHash: {} } }), ['warning:no-hash-key']);
  assert.deepEqual(policy({ loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: false }, warmupDurationSecs: '10s' } }), ['warning:unsupported-field', 'warning:unsupported-field']);
});

test('DestinationRule connection pool and outlier detection rules (Istio validation)', () => {
  assert.deepEqual(policy({ connectionPool: {} }), ['error:missing-field']);
  assert.deepEqual(policy({ connectionPool: { tcp: { maxConnections: -1 } } }), ['error:invalid-value']);
  assert.deepEqual(policy({ connectionPool: { http: { h2UpgradePolicy: 'UPGRADE', useClientProtocol: true } } }), ['error:conflict']);
  assert.deepEqual(policy({ connectionPool: { tcp: { idleTimeout: '0s' } } }), []);
  assert.deepEqual(policy({ connectionPool: { tcp: { connectTimeout: '0s' } } }), ['error:invalid-value']);
  assert.deepEqual(policy({ outlierDetection: { maxEjectionPercent: 101 } }), ['error:invalid-value']);
  assert.deepEqual(policy({ outlierDetection: { consecutiveLocalOriginFailures: 3 } }), ['error:conflict']);
  // A 0 limit is "not set" in Istio: it is left out of the typed value.
  assert.deepEqual(loadOne('DestinationRule', dr({ trafficPolicy: { connectionPool: { tcp: { maxConnections: 0 } } } })).resource.spec.trafficPolicy?.connectionPool, { tcp: {} });
  const legacy = loadOne('DestinationRule', dr({ trafficPolicy: { outlierDetection: { consecutiveErrors: 7 } } }));
  assert.deepEqual(legacy.codes, ['warning:deprecated-field']);
  assert.deepEqual(legacy.resource.spec.trafficPolicy?.outlierDetection, { consecutive5xxErrors: 0, consecutiveGatewayErrors: 7, splitExternalLocalOriginErrors: false });
});

test('DestinationRule tls: modes, credentialName, Istio\'s MUTUAL rules, file paths warned (DR-09)', () => {
  const tls = (t: Record<string, unknown>) => loadText(dr({ trafficPolicy: { tls: t } }));
  const simple = loadOne('DestinationRule', dr({ trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'api.example.com', subjectAltNames: ['spiffe://x'] } } }));
  assert.deepEqual(simple.resource.spec.trafficPolicy?.tls, { mode: 'SIMPLE', subjectAltNames: ['spiffe://x'], sni: 'api.example.com', insecureSkipVerify: false });
  assert.deepEqual(tls({ mode: 'MUTUAL' }).codes, ['error:missing-field']);
  assert.deepEqual(tls({ mode: 'MUTUAL', credentialName: 'client' }).codes, []);
  assert.deepEqual(tls({ mode: 'MUTUAL', credentialName: 'client', caCertificates: '/ca.pem' }).codes, ['error:conflict', 'warning:unsupported-field']);
  assert.deepEqual(tls({ mode: 'MUTUAL', clientCertificate: '/c.pem', privateKey: '/k.pem' }).codes, ['warning:unsupported-field', 'warning:unsupported-field']);
  assert.deepEqual(tls({ mode: 'SIMPLE', insecureSkipVerify: true, subjectAltNames: ['a'] }).codes, ['error:conflict']);
  assert.deepEqual(tls({ mode: 'ISTIO_MUTUAL' }).codes, []);
});

test('DestinationRule: subset names are unique DNS-1123 labels, reported at the name', () => {
  const r = loadText(
    yaml(
      'apiVersion: networking.istio.io/v1beta1',
      'kind: DestinationRule',
      'metadata: {name: reviews}',
      'spec:',
      '  host: reviews',
      '  subsets:',
      '  - {name: v1, labels: {version: v1}}', // 7
      '  - {name: v1, labels: {version: v2}}', // 8
      '  - {name: V3}', // 9
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@9:12']);
  const dup = loadText(yaml('apiVersion: networking.istio.io/v1beta1', 'kind: DestinationRule', 'metadata: {name: reviews}', 'spec:', '  host: reviews', '  subsets:', '  - {name: v1}', '  - {name: v1}'));
  assert.deepEqual(dup.at, ['error:duplicate-value@8:12']);
});

test('DestinationRule: port-level settings, unsupported traffic-policy parts, empty policies, workloadSelector (DR-10/11)', () => {
  const r = loadOne('DestinationRule', dr({ trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: 'RANDOM' } }] } }));
  assert.deepEqual(r.resource.spec.trafficPolicy?.portLevelSettings, [{ port: { number: 80 }, loadBalancer: { simple: 'RANDOM' }, path: ['spec', 'trafficPolicy', 'portLevelSettings', 0] }]);
  assert.deepEqual(policy({ portLevelSettings: [{ port: { number: 80 } }] }), ['error:missing-field']);
  assert.deepEqual(policy({ portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'SIMPLE' } }, { port: { number: 80 }, tls: { mode: 'SIMPLE' } }] }), ['error:duplicate-value']);
  assert.deepEqual(policy({}), ['error:missing-field']);
  assert.deepEqual(policy({ tunnel: { targetHost: 'a', targetPort: 80 } }), ['warning:unsupported-field']);
  // retryBudget is implemented; only its interval (Envoy has none) is warned.
  assert.deepEqual(policy({ retryBudget: { percent: { value: 20 }, minRetryConcurrency: 2 } }), []);
  assert.deepEqual(policy({ retryBudget: { budgetInterval: '10s' } }), ['warning:unsupported-field']);
  assert.deepEqual(policy({ tunnel: { targetHost: 'a', targetPort: 80 }, proxyProtocol: { version: 'V2' } }), ['warning:unsupported-field', 'warning:unsupported-field', 'error:conflict']);
  assert.deepEqual(codes({ workloadSelector: { matchLabels: { app: 'a' } }, exportTo: ['*'] }), ['error:conflict']);
  assert.deepEqual(codes({ workloadSelector: { matchLabels: { app: 'a*' } } }), ['error:invalid-value']);
  assert.deepEqual(codes({ host: '*' }), ['error:invalid-value']);
  assert.deepEqual(codes({ host: '*.example.com' }), []);
});

test('DestinationRule rules point at the field: one of simple/consistentHash, maglev primes, MUTUAL certificates', () => {
  const r = loadText(
    yaml(
      'apiVersion: networking.istio.io/v1',
      'kind: DestinationRule',
      'metadata: {name: reviews}',
      'spec:',
      '  host: reviews',
      '  trafficPolicy:',
      '    loadBalancer:', // 7
      '      simple: RANDOM',
      '      consistentHash: {useSourceIp: true}',
      '    tls:',
      '      mode: MUTUAL', // 11
      '  subsets:',
      '  - name: v1',
      '    trafficPolicy:',
      '      loadBalancer:',
      '        consistentHash:',
      '          useSourceIp: true',
      '          maglev: {tableSize: 65536}', // 18
    ),
  );
  assert.deepEqual(r.at, ['error:one-of@7:5', 'error:missing-field@11:13', 'error:invalid-value@18:31']);
  assert.match(r.diagnostics[2].message, /tableSize 65536 is not a prime number/);
});
