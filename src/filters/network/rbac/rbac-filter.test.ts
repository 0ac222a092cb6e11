// Network RBAC: config checks, the decision for one connection (no HTTP request: source and
// destination addresses, SNI, peer certificate), shadow metadata, LOG hints and stats; and a
// table showing the control plane's TCP rules and this filter agree on Istio's TCP semantics
// (AZ-10): an HTTP-only field makes an ALLOW rule match nothing and is dropped from a DENY rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authzTcpFilters } from '../../../controlplane/generate/security/authz-builder.js';
import type { AuthzPolicies, AuthzPolicy } from '../../../controlplane/generate/security/authz-builder.js';
import type { AuthzRule } from '../../../controlplane/generate/security/authz-model.js';
import { newStreamInfo } from '../../../dataplane/http/stream-info.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { ConfigError } from '../api.js';
import { compileNetworkRbacConfig, NETWORK_RBAC_TYPE_URL, networkRbacFilterFactory } from './config.js';
import type { NetworkRbacFilter } from './rbac-filter.js';
import { systemClock } from '../../../common/clock.js';

function connection(o: { from?: string; to?: string; uri?: string; sni?: string } = {}): StreamInfo {
  const info = newStreamInfo(0, 0);
  info.downstreamRemoteAddress = `${o.from ?? '10.0.0.1'}:40000`;
  info.downstreamLocalAddress = o.to ?? '10.0.0.2:3306';
  info.requestedServerName = o.sni ?? '';
  if (o.uri) info.peerCertificate = { uriSans: [o.uri], dnsSans: [], subject: '', sha256: '', pem: () => '' };
  return info;
}

/** The RBAC filter decides synchronously, so its tests read the verdict directly. */
function filter(config: Record<string, unknown>, stats = new StatsRegistry()): NetworkRbacFilter {
  return networkRbacFilterFactory.create({ '@type': NETWORK_RBAC_TYPE_URL, statPrefix: 'tcp.', ...config }, { clock: systemClock, stats }) as NetworkRbacFilter;
}

const fromIp = (prefix: string) => ({ directRemoteIp: { addressPrefix: prefix, prefixLen: 32 } });

test('config: statPrefix required, matcher API refused, enforcement types accepted, delay_deny read', () => {
  assert.throws(() => compileNetworkRbacConfig({}), (e: unknown) => e instanceof ConfigError && /statPrefix: required/.test(e.message));
  assert.throws(() => compileNetworkRbacConfig({ statPrefix: 'tcp.', matcher: {} }), /matcher API/);
  assert.throws(() => compileNetworkRbacConfig({ statPrefix: 'tcp.', enforcementType: 'SOMETIMES' }), /enforcementType/);
  assert.throws(() => compileNetworkRbacConfig({ statPrefix: 'tcp.', bogus: 1 }), /unknown field "bogus"/);
  assert.equal(compileNetworkRbacConfig({ statPrefix: 'tcp.', enforcementType: 'CONTINUOUS', delayDeny: '0.5s' }).delayDenyMs, 500);
  assert.equal(compileNetworkRbacConfig({ statPrefix: 'tcp.' }).rules, null);
});

test('DENY by source IP closes the connection with Envoy’s details; others pass; stats tcp.rbac.*', () => {
  const stats = new StatsRegistry();
  const f = filter({ rules: { action: 'DENY', policies: { 'ns[foo]-policy[deny-ip]-rule[0]': { permissions: [{ any: true }], principals: [fromIp('10.0.0.9')] } } } }, stats);
  assert.deepEqual(f.onNewConnection(connection({ from: '10.0.0.9' })), { details: 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-ip]-rule[0]]' });
  assert.equal(f.onNewConnection(connection()), undefined);
  const text = stats.envoyText();
  assert.match(text, /^tcp\.rbac\.denied: 1$/m);
  assert.match(text, /^tcp\.rbac\.allowed: 1$/m);
  assert.equal(stats.valueOf('envoy_tcp_rbac_denied'), 1);
});

test('ALLOW by peer principal (URI SAN) and destination port; no match is `none`; empty rules allow nothing', () => {
  const f = filter({
    rules: {
      action: 'ALLOW',
      policies: { p: { permissions: [{ destinationPort: 3306 }], principals: [{ authenticated: { principalName: { exact: 'spiffe://cluster.local/ns/foo/sa/sleep' } } }] } },
    },
  });
  assert.equal(f.onNewConnection(connection({ uri: 'spiffe://cluster.local/ns/foo/sa/sleep' })), undefined);
  assert.deepEqual(f.onNewConnection(connection({ uri: 'spiffe://cluster.local/ns/foo/sa/other' })), { details: 'rbac_access_denied_matched_policy[none]' });
  assert.deepEqual(f.onNewConnection(connection({ uri: 'spiffe://cluster.local/ns/foo/sa/sleep', to: '10.0.0.2:3307' })), { details: 'rbac_access_denied_matched_policy[none]' });
  assert.deepEqual(filter({ rules: {} }).onNewConnection(connection()), { details: 'rbac_access_denied_matched_policy[none]' });
});

test('HTTP-only permissions never match a connection', () => {
  const f = filter({ rules: { action: 'ALLOW', policies: { p: { permissions: [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }], principals: [{ any: true }] } } } });
  assert.ok(f.onNewConnection(connection()));
});

test('shadow rules: never enforced, recorded in envoy.filters.network.rbac with their prefix, counted; LOG hints the access log; delay_deny is passed on', () => {
  const stats = new StatsRegistry();
  const f = filter({ shadowRules: { action: 'DENY', policies: { dry: { permissions: [{ any: true }], principals: [fromIp('10.0.0.1')] } } }, shadowRulesStatPrefix: 'istio_dry_run_deny_' }, stats);
  const info = connection();
  assert.equal(f.onNewConnection(info), undefined);
  assert.deepEqual(info.dynamicMetadata['envoy.filters.network.rbac'], { istio_dry_run_deny_shadow_effective_policy_id: 'dry', istio_dry_run_deny_shadow_engine_result: 'denied' });
  assert.match(stats.envoyText(), /^tcp\.rbac\.istio_dry_run_deny_\.shadow_denied: 1$/m);
  const log = filter({ rules: { action: 'LOG', policies: { audit: { permissions: [{ any: true }], principals: [{ any: true }] } } } });
  const li = connection();
  assert.equal(log.onNewConnection(li), undefined);
  assert.deepEqual(li.dynamicMetadata['envoy.common'], { access_log_hint: true });
  const delayed = filter({ rules: { action: 'DENY', policies: { p: { permissions: [{ any: true }], principals: [{ any: true }] } } }, delayDeny: '2s' });
  assert.deepEqual(delayed.onNewConnection(connection()), { details: 'rbac_access_denied_matched_policy[p]', delayMs: 2000 });
});

// ---- the generator and the filter agree on Istio's TCP semantics (AZ-10) ----------------------

const policy = (action: 'ALLOW' | 'DENY', rules: AuthzRule[]): AuthzPolicy => ({ name: 'p', namespace: 'foo', action, dryRun: false, rules });

/** Runs the network filters the control plane writes for `policies`, in order; the first close wins. */
function decide(policies: Partial<AuthzPolicies>, info: StreamInfo): string {
  const all: AuthzPolicies = { custom: [], deny: [], allow: [], audit: [], ...policies };
  for (const f of authzTcpFilters(all, ['cluster.local'])) {
    const close = (networkRbacFilterFactory.create(f.typedConfig as unknown as Record<string, unknown>, { clock: systemClock, stats: new StatsRegistry() }) as NetworkRbacFilter).onNewConnection(info);
    if (close) return `closed ${close.details}`;
  }
  return 'open';
}

const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
const AZ10: [what: string, policies: Partial<AuthzPolicies>, info: StreamInfo, want: string][] = [
  ['ALLOW principals: the caller', { allow: [policy('ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/sleep'] } }] }])] }, connection({ uri: SLEEP }), 'open'],
  ['ALLOW principals: someone else', { allow: [policy('ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/sleep'] } }] }])] }, connection({ uri: 'spiffe://cluster.local/ns/foo/sa/x' }), 'closed rbac_access_denied_matched_policy[none]'],
  ['ALLOW with an HTTP-only field (methods) matches nothing, even for the right caller', { allow: [policy('ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/sleep'] } }], to: [{ operation: { methods: ['GET'] } }] }])] }, connection({ uri: SLEEP }), 'closed rbac_access_denied_matched_policy[none]'],
  ['ALLOW ports: the port', { allow: [policy('ALLOW', [{ to: [{ operation: { ports: ['3306'] } }] }])] }, connection(), 'open'],
  ['ALLOW ports: another port', { allow: [policy('ALLOW', [{ to: [{ operation: { ports: ['3307'] } }] }])] }, connection(), 'closed rbac_access_denied_matched_policy[none]'],
  ['ALLOW ipBlocks', { allow: [policy('ALLOW', [{ from: [{ source: { ipBlocks: ['10.0.0.0/24'] } }] }])] }, connection(), 'open'],
  ['DENY ipBlocks with an HTTP-only field (paths): the path is ignored, the source still denies', { deny: [policy('DENY', [{ from: [{ source: { ipBlocks: ['10.0.0.1'] } }], to: [{ operation: { paths: ['/admin'] } }] }])] }, connection(), 'closed rbac_access_denied_matched_policy[ns[foo]-policy[p]-rule[0]]'],
  ['… and another source passes', { deny: [policy('DENY', [{ from: [{ source: { ipBlocks: ['10.0.0.1'] } }], to: [{ operation: { paths: ['/admin'] } }] }])] }, connection({ from: '10.0.0.7' }), 'open'],
  ['DENY with only HTTP-only fields denies every connection on the port (combine them with ports)', { deny: [policy('DENY', [{ to: [{ operation: { methods: ['POST'] } }] }])] }, connection(), 'closed rbac_access_denied_matched_policy[ns[foo]-policy[p]-rule[0]]'],
  ['DENY methods + ports: only that port', { deny: [policy('DENY', [{ to: [{ operation: { methods: ['POST'], ports: ['8080'] } }] }])] }, connection(), 'open'],
  ['DENY requestPrincipals (JWT) is HTTP-only: dropped, the rule denies all', { deny: [policy('DENY', [{ from: [{ source: { requestPrincipals: ['*'] } }] }])] }, connection(), 'closed rbac_access_denied_matched_policy[ns[foo]-policy[p]-rule[0]]'],
  ['DENY wins over ALLOW', { deny: [policy('DENY', [{ from: [{ source: { namespaces: ['foo'] } }] }])], allow: [policy('ALLOW', [{}])] }, connection({ uri: SLEEP }), 'closed rbac_access_denied_matched_policy[ns[foo]-policy[p]-rule[0]]'],
  ['allow-nothing (ALLOW, no rules)', { allow: [policy('ALLOW', [])] }, connection({ uri: SLEEP }), 'closed rbac_access_denied_matched_policy[none]'],
  ['when destination.port and connection.sni', { allow: [policy('ALLOW', [{ when: [{ key: 'destination.port', values: ['3306'] }, { key: 'connection.sni', values: ['db.example'] }] }])] }, connection({ sni: 'db.example' }), 'open'],
];

for (const [what, policies, info, want] of AZ10) {
  test(`AZ-10 generator ↔ network filter: ${what} → ${want}`, () => {
    assert.equal(decide(policies, info), want);
  });
}
