import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  analyze,
  checkGatewaySelectors,
  checkNamespaces,
  checkServiceSelectors,
  checkVirtualServices,
  resolveGatewayRef,
  resolveServiceHost,
} from './analyze.js';
import { ConfigStore } from './config-store.js';
import { loadConfig, loadConfigText } from './load-config.js';
import type { Diagnostic } from './types.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/config');
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function storeOf(text: string): ConfigStore {
  const { resources, diagnostics } = loadConfigText(text, 'a.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [], 'fixture text must load without errors');
  return new ConfigStore(resources);
}

function where(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.severity}:${d.code}@${d.line}:${d.col}`);
}

const backend = yaml(
  'apiVersion: apps/v1', //                  1
  'kind: Deployment', //                     2
  'metadata: {name: backend}', //            3
  'spec:', //                                4
  '  selector: {matchLabels: {app: backend}}',
  '  template:', //                          6
  '    metadata: {labels: {app: backend, version: v1}}',
  '    spec:', //                            8
  '      containers:', //                    9
  '      - name: app', //                    10
  '        image: strait/echo', //           11
  '        ports: [{name: http, containerPort: 8080}]',
);

test('a namespace used but not declared is a warning at metadata.namespace; built-in ones are fine', () => {
  const store = storeOf(
    yaml(
      'apiVersion: v1', 'kind: Namespace', 'metadata: {name: shop}', //           1-3
      '---', 'apiVersion: v1', 'kind: Service', //                                 4-6
      'metadata:', //                                                              7
      '  name: a', //                                                              8
      '  namespace: shopp', //                                                     9
      'spec: {ports: [{port: 80}]}',
      '---', 'apiVersion: v1', 'kind: Service', 'metadata: {name: b, namespace: shop}', 'spec: {ports: [{port: 80}]}',
      '---', 'apiVersion: v1', 'kind: Service', 'metadata: {name: c, namespace: istio-system}', 'spec: {ports: [{port: 80}]}',
      '---', 'apiVersion: v1', 'kind: Service', 'metadata: {name: d}', 'spec: {ports: [{port: 80}]}',
    ),
  );
  const diags = checkNamespaces(store);
  assert.deepEqual(where(diags), ['warning:unknown-namespace@9:14']);
  assert.match(diags[0].message, /namespace "shopp"/);
});

test('a Service selector that matches no Deployment template is a warning at spec.selector', () => {
  const store = storeOf(
    backend +
      yaml(
        '---', //                                 13
        'apiVersion: v1', //                      14
        'kind: Service', //                       15
        'metadata: {name: frontend}', //          16
        'spec:', //                               17
        '  selector:', //                         18
        '    app: frontend', //                   19
        '  ports: [{port: 80}]',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: backend}',
        'spec:',
        '  selector: {app: backend}',
        '  ports: [{port: 80, targetPort: http}]',
      ),
  );
  assert.deepEqual(where(checkServiceSelectors(store)), ['warning:selector-matches-nothing@18:3']);
});

test('a Service in another namespace does not select the Deployment', () => {
  const store = storeOf(backend + yaml('---', 'apiVersion: v1', 'kind: Service', 'metadata: {name: backend, namespace: other}', 'spec: {selector: {app: backend}, ports: [{port: 80}]}'));
  assert.deepEqual(checkServiceSelectors(store).map((d) => d.code), ['selector-matches-nothing']);
});

test('a named targetPort that no selected container declares is a warning at the targetPort', () => {
  const store = storeOf(
    backend +
      yaml(
        '---', //                                 13
        'apiVersion: v1', //                      14
        'kind: Service', //                       15
        'metadata: {name: backend}', //           16
        'spec:', //                               17
        '  selector: {app: backend}', //          18
        '  ports:', //                            19
        '  - {name: http, port: 80, targetPort: http}',
        '  - {name: grpc, port: 90, targetPort: grpc}', // 21
      ),
  );
  const diags = checkServiceSelectors(store);
  assert.deepEqual(where(diags), ['warning:unknown-target-port@21:40']);
  assert.match(diags[0].message, /targetPort "grpc" is not the name of any container port in backend/);
});

test('host resolution follows Istio: short, name.ns, name.ns.svc, name.ns.svc.cluster.local', () => {
  assert.deepEqual(resolveServiceHost('backend', 'shop'), { name: 'backend', namespace: 'shop' });
  assert.deepEqual(resolveServiceHost('backend.other', 'shop'), { name: 'backend', namespace: 'other' });
  assert.deepEqual(resolveServiceHost('backend.other.svc', 'shop'), { name: 'backend', namespace: 'other' });
  assert.deepEqual(resolveServiceHost('backend.other.svc.cluster.local', 'shop'), { name: 'backend', namespace: 'other' });
  assert.equal(resolveServiceHost('api.example.com', 'shop'), undefined);
});

const services = yaml(
  'apiVersion: v1', 'kind: Service', 'metadata: {name: one}', 'spec: {ports: [{port: 80}]}', //                                1-4
  '---', 'apiVersion: v1', 'kind: Service', 'metadata: {name: two}', 'spec: {ports: [{name: http, port: 80}, {name: grpc, port: 90}]}', // 5-9
  '---', //                                                                                                                     10
);

test('VirtualService destinations: unknown host (warning), unknown port (error), missing port on a multi-port Service (error)', () => {
  const store = storeOf(
    services +
      yaml(
        'apiVersion: networking.istio.io/v1', //   11
        'kind: VirtualService', //                 12
        'metadata: {name: r}', //                  13
        'spec:', //                                14
        '  hosts: [one]', //                       15
        '  http:', //                              16
        '  - route:', //                           17
        '    - destination: {host: one}', //       18  ok: single port, no port needed
        '      weight: 50',
        '    - destination: {host: one.default.svc.cluster.local, port: {number: 80}}', // 20 ok
        '      weight: 50',
        '  - route:', //                           22
        '    - destination:', //                   23
        '        host: nowhere', //                24
        '  - route:', //                           25
        '    - destination:', //                   26
        '        host: one', //                    27
        '        port: {number: 81}', //           28
        '  - route:', //                           29
        '    - destination:', //                   30
        '        host: two.default', //            31
      ),
  );
  const diags = checkVirtualServices(store);
  assert.deepEqual(where(diags), ['warning:unknown-host@24:15', 'error:unknown-port@28:24', 'error:missing-port@30:7']);
  assert.match(diags[0].message, /referenced host not found: "nowhere" \(nowhere\.default\.svc\.cluster\.local\)/);
  assert.match(diags[1].message, /has no port 81 \(it has 80\)/);
  assert.match(diags[2].message, /2 ports \(80, 90\)/);
});

test('gateway references: name in the same namespace, ns/name explicit, mesh special', () => {
  assert.deepEqual(resolveGatewayRef('gw', 'shop'), { name: 'gw', namespace: 'shop' });
  assert.deepEqual(resolveGatewayRef('istio-system/gw', 'shop'), { name: 'gw', namespace: 'istio-system' });
  assert.equal(resolveGatewayRef('mesh', 'shop'), undefined);
  const store = storeOf(
    services +
      yaml(
        'apiVersion: networking.istio.io/v1', //   11
        'kind: Gateway', //                        12
        'metadata: {name: gw, namespace: istio-system}',
        'spec:',
        '  selector: {istio: ingressgateway}',
        '  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]',
        '---', //                                  17
        'apiVersion: networking.istio.io/v1', //   18
        'kind: VirtualService', //                 19
        'metadata: {name: r}', //                  20
        'spec:', //                                21
        '  hosts: [one]', //                       22
        '  gateways:', //                          23
        '  - istio-system/gw', //                  24
        '  - mesh', //                             25
        '  - gw', //                               26 (default/gw does not exist)
        '  http: [{route: [{destination: {host: one}}]}]',
      ),
  );
  const diags = checkVirtualServices(store);
  assert.deepEqual(where(diags), ['error:unknown-gateway@26:5']);
  assert.match(diags[0].message, /gateway "gw" \(default\/gw\) does not exist/);
});

test('a Gateway selecting something other than the built-in ingress gateway is a warning', () => {
  const gw = (name: string, selector: string) =>
    yaml('---', 'apiVersion: networking.istio.io/v1', 'kind: Gateway', `metadata: {name: ${name}}`, 'spec:', `  selector: ${selector}`, '  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]');
  const store = storeOf(gw('a', '{istio: ingressgateway}') + gw('b', '{app: istio-ingressgateway}') + gw('c', '{istio: egressgateway}') + gw('d', '{}'));
  const diags = checkGatewaySelectors(store);
  assert.deepEqual(where(diags), ['warning:gateway-selects-nothing@20:3']);
  assert.match(diags[0].message, /\{istio: egressgateway\} matches no gateway/);
});

test('loadConfig runs the analyzers and a clean tree has nothing to say', async () => {
  const clean = await loadConfig([path.join(FIXTURES, 'tree')]);
  assert.deepEqual(clean.diagnostics, []);
  const broken = await loadConfig([path.join(FIXTURES, 'analyzers.yaml')]);
  assert.deepEqual(
    broken.diagnostics.map((d) => `${d.code}@${d.line}`),
    ['unknown-namespace@5', 'selector-matches-nothing@7', 'unknown-host@21', 'unknown-gateway@16'],
  );
  assert.deepEqual(analyze(broken.store).length, 4);
});
