import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkCustomProviders, checkMtlsConflicts, checkPeerAuthenticationScopes, checkPolicySelectors, checkPrincipalTrustDomains } from './analyze-security.js';
import { ConfigStore } from './config-store.js';
import { loadConfig, loadConfigText } from './load-config.js';
import { effectivePeerAuthentication, mtlsModeForPort } from './security-scope.js';
import { where, yaml } from './test-support.js';
import type { Diagnostic } from './types.js';

function storeOf(text: string): ConfigStore {
  const { resources, diagnostics } = loadConfigText(text, 'a.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.line}: ${d.message}`), [], 'fixture text must load without errors');
  return new ConfigStore(resources);
}

/** httpbin in foo: Service port 8000 → container port 8080 (lines 1-13). */
const httpbin = yaml(
  'apiVersion: v1', //                                              1
  'kind: Service',
  'metadata: {name: httpbin, namespace: foo}',
  'spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000, targetPort: 8080}]}',
  '---', //                                                         5
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata: {name: httpbin, namespace: foo}',
  'spec:',
  '  selector: {matchLabels: {app: httpbin, version: v1}}', //     10
  '  template:',
  '    metadata: {labels: {app: httpbin, version: v1}}',
  '    spec: {containers: [{name: httpbin, image: x, ports: [{containerPort: 8080}]}]}',
  '---', //                                                         14
);

const pa = (namespace: string, spec: string) => yaml('apiVersion: security.istio.io/v1', 'kind: PeerAuthentication', `metadata: {name: p-${namespace}, namespace: ${namespace}}`, `spec: ${spec}`, '---');
const dr = (trafficPolicy: string, extra = '') =>
  yaml('apiVersion: networking.istio.io/v1', 'kind: DestinationRule', 'metadata: {name: httpbin, namespace: foo}', 'spec:', '  host: httpbin', ...(trafficPolicy ? [`  trafficPolicy: ${trafficPolicy}`] : []), ...(extra ? [extra] : []), '---');
const messages = (ds: readonly Diagnostic[]) => ds.map((d) => d.message);

test('mtls-conflict: a DISABLE DestinationRule to STRICT workloads is an error naming both resources', async () => {
  const text = httpbin + pa('foo', '{mtls: {mode: STRICT}}') + dr('{tls: {mode: DISABLE}}'); // PA 15-19, DR 20-
  const found = checkMtlsConflicts(storeOf(text));
  assert.deepEqual(where(found), ['error:mtls-conflict@25:31']);
  assert.match(found[0].message, /DestinationRule foo\/httpbin sends plaintext to httpbin\.foo\.svc\.cluster\.local port 8000, but PeerAuthentication foo\/p-foo \(a\.yaml:15\) makes Deployment foo\/httpbin accept only mTLS \(STRICT\) on port 8080/);
  assert.match(found[0].fix ?? '', /ISTIO_MUTUAL/);
  // Through loadConfig it is reported, but does not block the run.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-analyze-security-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.yaml'), text);
    const loaded = (await loadConfig([dir])).diagnostics.filter((d) => d.code === 'mtls-conflict');
    assert.deepEqual(loaded.map((d) => [d.severity, d.blocking]), [['error', false]]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('mtls-conflict follows the most specific PeerAuthentication, port-level modes and DR port settings (PA-02/03)', () => {
  const conflicts = (text: string) => where(checkMtlsConflicts(storeOf(httpbin + text)));
  // Mesh-wide STRICT from the root namespace; SIMPLE cannot present the mesh certificate either.
  assert.deepEqual(conflicts(pa('istio-system', '{mtls: {mode: STRICT}}') + dr('{tls: {mode: SIMPLE}}')).length, 1);
  // A workload policy overrides the namespace's STRICT.
  assert.deepEqual(conflicts(pa('foo', '{mtls: {mode: STRICT}}') + pa('foo', '{selector: {matchLabels: {app: httpbin}}, mtls: {mode: PERMISSIVE}}').replace('p-foo', 'w') + dr('{tls: {mode: DISABLE}}')), []);
  // UNSET inherits: a workload policy with only port-level DISABLE for the container port.
  assert.deepEqual(conflicts(pa('foo', '{mtls: {mode: STRICT}}') + pa('foo', '{selector: {matchLabels: {app: httpbin}}, portLevelMtls: {8080: {mode: DISABLE}}}').replace('p-foo', 'w') + dr('{tls: {mode: DISABLE}}')), []);
  // A port-level DR setting for the Service port overrides the DR's top-level tls.
  assert.deepEqual(conflicts(pa('foo', '{mtls: {mode: STRICT}}') + dr('{tls: {mode: DISABLE}, portLevelSettings: [{port: {number: 8000}, tls: {mode: ISTIO_MUTUAL}}]}')), []);
  // mTLS to a DISABLE workload fails too; PERMISSIVE (the default) accepts everything.
  assert.deepEqual(conflicts(pa('foo', '{mtls: {mode: DISABLE}}') + dr('{tls: {mode: ISTIO_MUTUAL}}')).length, 1);
  assert.deepEqual(conflicts(pa('foo', '{mtls: {mode: PERMISSIVE}}') + dr('{tls: {mode: DISABLE}}')), []);
  // Subset-level settings apply to the subset's workloads only.
  assert.deepEqual(conflicts(pa('foo', '{mtls: {mode: STRICT}}') + dr('', '  subsets: [{name: v2, labels: {version: v2}, trafficPolicy: {tls: {mode: DISABLE}}}]')), []);
  assert.deepEqual(conflicts(pa('foo', '{mtls: {mode: STRICT}}') + dr('', '  subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {tls: {mode: DISABLE}}}]')), ['error:mtls-conflict@25:75']);
});

test('effective PeerAuthentication: first of each scope, root selector ignored, UNSET inherits, PERMISSIVE default', () => {
  const store = storeOf(httpbin + pa('istio-system', '{mtls: {mode: STRICT}}') + pa('foo', '{}') + pa('istio-system', '{selector: {matchLabels: {app: httpbin}}, mtls: {mode: DISABLE}}').replace('p-istio-system', 'root-selector'));
  const workload = { namespace: 'foo', labels: { app: 'httpbin' } };
  const e = effectivePeerAuthentication(store.list('PeerAuthentication'), workload, 'istio-system');
  assert.equal(e.mode, 'STRICT');
  assert.equal(e.decidedBy?.metadata.name, 'p-istio-system');
  assert.equal(e.namespace?.metadata.name, 'p-foo');
  assert.equal(e.workload, undefined);
  assert.deepEqual(mtlsModeForPort(effectivePeerAuthentication([], workload, 'istio-system'), 80), { mode: 'PERMISSIVE' });
});

test('PeerAuthentication scopes: duplicates, root-namespace selectors, selectors and port keys that match nothing', () => {
  const store = storeOf(
    httpbin +
      pa('foo', '{mtls: {mode: STRICT}}') + //                                                          15-19 (spec 18)
      pa('foo', '{mtls: {mode: DISABLE}}').replace('p-foo', 'second') + //                               20-24 (spec 23)
      pa('istio-system', '{selector: {matchLabels: {app: httpbin}}}') + //                              25-29 (spec 28)
      pa('foo', '{selector: {matchLabels: {app: htpbin}}}').replace('p-foo', 'typo') + //               30-34 (spec 33)
      pa('foo', '{selector: {matchLabels: {app: httpbin}}, portLevelMtls: {8000: {mode: DISABLE}}}').replace('p-foo', 'svc-port'), // 35-39 (spec 38)
  );
  const found = checkPeerAuthenticationScopes(store);
  assert.deepEqual(where(found), ['warning:duplicate-peer-authentication@22:18', 'warning:ignored-peer-authentication@28:8', 'warning:selector-selects-nothing@33:19', 'warning:unknown-workload-port@38:65']);
  assert.match(found[0].message, /PeerAuthentication foo\/p-foo \(a\.yaml:15\) is also namespace-wide in foo/);
  assert.match(found[3].message, /it is a Service port, and portLevelMtls is keyed by the container port \(8080\)/);
  assert.equal(found[3].fix, 'use 8080, the targetPort of Service port 8000');
});

test('RequestAuthentication and AuthorizationPolicy selectors that select nothing; the ingress gateway and root policies count', () => {
  const policy = (kind: string, namespace: string, labels: string) => yaml('apiVersion: security.istio.io/v1', `kind: ${kind}`, `metadata: {name: p, namespace: ${namespace}}`, `spec: {selector: {matchLabels: ${labels}}}`, '---');
  const found = checkPolicySelectors(
    storeOf(
      httpbin +
        policy('AuthorizationPolicy', 'foo', '{app: httpbin}') + //                         15-19
        policy('AuthorizationPolicy', 'istio-system', '{app: istio-ingressgateway}') + //   20-24
        policy('RequestAuthentication', 'istio-system', '{app: httpbin}') + //               25-29
        policy('RequestAuthentication', 'bar', '{app: httpbin}'), //                         30-34
    ),
  );
  assert.deepEqual(where(found), ['warning:selector-selects-nothing@33:19']);
  assert.match(found[0].message, /matches no workload in namespace bar/);
});

const mesh = (...lines: string[]) => yaml('apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: istio, namespace: istio-system}', 'data:', '  mesh: |-', ...lines.map((l) => `    ${l}`), '---');
const custom = (provider: string, name = 'ext') =>
  yaml('apiVersion: security.istio.io/v1', 'kind: AuthorizationPolicy', `metadata: {name: ${name}, namespace: foo}`, 'spec:', '  selector: {matchLabels: {app: httpbin}}', '  action: CUSTOM', `  provider: {name: ${provider}}`, '  rules: [{to: [{operation: {paths: ["/headers"]}}]}]', '---');
const authz = yaml('apiVersion: v1', 'kind: Service', 'metadata: {name: ext-authz, namespace: foo}', 'spec: {selector: {app: ext-authz}, ports: [{port: 8000}]}', '---');

test('CUSTOM policies: unknown provider, tracing provider, unresolvable service, several providers per workload', () => {
  const providers = mesh(
    'extensionProviders:', //                                                               6
    '- {name: http, envoyExtAuthzHttp: {service: ext-authz.foo.svc.cluster.local, port: 8000}}', // 7
    '- {name: grpc, envoyExtAuthzGrpc: {service: ext-authz, port: 9000}}', //                8
    '- {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}}', // 9
  ); // 1-10
  const base = httpbin + authz + providers; // httpbin 1-14, authz 15-19, mesh 20-29
  assert.deepEqual(where(checkCustomProviders(storeOf(base + custom('http')))), []);
  const unknown = checkCustomProviders(storeOf(base + custom('htp'))); // AP from 30: provider line 36
  assert.deepEqual(where(unknown), ['error:unknown-extension-provider@36:20']);
  assert.match(unknown[0].message, /provider htp is not among the mesh config's extensionProviders \(http, grpc\): Istio turns the policy into a DENY/);
  assert.deepEqual(where(checkCustomProviders(storeOf(base + custom('zipkin')))).map((w) => w.split('@')[0]), ['error:not-an-authorizer']);
  const short = checkCustomProviders(storeOf(base + custom('grpc')));
  assert.deepEqual(where(short), ['error:unknown-provider-service@27:49']);
  assert.match(short[0].message, /service ext-authz is no Service or ServiceEntry host/);
  const two = checkCustomProviders(storeOf(base + custom('http') + custom('zipkin', 'second').replace('zipkin', 'grpc')));
  assert.deepEqual(messages(two).filter((m) => /allows one provider per workload/.test(m)).length, 1);
  // Without a mesh config there are no providers at all.
  assert.match(messages(checkCustomProviders(storeOf(httpbin + custom('http'))))[0], /\(none defined\)/);
});

test('principals of another trust domain never match (meshConfig.trustDomain)', () => {
  const policy = yaml(
    'apiVersion: security.istio.io/v1', //                                              15
    'kind: AuthorizationPolicy',
    'metadata: {name: p, namespace: foo}',
    'spec:',
    '  rules:',
    '  - from: [{source: {principals: ["cluster.local/ns/a/sa/b", "example.org/ns/a/sa/b", "*/ns/a/sa/b"]}}]', // 20
  );
  const found = checkPrincipalTrustDomains(storeOf(httpbin + policy));
  assert.deepEqual(where(found), ['warning:foreign-trust-domain@20:62']);
  assert.match(found[0].message, /trust domain example\.org, but the mesh's trust domain is cluster\.local/);
  const renamed = storeOf(httpbin + policy + '---\n' + mesh('trustDomain: example.org'));
  assert.deepEqual(where(checkPrincipalTrustDomains(renamed)), ['warning:foreign-trust-domain@20:35']);
});
