// Unit tests for the gateway generator's building blocks: host intersection and IG-03 binding of
// VirtualService hosts to `[namespace/]dnsName` server hosts, which Gateways select a proxy
// (IG-01), and the port a server is bound on (the gateway Service's targetPort for it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigStore } from '../../config/config-store.js';
import { loadConfigText } from '../../config/load-config.js';
import type { GatewayServer } from '../../config/types.js';
import type { MeshService, Registry } from '../../registry/registry.js';
import { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { boundHost, gatewayBindPort, gatewaysForProxy, hostIntersection } from './gateway.js';

const INTERSECTIONS: [a: string, b: string, want: string | undefined][] = [
  ['shop.example.com', 'shop.example.com', 'shop.example.com'],
  ['shop.example.com', '*', 'shop.example.com'],
  ['*', '*', '*'],
  ['dev.example.com', '*.example.com', 'dev.example.com'],
  ['a.b.example.com', '*.example.com', 'a.b.example.com'],
  ['example.com', '*.example.com', undefined],
  ['fooexample.com', '*.example.com', undefined],
  ['*.dev.example.com', '*.example.com', '*.dev.example.com'],
  ['*.example.com', '*.example.com', '*.example.com'],
  ['*.example.com', '*.example.org', undefined],
  ['*.example.com', '*', '*.example.com'],
  ['shop.example.com', 'blog.example.com', undefined],
  ['example.com', 'example.com.evil.org', undefined],
];

for (const [a, b, want] of INTERSECTIONS) {
  test(`hostIntersection(${a}, ${b}) is ${want ?? 'empty'}, in either order`, () => {
    assert.equal(hostIntersection(a, b), want);
    assert.equal(hostIntersection(b, a), want);
  });
}

function server(...hosts: string[]): GatewayServer {
  return { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts };
}

const BINDINGS: [vsHost: string, vsNamespace: string, serverHosts: string[], gatewayNamespace: string, want: string | undefined][] = [
  ['shop.example.com', 'default', ['*'], 'istio-system', 'shop.example.com'],
  ['shop.example.com', 'default', ['shop.example.com'], 'istio-system', 'shop.example.com'],
  ['blog.example.com', 'default', ['shop.example.com'], 'istio-system', undefined],
  ['dev.example.com', 'default', ['*.example.com'], 'istio-system', 'dev.example.com'],
  ['example.com', 'default', ['*.example.com'], 'istio-system', undefined],
  ['*', 'default', ['*.example.com'], 'istio-system', '*.example.com'],
  ['*.example.com', 'default', ['dev.example.com'], 'istio-system', 'dev.example.com'],
  ['shop.example.com', 'prod', ['prod/*'], 'istio-system', 'shop.example.com'],
  ['shop.example.com', 'default', ['prod/*'], 'istio-system', undefined],
  ['shop.example.com', 'default', ['prod/shop.example.com'], 'istio-system', undefined],
  ['shop.example.com', 'prod', ['*/shop.example.com'], 'istio-system', 'shop.example.com'],
  ['shop.example.com', 'default', ['./*'], 'default', 'shop.example.com'],
  ['shop.example.com', 'prod', ['./*'], 'default', undefined],
  ['shop.example.com', 'istio-system', ['./shop.example.com'], 'istio-system', 'shop.example.com'],
  ['shop.example.com', 'default', ['prod/*', 'default/shop.example.com'], 'istio-system', 'shop.example.com'],
  ['Shop.Example.com', 'default', ['SHOP.example.COM'], 'istio-system', 'shop.example.com'],
];

for (const [vsHost, vsNs, hosts, gwNs, want] of BINDINGS) {
  test(`boundHost: VirtualService host ${vsHost} in ${vsNs} on server hosts [${hosts.join(', ')}] of a Gateway in ${gwNs} → ${want ?? 'not bound'}`, () => {
    assert.equal(boundHost(vsHost, vsNs, server(...hosts), gwNs), want);
  });
}

const GATEWAY_LABELS = { istio: 'ingressgateway', app: 'istio-ingressgateway' };
const PROXY: ProxyNode = { id: 'router~127.0.0.1~gw-0.istio-system~istio-system.svc.cluster.local', type: 'router', ip: '127.0.0.1', podName: 'gw-0', namespace: 'istio-system', labels: GATEWAY_LABELS, serviceAccount: 'default' };

function svc(name: string, namespace: string, selector: Record<string, string>, ports: [number, number | string][]): MeshService {
  return { name, namespace, hostname: `${name}.${namespace}.svc.cluster.local`, selector, ports: ports.map(([port, targetPort]) => ({ name: `http-${port}`, port, targetPort, protocol: 'HTTP' as const })) };
}

const REGISTRY: Registry = {
  services: [
    svc('elsewhere', 'default', GATEWAY_LABELS, [[80, 7777]]),
    svc('unrelated', 'istio-system', { app: 'other' }, [[80, 6666]]),
    svc('istio-ingressgateway', 'istio-system', GATEWAY_LABELS, [[80, 8080], [443, 8443], [9000, 9000], [81, 'http-alt']]),
  ],
  workloads: [],
};

const BIND: [serverPort: number, want: number][] = [[80, 8080], [443, 8443], [9000, 9000], [1234, 1234], [81, 81]];

for (const [port, want] of BIND) {
  test(`gatewayBindPort: server port ${port} is bound on ${want} (gateway Service in the proxy's namespace selecting it)`, () => {
    assert.equal(gatewayBindPort(new MeshSnapshot(1, ConfigStore.empty(), REGISTRY), PROXY, port), want);
  });
}

function gatewaysStore(selectors: string[]): ConfigStore {
  const text = selectors
    .map((sel, i) => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: gw${i}, namespace: ns${i} }\nspec:\n  ${sel}\n  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]\n`)
    .join('---\n');
  const { resources, diagnostics } = loadConfigText(text, 'gw.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  return new ConfigStore(resources);
}

test('IG-01 gatewaysForProxy: a Gateway applies when its selector is a subset of the proxy labels, in any namespace', () => {
  const store = gatewaysStore(['selector: { istio: ingressgateway }', 'selector: { app: istio-ingressgateway, istio: ingressgateway }', 'selector: { istio: eastwestgateway }', 'selector: { istio: ingressgateway, extra: "yes" }']);
  const got = gatewaysForProxy(new MeshSnapshot(1, store, REGISTRY), PROXY).map((g) => `${g.metadata.namespace}/${g.metadata.name}`);
  assert.deepEqual(got, ['ns0/gw0', 'ns1/gw1']);
});

test('IG-01 gatewaysForProxy: a Gateway without a selector applies to every gateway proxy (Istio)', () => {
  const store = gatewaysStore(['selector: {}', '# no selector']);
  const got = gatewaysForProxy(new MeshSnapshot(1, store, REGISTRY), PROXY).map((g) => g.metadata.name);
  assert.deepEqual(got, ['gw0', 'gw1']);
});
