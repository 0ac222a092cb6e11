// The JWT filter through a real proxy listener, a real upstream and a real key-set server on
// loopback, configured as Istio configures it for RequestAuthentication with a jwksUri (TASK-13):
// no token → 200, an invalid token → 401, a valid token → 200 with the token removed and the
// payload header added upstream; a route with PerRouteConfig disabled is open. Stats, the
// response details header and the access log are the oracle.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySink } from '../../../telemetry/access-log/sink.js';
import { FILE_ACCESS_LOG_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE } from '../../../xds/resources.js';
import type { HttpConnectionManager, Route } from '../../../xds/resources.js';
import { eventually, request, startUpstream } from '../../../../test/helpers/http.js';
import type { TestUpstream } from '../../../../test/helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../../../../test/helpers/proxy.js';
import type { RunningProxy } from '../../../../test/helpers/proxy.js';
import { JWT_AUTHN_FILTER_NAME, JWT_AUTHN_PER_ROUTE_TYPE_URL } from './config.js';
import { ISSUER, istioConfig, istioProvider, jwksOf, startJwksServer, testKey } from './test-support.js';
import type { JwksServer, TestKey } from './test-support.js';

let upstream: TestUpstream;
let jwks: JwksServer;
let proxy: RunningProxy;
let key: TestKey;
const sink = new MemorySink();

before(async () => {
  key = await testKey('RS256', 'k1');
  upstream = await startUpstream();
  jwks = await startJwksServer(jwksOf(key));
  const routes: Route[] = [
    { name: 'public', match: { prefix: '/public' }, route: { cluster: 'httpbin', timeout: '0s' }, typedPerFilterConfig: { [JWT_AUTHN_FILTER_NAME]: { '@type': JWT_AUTHN_PER_ROUTE_TYPE_URL, disabled: true } } as Route['typedPerFilterConfig'] },
    { name: 'default', match: { prefix: '/' }, route: { cluster: 'httpbin', timeout: '0s' } },
  ];
  const hcm = {
    httpFilters: [
      { name: JWT_AUTHN_FILTER_NAME, typedConfig: istioConfig(istioProvider({ remote: jwks.url }, { forwardPayloadHeader: 'x-jwt-payload' })) },
      { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } },
    ],
    accessLog: [{ name: 'envoy.access_loggers.file', typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout' } }],
  } as unknown as Partial<HttpConnectionManager>;
  proxy = await startStaticProxy([loopbackListener('edge', [httpChain('edge', routes, hcm)])], [staticCluster('httpbin', upstream.port)]);
  for (const l of proxy.proxy.listeners.list()) for (const a of l.manager!.config.accessLogs) a.sink = sink;
});

after(async () => {
  await proxy.stop();
  await upstream.close();
  await jwks.close();
});

const stat = (name: string) => proxy.proxy.stats.valueOf(`envoy_http_jwt_authn_${name}`, { http_conn_manager_prefix: 'edge' });
const lastLog = () => sink.lines[sink.lines.length - 1] ?? '';
const token = (extra: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000);
  return key.sign({ iss: ISSUER, sub: ISSUER, iat: now, exp: now + 3600, ...extra });
};

test('TASK-13: a request without a token passes (no AuthorizationPolicy yet); nothing is fetched for it', async () => {
  const r = await request(`${proxy.base}/headers`);
  assert.equal(r.status, 200);
  assert.equal(jwks.hits, 0, 'no token, no key fetch');
  assert.equal(stat('allowed'), 1);
});

test('TASK-13: "Authorization: Bearer invalidToken" gets 401 with Envoy\'s body, challenge and details, and never reaches the upstream', async () => {
  const before = upstream.requests.length;
  const r = await request(`${proxy.base}/headers`, { headers: { authorization: 'Bearer invalidToken' } });
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections');
  assert.match(r.headers['www-authenticate'] as string, /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/headers", error="invalid_token"$/);
  assert.equal(r.headers['x-strait-details'], 'jwt_authn_access_denied{Jwt_is_not_in_the_form_of_Header.Payload.Signature_with_two_dots_and_3_sections}');
  assert.equal(upstream.requests.length, before);
  assert.equal(stat('denied'), 1);
  await eventually(() => / 401 - jwt_authn_access_denied\{Jwt_is_not_in_the_form/.test(lastLog()), 'the access log line');
});

test('a valid token: the key set is fetched once and cached, the token is removed and the payload forwarded upstream', async () => {
  const t = await token({ groups: ['group1'] });
  const r = await request(`${proxy.base}/headers`, { headers: { authorization: `Bearer ${t}` } });
  assert.equal(r.status, 200);
  const seen = upstream.requests[upstream.requests.length - 1]!;
  assert.equal(seen.headers.authorization, undefined, 'forwardOriginalToken false: stripped');
  assert.equal(seen.headers['x-jwt-payload'], t.split('.')[1]);
  assert.equal(jwks.hits, 1);
  assert.equal(stat('jwks_fetch_success'), 1);
  const again = await request(`${proxy.base}/headers`, { headers: { authorization: `Bearer ${await token()}` } });
  assert.equal(again.status, 200);
  assert.equal(jwks.hits, 1, 'cached');
});

test('a token signed by another key is refused; a forged payload header never reaches the upstream', async () => {
  const impostor = await testKey('RS256', 'k1');
  const now = Math.floor(Date.now() / 1000);
  const r = await request(`${proxy.base}/headers`, { headers: { authorization: `Bearer ${await impostor.sign({ iss: ISSUER, sub: 'admin', exp: now + 60 })}` } });
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwt verification fails');
  const anon = await request(`${proxy.base}/headers`, { headers: { 'x-jwt-payload': 'eyJzdWIiOiJhZG1pbiJ9' } });
  assert.equal(anon.status, 200);
  assert.equal(upstream.requests[upstream.requests.length - 1]!.headers['x-jwt-payload'], undefined);
});

test('a route with PerRouteConfig disabled is not checked', async () => {
  const r = await request(`${proxy.base}/public/x`, { headers: { authorization: 'Bearer invalidToken' } });
  assert.equal(r.status, 200);
  assert.equal(upstream.requests[upstream.requests.length - 1]!.headers.authorization, 'Bearer invalidToken', 'untouched');
});

test('an Authorization header larger than the HTTP/1.1 head limit is refused by the listener (431) before the filter', async () => {
  const r = await request(`${proxy.base}/headers`, { headers: { authorization: `Bearer ${'a'.repeat(20_000)}.b.c` } });
  assert.equal(r.status, 431);
});

test('stats add up', () => {
  assert.equal(stat('allowed'), 5, 'no token, two valid, one anonymous, one route with the filter disabled');
  assert.equal(stat('denied'), 2);
  assert.equal(stat('jwks_fetch_failed'), 0);
  assert.equal(stat('cors_preflight_bypassed'), 0);
});
