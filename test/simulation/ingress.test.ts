// Kubernetes Ingress compiled for the ingress gateway and matched by the data plane's own route
// table: the website's path-matching table (reference §1.1), host rules (ING-05..07), precedence
// across Ingresses (ING-12), default backends (ING-03), classes (ING-01/02), ports by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, GATEWAY_PROXY, resourcesFor, yaml } from './mesh.js';
import { simulate } from './simulate.js';
import { generateProxyResources } from '../../src/controlplane/generate/generate.js';
import { planIngress } from '../../src/controlplane/generate/ingress.js';

const HTTP = 8080;

function service(name: string, port = 8080, portName = 'http'): string {
  return yaml`
    apiVersion: v1
    kind: Service
    metadata: { name: ${name}, namespace: default }
    spec:
      selector: { app: ${name} }
      ports: [{ name: ${portName}, port: ${port}, targetPort: 8080 }]
    ---
  `;
}

function ingress(name: string, body: string, extraMeta = ''): string {
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default${extraMeta}
spec:
${body}
---
`;
}

function pathsIngress(paths: [string, 'Exact' | 'Prefix' | 'ImplementationSpecific', string][], host?: string): string {
  const list = paths.map(([p, t, svc]) => `      - path: ${p}\n        pathType: ${t}\n        backend: { service: { name: ${svc}, port: { number: 8080 } } }`).join('\n');
  return `  rules:\n  - ${host ? `host: ${host}\n    ` : ''}http:\n      paths:\n${list}`;
}

/** The service that answers (short name), or 'NR'. */
function served(manifests: string, authority: string, path: string): string {
  const r = simulate(resourcesFor({ manifests }), { port: HTTP, authority, path });
  if (r.error) return r.error;
  const m = /^outbound\|\d+\|\|([^.]+)\./.exec(r.cluster ?? '');
  return m ? m[1]! : `unexpected ${JSON.stringify(r)}`;
}

const SERVICES = ['a', 'b', 'c', 'root', 'aaa', 'aaabbb', 'foo-exact', 'foo-prefix', 'default-svc'].map((s) => service(s)).join('');

// ---- the website's path-matching table (kubernetes.io/docs/concepts/services-networking/ingress)
const WEBSITE: [string, [string, 'Exact' | 'Prefix', string][], string, string][] = [
  ['Prefix / matches every path', [['/', 'Prefix', 'root']], '/anything/at/all', 'root'],
  ['Exact /foo matches /foo', [['/foo', 'Exact', 'a']], '/foo', 'a'],
  ['Exact /foo does not match /bar', [['/foo', 'Exact', 'a']], '/bar', 'NR'],
  ['Exact /foo does not match /foo/', [['/foo', 'Exact', 'a']], '/foo/', 'NR'],
  ['Exact /foo/ does not match /foo', [['/foo/', 'Exact', 'a']], '/foo', 'NR'],
  ['Prefix /foo matches /foo', [['/foo', 'Prefix', 'a']], '/foo', 'a'],
  ['Prefix /foo matches /foo/', [['/foo', 'Prefix', 'a']], '/foo/', 'a'],
  ['Prefix /foo/ matches /foo', [['/foo/', 'Prefix', 'a']], '/foo', 'a'],
  ['Prefix /foo/ matches /foo/', [['/foo/', 'Prefix', 'a']], '/foo/', 'a'],
  ['Prefix /aaa/bb does not match /aaa/bbb', [['/aaa/bb', 'Prefix', 'a']], '/aaa/bbb', 'NR'],
  ['Prefix /aaa/bbb matches /aaa/bbb', [['/aaa/bbb', 'Prefix', 'a']], '/aaa/bbb', 'a'],
  ['Prefix /aaa/bbb/ matches /aaa/bbb (trailing slash ignored)', [['/aaa/bbb/', 'Prefix', 'a']], '/aaa/bbb', 'a'],
  ['Prefix /aaa/bbb matches /aaa/bbb/ (trailing slash matched)', [['/aaa/bbb', 'Prefix', 'a']], '/aaa/bbb/', 'a'],
  ['Prefix /aaa/bbb matches /aaa/bbb/ccc (subpath)', [['/aaa/bbb', 'Prefix', 'a']], '/aaa/bbb/ccc', 'a'],
  ['Prefix /aaa/bbb does not match /aaa/bbbxyz (not a string prefix)', [['/aaa/bbb', 'Prefix', 'a']], '/aaa/bbbxyz', 'NR'],
  ['Prefix /, /aaa: /aaa/ccc goes to /aaa', [['/', 'Prefix', 'root'], ['/aaa', 'Prefix', 'aaa']], '/aaa/ccc', 'aaa'],
  ['Prefix /, /aaa, /aaa/bbb: /aaa/bbb goes to /aaa/bbb', [['/', 'Prefix', 'root'], ['/aaa', 'Prefix', 'aaa'], ['/aaa/bbb', 'Prefix', 'aaabbb']], '/aaa/bbb', 'aaabbb'],
  ['Prefix /, /aaa, /aaa/bbb: /ccc goes to /', [['/', 'Prefix', 'root'], ['/aaa', 'Prefix', 'aaa'], ['/aaa/bbb', 'Prefix', 'aaabbb']], '/ccc', 'root'],
  ['Prefix /aaa: /ccc has no match (default backend; none here)', [['/aaa', 'Prefix', 'a']], '/ccc', 'NR'],
  ['Mixed /foo Prefix and /foo Exact: /foo prefers Exact', [['/foo', 'Prefix', 'foo-prefix'], ['/foo', 'Exact', 'foo-exact']], '/foo', 'foo-exact'],
  ['Mixed: /foo/x still takes the Prefix', [['/foo', 'Prefix', 'foo-prefix'], ['/foo', 'Exact', 'foo-exact']], '/foo/x', 'foo-prefix'],
  ['Exact matching is case-sensitive', [['/foo', 'Exact', 'a']], '/FOO', 'NR'],
  ['Prefix matching is case-sensitive', [['/foo', 'Prefix', 'a']], '/FOO', 'NR'],
  ['the query string is not part of the path', [['/foo', 'Exact', 'a']], '/foo?x=1', 'a'],
];

for (const [name, paths, request, expected] of WEBSITE) {
  test(`ING path table: ${name}`, () => {
    assert.equal(served(SERVICES + ingress('t', pathsIngress(paths, 'paths.example.com')), 'paths.example.com', request), expected);
  });
}

test('ING-11 ImplementationSpecific is treated as Prefix (element-wise)', () => {
  const m = SERVICES + ingress('t', pathsIngress([['/foo', 'ImplementationSpecific', 'a']], 'x.example.com'));
  assert.equal(served(m, 'x.example.com', '/foo/bar'), 'a');
  assert.equal(served(m, 'x.example.com', '/foobar'), 'NR');
});

test('ING-12 precedence holds across two Ingresses sharing a host, whatever their order', () => {
  const one = ingress('one', pathsIngress([['/aaa', 'Prefix', 'aaa']], 'shared.example.com'));
  const two = ingress('two', pathsIngress([['/aaa/bbb', 'Prefix', 'aaabbb']], 'shared.example.com'));
  for (const m of [SERVICES + one + two, SERVICES + two + one]) {
    assert.equal(served(m, 'shared.example.com', '/aaa/bbb/c'), 'aaabbb');
    assert.equal(served(m, 'shared.example.com', '/aaa/x'), 'aaa');
  }
});

// ---- hosts
const HOSTS = SERVICES + ingress('hosts', `  rules:
  - host: foo.bar.com
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: a, port: { number: 8080 } } } }] }
  - host: "*.foo.com"
    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: b, port: { number: 8080 } } } }] }
  - http: { paths: [{ path: /hostless, pathType: Prefix, backend: { service: { name: c, port: { number: 8080 } } } }] }`);

for (const [authority, path, expected, why] of [
  ['foo.bar.com', '/', 'a', 'ING-05 exact host'],
  ['FOO.bar.com', '/', 'a', 'host matching ignores case'],
  ['foo.bar.com:8080', '/', 'a', 'a port in Host is not part of the host'],
  ['subdomain.bar.com', '/', 'NR', 'ICC-09 unmatched host, no default backend: 404'],
  ['bar.foo.com', '/', 'b', 'ICC-10 wildcard matches one label'],
  ['bar.foo.com:8080', '/', 'b', 'wildcard with a port'],
  ['baz.bar.foo.com', '/', 'NR', 'ICC-11 wildcard does not match two labels'],
  ['foo.com', '/', 'NR', 'ICC-12 wildcard does not match zero labels'],
  ['anything.example', '/hostless/x', 'c', 'ING-07 host-less rule for other hosts'],
  ['baz.bar.foo.com', '/hostless', 'c', 'a host the wildcard does not match reaches the host-less rules'],
  ['foo.bar.com', '/hostless', 'a', 'a matched host does not fall through to host-less rules'],
] as const) {
  test(`ING hosts: ${why} (${authority}${path})`, () => {
    assert.equal(served(HOSTS, authority, path), expected);
  });
}

test('ING-03 the default backend takes what no rule matches, including unmatched paths of a matched host', () => {
  const m = HOSTS + ingress('fallback', '  defaultBackend: { service: { name: default-svc, port: { number: 8080 } } }');
  assert.equal(served(m, 'subdomain.bar.com', '/'), 'default-svc');
  assert.equal(served(m, 'baz.bar.foo.com', '/x'), 'default-svc');
  assert.equal(served(m, 'bar.foo.com', '/'), 'b');
  const pathOnly = SERVICES + ingress('p', pathsIngress([['/only', 'Exact', 'a']], 'h.example.com')) + ingress('d', '  defaultBackend: { service: { name: default-svc, port: { number: 8080 } } }');
  assert.equal(served(pathOnly, 'h.example.com', '/other'), 'default-svc');
});

test('ING-03 an Ingress with only a default backend takes every request (ICC-01..06)', () => {
  const m = SERVICES + ingress('only-default', '  defaultBackend: { service: { name: default-svc, port: { number: 8080 } } }');
  for (const [a, p] of [['my-host', '/'], ['my-host', '/sub-path'], ['some-host', '/resource'], ['', '/resource']]) assert.equal(served(m, a || 'x', p!), 'default-svc');
});

test('ING-14 a backend port by name resolves to the Service port of that name', () => {
  const m = service('named', 9999, 'http') + ingress('n', `  rules:\n  - host: n.example.com\n    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: named, port: { name: http } } } }] }`);
  const r = simulate(resourcesFor({ manifests: m }), { port: HTTP, authority: 'n.example.com', path: '/' });
  assert.equal(r.cluster, 'outbound|9999||named.default.svc.cluster.local');
});

test('ING-01 Ingresses of another class are not served, and the plan says why', () => {
  const m =
    SERVICES +
    ingress('other', `  ingressClassName: some-invalid-class-name\n${pathsIngress([['/', 'Prefix', 'a']], 'ingress-class')}`) +
    ingress('legacy', pathsIngress([['/', 'Prefix', 'b']], 'legacy.example.com'), '\n  annotations: { kubernetes.io/ingress.class: strait }') +
    ingress('classless', pathsIngress([['/', 'Prefix', 'c']], 'classless.example.com'));
  assert.equal(served(m, 'ingress-class', '/'), 'NR');
  assert.equal(served(m, 'legacy.example.com', '/'), 'b');
  assert.equal(served(m, 'classless.example.com', '/'), 'c');
  const plan = planIngress(buildSnapshot({ manifests: m }));
  const other = plan.status.find((s) => s.name === 'other')!;
  assert.equal(other.served, false);
  assert.match(other.reason, /some-invalid-class-name/);
  assert.equal(plan.status.find((s) => s.name === 'classless')!.served, true);
});

test('the gateway listens on 80 (bound at 8080) only when an Ingress is served', () => {
  const none = generateProxyResources(buildSnapshot({ manifests: SERVICES }), GATEWAY_PROXY);
  assert.deepEqual(none.listeners.map((l) => l.name), []);
  const one = generateProxyResources(buildSnapshot({ manifests: SERVICES + ingress('t', pathsIngress([['/', 'Prefix', 'a']])) }), GATEWAY_PROXY);
  assert.deepEqual(one.listeners.map((l) => l.name), ['0.0.0.0_8080']);
});
