// A request that matches no route still goes through the HTTP filters, as in Envoy, where only
// the router answers 404 NR: authorization refuses it with 403 first. Real proxy and upstream on
// loopback.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTER_FILTER_NAME, ROUTER_TYPE } from '../../src/xds/resources.js';
import { RBAC_FILTER_NAME, RBAC_TYPE_URL } from '../../src/filters/http/rbac/config.js';
import { request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

let upstream: TestUpstream;
let proxy: RunningProxy;

before(async () => {
  upstream = await startUpstream();
  const routes = [{ name: 'app', match: { prefix: '/app' }, route: { cluster: 'app', timeout: '0s' } }];
  const router = { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } };
  // Port 1: Istio's allow-nothing (an ALLOW filter without policies). Port 2: DENY of /secret only.
  const allowNothing = { name: RBAC_FILTER_NAME, typedConfig: { '@type': RBAC_TYPE_URL, rules: {} } };
  const denySecret = {
    name: RBAC_FILTER_NAME,
    typedConfig: { '@type': RBAC_TYPE_URL, rules: { action: 'DENY', policies: { 'deny-secret': { permissions: [{ urlPath: { path: { prefix: '/secret' } } }], principals: [{ any: true }] } } } },
  };
  proxy = await startStaticProxy(
    [
      loopbackListener('nothing', [httpChain('nothing', routes, { httpFilters: [allowNothing, router] })]),
      loopbackListener('deny', [httpChain('deny', routes, { httpFilters: [denySecret, router] })]),
    ],
    [staticCluster('app', upstream.port)],
  );
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

test('allow-nothing refuses a path no route matches with 403, not 404', async () => {
  const res = await request(`http://127.0.0.1:${proxy.port('nothing')}/nowhere`);
  assert.equal(res.status, 403);
  assert.equal(res.body, 'RBAC: access denied');
});

test('a DENY that does not match lets the router answer 404 NR; one that matches answers 403', async () => {
  const nr = await request(`http://127.0.0.1:${proxy.port('deny')}/nowhere`);
  assert.equal(nr.status, 404);
  assert.equal(nr.headers['x-strait-flags'], 'NR');
  assert.equal((await request(`http://127.0.0.1:${proxy.port('deny')}/secret`)).status, 403);
  assert.equal((await request(`http://127.0.0.1:${proxy.port('deny')}/app`)).status, 200);
});
