// RequestAuthentication end to end (RA-02..RA-09, TASK-13): manifests through the generators,
// then the generated jwt_authn and RBAC filters run by the real filters (src/filters/http/
// jwt_authn, src/filters/http/rbac) in the order the HCM lists them, over requests carrying
// tokens signed at test time. Checks the behaviour the task documents: an invalid token is 401,
// no token passes until an AuthorizationPolicy requires one (then 403), claims are matched.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ManualClockForTest } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import type { FilterFactoryContext, HttpFilterFactory } from '../../src/filters/http/api.js';
import { jwtAuthnFilterFactory } from '../../src/filters/http/jwt_authn/config.js';
import { claims, jwksOf, testKey } from '../../src/filters/http/jwt_authn/test-support.js';
import type { TestKey } from '../../src/filters/http/jwt_authn/test-support.js';
import { rbacFilterFactory } from '../../src/filters/http/rbac/config.js';
import { FakeFilterStream } from '../../src/filters/http/test-support.js';
import { StatsRegistry } from '../../src/telemetry/stats/stats.js';
import { FOO_SERVICES, HTTPBIN, httpFilters, SLEEP } from './authz-fixtures.js';
import { resourcesFor, yaml } from './mesh.js';

const FACTORIES: Readonly<Record<string, HttpFilterFactory>> = {
  'envoy.filters.http.jwt_authn': jwtAuthnFilterFactory,
  'envoy.filters.http.rbac': rbacFilterFactory,
};

interface Outcome {
  readonly status: number;
  /** The request headers after the filters (what goes upstream). */
  readonly headers: Readonly<Record<string, unknown>>;
}

/** Runs httpbin's inbound security filters over one request; 200 when none answers. */
async function call(res: ProxyResources, headers: Record<string, string> = {}, path = '/headers'): Promise<Outcome> {
  const clock = new ManualClockForTest();
  const ctx: FilterFactoryContext = { clock, random: seededRandom(1), stats: new StatsRegistry(), statPrefix: 'inbound_0.0.0.0_8000' };
  const s = new FakeFilterStream({ path, authority: 'httpbin.foo:8000', headers, startTime: clock.now() });
  for (const f of httpFilters(res, 8000)) {
    const factory = FACTORIES[f.name];
    if (!factory) continue;
    const reply = await factory.create(f.typedConfig, ctx).onRequestHeaders!(s);
    if (reply) return { status: reply.status, headers: s.request.headers };
  }
  return { status: 200, headers: s.request.headers };
}

const requestAuthentication = (jwks: string, extra = '') => yaml`
  apiVersion: security.istio.io/v1
  kind: RequestAuthentication
  metadata: { name: jwt-example, namespace: foo }
  spec:
    selector: { matchLabels: { app: httpbin } }
    jwtRules:
    - issuer: "testing@secure.istio.io"
      jwks: '${jwks}'
      ${extra}
`;

const requireJwt = (when = '') => yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: require-jwt, namespace: foo }
  spec:
    selector: { matchLabels: { app: httpbin } }
    rules:
    - from: [{ source: { requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"] } }]
      ${when}
`;

const httpbin = (...policies: string[]) => resourcesFor({ manifests: [FOO_SERVICES, ...policies].join('---\n'), pods: [HTTPBIN, SLEEP] }, HTTPBIN);

let key: TestKey;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

before(async () => {
  key = await testKey('RS256');
});

test('TASK-13 jwt-example: invalid token 401, no token 200, valid token 200 (and stripped before upstream)', async () => {
  const res = httpbin(requestAuthentication(jwksOf(key)));
  assert.equal((await call(res, bearer('invalidToken'))).status, 401);
  assert.equal((await call(res)).status, 200);
  const ok = await call(res, bearer(await key.sign(claims())));
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['authorization'], undefined, 'forwardOriginalToken defaults to false');
  // Another issuer, even signed by a trusted key, is not this rule's token.
  assert.equal((await call(res, bearer(await key.sign(claims({ iss: 'someone-else' }))))).status, 401);
  // An expired token.
  assert.equal((await call(res, bearer(await key.sign(claims({ exp: 1_600_000_000 }))))).status, 401);
});

test('TASK-13 require-jwt: a valid token is needed (403 without), and the groups claim condition picks tokens', async () => {
  const res = httpbin(requestAuthentication(jwksOf(key)), requireJwt());
  assert.equal((await call(res, bearer(await key.sign(claims())))).status, 200);
  assert.equal((await call(res)).status, 403);
  assert.equal((await call(res, bearer('invalidToken'))).status, 401);
  const groups = httpbin(requestAuthentication(jwksOf(key)), requireJwt('when: [{ key: "request.auth.claims[groups]", values: ["group1"] }]'));
  assert.equal((await call(groups, bearer(await key.sign(claims({ groups: ['group1', 'group2'] }))))).status, 200, 'groups-scope.jwt');
  assert.equal((await call(groups, bearer(await key.sign(claims())))).status, 403, 'demo.jwt has no groups');
});

test('space-delimited scope claims are split, so request.auth.claims[scope] matches one scope', async () => {
  const scope = yaml`
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: scope, namespace: foo }
    spec:
      selector: { matchLabels: { app: httpbin } }
      rules: [{ when: [{ key: "request.auth.claims[scope]", values: ["write"] }] }]
  `;
  const res = httpbin(requestAuthentication(jwksOf(key)), scope);
  assert.equal((await call(res, bearer(await key.sign(claims({ scope: 'read write' }))))).status, 200);
  assert.equal((await call(res, bearer(await key.sign(claims({ scope: 'read' }))))).status, 403);
});

test('token locations, forwarding and claim headers from the jwtRule', async () => {
  const res = httpbin(
    requestAuthentication(jwksOf(key), 'fromHeaders: [{ name: x-jwt-assertion }]\n      forwardOriginalToken: true\n      outputClaimToHeaders: [{ header: x-jwt-sub, claim: sub }]'),
  );
  const token = await key.sign(claims());
  const ok = await call(res, { 'x-jwt-assertion': token });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-jwt-assertion'], token, 'forwarded');
  assert.equal(ok.headers['x-jwt-sub'], 'testing@secure.istio.io');
  // The default Authorization location is no longer read once fromHeaders is written: such a
  // token is ignored (a missing token), so the request passes with no identity.
  assert.equal((await call(res, bearer('invalidToken'))).status, 200);
});

test('the TASK-13 config with a remote jwksUri is accepted by the JWT filter as generated', () => {
  const res = httpbin(yaml`
    apiVersion: security.istio.io/v1
    kind: RequestAuthentication
    metadata: { name: jwt-example, namespace: foo }
    spec:
      selector: { matchLabels: { app: httpbin } }
      jwtRules:
      - issuer: "testing@secure.istio.io"
        jwksUri: "https://raw.githubusercontent.com/istio/istio/master/security/tools/jwt/samples/jwks.json"
  `);
  const f = httpFilters(res, 8000).find((x) => x.name === 'envoy.filters.http.jwt_authn')!;
  const ctx: FilterFactoryContext = { clock: new ManualClockForTest(), random: seededRandom(1), stats: new StatsRegistry(), statPrefix: 'p' };
  assert.doesNotThrow(() => jwtAuthnFilterFactory.create(f.typedConfig, ctx));
});
