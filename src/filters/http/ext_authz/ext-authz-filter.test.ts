// The ext_authz filter with a fake authorization service (an AsyncHttpClient that answers what
// each test says): the check request it builds, and what allowed, denied and failed checks do to
// the request and to what the client sees (AZ-01, AZ-02: CUSTOM).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AsyncHttpClient, AsyncHttpRequest, AsyncHttpResult } from '../api.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { exchange, FakeFilterStream } from '../test-support.js';
import { compileExtAuthzConfig, EXT_AUTHZ_FILTER_NAME, EXT_AUTHZ_TYPE_URL } from './config.js';
import type { CompiledExtAuthz } from './config.js';
import { ExtAuthzFilter } from './ext-authz-filter.js';
import { extAuthzStats } from './stats.js';

class FakeService implements AsyncHttpClient {
  readonly calls: { cluster: string; request: AsyncHttpRequest; timeoutMs: number }[] = [];
  constructor(private readonly answer: AsyncHttpResult) {}
  send(cluster: string, request: AsyncHttpRequest, timeoutMs: number): Promise<AsyncHttpResult> {
    this.calls.push({ cluster, request, timeoutMs });
    return Promise.resolve(this.answer);
  }
  grpcUnary(): Promise<never> {
    return Promise.reject(new Error('an HTTP authorization service makes no gRPC calls'));
  }
}

const respond = (status: number, headers: Record<string, string> = {}, body = ''): AsyncHttpResult => ({
  kind: 'response',
  status,
  headers: Object.entries(headers).flat(),
  body: Buffer.from(body),
});

const ISTIO_LIKE = {
  '@type': EXT_AUTHZ_TYPE_URL,
  httpService: {
    serverUri: { uri: 'http://ext-authz.foo.svc.cluster.local', cluster: 'outbound|8000||ext-authz.foo.svc.cluster.local', timeout: '600s' },
    pathPrefix: '/check',
    authorizationRequest: { headersToAdd: [{ key: 'x-added', value: 'yes' }] },
    authorizationResponse: {
      allowedUpstreamHeaders: { patterns: [{ exact: 'x-ext-authz-check-result', ignoreCase: true }] },
      allowedClientHeaders: { patterns: [{ exact: 'x-ext-authz-check-result', ignoreCase: true }] },
      allowedClientHeadersOnSuccess: { patterns: [{ exact: 'x-session', ignoreCase: true }] },
    },
  },
  transportApiVersion: 'V3',
  allowedHeaders: { patterns: [{ exact: 'x-ext-authz', ignoreCase: true }] },
  filterEnabledMetadata: {
    filter: 'envoy.filters.http.rbac',
    path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
    value: { stringMatch: { prefix: 'istio-ext-authz-sample' } },
  },
};

function setup(answer: AsyncHttpResult, extra: Record<string, unknown> = {}) {
  const stats = new StatsRegistry();
  const service = new FakeService(answer);
  const filter = new ExtAuthzFilter(compileExtAuthzConfig({ ...ISTIO_LIKE, ...extra }) as CompiledExtAuthz, extAuthzStats(stats, 'inbound_0.0.0.0_8000', ''), service);
  const stat = (name: string) => stats.valueOf(`envoy_http_ext_authz_${name}`, { http_conn_manager_prefix: 'inbound_0.0.0.0_8000' });
  return { filter, service, stat };
}

/** A request a CUSTOM rule matched: the RBAC shadow rule recorded its name. */
function matched(opts: ConstructorParameters<typeof FakeFilterStream>[0] = {}): FakeFilterStream {
  const s = new FakeFilterStream({ method: 'POST', path: '/headers?a=1', authority: 'httpbin.foo:8000', headers: { 'x-ext-authz': 'allow', authorization: 'Bearer t', cookie: 'c=1', 'content-length': '5' }, ...opts });
  s.info.dynamicMetadata['envoy.filters.http.rbac'] = { istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-sample-ext-authz-http-ns[foo]-policy[ext-authz]-rule[0]' };
  return s;
}

test('the check request: original method, path_prefix + :path with its query, authority, allowed headers only, headers_to_add', async () => {
  const { filter, service } = setup(respond(200));
  await exchange(filter, matched());
  assert.equal(service.calls.length, 1);
  const { cluster, request, timeoutMs } = service.calls[0]!;
  assert.equal(cluster, 'outbound|8000||ext-authz.foo.svc.cluster.local');
  assert.equal(timeoutMs, 600_000);
  assert.equal(request.method, 'POST');
  assert.equal(request.path, '/check/headers?a=1');
  assert.equal(request.authority, 'httpbin.foo:8000');
  assert.deepEqual(request.headers, { 'x-ext-authz': 'allow', authorization: 'Bearer t', 'x-added': 'yes' }, 'no cookie, no content-length of the original');
});

test('200: allowed; allowed upstream headers replace the request headers, x-envoy-auth-headers-to-remove removes, on-success headers reach the client', async () => {
  const { filter, stat } = setup(respond(200, { 'x-ext-authz-check-result': 'allowed', 'x-other': 'no', 'x-envoy-auth-headers-to-remove': 'authorization, host, :path', 'x-session': 's1', 'content-length': '0' }));
  const s = matched({ headers: { 'x-ext-authz': 'allow', authorization: 'Bearer t', 'x-ext-authz-check-result': 'forged' } });
  const r = await exchange(filter, s, { status: 200, headers: { 'content-type': 'text/plain' } });
  assert.equal(r.forwarded, true);
  assert.equal(s.request.headers['x-ext-authz-check-result'], 'allowed');
  assert.equal(s.request.headers['x-other'], undefined);
  assert.equal(s.request.headers.authorization, undefined, 'removed as the service asked');
  assert.equal(s.request.headers.host, 'httpbin.foo:8000', 'Host cannot be removed');
  assert.equal(r.headers.get('x-session'), 's1');
  assert.equal(stat('ok'), 1);
});

test('403 from the service: the client gets its status, body and allowed headers, flag UAEX, ext_authz_denied', async () => {
  const { filter, stat } = setup(respond(403, { 'x-ext-authz-check-result': 'denied', 'x-secret': 'no', 'content-type': 'text/plain', 'content-length': '18' }, 'denied by ext_authz'));
  const s = matched();
  const r = await exchange(filter, s);
  assert.equal(r.forwarded, false);
  assert.equal(r.status, 403);
  assert.equal(r.body, 'denied by ext_authz');
  assert.equal(r.headers.get('x-ext-authz-check-result'), 'denied');
  assert.equal(r.headers.get('x-secret'), undefined);
  assert.equal(r.headers.get('content-length'), undefined, 'framing is the proxy’s own');
  assert.deepEqual(s.info.responseFlags, ['UAEX']);
  assert.equal(s.info.responseCodeDetails, 'ext_authz_denied');
  assert.equal(stat('denied'), 1);
});

test('a redirect or 401 from the service is a denial with that status and its Location / WWW-Authenticate', async () => {
  const { filter } = setup(respond(302, { location: 'https://login.example/', 'x-other': 'x' }));
  const r = await exchange(filter, matched());
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), 'https://login.example/');
  assert.equal(r.headers.get('x-other'), undefined);
  const { filter: f2 } = setup(respond(401, { 'www-authenticate': 'Bearer' }));
  assert.equal((await exchange(f2, matched())).headers.get('www-authenticate'), 'Bearer');
});

test('only 200 allows: a 201 or 204 from the service is a denial, as in Envoy', async () => {
  for (const status of [201, 204]) assert.equal((await exchange(setup(respond(status)).filter, matched())).status, status);
});

test('5xx, no answer, timeout: status_on_error (403 by default) with UAEX and ext_authz_error; the reason is in the body', async () => {
  for (const answer of [respond(503), { kind: 'failure', reason: 'no response within 600000 ms' } as AsyncHttpResult]) {
    const { filter, stat } = setup(answer);
    const s = matched();
    const r = await exchange(filter, s);
    assert.equal(r.status, 403);
    assert.equal(r.reply?.details, 'ext_authz_error');
    assert.deepEqual(s.info.responseFlags, ['UAEX']);
    assert.equal(stat('error'), 1);
  }
  const { filter } = setup(respond(500), { statusOnError: { code: 503 } });
  assert.equal((await exchange(filter, matched())).status, 503);
});

test('failure_mode_allow: errors let the request through, counted, with the header when asked', async () => {
  const { filter, stat } = setup({ kind: 'failure', reason: 'ECONNREFUSED' }, { failureModeAllow: true, failureModeAllowHeaderAdd: true });
  const s = matched();
  const r = await exchange(filter, s);
  assert.equal(r.forwarded, true);
  assert.equal(s.request.headers['x-envoy-auth-failure-mode-allowed'], 'true');
  assert.equal(stat('error'), 1);
  assert.equal(stat('failure_mode_allowed'), 1);
  const { filter: denyOnDeny } = setup(respond(403), { failureModeAllow: true });
  assert.equal((await exchange(denyOnDeny, matched())).status, 403, 'a denial is not an error');
});

test('filter_enabled_metadata: no CUSTOM rule matched (or another provider did), no check, counted disabled', async () => {
  const { filter, service, stat } = setup(respond(403));
  const none = new FakeFilterStream();
  assert.equal((await exchange(filter, none)).forwarded, true);
  const other = new FakeFilterStream();
  other.info.dynamicMetadata['envoy.filters.http.rbac'] = { istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-another-ns[foo]-policy[p]-rule[0]' };
  assert.equal((await exchange(filter, other)).forwarded, true);
  assert.equal(service.calls.length, 0);
  assert.equal(stat('disabled'), 2);
});

test('ExtAuthzPerRoute disabled: the route is not checked (and not counted)', async () => {
  const { filter, service, stat } = setup(respond(403));
  const s = matched({ perRoute: { [EXT_AUTHZ_FILTER_NAME]: { disabled: true, contextExtensions: null } } });
  assert.equal((await exchange(filter, s)).forwarded, true);
  assert.equal(service.calls.length, 0);
  assert.equal(stat('disabled'), 0);
});
