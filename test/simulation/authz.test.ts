// Simulation tables for AuthorizationPolicy (AZ-01..AZ-12): manifests in, the RBAC filters each
// proxy's listeners carry out, for Istio's documented tasks: authz-http (TASK-12, Bookinfo),
// authz-ingress (TASK-14, ipBlocks on the gateway), authz-deny (TASK-15), plus scope (selector,
// namespace, root namespace), filter order, dry-run, TCP chains and CUSTOM.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpExtAuthzConfig } from '../../src/controlplane/generate/security/envoy-types.js';
import { BOOKINFO, BOOKINFO_SERVICES, filterNames, FOO_SERVICES, HTTPBIN, httpFilters, MYSQL, networkFilters, networkRbacConfigs, rbacConfigs, SLEEP } from './authz-fixtures.js';
import { GATEWAY_POD, resourcesFor, yaml } from './mesh.js';

const RBAC = 'envoy.filters.http.rbac';
// Istio's metrics filter sits last before the router on every HTTP listener (istio-stats.test.ts).
const TAIL = ['envoy.filters.http.cors', 'envoy.filters.http.fault', 'istio.stats', 'envoy.filters.http.router'];
const ALL_PODS = [...Object.values(BOOKINFO), HTTPBIN, SLEEP, MYSQL];

const ALLOW_NOTHING = yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: allow-nothing, namespace: default }
  spec: {}
`;

const viewer = (app: string, from?: string) => yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: ${app}-viewer, namespace: default }
  spec:
    selector: { matchLabels: { app: ${app} } }
    action: ALLOW
    rules:
    - ${from ? `from: [{ source: { principals: ["${from}"] } }]` : ''}
      to:
      - operation: { methods: ["GET"] }
`;

const mesh = (policies: string) => ({ manifests: `${BOOKINFO_SERVICES}${FOO_SERVICES}${policies}`, pods: ALL_PODS });

test('no policy: inbound chains carry only cors, fault and router', () => {
  const res = resourcesFor(mesh(''), BOOKINFO.productpage);
  assert.deepEqual(filterNames(httpFilters(res, 9080)), TAIL);
});

test('TASK-12 allow-nothing: every Bookinfo workload gets an ALLOW filter whose one policy never matches (403 RBAC: access denied)', () => {
  for (const w of Object.values(BOOKINFO)) {
    const filters = httpFilters(resourcesFor(mesh(ALLOW_NOTHING), w), 9080);
    assert.deepEqual(filterNames(filters), [RBAC, ...TAIL]);
    assert.deepEqual(rbacConfigs(filters)[0]!.rules, {
      action: 'ALLOW',
      policies: { 'ns[default]-policy[allow-nothing]-rule[0]': { permissions: [{ notRule: { any: true } }], principals: [{ notId: { any: true } }] } },
    });
  }
  // Namespace-scoped: httpbin in foo is not affected, nor is the gateway.
  assert.deepEqual(filterNames(httpFilters(resourcesFor(mesh(ALLOW_NOTHING), HTTPBIN), 8000)), TAIL);
});

test('TASK-12 productpage-viewer, details-viewer, reviews-viewer, ratings-viewer: each workload ORs allow-nothing with its own GET rule', () => {
  const policies = [ALLOW_NOTHING, viewer('productpage'), viewer('details', 'cluster.local/ns/default/sa/bookinfo-productpage'), viewer('reviews', 'cluster.local/ns/default/sa/bookinfo-productpage'), viewer('ratings', 'cluster.local/ns/default/sa/bookinfo-reviews')].join('---\n');
  const GET = { andRules: { rules: [{ orRules: { rules: [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }] } }] } };
  const from = (sa: string) => ({ andIds: { ids: [{ orIds: { ids: [{ authenticated: { principalName: { exact: `spiffe://cluster.local/ns/default/sa/${sa}` } } }] } }] } });
  const expected: Record<string, object> = {
    productpage: { permissions: [GET], principals: [{ andIds: { ids: [{ any: true }] } }] },
    details: { permissions: [GET], principals: [from('bookinfo-productpage')] },
    reviews: { permissions: [GET], principals: [from('bookinfo-productpage')] },
    ratings: { permissions: [GET], principals: [from('bookinfo-reviews')] },
  };
  for (const [app, w] of Object.entries(BOOKINFO)) {
    const [rbac] = rbacConfigs(httpFilters(resourcesFor(mesh(policies), w), 9080));
    assert.deepEqual(Object.keys(rbac!.rules!.policies), ['ns[default]-policy[allow-nothing]-rule[0]', `ns[default]-policy[${app}-viewer]-rule[0]`], app);
    assert.deepEqual(rbac!.rules!.policies[`ns[default]-policy[${app}-viewer]-rule[0]`], expected[app], app);
  }
});

const INGRESS_POLICY = (action: string, field: string, ips: string) => yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: ingress-policy, namespace: istio-system }
  spec:
    selector: { matchLabels: { app: istio-ingressgateway } }
    action: ${action}
    rules:
    - from:
      - source: { ${field}: ${ips} }
`;

const GATEWAY = yaml`
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: httpbin-gateway, namespace: foo }
  spec:
    selector: { istio: ingressgateway }
    servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: ["*"]
  ---
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: { name: httpbin, namespace: foo }
  spec:
    hosts: ["*"]
    gateways: [httpbin-gateway]
    http:
    - route: [{ destination: { host: httpbin, port: { number: 8000 } } }]
`;

test('TASK-14 ipBlocks on the ingress gateway: direct_remote_ip CIDRs in the gateway listener\'s ALLOW filter', () => {
  const res = resourcesFor(mesh(`${GATEWAY}---\n${INGRESS_POLICY('ALLOW', 'ipBlocks', '["1.2.3.4", "5.6.7.0/24"]')}`), GATEWAY_POD);
  const filters = httpFilters(res, 8080);
  assert.deepEqual(filterNames(filters), [RBAC, ...TAIL]);
  assert.deepEqual(rbacConfigs(filters)[0]!.rules, {
    action: 'ALLOW',
    policies: {
      'ns[istio-system]-policy[ingress-policy]-rule[0]': {
        permissions: [{ andRules: { rules: [{ any: true }] } }],
        principals: [{ andIds: { ids: [{ orIds: { ids: [{ directRemoteIp: { addressPrefix: '1.2.3.4', prefixLen: 32 } }, { directRemoteIp: { addressPrefix: '5.6.7.0', prefixLen: 24 } }] } }] } }],
      },
    },
  });
});

test('TASK-14 remoteIpBlocks → remote_ip; action DENY → a DENY filter', () => {
  const res = resourcesFor(mesh(`${GATEWAY}---\n${INGRESS_POLICY('DENY', 'remoteIpBlocks', '["203.0.113.7"]')}`), GATEWAY_POD);
  const [rbac] = rbacConfigs(httpFilters(res, 8080));
  assert.equal(rbac!.rules!.action, 'DENY');
  assert.deepEqual(rbac!.rules!.policies['ns[istio-system]-policy[ingress-policy]-rule[0]']!.principals, [{ andIds: { ids: [{ orIds: { ids: [{ remoteIp: { addressPrefix: '203.0.113.7', prefixLen: 32 } }] } }] } }]);
  // The selector picks the gateway only: sidecars in istio-system's reach are not affected.
  assert.deepEqual(filterNames(httpFilters(resourcesFor(mesh(INGRESS_POLICY('DENY', 'ipBlocks', '["1.1.1.1"]')), HTTPBIN), 8000)), TAIL);
});

const DENY_GET = (when = '') => yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: deny-method-get, namespace: foo }
  spec:
    selector: { matchLabels: { app: httpbin } }
    action: DENY
    rules:
    - to:
      - operation: { methods: ["GET"] }
      ${when}
`;

const ALLOW_PATH_IP = yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: allow-path-ip, namespace: foo }
  spec:
    selector: { matchLabels: { app: httpbin } }
    action: ALLOW
    rules:
    - to:
      - operation: { paths: ["/ip"] }
`;

test('TASK-15 explicit deny: DENY (GET, unless x-token: admin) before ALLOW (/ip)', () => {
  const res = resourcesFor(mesh(`${DENY_GET('when: [{ key: "request.headers[x-token]", notValues: ["admin"] }]')}---\n${ALLOW_PATH_IP}`), HTTPBIN);
  const filters = httpFilters(res, 8000);
  assert.deepEqual(filterNames(filters), [RBAC, RBAC, ...TAIL]);
  const [deny, allow] = rbacConfigs(filters);
  assert.deepEqual(deny!.rules, {
    action: 'DENY',
    policies: {
      'ns[foo]-policy[deny-method-get]-rule[0]': {
        permissions: [{ andRules: { rules: [{ orRules: { rules: [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }] } }] } }],
        principals: [{ andIds: { ids: [{ notId: { orIds: { ids: [{ header: { name: 'x-token', stringMatch: { exact: 'admin' } } }] } } }] } }],
      },
    },
  });
  assert.deepEqual(allow!.rules!.policies['ns[foo]-policy[allow-path-ip]-rule[0]']!.permissions, [{ andRules: { rules: [{ orRules: { rules: [{ urlPath: { path: { exact: '/ip' } } }] } }] } }]);
});

test('notPaths and notMethods become NOT of the matchers', () => {
  const res = resourcesFor(
    mesh(yaml`
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: { name: deny-not-health, namespace: foo }
      spec:
        action: DENY
        rules:
        - to:
          - operation: { notPaths: ["/healthz", "/ready*"], notMethods: ["HEAD"] }
    `),
    HTTPBIN,
  );
  const [deny] = rbacConfigs(httpFilters(res, 8000));
  assert.deepEqual(deny!.rules!.policies['ns[foo]-policy[deny-not-health]-rule[0]']!.permissions, [
    {
      andRules: {
        rules: [
          { notRule: { orRules: { rules: [{ header: { name: ':method', stringMatch: { exact: 'HEAD' } } }] } } },
          { notRule: { orRules: { rules: [{ urlPath: { path: { exact: '/healthz' } } }, { urlPath: { path: { prefix: '/ready' } } }] } } },
        ],
      },
    },
  ]);
});

test('scope: root-namespace policies apply mesh-wide, before the namespace\'s own; other namespaces\' policies never', () => {
  const policies = yaml`
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: ns-allow, namespace: foo }
    spec: { rules: [{}] }
    ---
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: mesh-deny, namespace: istio-system }
    spec:
      action: DENY
      rules: [{ from: [{ source: { notNamespaces: ["foo", "default", "istio-system"] } }] }]
    ---
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: other-allow, namespace: default }
    spec:
      selector: { matchLabels: { app: httpbin } }
      rules: [{}]
  `;
  const filters = httpFilters(resourcesFor(mesh(policies), HTTPBIN), 8000);
  const [deny, allow] = rbacConfigs(filters);
  assert.deepEqual(Object.keys(deny!.rules!.policies), ['ns[istio-system]-policy[mesh-deny]-rule[0]']);
  assert.deepEqual(Object.keys(allow!.rules!.policies), ['ns[foo]-policy[ns-allow]-rule[0]']);
  // The mesh-wide DENY reaches the gateway and Bookinfo too; foo's ALLOW does not.
  assert.deepEqual(rbacConfigs(httpFilters(resourcesFor(mesh(`${GATEWAY}---\n${policies}`), GATEWAY_POD), 8080)).map((c) => c.rules!.action), ['DENY']);
  // default's policy selects app: httpbin, which ratings is not.
  assert.deepEqual(rbacConfigs(httpFilters(resourcesFor(mesh(policies), BOOKINFO.ratings), 9080)).map((c) => Object.keys(c.rules!.policies)), [['ns[istio-system]-policy[mesh-deny]-rule[0]']]);
});

test('a policy with targetRefs applies to no Strait proxy (it would attach to Gateway API gateways only)', () => {
  const res = resourcesFor(
    mesh(yaml`
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: { name: gw, namespace: foo }
      spec:
        targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: httpbin-gateway }]
        action: DENY
        rules: [{}]
    `),
    HTTPBIN,
  );
  assert.deepEqual(filterNames(httpFilters(res, 8000)), TAIL);
});

test('filter order: AUDIT (LOG), DENY, ALLOW; dry-run policies in shadow_rules', () => {
  const res = resourcesFor(
    mesh(yaml`
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: { name: allow-dry, namespace: foo, annotations: { istio.io/dry-run: "true" } }
      spec: { rules: [{ to: [{ operation: { methods: ["POST"] } }] }] }
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: { name: deny, namespace: foo }
      spec: { action: DENY, rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] }
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: { name: audit, namespace: foo }
      spec: { action: AUDIT, rules: [{ to: [{ operation: { methods: ["DELETE"] } }] }] }
    `),
    HTTPBIN,
  );
  const [audit, deny, allow] = rbacConfigs(httpFilters(res, 8000));
  assert.equal(audit!.rules!.action, 'LOG');
  assert.equal(deny!.rules!.action, 'DENY');
  assert.equal(allow!.rules, undefined, 'a dry-run ALLOW policy enforces nothing');
  assert.deepEqual(Object.keys(allow!.shadowRules!.policies), ['ns[foo]-policy[allow-dry]-rule[0]']);
  assert.equal(allow!.shadowRulesStatPrefix, 'istio_dry_run_allow_');
});

test('TCP inbound chains: network RBAC before tcp_proxy; HTTP-only ALLOW rules are dropped, DENY rules widened (AZ-10)', () => {
  const policies = yaml`
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: mysql-allow, namespace: foo }
    spec:
      selector: { matchLabels: { app: mysql } }
      rules:
      - from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }]
        to: [{ operation: { ports: ["3306"] } }]
      - to: [{ operation: { methods: ["GET"] } }]
    ---
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: mysql-deny, namespace: foo }
    spec:
      selector: { matchLabels: { app: mysql } }
      action: DENY
      rules:
      - from: [{ source: { namespaces: ["legacy"] } }]
        to: [{ operation: { paths: ["/x"] } }]
  `;
  const filters = networkFilters(resourcesFor(mesh(policies), MYSQL), 3306);
  assert.deepEqual(filterNames(filters), ['envoy.filters.network.rbac', 'envoy.filters.network.rbac', 'istio.stats', 'envoy.filters.network.tcp_proxy']);
  const [deny, allow] = networkRbacConfigs(filters);
  assert.equal(deny!.statPrefix, 'tcp.');
  assert.deepEqual(deny!.rules!.policies['ns[foo]-policy[mysql-deny]-rule[0]']!.permissions, [{ andRules: { rules: [{ any: true }] } }]);
  assert.deepEqual(Object.keys(allow!.rules!.policies), ['ns[foo]-policy[mysql-allow]-rule[0]']);
  assert.deepEqual(allow!.rules!.policies['ns[foo]-policy[mysql-allow]-rule[0]']!.permissions, [{ andRules: { rules: [{ orRules: { rules: [{ destinationPort: 3306 }] } }] } }]);
});

test('sidecar outbound listeners never carry authorization filters', () => {
  const res = resourcesFor(mesh(ALLOW_NOTHING), BOOKINFO.productpage);
  assert.deepEqual(filterNames(httpFilters(res, 15001)), TAIL);
});

test('CUSTOM: [rbac shadow, ext_authz] first, then the DENY/ALLOW filters (istio.io ext-authz task)', () => {
  const meshConfig = yaml`
    apiVersion: v1
    kind: ConfigMap
    metadata: { name: istio, namespace: istio-system }
    data:
      mesh: |-
        extensionProviders:
        - name: sample-ext-authz-http
          envoyExtAuthzHttp:
            service: ext-authz.foo.svc.cluster.local
            port: 8000
            includeRequestHeadersInCheck: ["x-ext-authz"]
    ---
    apiVersion: v1
    kind: Service
    metadata: { name: ext-authz, namespace: foo }
    spec:
      selector: { app: ext-authz }
      ports: [{ name: http, port: 8000 }]
    ---
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: ext-authz, namespace: foo }
    spec:
      selector: { matchLabels: { app: httpbin } }
      action: CUSTOM
      provider: { name: sample-ext-authz-http }
      rules: [{ to: [{ operation: { paths: ["/headers"] } }] }]
  `;
  const filters = httpFilters(resourcesFor(mesh(`${meshConfig}---\n${DENY_GET()}`), HTTPBIN), 8000);
  assert.deepEqual(filterNames(filters), [RBAC, 'envoy.filters.http.ext_authz', RBAC, ...TAIL]);
  const [shadow] = rbacConfigs(filters);
  assert.deepEqual(Object.keys(shadow!.shadowRules!.policies), ['istio-ext-authz-sample-ext-authz-http-ns[foo]-policy[ext-authz]-rule[0]']);
  const ext = filters[1]!.typedConfig as unknown as HttpExtAuthzConfig;
  assert.equal(ext.httpService!.serverUri.cluster, 'outbound|8000||ext-authz.foo.svc.cluster.local');
  assert.deepEqual(ext.filterEnabledMetadata.path, [{ key: 'istio_ext_authz_shadow_effective_policy_id' }]);
});

test('generation is pure: the same manifests give the same filters, whatever the policies\' order', () => {
  const a = [ALLOW_NOTHING, viewer('details', 'cluster.local/ns/default/sa/bookinfo-productpage'), viewer('productpage')];
  const one = JSON.stringify(httpFilters(resourcesFor(mesh(a.join('---\n')), BOOKINFO.details), 9080));
  const two = JSON.stringify(httpFilters(resourcesFor(mesh([...a].reverse().join('---\n')), BOOKINFO.details), 9080));
  assert.equal(one, two);
});
