// Unit tests for the RBAC HTTP filter's request phase with a fake stream: Istio's evaluation of
// one RBAC filter (AZ-02 is the chain of filters Istio writes, one per action), the 403 users see
// (AZ-11), dry-run shadow results in dynamic metadata and stats (AZ-12), per-route overrides, LOG,
// and the stats names Envoy uses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { exchange, FakeFilterStream } from '../test-support.js';
import type { FakeStreamOptions } from '../test-support.js';
import { RBAC_FILTER_NAME, RBAC_PER_ROUTE_TYPE_URL, RBAC_TYPE_URL, rbacFilterFactory } from './config.js';

const PREFIX = 'inbound_0.0.0.0_8080';
const clock = { now: () => 0, monotonic: () => 0, setTimer: () => ({ cancel() {} }) };
const noRandom = { next: () => { throw new Error('RBAC draws no random numbers'); } };

function rig(config: Record<string, unknown>) {
  const stats = new StatsRegistry();
  const filter = rbacFilterFactory.create({ '@type': RBAC_TYPE_URL, ...config }, { clock, random: noRandom, stats, statPrefix: PREFIX });
  return {
    filter,
    stats,
    envoy: (name: string) => {
      const line = stats.envoyText().split('\n').find((l) => l.startsWith(`http.${PREFIX}.${name}: `));
      return line === undefined ? undefined : Number(line.split(': ')[1]);
    },
  };
}

function stream(opts: FakeStreamOptions = {}): FakeFilterStream {
  const s = new FakeFilterStream(opts);
  s.info.downstreamLocalAddress = '10.0.0.5:8080';
  s.info.downstreamRemoteAddress = '10.0.0.9:41000';
  return s;
}

const methodPolicy = (method: string) => ({ permissions: [{ header: { name: ':method', stringMatch: { exact: method } } }], principals: [{ any: true }] });

test('AZ-11: a DENY match is answered with 403 "RBAC: access denied", the policy in the details, no flag', async () => {
  const r = rig({ rules: { action: 'DENY', policies: { 'ns[foo]-policy[deny-method-get]-rule[0]': methodPolicy('GET') } } });
  const s = stream({ method: 'GET' });
  const ex = await exchange(r.filter, s);
  assert.equal(ex.forwarded, false);
  assert.equal(ex.status, 403);
  assert.equal(ex.body, 'RBAC: access denied');
  assert.equal(ex.headers.get('content-type'), 'text/plain');
  assert.equal(s.info.responseCodeDetails, 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-method-get]-rule[0]]');
  assert.deepEqual(s.info.responseFlags, [], 'Envoy sets no response flag for RBAC denials');
  assert.deepEqual(s.info.dynamicMetadata[RBAC_FILTER_NAME], { enforced_effective_policy_id: 'ns[foo]-policy[deny-method-get]-rule[0]', enforced_engine_result: 'denied' });
  const post = await exchange(r.filter, stream({ method: 'POST' }));
  assert.equal(post.forwarded, true, 'TASK-15: POST passes a GET denial');
  assert.equal(r.envoy('rbac.denied'), 1);
  assert.equal(r.envoy('rbac.allowed'), 1);
  assert.equal(r.stats.valueOf('envoy_http_rbac_denied', { http_conn_manager_prefix: PREFIX }), 1);
});

test('ALLOW with no match denies with [none]; allow-nothing (empty rules) denies everything', async () => {
  const r = rig({ rules: { policies: { viewer: methodPolicy('GET') } } });
  const s = stream({ method: 'DELETE' });
  const ex = await exchange(r.filter, s);
  assert.equal(ex.status, 403);
  assert.equal(s.info.responseCodeDetails, 'rbac_access_denied_matched_policy[none]');
  assert.deepEqual(s.info.dynamicMetadata[RBAC_FILTER_NAME], { enforced_engine_result: 'denied' });
  assert.equal((await exchange(r.filter, stream({ method: 'GET' }))).forwarded, true);
  const nothing = rig({ rules: {} });
  assert.equal((await exchange(nothing.filter, stream())).status, 403, 'AZ-03: spec {} is allow-nothing');
  const none = rig({});
  assert.equal((await exchange(none.filter, stream())).forwarded, true, 'no rules at all: nothing enforced');
  assert.equal(none.envoy('rbac.allowed'), 0, 'and nothing counted');
});

test('AZ-12 dry run: shadow rules are recorded and counted, never enforced', async () => {
  const r = rig({ shadowRules: { action: 'DENY', policies: { 'ns[foo]-policy[dry]-rule[0]': methodPolicy('GET') } }, shadowRulesStatPrefix: 'istio_dry_run_deny_' });
  const s = stream({ method: 'GET' });
  const ex = await exchange(r.filter, s);
  assert.equal(ex.forwarded, true);
  assert.deepEqual(s.info.dynamicMetadata[RBAC_FILTER_NAME], { istio_dry_run_deny_shadow_effective_policy_id: 'ns[foo]-policy[dry]-rule[0]', istio_dry_run_deny_shadow_engine_result: 'denied' });
  const other = stream({ method: 'POST' });
  await exchange(r.filter, other);
  assert.deepEqual(other.info.dynamicMetadata[RBAC_FILTER_NAME], { istio_dry_run_deny_shadow_engine_result: 'allowed' }, 'no policy matched: no policy id');
  // Envoy's statPrefixJoin puts a dot after a prefix that does not end with one.
  assert.equal(r.envoy('rbac.istio_dry_run_deny_.shadow_denied'), 1);
  assert.equal(r.envoy('rbac.istio_dry_run_deny_.shadow_allowed'), 1);
  assert.equal(r.envoy('rbac.allowed'), 0);
});

test("two RBAC filters merge their results into one namespace (Istio's CUSTOM shadow filter and its ALLOW filter)", async () => {
  const custom = rig({ shadowRules: { action: 'DENY', policies: { 'istio-ext-authz-ns[foo]-policy[ext]-rule[0]': methodPolicy('GET') } }, shadowRulesStatPrefix: 'istio_ext_authz_' });
  const allow = rig({ rules: { policies: { viewer: methodPolicy('GET') } } });
  const s = stream({ method: 'GET' });
  assert.equal(await custom.filter.onRequestHeaders!(s), undefined);
  assert.equal(await allow.filter.onRequestHeaders!(s), undefined);
  assert.deepEqual(s.info.dynamicMetadata[RBAC_FILTER_NAME], {
    istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-ns[foo]-policy[ext]-rule[0]',
    istio_ext_authz_shadow_engine_result: 'denied',
    enforced_effective_policy_id: 'viewer',
    enforced_engine_result: 'allowed',
  });
});

test("a route's RBACPerRoute replaces the filter's rules; its prefixes rename the metadata keys", async () => {
  const r = rig({ rules: { action: 'DENY', policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } } } });
  const open = stream();
  open.setPerRoute(RBAC_FILTER_NAME, rbacFilterFactory.compilePerRoute!({ '@type': RBAC_PER_ROUTE_TYPE_URL }));
  assert.equal((await exchange(r.filter, open)).forwarded, true, 'RBACPerRoute without rbac: RBAC is off for the route');
  const strict = stream({ method: 'POST' });
  strict.setPerRoute(RBAC_FILTER_NAME, rbacFilterFactory.compilePerRoute!({ '@type': RBAC_PER_ROUTE_TYPE_URL, rbac: { rules: { policies: { get: methodPolicy('GET') } }, rulesStatPrefix: 'route_' } }));
  assert.equal((await exchange(r.filter, strict)).status, 403);
  assert.deepEqual(strict.info.dynamicMetadata[RBAC_FILTER_NAME], { route_enforced_engine_result: 'denied' });
  assert.equal((await exchange(r.filter, stream())).status, 403, 'other routes keep the filter rules');
  assert.equal(r.envoy('rbac.denied'), 2, 'stats stay under the filter prefix');
});

test('LOG never denies; it tells the access log whether a policy matched', async () => {
  const r = rig({ rules: { action: 'LOG', policies: { audit: methodPolicy('DELETE') } } });
  const hit = stream({ method: 'DELETE' });
  assert.equal((await exchange(r.filter, hit)).forwarded, true);
  assert.deepEqual(hit.info.dynamicMetadata['envoy.common'], { access_log_hint: true });
  const miss = stream({ method: 'GET' });
  await exchange(r.filter, miss);
  assert.deepEqual(miss.info.dynamicMetadata['envoy.common'], { access_log_hint: false });
  assert.equal(r.envoy('rbac.allowed'), 2);
});

test('rules_stat_prefix and track_per_rule_stats name the counters as Envoy does', async () => {
  const r = rig({ rulesStatPrefix: 'edge.', trackPerRuleStats: true, rules: { action: 'DENY', policies: { blockGet: methodPolicy('GET') } } });
  await exchange(r.filter, stream({ method: 'GET' }));
  await exchange(r.filter, stream({ method: 'PUT' }));
  assert.equal(r.envoy('rbac.edge.denied'), 1);
  assert.equal(r.envoy('rbac.edge.allowed'), 1);
  assert.equal(r.envoy('rbac.edge.policy.blockGet.denied'), 1);
  assert.equal(r.stats.valueOf('envoy_http_rbac_edge_policy_denied', { http_conn_manager_prefix: PREFIX, policy_name: 'blockGet' }), 1);
});

test('policy names with whitespace become one log field in the details', async () => {
  const r = rig({ rules: { action: 'DENY', policies: { 'deny all\tthings': { permissions: [{ any: true }], principals: [{ any: true }] } } } });
  const s = stream();
  await exchange(r.filter, s);
  assert.equal(s.info.responseCodeDetails, 'rbac_access_denied_matched_policy[deny_all_things]');
});
