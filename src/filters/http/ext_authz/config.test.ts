// ext_authz config: what the control plane writes for Istio's CUSTOM action compiles; what Strait
// cannot honour (gRPC services, request bodies, unknown fields) is a ConfigError naming the field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EnvoyExtAuthzHttpProvider } from '../../../config/types.js';
import { customHttpFilters } from '../../../controlplane/generate/security/ext-authz.js';
import { ConfigError } from '../api.js';
import { compileExtAuthzConfig, compileExtAuthzPerRoute, EXT_AUTHZ_PER_ROUTE_TYPE_URL, EXT_AUTHZ_TYPE_URL } from './config.js';

const PROVIDER: EnvoyExtAuthzHttpProvider = {
  service: 'ext-authz.foo.svc.cluster.local',
  port: 8000,
  failOpen: true,
  clearRouteCache: true,
  statusOnError: 503,
  pathPrefix: '/check',
  timeout: { ms: 250, text: '250ms' },
  includeRequestHeadersInCheck: ['x-ext-authz', 'x-b3-*'],
  includeAdditionalHeadersInCheck: { 'x-ext-authz-additional-header-override': 'v', 'x-peer': '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' },
  headersToUpstreamOnAllow: ['x-ext-authz-check-result'],
  headersToDownstreamOnDeny: ['x-ext-authz-check-result', '*-reason'],
  headersToDownstreamOnAllow: ['set-cookie'],
};

function generated(): Record<string, unknown> {
  const filters = customHttpFilters([{ name: 'ext-authz', namespace: 'foo', action: 'CUSTOM', provider: 'p', dryRun: false, rules: [{}] }], {
    providers: [{ name: 'p', type: 'envoyExtAuthzHttp', envoyExtAuthzHttp: PROVIDER, path: [] }],
    lookup: (s) => ({ hostname: s }),
    trustDomains: ['cluster.local'],
  });
  return filters[1]!.typedConfig as unknown as Record<string, unknown>;
}

test("accepts every field Istio's CUSTOM builder writes for an envoyExtAuthzHttp provider", () => {
  const c = compileExtAuthzConfig(generated());
  assert.equal(c.cluster, 'outbound|8000||ext-authz.foo.svc.cluster.local');
  assert.equal(c.timeoutMs, 250);
  assert.equal(c.pathPrefix, '/check');
  assert.equal(c.statusOnError, 503);
  assert.equal(c.failureModeAllow, true);
  assert.ok(c.enabled !== null);
  // Envoy's defaults are always sent; the listed patterns are case-insensitive.
  for (const h of ['authorization', ':method', ':path', ':authority', 'x-ext-authz', 'x-b3-traceid']) assert.ok(c.requestHeaders(h), h);
  assert.ok(!c.requestHeaders('cookie'));
  assert.deepEqual(c.headersToAdd.map((h) => h.name), ['x-ext-authz-additional-header-override', 'x-peer']);
  assert.ok(c.upstreamHeaders('x-ext-authz-check-result'));
  assert.ok(!c.upstreamHeaders('x-other'));
  assert.ok(c.clientHeaders('x-denied-reason') && c.clientHeaders('location') && c.clientHeaders('www-authenticate'));
  assert.ok(!c.clientHeaders('x-other'));
  assert.ok(c.clientHeadersOnSuccess('set-cookie'));
});

test('defaults: status_on_error 403, fail closed, every denial header but Host reaches the client', () => {
  const c = compileExtAuthzConfig({ '@type': EXT_AUTHZ_TYPE_URL, httpService: { serverUri: { uri: 'http://a', cluster: 'a', timeout: '1s' } } });
  assert.equal(c.statusOnError, 403);
  assert.equal(c.failureModeAllow, false);
  assert.equal(c.enabled, null);
  assert.ok(c.clientHeaders('x-anything') && !c.clientHeaders('host'));
  assert.ok(!c.upstreamHeaders('x-anything') && !c.clientHeadersOnSuccess('x-anything'));
});

const REJECTED: [string, Record<string, unknown>, RegExp][] = [
  ['a gRPC service', { grpcService: { envoyGrpc: { clusterName: 'a' } } }, /grpcService: gRPC authorization services are not supported/],
  ['no service', {}, /httpService is required/],
  ['a request body', { withRequestBody: { maxRequestBytes: 10 }, httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1s' } } }, /withRequestBody/],
  ['no cluster', { httpService: { serverUri: { uri: 'u', timeout: '1s' } } }, /serverUri.cluster: required/],
  ['a bad timeout', { httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1m' } } }, /serverUri.timeout: expected a duration/],
  ['allowed_headers twice', { allowedHeaders: { patterns: [] }, httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1s' }, authorizationRequest: { allowedHeaders: { patterns: [] } } } }, /duplicate/],
  ['an unknown field', { httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1s' } }, bogus: 1 }, /unknown field "bogus"/],
  ['a bad status', { statusOnError: { code: 42 }, httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1s' } } }, /statusOnError.code/],
  ['retries', { httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1s' }, retryPolicy: {} } }, /retries of the check request/],
  ['a V2 transport', { transportApiVersion: 'V2', httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1s' } } }, /only V3/],
];

for (const [what, cfg, why] of REJECTED) {
  test(`rejects ${what}`, () => {
    assert.throws(() => compileExtAuthzConfig({ '@type': EXT_AUTHZ_TYPE_URL, ...cfg }), (e: unknown) => e instanceof ConfigError && why.test(e.message));
  });
}

test('ExtAuthzPerRoute: disabled, or check_settings (no effect on an HTTP service); per-route services are refused', () => {
  assert.deepEqual(compileExtAuthzPerRoute({ '@type': EXT_AUTHZ_PER_ROUTE_TYPE_URL, disabled: true }), { disabled: true });
  assert.deepEqual(compileExtAuthzPerRoute({ checkSettings: { contextExtensions: { a: 'b' } } }), { disabled: false });
  assert.throws(() => compileExtAuthzPerRoute({ disabled: false }), /must be true/);
  assert.throws(() => compileExtAuthzPerRoute({ httpService: {} }), /per-route authorization services/);
  assert.throws(() => compileExtAuthzPerRoute({ disabled: true, checkSettings: {} }), /one of/);
});
