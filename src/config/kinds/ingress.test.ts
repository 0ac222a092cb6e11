import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadConfigText } from '../load-config.js';
import { checkDomainPrefixedPath, checkPathSegmentName, checkWildcardDns1123Subdomain, isIpAddress } from '../names.js';
import type { ConfigResource, IngressClassResource, IngressResource } from '../types.js';
import { fieldStatusTable, knownKindNames, lookupKind } from './index.js';
import { ingressHostProblem } from './ingress.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function load(text: string) {
  const { resources, diagnostics } = loadConfigText(text, 'i.yaml');
  return { resources, diagnostics, codes: diagnostics.map((d) => `${d.severity}:${d.code}`), where: diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`) };
}

function only<T extends ConfigResource>(resources: readonly ConfigResource[], kind: T['kind']): T | undefined {
  assert.ok(resources.length <= 1, 'at most one resource expected');
  const r = resources[0];
  if (r) assert.equal(r.kind, kind);
  return r as T | undefined;
}

/** An Ingress whose spec is `spec`, loaded from YAML. */
function ingress(spec: unknown, metadata: Record<string, unknown> = { name: 'web' }) {
  const r = load(stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec }));
  return { ...r, resource: only<IngressResource>(r.resources, 'Ingress') };
}

const svc = (name: string, port: Record<string, unknown> = { number: 8080 }) => ({ service: { name, port } });
const prefix = (path: string, backend: unknown = svc('web')) => ({ path, pathType: 'Prefix', backend });
const rule = (host: string | undefined, ...paths: unknown[]) => ({ ...(host !== undefined ? { host } : {}), http: { paths } });
/** A one-rule Ingress whose only path is `path`. */
const withPath = (path: unknown) => ingress({ rules: [{ host: 'a.com', http: { paths: [path] } }] });

// ---- the kinds are implemented, no longer future ----------------------------------------------

test('Ingress and IngressClass are known kinds at networking.k8s.io/v1 only', () => {
  assert.equal(lookupKind('networking.k8s.io/v1', 'Ingress').type, 'known');
  assert.equal(lookupKind('networking.k8s.io/v1', 'IngressClass').type, 'known');
  assert.ok(knownKindNames().includes('IngressClass'));
  for (const old of ['networking.k8s.io/v1beta1', 'extensions/v1beta1']) {
    const r = load(yaml(`apiVersion: ${old}`, 'kind: Ingress', 'metadata: {name: web}', 'spec: {backend: {serviceName: web, servicePort: 80}}'));
    assert.deepEqual(r.codes, ['error:wrong-api-version']);
    assert.equal(r.diagnostics[0].fix, 'change apiVersion to networking.k8s.io/v1');
  }
});

// ---- conversion --------------------------------------------------------------------------------

test('the conformance host-rules Ingress (ICC-07..12) loads as written, with the position of every rule, path and tls entry', () => {
  const text = yaml(
    'apiVersion: networking.k8s.io/v1', //    1
    'kind: Ingress', //                       2
    'metadata:', //                           3
    '  name: host-rules', //                  4
    '  namespace: conformance', //            5
    'spec:', //                               6
    '  tls:', //                              7
    '  - hosts:', //                          8
    '    - foo.bar.com', //                   9
    '    secretName: conformance-tls', //     10
    '  rules:', //                            11
    '  - host: "*.foo.com"', //               12
    '    http:', //                           13
    '      paths:', //                        14
    '      - path: /', //                     15
    '        pathType: Prefix', //            16
    '        backend:', //                    17
    '          service:', //                  18
    '            name: wildcard-foo-com', //  19
    '            port: {number: 8080}', //    20
    '  - host: foo.bar.com', //               21
    '    http:', //                           22
    '      paths:', //                        23
    '      - path: /', //                     24
    '        pathType: Prefix', //            25
    '        backend:', //                    26
    '          service:', //                  27
    '            name: foo-bar-com', //       28
    '            port: {name: http}', //      29
  );
  const { resources, diagnostics } = load(text);
  assert.deepEqual(diagnostics, []);
  const ing = only<IngressResource>(resources, 'Ingress');
  assert.ok(ing);
  assert.equal(ing.metadata.namespace, 'conformance');
  assert.deepEqual(ing.spec, {
    rules: [
      {
        host: '*.foo.com',
        paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'wildcard-foo-com', port: { number: 8080 } } }, at: ['spec', 'rules', 0, 'http', 'paths', 0] }],
        at: ['spec', 'rules', 0],
      },
      {
        host: 'foo.bar.com',
        paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'foo-bar-com', port: { name: 'http' } } }, at: ['spec', 'rules', 1, 'http', 'paths', 0] }],
        at: ['spec', 'rules', 1],
      },
    ],
    tls: [{ hosts: ['foo.bar.com'], secretName: 'conformance-tls', at: ['spec', 'tls', 0] }],
  });
  const line = (p: readonly (string | number)[]) => ing.source.at(p).line;
  assert.deepEqual([line(ing.spec.rules[0].at), line(ing.spec.rules[1].at), line(ing.spec.rules[1].paths[0].at), line(ing.spec.tls[0].at)], [12, 21, 24, 8]);
  assert.deepEqual(ing.source.at([...ing.spec.rules[1].paths[0].at, 'backend', 'service', 'port', 'name']), { file: 'i.yaml', line: 29, col: 26 });
});

test('defaults: no host, ImplementationSpecific path "/", empty secretName and tls hosts, empty rules and tls', () => {
  const { resource, diagnostics } = ingress({
    ingressClassName: 'strait',
    defaultBackend: svc('fallback', { number: 80 }),
    rules: [
      { host: '', http: { paths: [{ pathType: 'ImplementationSpecific', backend: svc('a') }, { path: '', pathType: 'ImplementationSpecific', backend: svc('b') }] } },
      { http: { paths: [{ path: '/x', pathType: 'Exact', backend: svc('c') }] } },
    ],
    tls: [{ secretName: '' }, { hosts: [], secretName: 'cert' }],
  });
  assert.deepEqual(diagnostics, []);
  assert.ok(resource);
  assert.equal(resource.spec.ingressClassName, 'strait');
  assert.deepEqual(resource.spec.defaultBackend, { service: { name: 'fallback', port: { number: 80 } } });
  assert.deepEqual(resource.spec.rules.map((r) => [r.host, r.paths.map((p) => `${p.pathType} ${p.path}`)]), [
    [undefined, ['ImplementationSpecific /', 'ImplementationSpecific /']],
    [undefined, ['Exact /x']],
  ]);
  assert.equal('host' in resource.spec.rules[0], false);
  assert.deepEqual(resource.spec.tls, [{ hosts: [], at: ['spec', 'tls', 0] }, { hosts: [], secretName: 'cert', at: ['spec', 'tls', 1] }]);
  const bare = ingress({ defaultBackend: svc('fallback') });
  assert.deepEqual(bare.diagnostics, []);
  assert.deepEqual(bare.resource?.spec.rules, []);
  assert.deepEqual(bare.resource?.spec.tls, []);
  assert.equal(bare.resource?.spec.ingressClassName, undefined);
});

test('status is ignored; unknown fields are errors with a suggestion', () => {
  assert.deepEqual(load(stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'w' }, spec: { defaultBackend: svc('a') }, status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } })).codes, []);
  const r = ingress({ defaultBackend: svc('a'), rule: [] });
  assert.deepEqual(r.codes, ['error:unknown-field']);
  assert.match(r.diagnostics[0].message, /did you mean 'rules'\?/);
});

// ---- spec --------------------------------------------------------------------------------------

test('rules empty requires a defaultBackend (ING-03), reported at spec', () => {
  const text = yaml('apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata: {name: web}', 'spec:', '  rules: []', '  tls: [{hosts: [a.com]}]');
  const r = load(text);
  assert.deepEqual(r.where, ['missing-field@4:1']);
  assert.equal(r.diagnostics[0].message, 'spec: either defaultBackend or rules must be specified (ING-03)');
  assert.deepEqual(load(yaml('apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata: {name: web}')).codes, ['error:missing-field']);
});

test('a rule without http paths: a warning when there is no defaultBackend; http without paths is an error', () => {
  const r = ingress({ rules: [{ host: 'a.com' }, rule('b.com', prefix('/'))] });
  assert.deepEqual(r.codes, ['warning:no-paths']);
  assert.match(r.diagnostics[0].message, /so it routes no request for host a\.com$/);
  assert.deepEqual(r.resource?.spec.rules[0].paths, []);
  assert.deepEqual(ingress({ defaultBackend: svc('d'), rules: [{ host: 'a.com' }] }).codes, []);
  assert.deepEqual(ingress({ rules: [{ host: 'a.com', http: {} }] }).codes, ['error:missing-field']);
  assert.deepEqual(ingress({ rules: [{ host: 'a.com', http: { paths: [] } }] }).codes, ['error:invalid-value']);
});

test('spec.ingressClassName is a DNS-1123 subdomain', () => {
  assert.deepEqual(ingress({ ingressClassName: 'Nginx', defaultBackend: svc('a') }).codes, ['error:invalid-value']);
  assert.deepEqual(ingress({ ingressClassName: '', defaultBackend: svc('a') }).codes, ['error:invalid-value']);
  assert.deepEqual(ingress({ ingressClassName: 'nginx.example', defaultBackend: svc('a') }).codes, []);
});

test('the kubernetes.io/ingress.class annotation is kept; alone it is a deprecation warning, in conflict with ingressClassName an error', () => {
  const alone = ingress({ defaultBackend: svc('a') }, { name: 'w', annotations: { 'kubernetes.io/ingress.class': 'nginx', other: 'x' } });
  assert.deepEqual(alone.codes, ['warning:deprecated']);
  assert.equal(alone.diagnostics[0].fix, 'replace it with spec.ingressClassName: nginx');
  assert.deepEqual(alone.resource?.metadata.annotations, { 'kubernetes.io/ingress.class': 'nginx', other: 'x' });
  assert.deepEqual(ingress({ ingressClassName: 'nginx', defaultBackend: svc('a') }, { name: 'w', annotations: { 'kubernetes.io/ingress.class': 'nginx' } }).codes, []);
  const text = yaml(
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata:',
    '  name: w',
    '  annotations:',
    '    kubernetes.io/ingress.class: nginx', // 6
    'spec:',
    '  ingressClassName: strait',
    '  defaultBackend: {service: {name: a, port: {number: 80}}}',
  );
  const conflict = load(text);
  assert.deepEqual(conflict.where, ['conflict@6:34']);
  assert.match(conflict.diagnostics[0].message, /must match spec\.ingressClassName when both are set: the annotation says "nginx", ingressClassName says "strait"/);
  assert.deepEqual(conflict.resources, []);
});

test('the networking.k8s.io/v1beta1 shapes are unknown fields whose fix shows the v1 form', () => {
  const r = ingress({ backend: { serviceName: 'web', servicePort: 80 } });
  assert.deepEqual(r.codes, ['error:unknown-field']);
  assert.equal(r.diagnostics[0].message, "unknown field 'spec.backend' in Ingress: it belongs to an older API version");
  assert.match(r.diagnostics[0].fix ?? '', /rename it to defaultBackend/);
  const p = withPath({ path: '/', pathType: 'Prefix', backend: { serviceName: 'web', servicePort: 80 } });
  assert.deepEqual(p.codes, ['error:unknown-field', 'error:unknown-field', 'error:one-of']);
  assert.match(p.diagnostics[0].fix ?? '', /service: \{name: <service>, port: \{number: <port>\}\}/);
});

// ---- hosts -------------------------------------------------------------------------------------

test('host rules (ING-05, ING-06): each mistake gets its own message and fix', () => {
  const table: readonly [string, RegExp, string | RegExp][] = [
    ['foo.bar.com:8080', /must not include a port/, 'write "foo.bar.com"'],
    ['Foo.Bar.com', /must be lower case/, 'write "foo.bar.com"'],
    ['foo.bar.com.', /must not end with a dot/, 'write "foo.bar.com"'],
    ['1.2.3.4', /must be a DNS name, not an IP address/, /omit host/],
    ['010.2.3.4', /not an IP address/, /omit host/],
    ['::1', /not an IP address/, /omit host/],
    ['[::1]', /not an IP address/, /omit host/],
    ['*', /must not be '\*' alone/, /omit host to match every host \(ING-07\)/],
    ['foo.*.com', /only as the whole first label/, /first label/],
    ['*foo.com', /only as the whole first label/, /first label/],
    ['*.*.foo.com', /only as the whole first label/, /first label/],
    ['*.foo_bar.com', /wildcard DNS-1123 subdomain/, /after '\*\.'/],
    ['foo_bar.com', /DNS-1123 subdomain/, /lower-case letters, digits/],
    ['-foo.com', /DNS-1123 subdomain/, /lower-case letters, digits/],
    [`${'a'.repeat(250)}.com`, /DNS-1123 subdomain/, /lower-case/],
  ];
  for (const [host, message, fix] of table) {
    const problem = ingressHostProblem(host);
    assert.ok(problem, `${host} must be refused`);
    assert.match(problem.message, message, host);
    if (typeof fix === 'string') assert.equal(problem.fix, fix, host);
    else assert.match(problem.fix, fix, host);
  }
  for (const ok of ['foo.bar.com', 'localhost', '*.foo.com', '*.com', 'a-b.c-d.io', 'xn--bcher-kva.example']) assert.equal(ingressHostProblem(ok), undefined, ok);
  assert.equal(ingressHostProblem('1.2.3.4', { allowIp: true }), undefined);
  // Not an IPv4 address, so judged as a DNS name, which it is (the API server accepts it too).
  assert.equal(ingressHostProblem('256.2.3.4'), undefined);
});

test('an invalid rule host is an error at the host value, and the resource is dropped', () => {
  const text = yaml(
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata: {name: web}',
    'spec:',
    '  rules:',
    '  - host: Foo.Bar.com', // 6
    '    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}',
  );
  const r = load(text);
  assert.deepEqual(r.where, ['invalid-value@6:11']);
  assert.equal(r.diagnostics[0].message, 'spec.rules[0].host: "Foo.Bar.com" is not a valid host: it must be lower case (Kubernetes refuses capital letters in hosts)');
  assert.equal(r.diagnostics[0].fix, 'write "foo.bar.com"');
  assert.deepEqual(r.resources, []);
});

test('tls hosts follow the host rules, except that an IP address is only a warning (it never arrives as SNI)', () => {
  const tls = (hosts: unknown[]) => ingress({ defaultBackend: svc('a'), tls: [{ hosts, secretName: 'cert' }] });
  assert.deepEqual(tls(['foo.bar.com', '*.foo.com']).codes, []);
  assert.deepEqual(tls(['*']).codes, ['error:invalid-value']);
  assert.deepEqual(tls(['foo.bar.com:443']).codes, ['error:invalid-value']);
  assert.deepEqual(tls(['']).codes, ['error:invalid-value']);
  const ip = tls(['foo.bar.com', '10.0.0.1']);
  assert.deepEqual(ip.codes, ['warning:invalid-value']);
  assert.match(ip.diagnostics[0].message, /^spec\.tls\[0\]\.hosts\[1\]: "10\.0\.0\.1" is an IP address, which clients never send as SNI/);
  assert.deepEqual(ip.resource?.spec.tls[0].hosts, ['foo.bar.com', '10.0.0.1']);
});

test('tls secretName is a Secret name (DNS-1123 subdomain) when set', () => {
  assert.deepEqual(ingress({ defaultBackend: svc('a'), tls: [{ secretName: 'My_Cert' }] }).codes, ['error:invalid-value']);
});

// ---- paths -------------------------------------------------------------------------------------

test('pathType is required (ING-11) and one of Exact, Prefix, ImplementationSpecific', () => {
  const text = yaml(
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata: {name: web}',
    'spec:',
    '  rules:',
    '  - http:',
    '      paths:',
    '      - path: /', // 8
    '        backend: {service: {name: web, port: {number: 80}}}',
  );
  const r = load(text);
  assert.deepEqual(r.where, ['missing-field@8:9']);
  assert.equal(r.diagnostics[0].fix, "add 'pathType' (Exact, Prefix or ImplementationSpecific) to 'spec.rules[0].http.paths[0]'");
  const lower = withPath({ path: '/', pathType: 'prefix', backend: svc('web') });
  assert.deepEqual(lower.codes, ['error:invalid-value']);
  assert.equal(lower.diagnostics[0].fix, 'write Prefix');
});

test('Exact and Prefix paths: required, absolute, none of the sequences the API server refuses (ING-08)', () => {
  const table: readonly [unknown, string[], RegExp?][] = [
    [undefined, ['error:missing-field'], /pathType Prefix needs a path starting with '\/'/],
    ['', ['error:missing-field'], /needs a path/],
    ['foo', ['error:invalid-value'], /must be an absolute path: "foo" does not start with '\/'/],
    ['/a//b', ['error:invalid-value'], /must not contain '\/\/'/],
    ['/a/./b', ['error:invalid-value'], /must not contain '\/\.\/'/],
    ['/a/../b', ['error:invalid-value'], /must not contain '\/\.\.\/'/],
    ['/a%2fb', ['error:invalid-value'], /must not contain '%2f'/],
    ['/a%2Fb', ['error:invalid-value'], /must not contain '%2F'/],
    ['/a/..', ['error:invalid-value'], /must not end with '\/\.\.'/],
    ['/a/.', ['error:invalid-value'], /must not end with '\/\.'/],
    ['//x/..', ['error:invalid-value', 'error:invalid-value']],
    ['/', []],
    ['/foo/', []],
    ['/a.b/c..d/', []],
  ];
  for (const pathType of ['Exact', 'Prefix']) {
    for (const [path, codes, message] of table) {
      const r = withPath({ ...(path !== undefined ? { path } : {}), pathType, backend: svc('web') });
      assert.deepEqual(r.codes, codes, `${pathType} ${String(path)}`);
      if (message) assert.match(r.diagnostics[0].message, pathType === 'Exact' ? new RegExp(message.source.replace('Prefix', 'Exact')) : message, `${pathType} ${String(path)}`);
    }
  }
  assert.equal(withPath({ path: 'foo', pathType: 'Exact', backend: svc('web') }).diagnostics[0].fix, 'write "/foo"');
});

test('ImplementationSpecific paths may be omitted, and are otherwise only required to be absolute', () => {
  assert.deepEqual(withPath({ path: '/a//b/..', pathType: 'ImplementationSpecific', backend: svc('web') }).codes, []);
  assert.deepEqual(withPath({ path: 'a', pathType: 'ImplementationSpecific', backend: svc('web') }).codes, ['error:invalid-value']);
  assert.equal(withPath({ path: '/api/.*', pathType: 'ImplementationSpecific', backend: svc('web') }).resource?.spec.rules[0].paths[0].path, '/api/.*');
});

test('a path error is reported at the path value', () => {
  const text = yaml(
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata: {name: web}',
    'spec:',
    '  rules:',
    '  - http:',
    '      paths:',
    '      - pathType: Exact',
    '        path: foo', // 9
    '        backend: {service: {name: web, port: {number: 80}}}',
  );
  assert.deepEqual(load(text).where, ['invalid-value@9:15']);
});

// ---- backends ----------------------------------------------------------------------------------

test('backend: exactly one of service and resource (ING-15); service port: exactly one of number and name (ING-14)', () => {
  const p = (backend: unknown) => withPath({ path: '/', pathType: 'Prefix', backend }).codes;
  const resource = { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' };
  assert.deepEqual(p({ ...svc('web'), resource }), ['error:one-of']);
  assert.deepEqual(p({}), ['error:one-of']);
  assert.deepEqual(p(svc('web', { number: 80, name: 'http' })), ['error:one-of']);
  assert.deepEqual(p(svc('web', {})), ['error:one-of']);
  assert.deepEqual(p({ service: { name: 'web' } }), ['error:missing-field']);
  assert.deepEqual(p(svc('web', { number: 0 })), ['error:invalid-value']);
  assert.deepEqual(p(svc('web', { number: 65536 })), ['error:invalid-value']);
  assert.deepEqual(p(svc('web', { number: '80' })), ['error:wrong-type']);
  assert.deepEqual(p(svc('web', { name: 'HTTP' })), ['error:invalid-value']);
  assert.deepEqual(p(svc('web', { name: 'http-alt' })), []);
  assert.deepEqual(p(svc('1web')), ['error:invalid-value'], 'Service names are DNS-1035 labels');
  assert.deepEqual(p({ resource: { kind: 'StorageBucket' } }), ['error:missing-field']);
  assert.deepEqual(p({ resource: { kind: 'a/b', name: 'x' } }), ['error:invalid-value']);
});

test('a resource backend is kept, with one precise warning at the resource key (Strait serves only Services)', () => {
  const text = yaml(
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata: {name: web}',
    'spec:',
    '  defaultBackend:',
    '    resource:', // 6
    '      apiGroup: k8s.example.com',
    '      kind: StorageBucket',
    '      name: static-assets',
  );
  const r = load(text);
  assert.deepEqual(r.where, ['unsupported-value@6:5']);
  assert.equal(r.diagnostics[0].severity, 'warning');
  assert.match(r.diagnostics[0].message, /Strait serves only Service backends: requests routed here get 503/);
  const ing = only<IngressResource>(r.resources, 'Ingress');
  assert.deepEqual(ing?.spec.defaultBackend, { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' } });
});

// ---- IngressClass ------------------------------------------------------------------------------

function ingressClass(spec: unknown, metadata: Record<string, unknown> = { name: 'web' }) {
  const r = load(stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata, spec }));
  return { ...r, resource: only<IngressClassResource>(r.resources, 'IngressClass') };
}

test('IngressClass: cluster-scoped, controller kept, isDefault from the annotation "true" only', () => {
  const def = ingressClass({ controller: 'strait.dev/ingress-controller' }, { name: 'web', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } });
  assert.deepEqual(def.diagnostics, []);
  assert.deepEqual(def.resource && { ns: def.resource.metadata.namespace, spec: def.resource.spec, isDefault: def.resource.isDefault }, {
    ns: '',
    spec: { controller: 'strait.dev/ingress-controller' },
    isDefault: true,
  });
  assert.equal(ingressClass({ controller: 'acme.io/x' }).resource?.isDefault, false);
  const notFalse = ingressClass({ controller: 'acme.io/x' }, { name: 'web', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'false' } });
  assert.deepEqual([notFalse.codes, notFalse.resource?.isDefault], [[], false]);
  const capital = ingressClass({ controller: 'acme.io/x' }, { name: 'web', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'True' } });
  assert.deepEqual(capital.codes, ['warning:invalid-value']);
  assert.match(capital.diagnostics[0].message, /only the exact string "true" marks the default class; "True" does not/);
  assert.equal(capital.resource?.isDefault, false);
  assert.deepEqual(ingressClass({ controller: 'acme.io/x' }, { name: 'web', namespace: 'shop' }).codes, ['warning:ignored-namespace']);
});

test('IngressClass controller: required, a domain-prefixed path of at most 250 characters (ING-19)', () => {
  const c = (controller: unknown) => ingressClass({ controller }).codes;
  assert.deepEqual(ingressClass({}).codes, ['error:missing-field']);
  assert.deepEqual(c(''), ['error:invalid-value']);
  assert.deepEqual(c('acme.io'), ['error:invalid-value']);
  assert.deepEqual(c('acme.io/'), ['error:invalid-value']);
  assert.deepEqual(c('/ingress'), ['error:invalid-value']);
  assert.deepEqual(c('Acme.io/ingress'), ['error:invalid-value']);
  assert.deepEqual(c('acme.io/ingress controller'), ['error:invalid-value']);
  assert.deepEqual(c(`acme.io/${'x'.repeat(242)}`), [], '250 characters');
  const long = ingressClass({ controller: `acme.io/${'x'.repeat(244)}` });
  assert.deepEqual(long.codes, ['error:invalid-value']);
  assert.match(long.diagnostics[0].message, /at most 250 characters long \(this one has 252\)/);
  assert.deepEqual(c('k8s.io/ingress-nginx'), []);
  assert.deepEqual(c('example.com/a/b~c:d'), []);
});

test('IngressClass parameters (ING-20): checked like the API server, scope defaults to Cluster, kept, warned unsupported', () => {
  const p = (parameters: Record<string, unknown>) => ingressClass({ controller: 'acme.io/x', parameters });
  const cluster = p({ apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' });
  assert.deepEqual(cluster.codes, ['warning:unsupported-field']);
  assert.match(cluster.diagnostics[0].fix ?? '', /Strait's controller takes no parameters/);
  assert.deepEqual(cluster.resource?.spec.parameters, { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb', scope: 'Cluster' });
  const namespaced = p({ kind: 'IngressParameters', name: 'lb', scope: 'Namespace', namespace: 'ops' });
  assert.deepEqual(namespaced.codes, ['warning:unsupported-field']);
  assert.deepEqual(namespaced.resource?.spec.parameters, { kind: 'IngressParameters', name: 'lb', scope: 'Namespace', namespace: 'ops' });
  assert.deepEqual(p({ name: 'lb' }).codes, ['warning:unsupported-field', 'error:missing-field']);
  assert.deepEqual(p({ kind: 'X', name: '' }).codes, ['warning:unsupported-field', 'error:invalid-value']);
  assert.deepEqual(p({ kind: 'X', name: 'lb', scope: 'Namespace' }).codes, ['warning:unsupported-field', 'error:missing-field']);
  assert.deepEqual(p({ kind: 'X', name: 'lb', scope: 'Cluster', namespace: 'ops' }).codes, ['warning:unsupported-field', 'error:invalid-value']);
  assert.match(p({ kind: 'X', name: 'lb', namespace: 'ops' }).diagnostics[1].message, /namespace is not allowed when scope is 'Cluster' \(the default\)/);
  assert.deepEqual(p({ kind: 'X', name: 'lb', scope: 'Global' }).codes, ['warning:unsupported-field', 'error:invalid-value']);
  assert.deepEqual(p({ kind: 'X', name: 'lb', apiGroup: 'Bad_Group' }).codes, ['warning:unsupported-field', 'error:invalid-value']);
});

// ---- names and the field table -----------------------------------------------------------------

test('name helpers: wildcard subdomains, IP addresses, path segments, domain-prefixed paths', () => {
  assert.equal(checkWildcardDns1123Subdomain('*.foo.com'), undefined);
  assert.notEqual(checkWildcardDns1123Subdomain('*'), undefined);
  assert.notEqual(checkWildcardDns1123Subdomain('foo.com'), undefined);
  assert.deepEqual(['1.2.3.4', '001.002.003.004', '::1', '2001:db8::1', '1.2.3', '1.2.3.256', 'a.b.c.d', 'foo:80'].map(isIpAddress), [true, true, true, true, false, false, false, false]);
  assert.deepEqual(['x', 'Bucket', '.', '..', 'a/b', 'a%b'].map((v) => checkPathSegmentName(v) === undefined), [true, true, false, false, false, false]);
  assert.deepEqual(['acme.io/x', 'acme.io/x/y', 'acme.io', 'acme.io/', 'ACME.io/x', 'acme.io/x y'].map((v) => checkDomainPrefixedPath(v) === undefined), [true, true, false, false, false, false]);
});

test('field table: Ingress and IngressClass fields with their status', () => {
  const rows = fieldStatusTable();
  const status = (kind: string, p: string) => rows.find((r) => r.kind === kind && r.path === p)?.status;
  assert.equal(status('Ingress', 'spec.rules[].http.paths[].backend.service.port.number'), 'supported');
  assert.equal(status('Ingress', 'spec.rules[].http.paths[].backend.resource'), 'unsupported');
  assert.equal(status('Ingress', 'spec.defaultBackend.resource.kind'), 'unsupported');
  assert.equal(status('Ingress', 'spec.tls[].secretName'), 'supported');
  assert.equal(status('Ingress', 'status'), 'ignored');
  assert.equal(status('IngressClass', 'spec.controller'), 'supported');
  assert.equal(status('IngressClass', 'spec.parameters.scope'), 'unsupported');
});
