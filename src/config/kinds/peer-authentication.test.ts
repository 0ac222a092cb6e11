import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';

const pa = (spec: unknown, metadata: Record<string, unknown> = {}) =>
  stringify({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'foo', ...metadata }, ...(spec === undefined ? {} : { spec }) });
const codes = (spec: unknown) => loadText(pa(spec)).codes;

test('PeerAuthentication: namespace STRICT (TASK-11), defaults UNSET, no selector, no ports (PA-01/02)', () => {
  const strict = loadOne('PeerAuthentication', pa({ mtls: { mode: 'STRICT' } }));
  assert.deepEqual(strict.diagnostics, []);
  assert.deepEqual(strict.resource.spec, { mtls: { mode: 'STRICT' }, portLevelMtls: [] });
  assert.equal(strict.resource.metadata.namespace, 'foo');
  // No spec, `spec: {}` and `mtls: {}` are all an UNSET namespace policy.
  for (const spec of [undefined, {}, { mtls: {} }]) assert.deepEqual(loadOne('PeerAuthentication', pa(spec)).resource.spec, { mtls: { mode: 'UNSET' }, portLevelMtls: [] });
  // v1beta1 serves the same schema.
  assert.equal(loadOne('PeerAuthentication', pa({ mtls: { mode: 'PERMISSIVE' } }).replace('security.istio.io/v1', 'security.istio.io/v1beta1')).resource.apiVersion, 'security.istio.io/v1beta1');
});

test('PeerAuthentication: workload selector with port-level modes, sorted by port, with positions (PA-03)', () => {
  const { resource, diagnostics } = loadOne(
    'PeerAuthentication',
    yaml(
      'apiVersion: security.istio.io/v1',
      'kind: PeerAuthentication',
      'metadata: {name: httpbin, namespace: foo}',
      'spec:',
      '  selector: {matchLabels: {app: httpbin}}',
      '  mtls: {mode: STRICT}',
      '  portLevelMtls:',
      '    9000: {mode: PERMISSIVE}',
      '    8080: {mode: DISABLE}',
      '    "8443": {}',
    ),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec, {
    selector: { matchLabels: { app: 'httpbin' } },
    mtls: { mode: 'STRICT' },
    portLevelMtls: [
      { port: 8080, mode: 'DISABLE', path: ['spec', 'portLevelMtls', '8080'] },
      { port: 8443, mode: 'UNSET', path: ['spec', 'portLevelMtls', '8443'] },
      { port: 9000, mode: 'PERMISSIVE', path: ['spec', 'portLevelMtls', '9000'] },
    ],
  });
  assert.deepEqual(resource.source.at(['spec', 'portLevelMtls', '8080', 'mode']), { file: 'k.yaml', line: 9, col: 18 });
});

test('PeerAuthentication rules: positioned errors with fixes (Istio ValidatePeerAuthentication and CRD)', () => {
  const r = loadText(
    yaml(
      'apiVersion: security.istio.io/v1', //                  1
      'kind: PeerAuthentication', //                          2
      'metadata: {name: bad, namespace: foo}', //             3
      'spec:', //                                             4
      '  mtls: {mode: STRCT}', //                             5
      '  portLevelMtls:', //                                  6
      '    0: {mode: DISABLE}', //                            7
      '    http: {mode: DISABLE}', //                         8
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@5:16', 'error:invalid-key@7:5', 'error:invalid-key@8:5']);
  assert.equal(r.diagnostics[0].fix, 'write STRICT');
  assert.match(r.diagnostics[1].message, /key "0" is not valid: it must be a port number between 1 and 65535 \(the workload's container port\)/);
  assert.deepEqual(r.resources, []);
  // Port-level modes need a selector with labels; an empty map is rejected; an empty selector warns.
  assert.deepEqual(codes({ portLevelMtls: { 8080: { mode: 'DISABLE' } } }), ['error:conflict']);
  assert.deepEqual(codes({ selector: {}, portLevelMtls: { 8080: { mode: 'DISABLE' } } }), ['warning:empty-selector', 'error:conflict']);
  assert.deepEqual(codes({ selector: { matchLabels: { app: 'a' } }, portLevelMtls: {} }), ['error:invalid-value']);
  assert.deepEqual(codes({ selector: { matchLabels: { app: 'a*' } } }), ['error:invalid-value']);
  assert.deepEqual(codes({ mtls: { mode: 'STRICT', extra: 1 } }), ['error:unknown-field']);
  // An empty selector is no selector: the namespace's policy.
  const empty = loadOne('PeerAuthentication', pa({ selector: { matchLabels: {} }, mtls: { mode: 'DISABLE' } }));
  assert.deepEqual(empty.codes, ['warning:empty-selector']);
  assert.equal(empty.resource.spec.selector, undefined);
});

test('PeerAuthentication: the dry-run annotation is AuthorizationPolicy-only (Istio rejects it here)', () => {
  const r = loadText(pa({ mtls: { mode: 'STRICT' } }, { annotations: { 'istio.io/dry-run': 'true' } }));
  assert.deepEqual(r.codes, ['error:invalid-value']);
  assert.match(r.diagnostics[0].message, /PeerAuthentication does not support the annotation istio\.io\/dry-run/);
});
