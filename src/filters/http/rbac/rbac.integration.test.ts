// The RBAC HTTP filter through a real proxy listener and a real upstream, configured as Istio
// configures a workload with a DENY policy and an ALLOW policy (two RBAC filters, DENY first;
// AZ-02), plus a route whose RBACPerRoute turns RBAC off. Asserts what a client sees (TASK-15's
// 403 "RBAC: access denied" and 200s) and the stats under http.<prefix>.rbac.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTER_FILTER_NAME, ROUTER_TYPE } from '../../../xds/resources.js';
import { request, startUpstream } from '../../../../test/helpers/http.js';
import type { TestUpstream } from '../../../../test/helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../../../../test/helpers/proxy.js';
import type { RunningProxy } from '../../../../test/helpers/proxy.js';
import { RBAC_FILTER_NAME, RBAC_PER_ROUTE_TYPE_URL, RBAC_TYPE_URL } from './config.js';

let upstream: TestUpstream;
let proxy: RunningProxy;

const header = (name: string, exact: string) => ({ header: { name, stringMatch: { exact } } });

before(async () => {
  upstream = await startUpstream();
  const deny = {
    '@type': RBAC_TYPE_URL,
    rules: {
      action: 'DENY',
      policies: {
        // TASK-15: deny GET unless x-token: admin.
        'ns[foo]-policy[deny-method-get]-rule[0]': {
          permissions: [{ andRules: { rules: [{ orRules: { rules: [header(':method', 'GET')] } }] } }],
          principals: [{ andIds: { ids: [{ notId: { orIds: { ids: [header('x-token', 'admin')] } } }] } }],
        },
      },
    },
  };
  const allow = {
    '@type': RBAC_TYPE_URL,
    rules: {
      policies: {
        // allow-path-ip: only /ip, from loopback peers.
        'ns[foo]-policy[allow-path-ip]-rule[0]': {
          permissions: [{ urlPath: { path: { exact: '/ip' } } }],
          principals: [{ directRemoteIp: { addressPrefix: '127.0.0.0', prefixLen: 8 } }],
        },
      },
    },
    shadowRules: { action: 'DENY', policies: { 'dry-run-post': { permissions: [header(':method', 'POST')], principals: [{ any: true }] } } },
    shadowRulesStatPrefix: 'istio_dry_run_deny_',
  };
  const routes = [
    { name: 'open', match: { prefix: '/open' }, route: { cluster: 'app', timeout: '0s' }, typedPerFilterConfig: { [RBAC_FILTER_NAME]: { '@type': RBAC_PER_ROUTE_TYPE_URL } } },
    { name: 'app', match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' } },
  ];
  const filters = [
    { name: RBAC_FILTER_NAME, typedConfig: deny },
    { name: RBAC_FILTER_NAME, typedConfig: allow },
    { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } },
  ];
  proxy = await startStaticProxy([loopbackListener('inbound', [httpChain('inbound_0.0.0.0_8000', routes, { httpFilters: filters })])], [staticCluster('app', upstream.port)]);
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

const stat = (name: string) => proxy.proxy.stats.envoyText().split('\n').find((l) => l.startsWith(`http.inbound_0.0.0.0_8000.${name}: `))?.split(': ')[1];

test('TASK-15: GET is denied with 403 "RBAC: access denied" before reaching the workload', async () => {
  const before = upstream.requests.length;
  const r = await request(`${proxy.base}/ip`);
  assert.equal(r.status, 403);
  assert.equal(r.body, 'RBAC: access denied');
  assert.equal(r.headers['x-strait-details'], 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-method-get]-rule[0]]');
  assert.equal(r.headers['x-strait-flags'], undefined);
  assert.equal(upstream.requests.length, before);
});

test('TASK-15: GET with x-token: admin passes the DENY and the ALLOW for /ip; other paths are not allowed', async () => {
  assert.equal((await request(`${proxy.base}/ip`, { headers: { 'x-token': 'admin' } })).status, 200);
  const other = await request(`${proxy.base}/headers`, { headers: { 'x-token': 'admin' } });
  assert.equal(other.status, 403);
  assert.equal(other.headers['x-strait-details'], 'rbac_access_denied_matched_policy[none]');
  assert.equal((await request(`${proxy.base}/ip?x=1`, { method: 'POST', body: 'x' })).status, 200, 'the query is not part of the path; POST is only dry-run denied');
});

test('a route with RBACPerRoute (no rbac) is open to both filters', async () => {
  assert.equal((await request(`${proxy.base}/open/anything`)).status, 200);
});

test('stats: allowed and denied per filter, and the dry-run counters, under http.<prefix>.rbac', () => {
  // Two filters share the connection manager's scope, as two Envoy RBAC filters would.
  // GET /ip: DENY denied. GET /ip + token: both allowed. GET /headers + token: DENY allowed,
  // ALLOW denied. POST /ip: both allowed (shadow denied). /open: neither filter counts.
  assert.equal(stat('rbac.denied'), '2');
  assert.equal(stat('rbac.allowed'), '5');
  assert.equal(stat('rbac.istio_dry_run_deny_.shadow_denied'), '1');
  assert.equal(stat('rbac.istio_dry_run_deny_.shadow_allowed'), '2');
});
