// ext_authz config: what the control plane writes for Istio's CUSTOM action compiles, for HTTP and
// gRPC providers; what Strait cannot honour (request bodies, the Google gRPC client, unknown
// fields) is a ConfigError naming the field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EnvoyExtAuthzGrpcProvider, EnvoyExtAuthzHttpProvider, ExtensionProvider } from '../../../config/types.js';
import { customHttpFilters } from '../../../controlplane/generate/security/ext-authz.js';
import { normalizeResource } from '../../../xds/codec.js';
import type { TypeUrl } from '../../../xds/resources.js';
import { ConfigError } from '../api.js';
import { compileExtAuthzConfig, compileExtAuthzPerRoute, EXT_AUTHZ_PER_ROUTE_TYPE_URL, EXT_AUTHZ_TYPE_URL } from './config.js';
import type { CompiledExtAuthz, CompiledGrpcExtAuthz, CompiledHttpExtAuthz } from './config.js';

function http(c: CompiledExtAuthz): CompiledHttpExtAuthz {
  assert.equal(c.kind, 'http');
  return c as CompiledHttpExtAuthz;
}

function grpc(c: CompiledExtAuthz): CompiledGrpcExtAuthz {
  assert.equal(c.kind, 'grpc');
  return c as CompiledGrpcExtAuthz;
}

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

const GRPC_PROVIDER: EnvoyExtAuthzGrpcProvider = {
  service: 'ext-authz.foo.svc.cluster.local',
  port: 9000,
  failOpen: true,
  clearRouteCache: false,
  statusOnError: 503,
  timeout: { ms: 250, text: '250ms' },
};

function generated(provider: ExtensionProvider = { name: 'p', type: 'envoyExtAuthzHttp', envoyExtAuthzHttp: PROVIDER, path: [] }): Record<string, unknown> {
  const filters = customHttpFilters([{ name: 'ext-authz', namespace: 'foo', action: 'CUSTOM', provider: 'p', dryRun: false, rules: [{}] }], {
    providers: [provider],
    lookup: (s) => ({ hostname: s }),
    trustDomains: ['cluster.local'],
  });
  return filters[1]!.typedConfig as unknown as Record<string, unknown>;
}

test("accepts every field Istio's CUSTOM builder writes for an envoyExtAuthzHttp provider", () => {
  const c = http(compileExtAuthzConfig(generated()));
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
  const c = http(compileExtAuthzConfig({ '@type': EXT_AUTHZ_TYPE_URL, httpService: { serverUri: { uri: 'http://a', cluster: 'a', timeout: '1s' } } }));
  assert.equal(c.statusOnError, 403);
  assert.equal(c.failureModeAllow, false);
  assert.equal(c.enabled, null);
  assert.ok(c.clientHeaders('x-anything') && !c.clientHeaders('host'));
  assert.ok(!c.upstreamHeaders('x-anything') && !c.clientHeadersOnSuccess('x-anything'));
});

const REJECTED: [string, Record<string, unknown>, RegExp][] = [
  ['no service', {}, /exactly one of httpService, grpcService/],
  ['both services', { grpcService: { envoyGrpc: { clusterName: 'a' } }, httpService: { serverUri: { uri: 'u', cluster: 'a', timeout: '1s' } } }, /exactly one of/],
  ['the Google gRPC client', { grpcService: { googleGrpc: { targetUri: 'a:1' } } }, /googleGrpc: the Google gRPC client is not supported/],
  ['a gRPC service without a cluster', { grpcService: { envoyGrpc: { authority: 'a' } } }, /envoyGrpc.clusterName: required/],
  ['gRPC retries', { grpcService: { envoyGrpc: { clusterName: 'a' }, retryPolicy: {} } }, /retries of the check call/],
  ['a bad gRPC timeout', { grpcService: { envoyGrpc: { clusterName: 'a' }, timeout: 5 } }, /grpcService.timeout: expected a duration/],
  ['a pseudo-header as initial metadata', { grpcService: { envoyGrpc: { clusterName: 'a' }, initialMetadata: [{ key: ':path', value: '/' }] } }, /initialMetadata\[0\].key/],
  ['a request body to a gRPC service', { withRequestBody: { maxRequestBytes: 10 }, grpcService: { envoyGrpc: { clusterName: 'a' } } }, /withRequestBody/],
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

test("accepts every field Istio's CUSTOM builder writes for an envoyExtAuthzGrpc provider", () => {
  const c = grpc(compileExtAuthzConfig(generated({ name: 'p', type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: GRPC_PROVIDER, path: [] })));
  assert.deepEqual(c.service, { cluster: 'outbound|9000||ext-authz.foo.svc.cluster.local', authority: 'ext-authz.foo.svc.cluster.local', timeoutMs: 250, metadata: [] });
  assert.equal(c.cluster, c.service.cluster);
  assert.equal(c.statusOnError, 503);
  assert.equal(c.failureModeAllow, true);
  assert.ok(c.enabled !== null);
  assert.equal(c.headerFilter, null, 'a gRPC CheckRequest carries every header');
});

test('gRPC defaults and options: 200 ms timeout, cluster name as authority, initial metadata, header lists, peer certificate, TLS session, metadata namespaces', () => {
  const d = grpc(compileExtAuthzConfig({ grpcService: { envoyGrpc: { clusterName: 'authz' } } }));
  assert.deepEqual(d.service, { cluster: 'authz', authority: 'authz', timeoutMs: 200, metadata: [] });
  assert.equal(d.includePeerCertificate, false);
  const c = grpc(
    compileExtAuthzConfig({
      grpcService: { envoyGrpc: { clusterName: 'authz', authority: 'authz.example' }, timeout: '0s', initialMetadata: [{ key: 'X-Tenant', value: 't1' }] },
      allowedHeaders: { patterns: [{ prefix: 'x-' }] },
      disallowedHeaders: { patterns: [{ exact: 'x-secret' }] },
      includePeerCertificate: true,
      includeTlsSession: true,
      metadataContextNamespaces: ['envoy.filters.http.jwt_authn'],
    }),
  );
  assert.deepEqual(c.service, { cluster: 'authz', authority: 'authz.example', timeoutMs: 0, metadata: [['x-tenant', 't1']] });
  assert.ok(c.headerFilter!('x-a') && !c.headerFilter!('x-secret') && !c.headerFilter!('cookie'));
  assert.equal(c.includePeerCertificate, true);
  assert.equal(c.includeTlsSession, true);
  assert.deepEqual(c.metadataContextNamespaces, ['envoy.filters.http.jwt_authn']);
});

test('ExtAuthzPerRoute: disabled, or check_settings (context_extensions for gRPC services); per-route services are refused', () => {
  assert.deepEqual(compileExtAuthzPerRoute({ '@type': EXT_AUTHZ_PER_ROUTE_TYPE_URL, disabled: true }), { disabled: true, contextExtensions: null });
  assert.deepEqual(compileExtAuthzPerRoute({ checkSettings: { contextExtensions: { a: 'b' } } }), { disabled: false, contextExtensions: { a: 'b' } });
  assert.throws(() => compileExtAuthzPerRoute({ checkSettings: { contextExtensions: { a: 1 } } }), /contextExtensions.a: expected a string/);
  assert.throws(() => compileExtAuthzPerRoute({ disabled: false }), /must be true/);
  assert.throws(() => compileExtAuthzPerRoute({ httpService: {} }), /per-route authorization services/);
  assert.throws(() => compileExtAuthzPerRoute({ disabled: true, checkSettings: {} }), /one of/);
});

test('status_on_error as an enum name (proto3 JSON, how it arrives through the xDS codec) or a number', () => {
  const svc = { grpcService: { envoyGrpc: { clusterName: 'a' } } };
  assert.equal(compileExtAuthzConfig({ ...svc, statusOnError: { code: 'ServiceUnavailable' } }).statusOnError, 503);
  assert.equal(compileExtAuthzConfig({ ...svc, statusOnError: { code: 503 } }).statusOnError, 503);
  assert.throws(() => compileExtAuthzConfig({ ...svc, statusOnError: { code: 'Teapot' } }), /statusOnError.code/);
});

test('a gRPC provider config survives the xDS wire (protobuf round trip, enums by name) and compiles to the same settings', () => {
  const { '@type': type, ...typed } = generated({ name: 'p', type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: GRPC_PROVIDER, path: [] });
  const wire = normalizeResource(type as TypeUrl, typed as never) as unknown as Record<string, unknown>;
  const c = grpc(compileExtAuthzConfig(wire));
  assert.equal(c.statusOnError, 503);
  assert.equal(c.service.timeoutMs, 250);
  assert.equal(c.failureModeAllow, true);
});
