// Unit tests for ServiceEntries as registry services (SE-01..03): one service per host, ports and
// protocols, resolution, exportTo and endpoints carried over, and which declaration is kept when
// a host is declared twice (Kubernetes first; the first entry per namespace).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigStore } from '../config/config-store.js';
import { loadConfigText } from '../config/load-config.js';
import type { ServiceEntryResource } from '../config/types.js';
import { DEFAULT_GATEWAY, offsetBelow1024, servicesFromConfig } from './config-services.js';
import { serviceEntryProtocol, servicesFromServiceEntry, withServiceEntries } from './service-entries.js';

function entries(text: string): ServiceEntryResource[] {
  const { resources, diagnostics } = loadConfigText(text, 'se.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return new ConfigStore(resources).list('ServiceEntry') as ServiceEntryResource[];
}

const PROTOCOLS: readonly [written: string | undefined, want: string][] = [
  ['HTTP', 'HTTP'],
  ['HTTP2', 'HTTP2'],
  ['GRPC', 'GRPC'],
  ['GRPC-WEB', 'GRPC'],
  ['HTTPS', 'HTTPS'],
  ['TLS', 'TLS'],
  ['TCP', 'TCP'],
  ['MONGO', 'TCP'],
  ['http', 'HTTP'],
  [undefined, 'UNKNOWN'],
];

for (const [written, want] of PROTOCOLS) {
  test(`SE-01: port protocol ${written ?? '(none)'} is ${want}`, () => {
    assert.equal(serviceEntryProtocol(written), want);
  });
}

const TWO_HOSTS = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ext, namespace: prod }
spec:
  hosts: [a.example.com, b.example.com]
  ports:
  - { number: 443, name: https, protocol: HTTPS }
  - { number: 80, name: http, protocol: HTTP, targetPort: 8080 }
  resolution: DNS
  exportTo: [".", team]
  subjectAltNames: [spiffe://corp/ext]
  endpoints:
  - { address: lb.example.com, ports: { http: 9090 }, labels: { zone: a }, weight: 2 }
`;

test('SE-01: every host is one service named by the host, in the entry\'s namespace, with its ports, resolution, exportTo and endpoints', () => {
  const [se] = entries(TWO_HOSTS);
  const services = servicesFromServiceEntry(se!);
  assert.deepEqual(services.map((s) => `${s.namespace}/${s.name}=${s.hostname}`), ['prod/a.example.com=a.example.com', 'prod/b.example.com=b.example.com']);
  const a = services[0]!;
  assert.deepEqual(a.ports, [
    { name: 'https', port: 443, targetPort: 443, protocol: 'HTTPS' },
    { name: 'http', port: 80, targetPort: 8080, protocol: 'HTTP' },
  ]);
  assert.equal(a.registry, 'ServiceEntry');
  assert.equal(a.resolution, 'DNS');
  assert.equal(a.location, 'MESH_EXTERNAL');
  assert.deepEqual(a.exportTo, ['.', 'team']);
  assert.deepEqual(a.subjectAltNames, ['spiffe://corp/ext']);
  assert.deepEqual(a.entryEndpoints, [{ address: 'lb.example.com', ports: { http: 9090 }, labels: { zone: 'a' }, weight: 2 }]);
  assert.equal(a.selector, undefined);
});

const RESOLUTIONS: readonly [resolution: string, extra: string, want: string][] = [
  ['NONE', '', 'PASSTHROUGH'],
  ['STATIC', 'endpoints: [{ address: 10.0.0.1 }]', 'CLIENT_SIDE_LB'],
  ['DNS', '', 'DNS'],
  ['DNS_ROUND_ROBIN', '', 'DNS_ROUND_ROBIN'],
  ['DYNAMIC_DNS', '', 'CLIENT_SIDE_LB'],
];

for (const [resolution, extra, want] of RESOLUTIONS) {
  test(`SE-02: resolution ${resolution} is the service resolution ${want}`, () => {
    const [se] = entries(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: x }
spec:
  hosts: [${resolution === 'DYNAMIC_DNS' ? '"*.x.example.com"' : 'x.example.com'}]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: ${resolution}
  ${extra}
`);
    assert.equal(servicesFromServiceEntry(se!)[0]?.resolution, want);
  });
}

test('SE-01: the same host twice in one namespace keeps the first; in two namespaces both stay; a Kubernetes Service is never replaced', () => {
  const text = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: first, namespace: default }
spec:
  hosts: [dup.example.com, web.default.svc.cluster.local]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: second, namespace: default }
spec:
  hosts: [dup.example.com]
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: other, namespace: prod }
spec:
  hosts: [dup.example.com]
  ports: [{ number: 9090, name: http, protocol: HTTP }]
  resolution: DNS
`;
  const { resources } = loadConfigText(text, 'dup.yaml');
  const store = new ConfigStore(resources);
  const services = servicesFromConfig(store, 'cluster.local', { ...DEFAULT_GATEWAY, bindPort: offsetBelow1024(8000) });
  const summary = services.map((s) => `${s.namespace}/${s.hostname}:${s.ports.map((p) => p.port).join(',')}:${s.registry ?? 'Kubernetes'}`);
  assert.deepEqual(summary, [
    'default/web.default.svc.cluster.local:80:Kubernetes',
    'istio-system/istio-ingressgateway.istio-system.svc.cluster.local::Kubernetes',
    'default/dup.example.com:80:ServiceEntry',
    'prod/dup.example.com:9090:ServiceEntry',
  ]);
  assert.equal(withServiceEntries([], store.list('ServiceEntry')).length, 3);
});

test('a Service\'s networking.istio.io/exportTo annotation is its exportTo', () => {
  const { resources } = loadConfigText(`
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default, annotations: { networking.istio.io/exportTo: ". , team" } }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80 }]
`, 'svc.yaml');
  const [web] = servicesFromConfig(new ConfigStore(resources), 'cluster.local');
  assert.deepEqual(web?.exportTo, ['.', 'team']);
});
