import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  analyze,
  checkGatewaySelectors,
  checkIngressClasses,
  checkIngresses,
  checkNamespaces,
  checkServiceSelectors,
  checkVirtualServices,
  hostsOverlap,
  resolveGatewayRef,
  resolveServiceHost,
} from './analyze.js';
import { ConfigStore } from './config-store.js';
import { loadConfig, loadConfigText } from './load-config.js';
import { opensslSkipReason, testCertificates } from './test-support.js';
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

// ---- Ingress and IngressClass --------------------------------------------------------------------

const webService = yaml(
  'apiVersion: v1', //                                                     1
  'kind: Service', //                                                      2
  'metadata: {name: web}', //                                              3
  'spec: {ports: [{name: http, port: 80}, {name: admin, port: 9000}]}', // 4
  '---', //                                                                5
);

test('Ingress backends: a missing Service is an IST0101-style warning; unknown port numbers and names are errors', () => {
  const store = storeOf(
    webService +
      yaml(
        'apiVersion: networking.k8s.io/v1', //   6
        'kind: Ingress', //                      7
        'metadata: {name: site}', //             8
        'spec:', //                              9
        '  defaultBackend:', //                  10
        '    service:', //                       11
        '      name: fallback', //               12  (no such Service)
        '      port: {number: 80}', //           13
        '  rules:', //                           14
        '  - http:', //                          15
        '      paths:', //                       16
        '      - path: /ok', //                  17
        '        pathType: Prefix', //           18
        '        backend: {service: {name: web, port: {name: admin}}}', // 19  ok
        '      - path: /number', //              20
        '        pathType: Prefix', //           21
        '        backend:', //                   22
        '          service:', //                 23
        '            name: web', //              24
        '            port: {number: 8080}', //   25
        '      - path: /name', //                26
        '        pathType: Exact', //            27
        '        backend:', //                   28
        '          service:', //                 29
        '            name: web', //              30
        '            port: {name: grpc}', //     31
      ),
  );
  const diags = checkIngresses(store);
  assert.deepEqual(where(diags), ['warning:unknown-service@12:13', 'error:unknown-port@25:28', 'error:unknown-port@31:26']);
  assert.equal(diags[0].message, 'Referenced service not found: "fallback" (no Service fallback in namespace default); requests routed to this backend get 503');
  assert.equal(diags[1].message, 'Service default/web (a.yaml:1) has no port 8080 (it has 80, 9000)');
  assert.equal(diags[1].fix, "use one of the Service's ports: 80, 9000");
  assert.equal(diags[2].message, 'Service default/web (a.yaml:1) has no port named "grpc" (its port names: http, admin)');
});

test('an Ingress reaches only Services of its own namespace', () => {
  const store = storeOf(webService + yaml('apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata: {name: site, namespace: shop}', 'spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}'));
  const diags = checkIngresses(store);
  assert.deepEqual(diags.map((d) => d.code), ['unknown-service']);
  assert.match(diags[0].message, /no Service web in namespace shop/);
});

/** An Ingress with TLS entries for the given hosts and secrets, and one rule per rule host. */
function tlsIngress(tls: readonly { hosts?: string[]; secretName?: string }[], ruleHosts: readonly (string | undefined)[]): string {
  const rules = ruleHosts.map((host) => ({ ...(host !== undefined ? { host } : {}), http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }));
  return stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'site' }, spec: { tls, rules } });
}

test('tls secretName: a missing Secret, or one that is not a TLS Secret, is an error at secretName', () => {
  const opaque = yaml('---', 'apiVersion: v1', 'kind: Secret', 'metadata: {name: plain}', 'stringData: {password: x}');
  const store = storeOf(webService + tlsIngress([{ hosts: ['a.com'], secretName: 'missing' }, { hosts: ['a.com', 'b.com'], secretName: 'plain' }, { hosts: ['b.com'] }], ['a.com', 'b.com']) + opaque);
  const diags = checkIngresses(store);
  assert.deepEqual(diags.map((d) => `${d.severity}:${d.code}`), ['error:unknown-secret', 'error:not-a-tls-secret']);
  assert.equal(diags[0].message, 'no valid Secret "missing" in namespace default: the hosts of this tls entry (a.com) will not be served over HTTPS');
  assert.match(diags[1].message, /^Secret default\/plain \(a\.yaml:\d+\) is of type Opaque and has no tls\.crt and tls\.key: the hosts of this tls entry \(a\.com, b\.com\) will not be served over HTTPS$/);
  // Positioned at the secretName values.
  const ing = store.list('Ingress')[0];
  assert.deepEqual(diags.map((d) => d.line), [ing.source.at(['spec', 'tls', 0, 'secretName']).line, ing.source.at(['spec', 'tls', 1, 'secretName']).line]);
});

test('tls secretName naming real TLS material: kubernetes.io/tls, or Opaque with tls.crt/tls.key; Istio-style keys get a rename fix', { skip: opensslSkipReason() }, () => {
  const { valid } = testCertificates();
  const secret = (name: string, type: string, data: Record<string, string>) => `---\n${stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type, stringData: data })}`;
  const store = storeOf(
    webService +
      tlsIngress([{ hosts: ['a.com'], secretName: 'tls' }, { hosts: ['a.com'], secretName: 'opaque-tls' }, { hosts: ['a.com'], secretName: 'istio' }], ['a.com']) +
      secret('tls', 'kubernetes.io/tls', { 'tls.crt': valid.cert, 'tls.key': valid.key }) +
      secret('opaque-tls', 'Opaque', { 'tls.crt': valid.cert, 'tls.key': valid.key }) +
      secret('istio', 'Opaque', { cert: valid.cert, key: valid.key }),
  );
  const diags = checkIngresses(store);
  assert.deepEqual(diags.map((d) => d.code), ['not-a-tls-secret']);
  assert.equal(diags[0].fix, 'rename its keys cert and key to tls.crt and tls.key (an Ingress reads only those)');
});

test('a tls host that no rule of the same Ingress routes is a warning; wildcards count for one label; host-less rules route everything', () => {
  const run = (tlsHosts: string[], ruleHosts: (string | undefined)[]) => checkIngresses(storeOf(webService + tlsIngress([{ hosts: tlsHosts }], ruleHosts)));
  const unused = run(['a.com', 'typo.com'], ['a.com']);
  assert.deepEqual(unused.map((d) => `${d.severity}:${d.code}`), ['warning:tls-host-unused']);
  assert.match(unused[0].message, /^no rule of this Ingress names tls host "typo\.com"/);
  assert.deepEqual(run(['*.foo.com'], ['bar.foo.com']), []);
  assert.deepEqual(run(['bar.foo.com'], ['*.foo.com']), []);
  assert.deepEqual(run(['baz.bar.foo.com', 'foo.com'], ['*.foo.com']).map((d) => d.code), ['tls-host-unused', 'tls-host-unused']);
  assert.deepEqual(run(['a.com'], [undefined]), []);
  assert.deepEqual(run([], ['a.com']), [], 'a tls entry without hosts names none');
});

test('hostsOverlap: equal hosts, or a wildcard and a host one label deeper', () => {
  assert.deepEqual(
    [['a.com', 'a.com'], ['*.a.com', 'b.a.com'], ['b.a.com', '*.a.com'], ['*.a.com', '*.a.com'], ['*.a.com', 'a.com'], ['*.a.com', 'c.b.a.com'], ['*.a.com', '*.b.a.com'], ['a.com', 'b.com']].map(([x, y]) => hostsOverlap(x, y)),
    [true, true, true, true, false, false, false, false],
  );
});

const ingressWithClass = (name: string, cls: string, extra = '') =>
  yaml('---', 'apiVersion: networking.k8s.io/v1', 'kind: Ingress', `metadata: {name: ${name}${extra}}`, 'spec:', `  ingressClassName: ${cls}`, '  defaultBackend: {service: {name: nowhere, port: {number: 80}}}');
const ingressClass = (name: string, controller: string, isDefault = false) =>
  yaml('---', 'apiVersion: networking.k8s.io/v1', 'kind: IngressClass', `metadata: {name: ${name}${isDefault ? ', annotations: {ingressclass.kubernetes.io/is-default-class: "true"}' : ''}}`, `spec: {controller: ${controller}}`);

test('an Ingress naming a class that does not exist is ignored, with a warning at the class; one of another controller is ignored silently', () => {
  const store = storeOf(
    webService +
      yaml(
        'apiVersion: networking.k8s.io/v1', //           6
        'kind: Ingress', //                              7
        'metadata: {name: invalid-class}', //            8
        'spec:', //                                      9
        '  ingressClassName: some-invalid-class-name', // 10
        '  defaultBackend: {service: {name: nowhere, port: {number: 80}}}',
        '---', //                                        12
        'apiVersion: networking.k8s.io/v1', //           13
        'kind: Ingress', //                              14
        'metadata:', //                                  15
        '  name: annotated', //                          16
        '  annotations:', //                             17
        '    kubernetes.io/ingress.class: traefik', //   18
        'spec: {defaultBackend: {service: {name: nowhere, port: {number: 80}}}}',
      ) +
      ingressWithClass('other-controller', 'nginx') +
      ingressClass('nginx', 'k8s.io/ingress-nginx'),
  );
  const diags = checkIngresses(store);
  // The missing backend Service "nowhere" is not reported: none of these Ingresses is Strait's.
  assert.deepEqual(where(diags), ['warning:unknown-ingress-class@10:21', 'warning:unknown-ingress-class@18:34']);
  assert.equal(diags[0].message, 'IngressClass "some-invalid-class-name" does not exist; Strait\'s built-in class is `strait`; this Ingress is ignored');
  assert.match(diags[1].message, /IngressClass "traefik" does not exist/);
});

test('Ingresses of class strait, of a declared class of Strait\'s controller, or without a class are served and checked', () => {
  const store = storeOf(webService + ingressWithClass('a', 'strait') + ingressWithClass('b', 'edge') + ingressClass('edge', 'strait.dev/ingress-controller') + yaml('---', 'apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata: {name: c}', 'spec: {defaultBackend: {service: {name: nowhere, port: {number: 80}}}}'));
  assert.deepEqual(checkIngresses(store).map((d) => d.code), ['unknown-service', 'unknown-service', 'unknown-service']);
});

test('more than one default IngressClass: one warning naming them all, and classless Ingresses are reported as ignored', () => {
  const store = storeOf(
    webService +
      yaml(
        'apiVersion: networking.k8s.io/v1', //    6
        'kind: IngressClass', //                  7
        'metadata:', //                           8
        '  name: nginx', //                       9
        '  annotations:', //                      10
        '    ingressclass.kubernetes.io/is-default-class: "true"', // 11
        'spec: {controller: k8s.io/ingress-nginx}',
        '---', //                                 13
        'apiVersion: networking.k8s.io/v1', //    14
        'kind: Ingress', //                       15
        'metadata: {name: classless}', //         16
        'spec:', //                               17
        '  defaultBackend: {service: {name: nowhere, port: {number: 80}}}',
      ) +
      ingressClass('traefik', 'traefik.io/ingress-controller', true),
  );
  const classes = checkIngressClasses(store);
  assert.deepEqual(where(classes), ['warning:multiple-default-ingress-classes@11:50']);
  assert.equal(
    classes[0].message,
    "3 IngressClasses are marked default: strait (Strait's built-in class), nginx (a.yaml:6), traefik (a.yaml:20); Kubernetes refuses new Ingresses without a class in that case, and Strait serves none of them (ING-02)",
  );
  const ingresses = checkIngresses(store);
  assert.deepEqual(where(ingresses), ['warning:ingress-not-served@17:1']);
  assert.equal(ingresses[0].message, 'this Ingress is ignored: no class, and 3 IngressClasses are marked default (strait, nginx, traefik), so none applies');
});

test('overriding strait: a single default is fine; another controller is a warning at the controller; no default at all ignores classless Ingresses', () => {
  const classless = yaml('---', 'apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata: {name: classless}', 'spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}');
  const same = storeOf(webService + ingressClass('strait', 'strait.dev/ingress-controller', true) + classless);
  assert.deepEqual([...checkIngressClasses(same), ...checkIngresses(same)], []);
  const other = storeOf(webService + ingressClass('strait', 'acme.io/lb', true) + classless);
  const diags = checkIngressClasses(other);
  assert.deepEqual(where(diags), ['warning:strait-class-overridden@10:20']);
  assert.match(diags[0].message, /gives it to controller acme\.io\/lb, so Strait no longer serves Ingresses of class strait/);
  assert.deepEqual(checkIngresses(other), [], 'the Ingress now belongs to acme.io/lb');
  const noDefault = storeOf(webService + ingressClass('strait', 'strait.dev/ingress-controller') + classless);
  assert.deepEqual(checkIngressClasses(noDefault), []);
  assert.deepEqual(checkIngresses(noDefault).map((d) => d.message), ['this Ingress is ignored: no class, and no IngressClass is marked default']);
});

test('the same host, path and pathType in two served Ingresses: a warning at the later path naming the first (it wins)', () => {
  const store = storeOf(
    webService +
      yaml(
        'apiVersion: networking.k8s.io/v1', //   6
        'kind: Ingress', //                      7
        'metadata: {name: first}', //            8
        'spec:', //                              9
        '  rules:', //                           10
        '  - host: a.com', //                    11
        '    http:', //                          12
        '      paths:', //                       13
        '      - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}',
        '      - {path: /api, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}',
        '      - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 9000}}}}', // 16
        '---', //                                17
        'apiVersion: networking.k8s.io/v1', //   18
        'kind: Ingress', //                      19
        'metadata: {name: second}', //           20
        'spec:', //                              21
        '  rules:', //                           22
        '  - host: a.com', //                    23
        '    http:', //                          24
        '      paths:', //                       25
        '      - path: /api', //                 26
        '        pathType: Prefix',
        '        backend: {service: {name: web, port: {number: 80}}}',
        '  - host: b.com', //                    29  (another host: no clash)
        '    http: {paths: [{path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}',
      ) +
      ingressWithClass('foreign', 'nginx') +
      ingressClass('nginx', 'k8s.io/ingress-nginx'),
  );
  const diags = checkIngresses(store);
  assert.deepEqual(where(diags), ['warning:duplicate-ingress-path@16:16', 'warning:duplicate-ingress-path@26:15']);
  assert.equal(diags[0].message, 'host a.com, Prefix path /api is already routed by this Ingress, earlier in the list; the oldest (first loaded) wins, so this path is never used');
  assert.equal(diags[1].message, 'host a.com, Prefix path /api is already routed by Ingress default/first (a.yaml:6); the oldest (first loaded) wins, so this path is never used');
});

test('loadConfig reports the Ingress analyzers of a fixture, in order', async () => {
  const r = await loadConfig([path.join(FIXTURES, 'ingress', 'analyzers.yaml')]);
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.severity}:${d.code}@${d.line}`),
    [
      'warning:multiple-default-ingress-classes@7',
      'warning:unknown-service@32',
      'error:unknown-port@39',
      'error:unknown-secret@23',
      'warning:tls-host-unused@22',
      'warning:unknown-ingress-class@45',
      'warning:duplicate-ingress-path@60',
    ],
  );
});

test('the Ingress conformance manifests (host, path and default-backend features) load and analyze without a word', async () => {
  const r = await loadConfig([path.join(FIXTURES, 'ingress', 'conformance.yaml')]);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.store.list('Ingress').length, 3);
});
