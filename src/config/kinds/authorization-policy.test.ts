import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';
import { parseConditionKey } from './authorization-policy.js';

const ap = (spec: unknown, annotations?: Record<string, string>) =>
  stringify({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'foo', ...(annotations ? { annotations } : {}) }, ...(spec === undefined ? {} : { spec }) });
const codes = (spec: unknown) => loadText(ap(spec)).codes;
const sel = { matchLabels: { app: 'httpbin' } };
const allow = (rule: Record<string, unknown>) => codes({ selector: sel, rules: [rule] });
const deny = (rule: Record<string, unknown>) => codes({ selector: sel, action: 'DENY', rules: [rule] });
const source = (s: Record<string, unknown>) => allow({ from: [{ source: s }] });
const operation = (o: Record<string, unknown>) => allow({ to: [{ operation: o }] });
const when = (key: string, values: readonly string[] = ['x']) => allow({ when: [{ key, values }] });

const NO_SOURCE = {
  principals: [], notPrincipals: [], requestPrincipals: [], notRequestPrincipals: [], namespaces: [], notNamespaces: [], serviceAccounts: [], notServiceAccounts: [],
  ipBlocks: [], notIpBlocks: [], remoteIpBlocks: [], notRemoteIpBlocks: [], trustDomains: [], notTrustDomains: [],
};
const NO_OPERATION = { hosts: [], notHosts: [], ports: [], notPorts: [], methods: [], notMethods: [], paths: [], notPaths: [] };

test('AuthorizationPolicy: empty spec is ALLOW with no rules (allow nothing), rules: [{}] one empty rule (AZ-03, TASK-12)', () => {
  for (const spec of [undefined, {}, { rules: [] }]) {
    const { resource, diagnostics } = loadOne('AuthorizationPolicy', ap(spec));
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(resource.spec, { targetRefs: [], action: 'ALLOW', rules: [], dryRun: false });
  }
  const all = loadOne('AuthorizationPolicy', ap({ rules: [{}] }));
  assert.deepEqual(all.resource.spec.rules, [{ from: [], to: [], when: [], path: ['spec', 'rules', 0] }]);
});

test('AuthorizationPolicy: the authz-http task policies are typed, every list defaulted (TASK-12, AZ-05..07)', () => {
  const { resource, diagnostics } = loadOne(
    'AuthorizationPolicy',
    ap({
      selector: { matchLabels: { app: 'details' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] } }], to: [{ operation: { methods: ['GET'] } }] }],
    }),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec, {
    selector: { matchLabels: { app: 'details' } },
    targetRefs: [],
    action: 'ALLOW',
    rules: [
      {
        from: [{ source: { ...NO_SOURCE, principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] }, path: ['spec', 'rules', 0, 'from', 0] }],
        to: [{ operation: { ...NO_OPERATION, methods: ['GET'] }, path: ['spec', 'rules', 0, 'to', 0] }],
        when: [],
        path: ['spec', 'rules', 0],
      },
    ],
    dryRun: false,
  });
});

test('AuthorizationPolicy: when conditions carry their parsed attribute (AZ-09, TASK-13/15)', () => {
  const { resource, diagnostics } = loadOne(
    'AuthorizationPolicy',
    ap({
      selector: sel,
      action: 'DENY',
      rules: [
        {
          to: [{ operation: { methods: ['GET'], ports: ['8000'] } }],
          when: [
            { key: 'request.headers[x-token]', notValues: ['admin'] },
            { key: 'request.auth.claims[groups]', values: ['group1'] },
            { key: 'request.auth.claims[nested][key]', values: ['a*'] },
            { key: 'source.ip', values: ['10.0.0.0/8', '::1'] },
            { key: 'destination.port', values: ['8000'] },
          ],
        },
      ],
    }),
  );
  assert.deepEqual(diagnostics, []);
  const w = resource.spec.rules[0].when;
  assert.deepEqual(w[0], { key: 'request.headers[x-token]', attribute: { name: 'request.headers', keys: ['x-token'] }, values: [], notValues: ['admin'], path: ['spec', 'rules', 0, 'when', 0] });
  assert.deepEqual(w.slice(1).map((c) => c.attribute), [
    { name: 'request.auth.claims', keys: ['groups'] },
    { name: 'request.auth.claims', keys: ['nested', 'key'] },
    { name: 'source.ip', keys: [] },
    { name: 'destination.port', keys: [] },
  ]);
});

test('when keys: Istio\'s documented set, nested claims, experimental filters; the rest is rejected with a reason', () => {
  const attr = (key: string) => {
    const p = parseConditionKey(key);
    return 'attribute' in p ? p.attribute : p.problem;
  };
  assert.deepEqual(attr('request.auth.claims[a.b]'), { name: 'request.auth.claims', keys: ['a.b'] });
  assert.deepEqual(attr('experimental.envoy.filters.network.mysql_proxy[db.table]'), { name: 'experimental.envoy.filters.network.mysql_proxy', keys: ['db.table'] });
  for (const key of ['remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'source.trustDomain', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'connection.sni']) {
    assert.deepEqual(attr(key), { name: key, keys: [] }, key);
  }
  assert.match(String(attr('request.headers')), /must be request\.headers\[<header name>\]/);
  assert.match(String(attr('request.headers[]')), /must be request\.headers/);
  assert.match(String(attr('request.headers[bad name]')), /is not an HTTP header name/);
  assert.match(String(attr('destination.labels[app]')), /replaced by the workload selector/);
  assert.match(String(attr('destination.namespace')), /replaced by metadata\.namespace/);
  assert.match(String(attr('destination.user')), /v1alpha1/);
  assert.equal(attr('source.ipp'), 'unknown attribute source.ipp; did you mean source.ip?');
  assert.match(String(attr('experimental.envoy.filters.x')), /must be experimental\.envoy\.filters\.<filter>\[<key>\]/);
});

test('AuthorizationPolicy rules: positioned errors with fixes (Istio ValidateAuthorizationPolicy)', () => {
  const r = loadText(
    yaml(
      'apiVersion: security.istio.io/v1', //                                        1
      'kind: AuthorizationPolicy', //                                               2
      'metadata: {name: bad, namespace: foo}', //                                   3
      'spec:', //                                                                   4
      '  selector: {matchLabels: {app: httpbin}}', //                               5
      '  rules:', //                                                                6
      '  - from:', //                                                               7
      '    - source: {ipBlocks: ["1.2.3.4/33"], namespaces: [""]}', //              8
      '    - source: {}', //                                                        9
      '    to:', //                                                                 10
      '    - operation: {ports: ["http"], paths: ["/a/{**}/{*}"]}', //              11
      '    when:', //                                                               12
      '    - key: request.auth.claim[groups]', //                                   13
      '      values: [a]', //                                                       14
      '    - key: source.ip', //                                                    15
      '      values: []', //                                                        16
    ),
  );
  assert.deepEqual(r.at, [
    'error:invalid-value@8:55',
    'error:invalid-value@8:27',
    'error:invalid-value@9:7',
    'error:invalid-value@11:27',
    'error:invalid-value@11:44',
    'error:invalid-value@13:12',
    'error:missing-field@15:7',
  ]);
  assert.match(r.diagnostics[0].message, /spec\.rules\[0\]\.from\[0\]\.source\.namespaces\[0\]: empty value not allowed in namespaces/);
  assert.match(r.diagnostics[1].message, /spec\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: "1\.2\.3\.4\/33" is not an IP address or CIDR block/);
  assert.match(r.diagnostics[2].message, /source must not be empty/);
  assert.match(r.diagnostics[4].message, /\{\*\*\} must be the last operator/);
  assert.match(r.diagnostics[5].message, /unknown attribute request\.auth\.claim\[groups\]; did you mean request\.auth\.claims\?/);
  assert.match(r.diagnostics[6].message, /at least one of values or notValues must be set for key source\.ip/);
  assert.deepEqual(r.resources, []);
});

test('AuthorizationPolicy value rules: service accounts, trust domains, IPs, ports, wildcards, empty lists', () => {
  assert.deepEqual(source({ serviceAccounts: ['default/sleep', 'sleep'] }), []);
  assert.deepEqual(source({ serviceAccounts: ['ns/*'] }), ['error:invalid-value']);
  assert.deepEqual(source({ serviceAccounts: ['a/b/c'] }), ['error:invalid-value']);
  assert.deepEqual(source({ serviceAccounts: ['a/b'], principals: ['x'] }), ['error:conflict']);
  assert.deepEqual(source({ notServiceAccounts: ['a/b'], notNamespaces: ['x'] }), ['error:conflict']);
  assert.deepEqual(source({ trustDomains: ['*.local', 'cluster.*', '*'] }), []);
  assert.deepEqual(source({ trustDomains: ['a*b'] }), ['error:invalid-value']);
  assert.deepEqual(source({ notTrustDomains: ['td/ns'] }), ['error:invalid-value']);
  assert.deepEqual(source({ remoteIpBlocks: ['203.0.113.0/24', '2001:db8::/32'], notIpBlocks: ['10.0.0.1'] }), []);
  assert.deepEqual(source({ principals: ['*', 'cluster.local/*', '*/sa/sleep'] }), []);
  // Istio accepts a * in the middle and matches it literally: a warning says so.
  assert.deepEqual(source({ principals: ['cluster.local/ns/*/sa/sleep'] }), ['warning:literal-wildcard']);
  assert.deepEqual(operation({ ports: ['0', '65535'], notPorts: ['80'] }), []);
  assert.deepEqual(operation({ ports: ['65536'] }), ['error:invalid-value']);
  assert.deepEqual(operation({ hosts: [''] }), ['error:invalid-value']);
  assert.deepEqual(operation({ paths: ['/api/{*}/items/{**}'], notPaths: ['/admin*'] }), []);
  assert.deepEqual(operation({ paths: ['/api/{id}'] }), ['error:invalid-value']);
  assert.deepEqual(operation({ methods: [] }), ['error:invalid-value']);
  assert.deepEqual(when('remote.ip', ['1.2.3.4']), []);
  assert.deepEqual(when('source.ip', ['not-an-ip']), ['error:invalid-value']);
  assert.deepEqual(when('destination.port', ['http']), ['error:invalid-value']);
  assert.deepEqual(when('source.serviceAccount', ['ns/*']), ['error:invalid-value']);
  assert.deepEqual(allow({ to: [{}] }), ['error:missing-field']);
  // `from: []` is read like no `from` at all (any source): allowed, with a warning.
  assert.deepEqual(allow({ from: [], to: [{ operation: { methods: ['GET'] } }] }), ['warning:empty-means-any']);
});

test('AuthorizationPolicy actions: DENY and CUSTOM need rules, CUSTOM needs provider.name and no identities (AZ-01)', () => {
  assert.deepEqual(codes({ action: 'DENY' }), ['error:missing-field']);
  assert.deepEqual(codes({ action: 'DENY', rules: [] }), ['error:missing-field']);
  assert.deepEqual(codes({ action: 'CUSTOM', provider: { name: 'ext' } }), ['error:missing-field']);
  assert.deepEqual(codes({ action: 'CUSTOM', rules: [{}] }), ['error:missing-field']);
  assert.deepEqual(codes({ action: 'DENY', provider: { name: 'ext' }, rules: [{}] }), ['error:conflict']);
  assert.deepEqual(codes({ action: 'AUDIT' }), []);
  const custom = loadOne('AuthorizationPolicy', ap({ selector: sel, action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{ to: [{ operation: { paths: ['/headers'] } }] }] }));
  assert.deepEqual(custom.diagnostics, []);
  assert.deepEqual(custom.resource.spec.provider, { name: 'ext-authz' });
  const identities = loadText(ap({ action: 'CUSTOM', provider: { name: 'x' }, rules: [{ from: [{ source: { principals: ['a'], ipBlocks: ['1.2.3.4'] } }], when: [{ key: 'request.auth.claims[iss]', values: ['a'] }] }] }));
  assert.deepEqual(identities.codes, ['error:unsupported-with-custom', 'error:unsupported-with-custom']);
  assert.match(identities.diagnostics[0].message, /spec\.rules\[0\]\.from\[0\]\.source\.principals: principals is not supported with the CUSTOM action/);
  assert.equal(codes({ action: 'ALOW' })[0], 'error:invalid-value');
});

test('AuthorizationPolicy: DENY rules with only HTTP attributes warn that they deny all TCP traffic (AZ-10)', () => {
  assert.deepEqual(deny({ to: [{ operation: { methods: ['GET'] } }] }), ['warning:deny-all-tcp']);
  assert.deepEqual(deny({ from: [{ source: { requestPrincipals: ['*'] } }] }), ['warning:deny-all-tcp']);
  assert.deepEqual(deny({ to: [{ operation: { methods: ['GET'], ports: ['8000'] } }] }), []);
  assert.deepEqual(deny({ from: [{ source: { ipBlocks: ['1.2.3.4'] } }] }), []);
  assert.deepEqual(deny({ when: [{ key: 'request.headers[x]', values: ['a'] }] }), []);
});

test('AuthorizationPolicy: istio.io/dry-run is a Go boolean, on ALLOW and DENY only (AZ-12)', () => {
  const dry = (value: string, spec: Record<string, unknown> = {}) => loadText(ap(spec, { 'istio.io/dry-run': value }));
  for (const [value, expected] of [['true', true], ['1', true], ['T', true], ['false', false], ['0', false]] as const) {
    const r = dry(value);
    assert.deepEqual(r.codes, [], value);
    assert.equal(r.resources[0].kind === 'AuthorizationPolicy' && r.resources[0].spec.dryRun, expected, value);
  }
  const bad = dry('yes');
  assert.deepEqual(bad.codes, ['error:invalid-value']);
  assert.match(bad.diagnostics[0].message, /istio\.io\/dry-run must be a boolean, found "yes"/);
  assert.deepEqual(dry('true', { action: 'AUDIT' }).codes, ['error:invalid-value']);
  assert.deepEqual(dry('true', { action: 'DENY', rules: [{}] }).codes, []);
});

test('AuthorizationPolicy scope: empty selector warns and is dropped; targetRefs are kept and warned (AZ-04)', () => {
  const empty = loadOne('AuthorizationPolicy', ap({ selector: {} }));
  assert.deepEqual(empty.codes, ['warning:empty-selector']);
  assert.equal(empty.resource.spec.selector, undefined);
  const targeted = loadOne('AuthorizationPolicy', ap({ targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }], rules: [{}] }));
  assert.deepEqual(targeted.codes, ['warning:unsupported-field']);
  assert.equal(targeted.resource.spec.targetRefs.length, 1);
  assert.deepEqual(codes({ selector: sel, targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'g' } }), ['error:conflict', 'warning:unsupported-field']);
});
