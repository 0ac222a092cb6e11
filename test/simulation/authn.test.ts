// Simulation tables for RequestAuthentication (RA-01..RA-09) and the authorization policies that
// use its result (TASK-13, security/authorization/authz-jwt): the jwt_authn filter each proxy
// gets, where it sits among the other filters, and the request.auth.* matchers that read its
// verified payload.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IstioJwtAuthentication as JwtAuthentication } from '../../src/controlplane/generate/security/request-authn.js';
import { filterNames, FOO_SERVICES, HTTPBIN, httpFilters, rbacConfigs, SLEEP } from './authz-fixtures.js';
import { GATEWAY_POD, resourcesFor, yaml } from './mesh.js';

const JWKS_URI = 'https://raw.githubusercontent.com/istio/istio/master/security/tools/jwt/samples/jwks.json';
// Istio's metrics filter sits last before the router on every HTTP listener (istio-stats.test.ts).
const TAIL = ['envoy.filters.http.cors', 'envoy.filters.http.fault', 'istio.stats', 'envoy.filters.http.router'];

const JWT_EXAMPLE = (namespace = 'foo', selector = 'selector: { matchLabels: { app: httpbin } }') => yaml`
  apiVersion: security.istio.io/v1
  kind: RequestAuthentication
  metadata: { name: jwt-example, namespace: ${namespace} }
  spec:
    ${selector}
    jwtRules:
    - issuer: "testing@secure.istio.io"
      jwksUri: "${JWKS_URI}"
`;

const REQUIRE_JWT = (when = '') => yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: require-jwt, namespace: foo }
  spec:
    selector: { matchLabels: { app: httpbin } }
    action: ALLOW
    rules:
    - from:
      - source: { requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"] }
      ${when}
`;

const mesh = (policies: string) => ({ manifests: `${FOO_SERVICES}${policies}`, pods: [HTTPBIN, SLEEP] });

function jwtConfig(filters: ReturnType<typeof httpFilters>): JwtAuthentication {
  const f = filters.find((x) => x.name === 'envoy.filters.http.jwt_authn');
  assert.ok(f, 'a jwt_authn filter');
  return f.typedConfig as unknown as JwtAuthentication;
}

test('TASK-13 jwt-example: httpbin\'s inbound HCM validates tokens of testing@secure.istio.io, letting requests without one through', () => {
  const filters = httpFilters(resourcesFor(mesh(JWT_EXAMPLE()), HTTPBIN), 8000);
  assert.deepEqual(filterNames(filters), ['envoy.filters.http.jwt_authn', ...TAIL]);
  const c = jwtConfig(filters);
  assert.deepEqual(c.providers['origins-0'], {
    issuer: 'testing@secure.istio.io',
    payloadInMetadata: 'payload',
    remoteJwks: { httpUri: { uri: JWKS_URI, cluster: 'outbound|443||raw.githubusercontent.com', timeout: '5s' }, cacheDuration: '300s' },
    normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'scope'] },
  });
  assert.deepEqual(c.rules, [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } } }]);
  // sleep is not selected.
  assert.deepEqual(filterNames(httpFilters(resourcesFor(mesh(JWT_EXAMPLE()), SLEEP), 80)), TAIL);
});

test('TASK-13 require-jwt: jwt_authn runs before RBAC, which matches iss and sub in the verified payload', () => {
  const filters = httpFilters(resourcesFor(mesh(`${JWT_EXAMPLE()}---\n${REQUIRE_JWT()}`), HTTPBIN), 8000);
  assert.deepEqual(filterNames(filters), ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac', ...TAIL]);
  const claim = (c: string) => ({ metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: c }], value: { stringMatch: { exact: 'testing@secure.istio.io' } } } });
  assert.deepEqual(rbacConfigs(filters)[0]!.rules!.policies['ns[foo]-policy[require-jwt]-rule[0]']!.principals, [{ andIds: { ids: [{ andIds: { ids: [claim('iss'), claim('sub')] } }] } }]);
});

test('TASK-13 claim condition: request.auth.claims[groups] matches a list claim element or a string claim', () => {
  const filters = httpFilters(resourcesFor(mesh(`${JWT_EXAMPLE()}---\n${REQUIRE_JWT('when: [{ key: "request.auth.claims[groups]", values: ["group1"] }]')}`), HTTPBIN), 8000);
  const ids = rbacConfigs(filters)[0]!.rules!.policies['ns[foo]-policy[require-jwt]-rule[0]']!.principals[0]!.andIds!.ids;
  const group1 = { stringMatch: { exact: 'group1' } };
  assert.deepEqual(ids[1], { metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'groups' }], value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: group1 } }, group1] } } } });
});

test('a mesh-wide RequestAuthentication (root namespace, no selector) reaches sidecars and the gateway; the gateway re-picks routes after verification', () => {
  const ra = JWT_EXAMPLE('istio-system', '');
  const sidecar = jwtConfig(httpFilters(resourcesFor(mesh(ra), SLEEP), 80));
  assert.equal(sidecar.providers['origins-0']!.clearRouteCache, undefined);
  const gateway = yaml`
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: { name: gw, namespace: foo }
    spec:
      selector: { istio: ingressgateway }
      servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: httpbin, namespace: foo }
    spec:
      hosts: ["*"]
      gateways: [gw]
      http: [{ route: [{ destination: { host: httpbin, port: { number: 8000 } } }] }]
  `;
  const gw = jwtConfig(httpFilters(resourcesFor(mesh(`${gateway}---\n${ra}`), GATEWAY_POD), 8080));
  assert.equal(gw.providers['origins-0']!.clearRouteCache, true);
});

test('rules of several RequestAuthentications merge, sorted by issuer, with inline jwks as local_jwks', () => {
  const more = yaml`
    apiVersion: security.istio.io/v1
    kind: RequestAuthentication
    metadata: { name: inline, namespace: foo }
    spec:
      jwtRules:
      - issuer: "a-issuer"
        jwks: '{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"k1"}]}'
        fromHeaders: [{ name: x-jwt }]
        outputClaimToHeaders: [{ header: x-sub, claim: sub }]
        forwardOriginalToken: true
  `;
  const c = jwtConfig(httpFilters(resourcesFor(mesh(`${JWT_EXAMPLE()}---\n${more}`), HTTPBIN), 8000));
  assert.deepEqual(Object.values(c.providers).map((p) => p.issuer), ['a-issuer', 'testing@secure.istio.io']);
  const a = c.providers['origins-0']!;
  assert.deepEqual(a.localJwks, { inlineString: '{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"k1"}]}' });
  assert.deepEqual(a.fromHeaders, [{ name: 'x-jwt' }]);
  assert.deepEqual(a.claimToHeaders, [{ headerName: 'x-sub', claimName: 'sub' }]);
  assert.equal(a.forward, true);
  assert.equal(c.rules[0]!.requires.requiresAny!.requirements.length, 3);
});
