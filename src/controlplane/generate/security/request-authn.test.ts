// RequestAuthentication jwtRules → jwt_authn config (RA-02..RA-09): providers, the requirement
// that lets a missing token pass and rejects an invalid one, key sources and Istio's defaults.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JWTRule } from '../../../config/types.js';
import type { IstioJwtAuthentication as JwtAuthentication } from './request-authn.js';
import { EMPTY_JWKS, jwksCluster, jwtAuthentication, jwtAuthnFilter } from './request-authn.js';

function rule(r: Partial<JWTRule>): JWTRule {
  return { audiences: [], fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], spaceDelimitedClaims: [], path: [], ...r };
}

const SIDECAR = { clearRouteCache: false };
const JWKS_URI = 'https://raw.githubusercontent.com/istio/istio/master/security/tools/jwt/samples/jwks.json';

test('no rules: no filter', () => {
  assert.equal(jwtAuthentication([], SIDECAR), undefined);
  assert.equal(jwtAuthnFilter([], SIDECAR), undefined);
});

test('TASK-13: one issuer with jwksUri → one provider, requires_any [provider, allow_missing]', () => {
  const f = jwtAuthnFilter([rule({ issuer: 'testing@secure.istio.io', jwksUri: JWKS_URI })], SIDECAR)!;
  assert.equal(f.name, 'envoy.filters.http.jwt_authn');
  assert.deepEqual(f.typedConfig as unknown as JwtAuthentication, {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
    providers: {
      'origins-0': {
        issuer: 'testing@secure.istio.io',
        payloadInMetadata: 'payload',
        remoteJwks: { httpUri: { uri: JWKS_URI, cluster: 'outbound|443||raw.githubusercontent.com', timeout: '5s' }, cacheDuration: '300s' },
        normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'scope'] },
      },
    },
    rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } } }],
    bypassCorsPreflight: true,
  });
});

test('several issuers: sorted by issuer; any one provider, or every token present valid', () => {
  const c = jwtAuthentication([rule({ issuer: 'b', jwks: '{"keys":[1]}' }), rule({ issuer: 'a', jwks: '{"keys":[2]}' })], SIDECAR)!;
  assert.deepEqual(Object.fromEntries(Object.entries(c.providers).map(([k, v]) => [k, v.issuer])), { 'origins-0': 'a', 'origins-1': 'b' });
  const eachOrMissing = (n: string) => ({ requiresAny: { requirements: [{ providerName: n }, { allowMissing: {} }] } });
  assert.deepEqual(c.rules[0]!.requires, {
    requiresAny: { requirements: [{ providerName: 'origins-0' }, { providerName: 'origins-1' }, { requiresAll: { requirements: [eachOrMissing('origins-0'), eachOrMissing('origins-1')] } }] },
  });
});

test('every JWTRule field maps to its Envoy provider field', () => {
  const c = jwtAuthentication(
    [
      rule({
        issuer: 'iss',
        audiences: ['a1', 'a2'],
        jwks: '{"keys":[]}',
        fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }, { name: 'x-raw' }],
        fromParams: ['token'],
        fromCookies: ['session'],
        outputPayloadToHeader: 'x-payload',
        forwardOriginalToken: true,
        outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }],
        spaceDelimitedClaims: ['roles', 'scope'],
      }),
    ],
    { clearRouteCache: true },
  )!;
  assert.deepEqual(c.providers['origins-0'], {
    issuer: 'iss',
    payloadInMetadata: 'payload',
    audiences: ['a1', 'a2'],
    localJwks: { inlineString: '{"keys":[]}' },
    forward: true,
    fromHeaders: [{ name: 'x-jwt', valuePrefix: 'Bearer ' }, { name: 'x-raw' }],
    fromParams: ['token'],
    fromCookies: ['session'],
    forwardPayloadHeader: 'x-payload',
    normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'roles', 'scope'] },
    claimToHeaders: [{ headerName: 'x-sub', claimName: 'sub' }],
    clearRouteCache: true,
  });
});

test('rule timeout sets the JWKS fetch timeout', () => {
  const c = jwtAuthentication([rule({ issuer: 'i', jwksUri: 'http://keys.foo.svc.cluster.local:8080/jwks', timeout: { ms: 1500, text: '1.5s' } })], SIDECAR)!;
  assert.deepEqual(c.providers['origins-0']!.remoteJwks, { httpUri: { uri: 'http://keys.foo.svc.cluster.local:8080/jwks', cluster: 'outbound|8080||keys.foo.svc.cluster.local', timeout: '1.5s' }, cacheDuration: '300s' });
});

test('no jwks and no jwksUri (OIDC discovery): an empty key set until discovery finds the URI, then that URI', () => {
  const c = jwtAuthentication([rule({ issuer: 'https://accounts.example.com' })], SIDECAR)!;
  assert.deepEqual(c.providers['origins-0']!.localJwks, { inlineString: EMPTY_JWKS });
  const found = jwtAuthentication([rule({ issuer: 'https://accounts.example.com' })], { ...SIDECAR, discoveredJwksUris: new Map([['https://accounts.example.com', 'https://accounts.example.com/oauth2/v3/certs']]) })!;
  assert.equal(found.providers['origins-0']!.localJwks, undefined);
  assert.deepEqual(found.providers['origins-0']!.remoteJwks?.httpUri, { uri: 'https://accounts.example.com/oauth2/v3/certs', cluster: 'outbound|443||accounts.example.com', timeout: '5s' });
  // A rule's own jwksUri wins over discovery.
  const own = jwtAuthentication([rule({ issuer: 'https://accounts.example.com', jwksUri: 'https://keys.example.com/jwks' })], { ...SIDECAR, discoveredJwksUris: new Map([['https://accounts.example.com', 'https://other/']]) })!;
  assert.equal(own.providers['origins-0']!.remoteJwks?.httpUri.uri, 'https://keys.example.com/jwks');
});

test('jwksCluster: scheme default ports, explicit ports, unsupported schemes', () => {
  assert.equal(jwksCluster('http://a.b/x'), 'outbound|80||a.b');
  assert.equal(jwksCluster('https://a.b:8443/x'), 'outbound|8443||a.b');
  assert.equal(jwksCluster('ftp://a.b/x'), undefined);
  assert.equal(jwksCluster('not a url'), undefined);
});
