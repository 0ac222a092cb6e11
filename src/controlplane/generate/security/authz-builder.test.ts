// Policies → RBAC filters (AZ-01..AZ-03, AZ-12): filter per action in Istio's order, rule names,
// the never-matching policy of `spec: {}`, dry-run shadow rules, and the network filter for TCP.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzPolicies, AuthzPolicy } from './authz-builder.js';
import { authzHttpFilters, authzTcpFilters, buildRules } from './authz-builder.js';
import { MATCH_NEVER } from './authz-model.js';
import type { HttpRbacConfig, NetworkRbacConfig } from './envoy-types.js';

const TD = ['cluster.local'];
const NONE: AuthzPolicies = { custom: [], deny: [], allow: [], audit: [] };

function policy(name: string, action: AuthzPolicy['action'], rules: AuthzPolicy['rules'], dryRun = false): AuthzPolicy {
  return { name, namespace: 'foo', action, rules, dryRun };
}

const configs = (p: AuthzPolicies): HttpRbacConfig[] => authzHttpFilters(p, TD).map((f) => f.typedConfig as unknown as HttpRbacConfig);

test('no policies: no filter (everything allowed)', () => {
  assert.deepEqual(authzHttpFilters(NONE, TD), []);
  assert.deepEqual(authzTcpFilters(NONE, TD), []);
});

test('filters come in the order AUDIT (LOG), DENY, ALLOW, each named envoy.filters.http.rbac', () => {
  const filters = authzHttpFilters({ custom: [], allow: [policy('a', 'ALLOW', [{}])], deny: [policy('d', 'DENY', [{}])], audit: [policy('u', 'AUDIT', [{}])] }, TD);
  assert.deepEqual(filters.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.rbac', 'envoy.filters.http.rbac']);
  assert.deepEqual(filters.map((f) => (f.typedConfig as unknown as HttpRbacConfig).rules?.action), ['LOG', 'DENY', 'ALLOW']);
  assert.equal(filters[0]!.typedConfig['@type'], 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC');
});

test('allow-nothing (spec: {}): an ALLOW filter whose only policy never matches (AZ-03)', () => {
  const [c] = configs({ ...NONE, allow: [policy('allow-nothing', 'ALLOW', [])] });
  assert.deepEqual(c, { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC', rules: { action: 'ALLOW', policies: { 'ns[foo]-policy[allow-nothing]-rule[0]': MATCH_NEVER } } });
  assert.deepEqual(MATCH_NEVER, { permissions: [{ notRule: { any: true } }], principals: [{ notId: { any: true } }] });
});

test('rules: [{}] allows everything; rule names count rules from 0', () => {
  const [c] = configs({ ...NONE, allow: [policy('all', 'ALLOW', [{}, { to: [{ operation: { methods: ['GET'] } }] }])] });
  assert.deepEqual(Object.keys(c!.rules!.policies), ['ns[foo]-policy[all]-rule[0]', 'ns[foo]-policy[all]-rule[1]']);
  assert.deepEqual(c!.rules!.policies['ns[foo]-policy[all]-rule[0]'], { permissions: [{ andRules: { rules: [{ any: true }] } }], principals: [{ andIds: { ids: [{ any: true }] } }] });
});

test('a skipped ALLOW rule leaves the policy out, not the filter: the ALLOW filter then denies all', () => {
  const built = buildRules([policy('p', 'ALLOW', [{ when: [{ key: 'bogus', values: ['x'] }] }])], 'ALLOW', { forTcp: false, trustDomains: TD });
  assert.deepEqual(built.rules, { action: 'ALLOW', policies: {} });
  assert.match(built.skipped[0]!, /ns\[foo\]-policy\[p\]-rule\[0\]: unknown attribute bogus/);
});

test('dry-run policies go to shadow_rules with Istio stat prefixes; enforced rules stay in rules (AZ-12)', () => {
  const [allow] = configs({ ...NONE, allow: [policy('dry', 'ALLOW', [{}], true)] });
  assert.deepEqual(allow, {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
    shadowRules: { action: 'ALLOW', policies: { 'ns[foo]-policy[dry]-rule[0]': allow!.shadowRules!.policies['ns[foo]-policy[dry]-rule[0]']! } },
    shadowRulesStatPrefix: 'istio_dry_run_allow_',
  });
  assert.equal(allow!.rules, undefined, 'an only-dry-run filter enforces nothing');
  const [deny] = configs({ ...NONE, deny: [policy('dry', 'DENY', [{}], true), policy('real', 'DENY', [{}])] });
  assert.deepEqual(Object.keys(deny!.rules!.policies), ['ns[foo]-policy[real]-rule[0]']);
  assert.deepEqual(Object.keys(deny!.shadowRules!.policies), ['ns[foo]-policy[dry]-rule[0]']);
  assert.equal(deny!.shadowRulesStatPrefix, 'istio_dry_run_deny_');
});

test('policy names are sorted, so the output does not depend on load order', () => {
  const a = configs({ ...NONE, allow: [policy('b', 'ALLOW', [{}]), policy('a', 'ALLOW', [{}])] });
  const b = configs({ ...NONE, allow: [policy('a', 'ALLOW', [{}]), policy('b', 'ALLOW', [{}])] });
  assert.deepEqual(JSON.stringify(a), JSON.stringify(b));
});

test('TCP: envoy.filters.network.rbac with stat prefix tcp.; HTTP-only ALLOW rules drop out, DENY rules widen', () => {
  const filters = authzTcpFilters(
    { ...NONE, deny: [policy('deny-get', 'DENY', [{ to: [{ operation: { methods: ['GET'] } }] }])], allow: [policy('allow-path', 'ALLOW', [{ to: [{ operation: { paths: ['/ip'] } }] }])] },
    TD,
  );
  assert.deepEqual(filters.map((f) => f.name), ['envoy.filters.network.rbac', 'envoy.filters.network.rbac']);
  const [deny, allow] = filters.map((f) => f.typedConfig as unknown as NetworkRbacConfig);
  assert.equal(deny!['@type'], 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC');
  assert.equal(deny!.statPrefix, 'tcp.');
  assert.deepEqual(deny!.rules!.policies['ns[foo]-policy[deny-get]-rule[0]'], { permissions: [{ andRules: { rules: [{ any: true }] } }], principals: [{ andIds: { ids: [{ any: true }] } }] });
  assert.deepEqual(allow!.rules, { action: 'ALLOW', policies: {} });
});
