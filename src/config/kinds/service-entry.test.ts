import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';

const se = (spec: Record<string, unknown>) => stringify({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'ext' }, spec });
const codes = (spec: Record<string, unknown>) => loadText(se(spec)).codes;
const http80 = { number: 80, name: 'http', protocol: 'HTTP' };

test('ServiceEntry: the egress task entries load with defaults (TASK-10, SE-01/02)', () => {
  const { resource, diagnostics } = loadOne('ServiceEntry', se({ hosts: ['httpbin.org'], ports: [http80], resolution: 'DNS', location: 'MESH_EXTERNAL' }));
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec, {
    hosts: ['httpbin.org'],
    addresses: [],
    ports: [{ number: 80, protocol: 'HTTP', name: 'http', path: ['spec', 'ports', 0] }],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    endpoints: [],
    subjectAltNames: [],
  });
  const defaults = loadOne('ServiceEntry', se({ hosts: ['*.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'tls' }] }));
  assert.equal(defaults.resource.spec.resolution, 'NONE');
  assert.equal(defaults.resource.spec.location, 'MESH_EXTERNAL');
  assert.equal(defaults.resource.spec.ports[0].protocol, 'TLS');
});

test('ServiceEntry: STATIC endpoints are typed; their addresses must be IPs and their ports named after service ports', () => {
  const { resource, diagnostics } = loadOne(
    'ServiceEntry',
    se({ hosts: ['db.internal'], addresses: ['240.0.0.1'], ports: [{ number: 5432, name: 'tcp-pg', protocol: 'TCP' }], resolution: 'STATIC', location: 'MESH_INTERNAL', endpoints: [{ address: '10.0.0.5', ports: { 'tcp-pg': 15432 }, labels: { version: 'v1' }, weight: 3, locality: 'eu/west/a' }] }),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec.endpoints, [{ address: '10.0.0.5', ports: { 'tcp-pg': 15432 }, labels: { version: 'v1' }, locality: 'eu/west/a', weight: 3, path: ['spec', 'endpoints', 0] }]);
  const r = loadText(
    yaml(
      'apiVersion: networking.istio.io/v1',
      'kind: ServiceEntry',
      'metadata: {name: db}',
      'spec:',
      '  hosts: [db.internal]',
      '  addresses: [240.0.0.1]',
      '  ports: [{number: 5432, name: tcp-pg, protocol: TCP}]',
      '  resolution: STATIC',
      '  endpoints:',
      '  - address: db.example.com', // 10
      '  - address: 10.0.0.6', // 11
      '    ports: {pg: 5432}', // 12
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@10:14', 'error:invalid-key@12:13']);
  assert.match(r.diagnostics[0].message, /not an IP address, which resolution STATIC requires/);
});

test('ServiceEntry: Istio\'s resolution rules (NONE without endpoints, FQDN hosts for DNS, one endpoint for DNS_ROUND_ROBIN)', () => {
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80], endpoints: [{ address: '1.2.3.4' }] }), ['error:conflict']);
  assert.deepEqual(codes({ hosts: ['*.example.com'], ports: [http80], resolution: 'DNS' }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['*.example.com'], ports: [http80], resolution: 'DNS', endpoints: [{ address: 'lb.example.com' }] }), []);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80], resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'a' }, { address: 'b' }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80], resolution: 'DYNAMIC_DNS' }), ['warning:unsupported-value']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80], resolution: 'STATIC' }), ['warning:no-endpoints']);
});

test('ServiceEntry: hosts, addresses and ports follow Istio\'s rules', () => {
  assert.deepEqual(codes({ ports: [http80] }), ['error:missing-field']);
  assert.deepEqual(codes({ hosts: [], ports: [http80] }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['*'], ports: [http80] }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], addresses: ['10.0.0.0/8'], ports: [http80], resolution: 'DNS' }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], addresses: ['10.0.0.0/8'], ports: [http80] }), []);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80, { number: 80, name: 'http2', protocol: 'HTTP2' }] }), ['error:duplicate-value']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [{ number: 80, protocol: 'HTTP' }] }), ['error:missing-field']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [{ number: 3306, name: 'mysql' }] }), ['warning:tcp-without-address']);
  assert.deepEqual(codes({ hosts: ['a.example.com', 'b.example.com'], addresses: ['240.0.0.2'], ports: [{ number: 3306, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80], exportTo: ['~'] }), []);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80], exportTo: ['~', '.'] }), ['error:conflict']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], ports: [http80], workloadSelector: { labels: { app: 'vm' } } }), ['warning:unsupported-field']);
});

test('WorkloadEntry: typed as an endpoint; an address is required (WE-01)', () => {
  const text = (spec: Record<string, unknown>) => stringify({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'vm1' }, spec });
  const { resource, diagnostics } = loadOne('WorkloadEntry', text({ address: '10.0.0.9', labels: { app: 'ratings' }, serviceAccount: 'bookinfo-ratings', network: 'vm-net' }));
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec, { address: '10.0.0.9', ports: {}, labels: { app: 'ratings' }, network: 'vm-net', serviceAccount: 'bookinfo-ratings', path: ['spec'] });
  assert.deepEqual(loadText(text({ labels: { app: 'x' } })).codes, ['error:missing-field']);
  assert.deepEqual(loadText(text({ address: 'not a host' })).codes, ['error:invalid-value']);
});

test('Sidecar: egress listeners and outboundTrafficPolicy are typed (SC-01/02)', () => {
  const text = (spec: Record<string, unknown>) => stringify({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'bookinfo' }, spec });
  const { resource, diagnostics } = loadOne('Sidecar', text({ egress: [{ hosts: ['./*', 'istio-system/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }));
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec, { egress: [{ captureMode: 'DEFAULT', hosts: ['./*', 'istio-system/*'], path: ['spec', 'egress', 0] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
  // The proto's zero value: a written policy without mode is REGISTRY_ONLY.
  assert.deepEqual(loadOne('Sidecar', text({ outboundTrafficPolicy: {} })).resource.spec.outboundTrafficPolicy, { mode: 'REGISTRY_ONLY' });
  const ported = loadOne('Sidecar', text({ workloadSelector: { labels: { app: 'a' } }, egress: [{ port: { number: 9080, protocol: 'http', name: 'http' }, hosts: ['bookinfo/reviews.bookinfo.svc.cluster.local'] }, { hosts: ['*/*'] }] }));
  assert.deepEqual(ported.resource.spec.egress[0].port, { number: 9080, protocol: 'HTTP', name: 'http' });
  assert.deepEqual(ported.resource.spec.workloadSelector, { labels: { app: 'a' } });
  assert.deepEqual(loadText(text({})).codes, ['error:missing-field']);
  assert.deepEqual(loadText(text({ egress: [{ hosts: ['reviews'] }] })).codes, ['error:invalid-value']);
  assert.deepEqual(loadText(text({ egress: [{ hosts: ['./*'] }, { port: { number: 80 }, hosts: ['./*'] }] })).codes, ['error:invalid-value']);
  assert.deepEqual(loadText(text({ egress: [{ port: { number: 80 }, hosts: ['./*'] }, { port: { number: 80 }, hosts: ['./*'] }] })).codes, ['error:duplicate-value']);
  assert.deepEqual(loadText(text({ egress: [{ port: { number: 80, targetPort: 8080 }, hosts: ['./*'] }] })).codes, ['error:invalid-value']);
  assert.deepEqual(loadText(text({ egress: [{ hosts: ['./*'] }], ingress: [{ port: { number: 9080 } }] })).codes, ['warning:unsupported-field']);
  assert.deepEqual(loadText(text({ outboundTrafficPolicy: { mode: 'REGISTRY_ONLY', egressProxy: { host: 'proxy', port: { number: 80 } } } })).codes, ['warning:unsupported-field', 'error:conflict']);
});

test('Sidecar: an egress host without a namespace is an error at the host', () => {
  const r = loadText(yaml('apiVersion: networking.istio.io/v1', 'kind: Sidecar', 'metadata: {name: s}', 'spec:', '  egress:', '  - hosts:', '    - reviews.bookinfo.svc.cluster.local'));
  assert.deepEqual(r.at, ['error:invalid-value@7:7']);
  assert.match(r.diagnostics[0].message, /namespace\/host/);
});

test('ServiceEntry rules point at the field: NONE with endpoints, wildcard DNS hosts, CIDR addresses', () => {
  const r = loadText(
    yaml(
      'apiVersion: networking.istio.io/v1',
      'kind: ServiceEntry',
      'metadata: {name: ext}',
      'spec:',
      '  hosts:',
      '  - "*.example.com"', // 6
      '  addresses: [10.0.0.0/8]', // 7
      '  ports: [{number: 80, name: http, protocol: HTTP}]',
      '  resolution: DNS',
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@7:15', 'error:invalid-value@6:5']);
  const none = loadText(yaml('apiVersion: networking.istio.io/v1', 'kind: ServiceEntry', 'metadata: {name: ext}', 'spec:', '  hosts: [a.example.com]', '  ports: [{number: 80, name: http, protocol: HTTP}]', '  endpoints:', '  - address: 1.2.3.4'));
  assert.deepEqual(none.at, ['error:conflict@7:3']);
});
