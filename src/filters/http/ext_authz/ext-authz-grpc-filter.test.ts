// The ext_authz filter with a gRPC authorization service, faked (an AsyncHttpClient whose
// grpcUnary answers with the CheckResponse each test encodes): the Check call it makes, and what
// allowed, denied, invalid and failed checks do to the request and to what the client sees
// (AZ-01, AZ-02: CUSTOM with an envoyExtAuthzGrpc provider).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AsyncGrpcRequest, AsyncGrpcResult, AsyncHttpClient, AsyncHttpResult } from '../api.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { exchange, FakeFilterStream } from '../test-support.js';
import { compileExtAuthzConfig, EXT_AUTHZ_FILTER_NAME, EXT_AUTHZ_TYPE_URL } from './config.js';
import { ExtAuthzFilter } from './ext-authz-filter.js';
import { CHECK_PATH, checkTypes } from './grpc-check.js';
import { extAuthzStats } from './stats.js';

class FakeGrpcService implements AsyncHttpClient {
  readonly calls: { cluster: string; request: AsyncGrpcRequest; timeoutMs: number }[] = [];
  constructor(private readonly answer: AsyncGrpcResult) {}
  send(): Promise<AsyncHttpResult> {
    return Promise.resolve({ kind: 'failure', reason: 'a gRPC service' });
  }
  grpcUnary(cluster: string, request: AsyncGrpcRequest, timeoutMs: number): Promise<AsyncGrpcResult> {
    this.calls.push({ cluster, request, timeoutMs });
    return Promise.resolve(this.answer);
  }
  /** The CheckRequest of the last call, decoded. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  lastCheck(): any {
    const t = checkTypes().request;
    return t.toObject(t.decode(this.calls.at(-1)!.request.message), { longs: Number });
  }
}

function answer(o: Record<string, unknown>): AsyncGrpcResult {
  const t = checkTypes().response;
  return { kind: 'ok', message: Buffer.from(t.encode(t.fromObject(o)).finish()) };
}

/** What Istio's CUSTOM builder writes for an envoyExtAuthzGrpc provider. */
const ISTIO_LIKE = {
  '@type': EXT_AUTHZ_TYPE_URL,
  grpcService: { envoyGrpc: { clusterName: 'outbound|9000||ext-authz.foo.svc.cluster.local', authority: 'ext-authz.foo.svc.cluster.local' }, timeout: '600s' },
  transportApiVersion: 'V3',
  filterEnabledMetadata: {
    filter: 'envoy.filters.http.rbac',
    path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
    value: { stringMatch: { prefix: 'istio-ext-authz-sample-ext-authz-grpc' } },
  },
};

function setup(result: AsyncGrpcResult, extra: Record<string, unknown> = {}) {
  const stats = new StatsRegistry();
  const service = new FakeGrpcService(result);
  const filter = new ExtAuthzFilter(compileExtAuthzConfig({ ...ISTIO_LIKE, ...extra }), extAuthzStats(stats, 'inbound_0.0.0.0_8000', ''), service);
  const stat = (name: string) => stats.valueOf(`envoy_http_ext_authz_${name}`, { http_conn_manager_prefix: 'inbound_0.0.0.0_8000' });
  return { filter, service, stat };
}

function matched(opts: ConstructorParameters<typeof FakeFilterStream>[0] = {}): FakeFilterStream {
  const s = new FakeFilterStream({ method: 'GET', path: '/headers?keep=1&drop=2', authority: 'httpbin.foo:8000', headers: { 'x-ext-authz': 'allow', authorization: 'Bearer t', 'x-append': 'a' }, ...opts });
  s.info.dynamicMetadata['envoy.filters.http.rbac'] = { istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-sample-ext-authz-grpc-ns[foo]-policy[ext-authz]-rule[0]' };
  return s;
}

test('the Check call: Authorization/Check on the provider cluster with its authority and timeout; the request attributes and per-route context extensions', async () => {
  const { filter, service } = setup(answer({ status: { code: 0 } }));
  await exchange(filter, matched({ perRoute: { [EXT_AUTHZ_FILTER_NAME]: { disabled: false, contextExtensions: { tier: 'gold' } } } }));
  assert.equal(service.calls.length, 1);
  const { cluster, request, timeoutMs } = service.calls[0]!;
  assert.equal(cluster, 'outbound|9000||ext-authz.foo.svc.cluster.local');
  assert.equal(request.path, CHECK_PATH);
  assert.equal(request.authority, 'ext-authz.foo.svc.cluster.local');
  assert.equal(timeoutMs, 600_000);
  const a = service.lastCheck().attributes;
  assert.equal(a.request.http.path, '/headers?keep=1&drop=2');
  assert.equal(a.request.http.headers['x-ext-authz'], 'allow');
  assert.deepEqual(a.contextExtensions, { tier: 'gold' });
});

test('OK: request headers changed as the append actions say, headers removed (never Host), query rewritten, client headers on the response', async () => {
  const { filter, stat } = setup(
    answer({
      status: { code: 0 },
      okResponse: {
        headers: [
          { header: { key: 'x-ext-authz-check-result', value: 'allowed' } },
          { header: { key: 'x-append', value: 'b' } },
          { header: { key: 'x-if-absent', value: '1' }, appendAction: 'ADD_IF_ABSENT' },
          { header: { key: 'x-ext-authz', value: 'replaced' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          { header: { key: 'x-missing', value: 'no' }, appendAction: 'OVERWRITE_IF_EXISTS' },
          { header: { key: 'x-append', value: 'c' }, append: { value: true } },
          { header: { key: 'host', value: 'evil' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
        headersToRemove: ['authorization', 'host', ':path'],
        responseHeadersToAdd: [
          { header: { key: 'set-cookie', value: 's=1' } },
          { header: { key: 'content-type', value: 'text/html' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
        queryParametersToSet: [{ key: 'keep', value: 'new value' }],
        queryParametersToRemove: ['drop'],
      },
    }),
  );
  const s = matched();
  const r = await exchange(filter, s, { status: 200, headers: { 'content-type': 'text/plain', 'set-cookie': 'up=1' } });
  assert.equal(r.forwarded, true);
  const h = s.request.headers;
  assert.equal(h['x-ext-authz-check-result'], 'allowed');
  assert.deepEqual(h['x-append'], ['a,c', 'b'], 'added as a second value, then the deprecated append joins the first');
  assert.equal(h['x-if-absent'], '1');
  assert.equal(h['x-ext-authz'], 'replaced');
  assert.equal(h['x-missing'], undefined);
  assert.equal(h.authorization, undefined);
  assert.equal(h.host, 'httpbin.foo:8000', 'Host is neither set nor removed by the service');
  assert.equal(s.request.path, '/headers?keep=new%20value');
  assert.deepEqual(r.headers.getAll('set-cookie'), ['up=1', 's=1']);
  assert.equal(r.headers.get('content-type'), 'text/html');
  assert.equal(stat('ok'), 1);
});

test("denied: the client gets denied_response's status, body and headers with UAEX / ext_authz_denied; the upstream never sees the request", async () => {
  const body = 'denied by ext_authz for not found header `x-ext-authz: allow` in the request';
  const { filter, stat } = setup(answer({ status: { code: 7, message: body }, deniedResponse: { status: { code: 403 }, headers: [{ header: { key: 'x-ext-authz-check-result', value: 'denied' } }, { header: { key: 'content-length', value: '3' } }], body } }));
  const s = matched();
  const r = await exchange(filter, s);
  assert.equal(r.forwarded, false);
  assert.equal(r.status, 403);
  assert.equal(r.body, body);
  assert.equal(r.headers.get('x-ext-authz-check-result'), 'denied');
  assert.equal(r.headers.get('content-length'), undefined, 'framing is the proxy’s own');
  assert.deepEqual(s.info.responseFlags, ['UAEX']);
  assert.equal(s.info.responseCodeDetails, 'ext_authz_denied');
  assert.equal(stat('denied'), 1);
  const { filter: bare } = setup(answer({ status: { code: 16 } }));
  const plain = await exchange(bare, matched());
  assert.equal(plain.status, 403, 'no denied_response: 403');
  assert.equal(plain.body, '');
});

test('a failed call (grpc-status ≠ 0, timeout, unreachable) or bytes that are no CheckResponse: status_on_error with UAEX / ext_authz_error, or through with failure_mode_allow', async () => {
  const failures: AsyncGrpcResult[] = [
    { kind: 'failure', reason: 'the service answered grpc-status 14 (unavailable)', grpcStatus: 14 },
    { kind: 'failure', reason: 'no response within 600000 ms' },
    { kind: 'ok', message: Buffer.from([0x0a, 0xff]) },
  ];
  for (const f of failures) {
    const { filter, stat } = setup(f);
    const s = matched();
    const r = await exchange(filter, s);
    assert.equal(r.status, 403);
    assert.equal(r.reply?.details, 'ext_authz_error');
    assert.deepEqual(s.info.responseFlags, ['UAEX']);
    assert.equal(stat('error'), 1);
  }
  assert.equal((await exchange(setup(failures[0]!, { statusOnError: { code: 503 } }).filter, matched())).status, 503);
  const { filter, stat } = setup(failures[1]!, { failureModeAllow: true, failureModeAllowHeaderAdd: true });
  const s = matched();
  assert.equal((await exchange(filter, s)).forwarded, true);
  assert.equal(s.request.headers['x-envoy-auth-failure-mode-allowed'], 'true');
  assert.equal(stat('failure_mode_allowed'), 1);
});

test('an answer that cannot be applied: 500 with UAEX / ext_authz_invalid, counted invalid, even with failure_mode_allow', async () => {
  const { filter, stat } = setup(answer({ okResponse: { headers: [{ header: { key: 'bad header', value: 'x' } }] } }), { failureModeAllow: true });
  const s = matched();
  const r = await exchange(filter, s);
  assert.equal(r.status, 500);
  assert.equal(r.reply?.details, 'ext_authz_invalid');
  assert.equal(stat('invalid'), 1);
  assert.equal(s.request.headers['bad header'], undefined);
});

test('not selected by a CUSTOM rule, or disabled on the route: no call', async () => {
  const { filter, service, stat } = setup(answer({ status: { code: 7 } }));
  assert.equal((await exchange(filter, new FakeFilterStream())).forwarded, true);
  assert.equal((await exchange(filter, matched({ perRoute: { [EXT_AUTHZ_FILTER_NAME]: { disabled: true, contextExtensions: null } } }))).forwarded, true);
  assert.equal(service.calls.length, 0);
  assert.equal(stat('disabled'), 1);
});
