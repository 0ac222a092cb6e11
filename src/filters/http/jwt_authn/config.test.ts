// Config tests for the JWT filter: the JwtAuthentication Istio writes (one provider, several,
// inline and remote keys) and Strait's own generator output are accepted and survive the xDS
// wire; everything Strait would not honour is rejected with a message naming the field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { decodeResource, encodeResource } from '../../../xds/codec.js';
import { jwtAuthentication } from '../../../controlplane/generate/security/request-authn.js';
import type { JWTRule } from '../../../config/types.js';
import { ConfigError } from '../api.js';
import { filterByTypeUrl } from '../registry.js';
import '../index.js';
import { compileJwtAuthentication, compilePerRouteConfig, JWT_AUTHN_FILTER_NAME, JWT_AUTHN_PER_ROUTE_TYPE_URL, JWT_AUTHN_TYPE_URL, jwtAuthnFilterFactory } from './config.js';
import { ISSUER, istioConfig, istioProvider, jwksOf, testKey } from './test-support.js';

const deps = () => ({ clock: new ManualClockForTest(), random: seededRandom(1), stats: { jwks_fetch_success: { value: 0 }, jwks_fetch_failed: { value: 0 } } as never });
const JWKS = jwksOf({ kty: 'OKP', crv: 'Ed25519', x: Buffer.alloc(32, 7).toString('base64url'), kid: 'k' });
const local = istioProvider({ local: JWKS });
const remote = istioProvider({ remote: 'https://example.com/.well-known/jwks.json' });

function rejects(config: Record<string, unknown>, message: RegExp): void {
  assert.throws(() => compileJwtAuthentication(config, deps()), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

test('the factory is registered under both type URLs by src/filters/http/index.ts', () => {
  assert.equal(filterByTypeUrl(JWT_AUTHN_TYPE_URL), jwtAuthnFilterFactory);
  assert.equal(filterByTypeUrl(JWT_AUTHN_PER_ROUTE_TYPE_URL), jwtAuthnFilterFactory);
  assert.equal(jwtAuthnFilterFactory.name, JWT_AUTHN_FILTER_NAME);
  assert.equal(JWT_AUTHN_FILTER_NAME, 'envoy.filters.http.jwt_authn');
});

test("Istio's one-provider config compiles: one rule on prefix /, CORS preflights bypassed", () => {
  for (const p of [local, remote]) {
    const s = compileJwtAuthentication(istioConfig(p), deps());
    assert.equal(s.rules.length, 1);
    assert.notEqual(s.rules[0]!.verifier, null);
    assert.equal(s.bypassCorsPreflight, true);
    assert.equal(s.stripFailureResponse, false);
  }
});

test("the generator's output for RequestAuthentication (one rule, several rules, remote and inline keys) compiles", async () => {
  const k = await testKey('RS256');
  const rule = (over: Partial<JWTRule>): JWTRule => ({
    issuer: ISSUER, audiences: [], jwksUri: '', jwks: '', fromHeaders: [], fromParams: [], fromCookies: [],
    outputPayloadToHeader: '', forwardOriginalToken: false, outputClaimToHeaders: [], spaceDelimitedClaims: [], ...over,
  } as JWTRule);
  const rules = [
    rule({ jwks: jwksOf(k) }),
    rule({ issuer: 'https://accounts.example.com', jwksUri: 'https://accounts.example.com/jwks', audiences: ['app'], fromHeaders: [{ name: 'x-jwt', prefix: '' }], outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }], outputPayloadToHeader: 'x-payload', forwardOriginalToken: true }),
    rule({ issuer: 'other', jwksUri: 'http://keys.other:8080/jwks', fromParams: ['tok'], fromCookies: ['c'] }),
  ];
  for (const set of [[rules[0]!], rules]) {
    for (const clearRouteCache of [false, true]) {
      const cfg = jwtAuthentication(set, { clearRouteCache }) as unknown as Record<string, unknown>;
      const s = compileJwtAuthentication(cfg, deps());
      assert.equal(s.rules.length, 1, JSON.stringify(cfg));
    }
  }
});

test('configs survive the xDS wire (proto3 JSON through protobuf) and compile the same', () => {
  const configs = [
    istioConfig(local),
    istioConfig({ ...remote, forward: true, fromHeaders: [{ name: 'x-jwt', valuePrefix: 'Istio ' }], fromParams: ['t'], fromCookies: ['c'], forwardPayloadHeader: 'x-p', claimToHeaders: [{ headerName: 'x-sub', claimName: 'sub' }], clockSkewSeconds: 5 }),
    {
      '@type': JWT_AUTHN_TYPE_URL,
      providers: { a: { ...local, audiences: ['x'] }, b: { ...remote, issuer: 'b', remoteJwks: { httpUri: { uri: 'http://h/jwks', cluster: 'c', timeout: '1s' }, cacheDuration: '60s', asyncFetch: { fastListener: true, failedRefetchDuration: '2s' }, retryPolicy: { numRetries: 3, retryBackOff: { baseInterval: '0.1s', maxInterval: '1s' } } } } },
      rules: [
        { match: { path: '/healthz' } },
        { match: { prefix: '/api', headers: [{ name: 'x-tenant', stringMatch: { exact: 't1' } }] }, requirementName: 'both' },
        { match: { safeRegex: { regex: '/v[0-9]+/.*' } }, requires: { providerAndAudiences: { providerName: 'a', audiences: ['y'] } } },
        { match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'a' }, { providerName: 'b' }, { allowMissingOrFailed: {} }] } } },
      ],
      requirementMap: { both: { requiresAll: { requirements: [{ providerName: 'a' }, { providerName: 'b' }] } }, none: {} },
      stripFailureResponse: true,
    },
  ];
  for (const c of configs) {
    const { '@type': typeUrl, ...rest } = c as { '@type': string };
    const wire = decodeResource<Record<string, unknown>>(encodeResource(typeUrl, rest));
    const a = compileJwtAuthentication(wire, deps());
    const b = compileJwtAuthentication(c, deps());
    assert.equal(a.rules.length, b.rules.length);
    assert.deepEqual([...a.requirements.keys()], [...b.requirements.keys()]);
    assert.equal(a.stripFailureResponse, b.stripFailureResponse);
  }
});

test('rejects: shapes, unknown fields and unsupported features, naming the field', () => {
  const cfg = (p: Record<string, unknown>) => istioConfig(p);
  rejects({ ...istioConfig(local), bogus: 1 }, /JwtAuthentication: unknown field "bogus"/);
  rejects({ ...istioConfig(local), '@type': 'type.googleapis.com/x' }, /@type is "type.googleapis.com\/x"/);
  rejects({ ...istioConfig(local), filterStateRules: { name: 'x', requires: {} } }, /filterStateRules: not supported/);
  rejects(cfg({ issuer: ISSUER }), /providers.origins-0: set exactly one of remoteJwks or localJwks/);
  rejects(cfg({ ...local, remoteJwks: remote.remoteJwks }), /set exactly one of remoteJwks or localJwks/);
  rejects(cfg({ ...local, issuer: 3 }), /origins-0.issuer: expected a string, got 3/);
  rejects(cfg({ ...local, subjects: { prefix: 'spiffe://' } }), /origins-0.subjects: subject matching is not supported/);
  rejects(cfg({ ...local, requireExpiration: true }), /requireExpiration/);
  rejects(cfg({ ...local, failedStatusInMetadata: 'x' }), /failedStatusInMetadata/);
  rejects(cfg({ ...local, fromHeaders: [{ name: 'bad header' }] }), /fromHeaders\[0\].name: "bad header" is not an HTTP header name/);
  rejects(cfg({ ...local, claimToHeaders: [{ headerName: 'x-a', claimName: '' }] }), /claimToHeaders\[0\].claimName: must not be empty/);
  rejects(cfg({ ...local, localJwks: { inlineString: '{}', filename: '/x' } }), /localJwks: set exactly one of inlineString/);
  rejects(cfg({ ...local, localJwks: { filename: '/nonexistent/jwks.json' } }), /localJwks.filename: cannot read/);
  const r = (x: Record<string, unknown>) => cfg({ ...remote, remoteJwks: { httpUri: { uri: 'https://h/jwks', cluster: 'c', timeout: '5s' }, ...x } });
  rejects(r({ httpUri: { uri: 'ftp://h/jwks', cluster: 'c', timeout: '5s' } }), /httpUri.uri: "ftp:\/\/h\/jwks" must be http:\/\/ or https:\/\//);
  rejects(r({ httpUri: { uri: 'not a uri', cluster: 'c', timeout: '5s' } }), /httpUri.uri: "not a uri" is not a URI/);
  rejects(r({ httpUri: { uri: 'https://h/jwks', cluster: 'c' } }), /httpUri.timeout: required/);
  rejects(r({ httpUri: { uri: 'https://h/jwks', cluster: '', timeout: '5s' } }), /httpUri.cluster: must not be empty/);
  rejects(r({ cacheDuration: 'soon' }), /cacheDuration: expected a duration/);
  rejects(r({ cacheDuration: '0s' }), /cacheDuration: must be at least 1ms/);
  rejects(r({ retryPolicy: { retryBackOff: { baseInterval: '2s', maxInterval: '1s' } } }), /maxInterval: must be greater than or equal to the baseInterval/);
  rejects(r({ retryPolicy: { retryOn: 'retriable-4xx' } }), /retryOn: "retriable-4xx" is not supported/);
});

test('rejects: requirements naming no provider, short lists, ambiguous oneofs, bad rules', () => {
  const withRequires = (requires: unknown, extra: Record<string, unknown> = {}) => ({ providers: { p: local }, rules: [{ match: { prefix: '/' }, requires }], ...extra });
  rejects(withRequires({ providerName: 'nope' }), /Required provider \['nope'\] is not configured/);
  rejects(withRequires({ requiresAny: { requirements: [{ providerName: 'p' }] } }), /requiresAny.requirements: needs at least 2 requirements, got 1/);
  rejects(withRequires({ providerName: 'p', allowMissing: {} }), /set at most one of/);
  rejects(withRequires({ allowMissing: { x: 1 } }), /allowMissing: this message has no fields/);
  rejects(withRequires({ requiresAll: { requirements: [{ providerName: 'p' }, { providerAndAudiences: { providerName: 'q' } }] } }), /Required provider \['q'\]/);
  rejects({ providers: { p: local }, rules: [{ requires: { providerName: 'p' } }] }, /rules\[0\].match: required/);
  rejects({ providers: { p: local }, rules: [{ match: { prefix: '/', path: '/' } }] }, /set exactly one of prefix, path, safeRegex or pathSeparatedPrefix/);
  rejects({ providers: { p: local }, rules: [{ match: { prefix: '/', grpc: {} } }] }, /unknown field "grpc"/);
  rejects({ providers: { p: local }, rules: [{ match: { safeRegex: { regex: '(' } } }] }, /regex/);
  rejects({ providers: { p: local }, rules: [{ match: { prefix: '/' }, requirementName: 'x' }], requirementMap: { a: {}, b: {} } }, /Wrong requirement_name: x. It should be one of \[a,b\]/);
  rejects({ providers: { p: local }, rules: [{ match: { prefix: '/' }, requirementName: 'a', requires: {} }], requirementMap: { a: {} } }, /set at most one of requires or requirementName/);
});

test('PerRouteConfig: disabled: true or a requirement name; anything else is rejected', () => {
  assert.deepEqual(compilePerRouteConfig({ '@type': JWT_AUTHN_PER_ROUTE_TYPE_URL, disabled: true }), { disabled: true });
  assert.deepEqual(jwtAuthnFilterFactory.compilePerRoute!({ requirementName: 'r' }), { requirementName: 'r' });
  for (const [c, m] of [
    [{}, /set exactly one of disabled or requirementName/],
    [{ disabled: false }, /disabled: must be true when set/],
    [{ disabled: true, requirementName: 'r' }, /set exactly one/],
    [{ requirementName: '' }, /must not be empty/],
    [{ requirementName: 'r', x: 1 }, /unknown field "x"/],
    [{ '@type': JWT_AUTHN_TYPE_URL, disabled: true }, /@type/],
  ] as [Record<string, unknown>, RegExp][]) {
    assert.throws(() => compilePerRouteConfig(c), (e: unknown) => e instanceof ConfigError && m.test(e.message), JSON.stringify(c));
  }
});

test('the factory builds a filter whose stats live under the connection manager prefix', () => {
  const stats = new StatsRegistry();
  const f = jwtAuthnFilterFactory.create(istioConfig(local), { clock: new ManualClockForTest(), random: seededRandom(1), stats, statPrefix: 'inbound_0.0.0.0_8080' });
  assert.ok(f.onRequestHeaders);
  for (const c of ['allowed', 'denied', 'cors_preflight_bypassed', 'jwks_fetch_success', 'jwks_fetch_failed']) {
    assert.equal(stats.valueOf(`envoy_http_jwt_authn_${c}`, { http_conn_manager_prefix: 'inbound_0.0.0.0_8080' }), 0, c);
  }
});
