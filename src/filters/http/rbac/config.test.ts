// Config tests for the RBAC HTTP filter: the configs Istio's authz builder writes (ALLOW with
// SPIFFE regexes, DENY with header conditions, JWT claims, CUSTOM's shadow rules, dry-run, URI
// templates) accepted, surviving the xDS wire and compiled the same; per-route overrides;
// everything Strait would not honour rejected with the field named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../api.js';
import { filterByTypeUrl } from '../registry.js';
import '../index.js';
import { decodeResource, encodeResource } from '../../../xds/codec.js';
import { compileRbacConfig, compileRbacPerRoute, RBAC_FILTER_NAME, RBAC_PER_ROUTE_TYPE_URL, RBAC_TYPE_URL, rbacFilterFactory } from './config.js';
import { engineAllows } from './engine.js';
import { FakeFilterStream } from '../test-support.js';

const T = { '@type': RBAC_TYPE_URL };

function rejects(config: Record<string, unknown>, re: RegExp, compile: (c: Record<string, unknown>) => unknown = compileRbacConfig): void {
  assert.throws(() => compile(config), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

/** TASK-12 details-viewer: GET from bookinfo-productpage (Istio 1.2x output shape). */
const ISTIO_ALLOW = {
  ...T,
  rules: {
    policies: {
      'ns[default]-policy[details-viewer]-rule[0]': {
        permissions: [{ andRules: { rules: [{ orRules: { rules: [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }] } }] } }],
        principals: [{ andIds: { ids: [{ orIds: { ids: [{ authenticated: { principalName: { exact: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' } } }] } }] } }],
      },
    },
  },
  shadowRulesStatPrefix: 'istio_dry_run_allow_',
};

/** TASK-15 deny-method-get with the x-token condition, plus a JWT claim and a URI template. */
const ISTIO_DENY = {
  ...T,
  rules: {
    action: 'DENY',
    policies: {
      'ns[foo]-policy[deny-method-get]-rule[0]': {
        permissions: [{ andRules: { rules: [{ orRules: { rules: [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }] } }, { orRules: { rules: [{ uriTemplate: { name: 'uri-template', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig', pathTemplate: '/admin/**' } } }, { urlPath: { path: { prefix: '/get' } } }] } }] } }],
        principals: [
          {
            andIds: {
              ids: [
                { notId: { orIds: { ids: [{ header: { name: 'x-token', stringMatch: { exact: 'admin' } } }, { header: { name: 'x-token', stringMatch: { exact: 'root' } } }] } } },
                { metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'groups' }], value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch: { exact: 'group1' } } } }, { stringMatch: { exact: 'group1' } }] } }, invert: true } },
                { directRemoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } },
                { remoteIp: { addressPrefix: '0.0.0.0', prefixLen: 0 } },
              ],
            },
          },
        ],
      },
    },
  },
};

/** A CUSTOM policy's half: shadow rules only, read back by ext_authz's filter_enabled_metadata. */
const ISTIO_CUSTOM = {
  ...T,
  shadowRules: { action: 'DENY', policies: { 'istio-ext-authz-ns[foo]-policy[ext]-rule[0]': { permissions: [{ andRules: { rules: [{ orRules: { rules: [{ urlPath: { path: { exact: '/headers' } } }] } }] } }], principals: [{ andIds: { ids: [{ any: true }] } }] } } },
  shadowRulesStatPrefix: 'istio_ext_authz_',
};

test('the factory is registered under both type URLs', () => {
  assert.equal(filterByTypeUrl(RBAC_TYPE_URL), rbacFilterFactory);
  assert.equal(filterByTypeUrl(RBAC_PER_ROUTE_TYPE_URL), rbacFilterFactory);
  assert.equal(rbacFilterFactory.name, RBAC_FILTER_NAME);
  assert.equal(RBAC_FILTER_NAME, 'envoy.filters.http.rbac');
});

test("Istio's ALLOW, DENY and CUSTOM shapes compile, with the metadata keys their prefixes give", () => {
  const allow = compileRbacConfig(ISTIO_ALLOW);
  assert.equal(allow.rules?.action, 'ALLOW');
  assert.equal(allow.shadow, null);
  assert.equal(allow.shadowKeys.engineResult, 'istio_dry_run_allow_shadow_engine_result');
  assert.equal(allow.enforcedKeys.effectivePolicyId, 'enforced_effective_policy_id');
  const deny = compileRbacConfig(ISTIO_DENY);
  assert.equal(deny.rules?.action, 'DENY');
  const custom = compileRbacConfig(ISTIO_CUSTOM);
  assert.equal(custom.rules, null, 'no rules: nothing enforced');
  assert.equal(custom.shadow?.action, 'DENY');
  assert.equal(custom.shadowKeys.effectivePolicyId, 'istio_ext_authz_shadow_effective_policy_id');
});

test('the configs survive the xDS wire: same policies, same decisions', () => {
  for (const cfg of [ISTIO_ALLOW, ISTIO_DENY, ISTIO_CUSTOM, { ...T, rules: {} }]) {
    const { '@type': typeUrl, ...rest } = cfg;
    const wire = decodeResource<Record<string, unknown>>(encodeResource(typeUrl, rest));
    const a = compileRbacConfig(cfg);
    const b = compileRbacConfig(wire);
    assert.deepEqual(b.rules?.policyNames, a.rules?.policyNames);
    assert.deepEqual(b.shadow?.policyNames, a.shadow?.policyNames);
    assert.equal(b.rules === null, a.rules === null, `${JSON.stringify(rest).slice(0, 40)}: rules presence survives (empty rules = allow nothing)`);
    const s = new FakeFilterStream({ method: 'GET', path: '/get', headers: { 'x-token': 'guest' }, remoteAddress: '10.1.2.3' });
    s.info.downstreamRemoteAddress = '10.1.2.3:5000';
    for (const [x, y] of [[a.rules, b.rules], [a.shadow, b.shadow]] as const) {
      if (x && y) assert.equal(engineAllows(y, y.firstMatch(s.request, s.info)), engineAllows(x, x.firstMatch(s.request, s.info)));
    }
  }
});

test('RBACPerRoute: rbac replaces the engines; absent rbac disables RBAC on the route', () => {
  const r = compileRbacPerRoute({ '@type': RBAC_PER_ROUTE_TYPE_URL, rbac: { rules: { action: 'DENY', policies: {} }, rulesStatPrefix: 'route_' } });
  assert.equal(r.rules?.action, 'DENY');
  assert.equal(r.enforcedKeys.engineResult, 'route_enforced_engine_result');
  const off = compileRbacPerRoute({ '@type': RBAC_PER_ROUTE_TYPE_URL });
  assert.equal(off.rules, null);
  assert.equal(off.shadow, null);
  const wire = decodeResource<Record<string, unknown>>(encodeResource(RBAC_PER_ROUTE_TYPE_URL, { rbac: { rules: { action: 'DENY' } } }));
  assert.equal(compileRbacPerRoute(wire).rules?.action, 'DENY');
  rejects({ '@type': RBAC_PER_ROUTE_TYPE_URL, rules: {} }, /RBACPerRoute: unknown field "rules" in RBACPerRoute/, compileRbacPerRoute);
});

test('rejects what Strait does not implement and malformed configs, naming the field', () => {
  rejects({ ...T, matcher: {} }, /RBAC\.matcher: the RBAC matcher API is not supported/);
  rejects({ ...T, shadowMatcher: {} }, /RBAC\.shadowMatcher: the RBAC matcher API is not supported/);
  rejects({ ...T, rules: { auditLoggingOptions: {} } }, /RBAC\.rules\.auditLoggingOptions: RBAC audit loggers are not supported/);
  rejects({ ...T, rules: { policies: [] } }, /RBAC\.rules\.policies: expected a map of policy name to Policy/);
  rejects({ ...T, rules: { policies: { p: { permissions: [{ any: true }], principals: [{ authenticated: { principalName: { safeRegex: { regex: '[' } } } }] } } } }, /RBAC\.rules\.policies\["p"\]\.principals\[0\]\.authenticated\.principalName\.safeRegex\.regex: invalid regex/);
  rejects({ ...T, rulesStatPrefix: 5 }, /RBAC\.rulesStatPrefix: expected a string/);
  rejects({ '@type': RBAC_PER_ROUTE_TYPE_URL }, /RBAC: @type is ".*RBACPerRoute", expected .*\.RBAC$/);
  rejects({ ...T, policies: {} }, /RBAC: unknown field "policies" in RBAC/);
});
