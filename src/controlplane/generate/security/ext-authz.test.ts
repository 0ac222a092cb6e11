// CUSTOM policies → [RBAC shadow, ext_authz] (AZ-01/02): the ext_authz config from the MeshConfig
// provider, the metadata key that gates it, and the fail-closed DENY for broken providers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnvoyExtAuthzHttpProvider, ExtensionProvider } from '../../../config/types.js';
import type { AuthzPolicy } from './authz-builder.js';
import type { HttpExtAuthzConfig, HttpRbacConfig, NetworkExtAuthzConfig, NetworkRbacConfig } from './envoy-types.js';
import type { CustomContext } from './ext-authz.js';
import { customHttpFilters, customTcpFilters } from './ext-authz.js';

const HTTP_PROVIDER: EnvoyExtAuthzHttpProvider = {
  service: 'ext-authz.foo.svc.cluster.local',
  port: 8000,
  failOpen: false,
  clearRouteCache: false,
  includeRequestHeadersInCheck: ['x-ext-authz'],
  includeAdditionalHeadersInCheck: {},
  headersToUpstreamOnAllow: [],
  headersToDownstreamOnDeny: [],
  headersToDownstreamOnAllow: [],
};

const PROVIDERS: ExtensionProvider[] = [
  { name: 'sample-ext-authz-http', type: 'envoyExtAuthzHttp', envoyExtAuthzHttp: HTTP_PROVIDER, path: [] },
  { name: 'sample-ext-authz-grpc', type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: { service: 'ext-authz.foo.svc.cluster.local', port: 9000, failOpen: true, clearRouteCache: false, timeout: { ms: 250, text: '250ms' } }, path: [] },
  { name: 'zipkin', type: 'other', kind: 'zipkin', path: [] },
];

const CTX: CustomContext = {
  providers: PROVIDERS,
  lookup: (s) => (s === 'ext-authz.foo.svc.cluster.local' ? { hostname: s } : { error: `could not find service ${s}` }),
  trustDomains: ['cluster.local'],
};

function custom(name: string, provider: string, dryRun = false): AuthzPolicy {
  return { name, namespace: 'foo', action: 'CUSTOM', provider, dryRun, rules: [{ to: [{ operation: { paths: ['/headers'] } }] }] };
}

test('istio.io ext-authz task: shadow RBAC then ext_authz gated on istio_ext_authz_shadow_effective_policy_id', () => {
  const filters = customHttpFilters([custom('ext-authz', 'sample-ext-authz-http')], CTX);
  assert.deepEqual(filters.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz']);
  const rbac = filters[0]!.typedConfig as unknown as HttpRbacConfig;
  assert.equal(rbac.rules, undefined, 'the CUSTOM RBAC filter enforces nothing');
  assert.equal(rbac.shadowRulesStatPrefix, 'istio_ext_authz_');
  assert.deepEqual(Object.keys(rbac.shadowRules!.policies), ['istio-ext-authz-sample-ext-authz-http-ns[foo]-policy[ext-authz]-rule[0]']);
  assert.equal(rbac.shadowRules!.action, 'DENY');
  assert.deepEqual(filters[1]!.typedConfig as unknown as HttpExtAuthzConfig, {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
    httpService: { serverUri: { uri: 'http://ext-authz.foo.svc.cluster.local', cluster: 'outbound|8000||ext-authz.foo.svc.cluster.local', timeout: '600s' } },
    transportApiVersion: 'V3',
    allowedHeaders: { patterns: [{ exact: 'x-ext-authz', ignoreCase: true }] },
    filterEnabledMetadata: {
      filter: 'envoy.filters.http.rbac',
      path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
      value: { stringMatch: { prefix: 'istio-ext-authz-sample-ext-authz-http' } },
    },
  });
});

test('HTTP provider options: pathPrefix, statusOnError, failOpen, header lists, extra headers, body', () => {
  const p: EnvoyExtAuthzHttpProvider = {
    ...HTTP_PROVIDER,
    pathPrefix: '/check',
    statusOnError: 503,
    failOpen: true,
    timeout: { ms: 2000, text: '2s' },
    includeRequestHeadersInCheck: ['x-*', '*-id'],
    includeAdditionalHeadersInCheck: { 'x-b': '2', 'x-a': '1' },
    headersToUpstreamOnAllow: ['x-user'],
    headersToDownstreamOnDeny: ['x-reason'],
    headersToDownstreamOnAllow: ['x-ok'],
    includeRequestBodyInCheck: { maxRequestBytes: 4096, allowPartialMessage: true, packAsBytes: false },
  };
  const [, f] = customHttpFilters([custom('c', 'p')], { ...CTX, providers: [{ name: 'p', type: 'envoyExtAuthzHttp', envoyExtAuthzHttp: p, path: [] }] });
  const c = f!.typedConfig as unknown as HttpExtAuthzConfig;
  assert.deepEqual(c.httpService, {
    serverUri: { uri: 'http://ext-authz.foo.svc.cluster.local', cluster: 'outbound|8000||ext-authz.foo.svc.cluster.local', timeout: '2s' },
    pathPrefix: '/check',
    authorizationRequest: { headersToAdd: [{ key: 'x-a', value: '1' }, { key: 'x-b', value: '2' }] },
    authorizationResponse: {
      allowedUpstreamHeaders: { patterns: [{ exact: 'x-user', ignoreCase: true }] },
      allowedClientHeaders: { patterns: [{ exact: 'x-reason', ignoreCase: true }] },
      allowedClientHeadersOnSuccess: { patterns: [{ exact: 'x-ok', ignoreCase: true }] },
    },
  });
  assert.deepEqual(c.statusOnError, { code: 503 });
  assert.equal(c.failureModeAllow, true);
  assert.deepEqual(c.allowedHeaders, { patterns: [{ prefix: 'x-', ignoreCase: true }, { suffix: '-id', ignoreCase: true }] });
  assert.deepEqual(c.withRequestBody, { maxRequestBytes: 4096, allowPartialMessage: true });
});

test('gRPC provider: grpc_service on HTTP chains, and network ext_authz on TCP chains', () => {
  const [, http] = customHttpFilters([custom('c', 'sample-ext-authz-grpc')], CTX);
  const c = http!.typedConfig as unknown as HttpExtAuthzConfig;
  assert.deepEqual(c.grpcService, { envoyGrpc: { clusterName: 'outbound|9000||ext-authz.foo.svc.cluster.local', authority: 'ext-authz.foo.svc.cluster.local' }, timeout: '0.25s' });
  assert.equal(c.failureModeAllow, true);
  const tcp = customTcpFilters([custom('c', 'sample-ext-authz-grpc')], CTX);
  assert.deepEqual(tcp.map((f) => f.name), ['envoy.filters.network.rbac', 'envoy.filters.network.ext_authz']);
  assert.equal((tcp[0]!.typedConfig as unknown as NetworkRbacConfig).statPrefix, 'tcp.');
  const n = tcp[1]!.typedConfig as unknown as NetworkExtAuthzConfig;
  assert.equal(n.statPrefix, 'tcp.');
  assert.equal(n.filterEnabledMetadata.filter, 'envoy.filters.network.rbac');
});

test('an HTTP provider does nothing on TCP chains', () => {
  assert.deepEqual(customTcpFilters([custom('c', 'sample-ext-authz-http')], CTX), []);
});

test('unknown provider, wrong kind, unknown service, or two providers: the rules are enforced as DENY', () => {
  for (const [policies, ctx] of [
    [[custom('c', 'nope')], CTX],
    [[custom('c', 'zipkin')], CTX],
    [[custom('c', 'p')], { ...CTX, providers: [{ name: 'p', type: 'envoyExtAuthzHttp' as const, envoyExtAuthzHttp: { ...HTTP_PROVIDER, service: 'missing.svc' }, path: [] }] }],
    [[custom('c', 'sample-ext-authz-http'), custom('d', 'sample-ext-authz-grpc')], CTX],
  ] as [AuthzPolicy[], CustomContext][]) {
    const filters = customHttpFilters(policies, ctx);
    assert.ok(filters.length >= 1 && filters.every((f) => f.name === 'envoy.filters.http.rbac'));
    for (const f of filters) {
      const rbac = f.typedConfig as unknown as HttpRbacConfig;
      assert.equal(rbac.rules!.action, 'DENY');
      assert.ok(Object.keys(rbac.rules!.policies).every((k) => k.endsWith('-deny-due-to-bad-CUSTOM-action')));
    }
  }
});

test('dry-run CUSTOM policies neither call the provider nor deny', () => {
  assert.deepEqual(customHttpFilters([custom('c', 'sample-ext-authz-http', true)], CTX), []);
});
