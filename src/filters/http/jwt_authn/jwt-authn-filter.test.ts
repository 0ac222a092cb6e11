// The JWT filter on a fake stream and a manual clock, configured as Istio configures it for
// RequestAuthentication (RA-01..09, TASK-13) and in Envoy's other shapes: what a client sees
// (status, body, www-authenticate, details), what the upstream gets (token kept or removed,
// payload and claim headers), the dynamic metadata the RBAC filter reads, and the stats.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import type { HttpFilter } from '../api.js';
import { exchange, FakeFilterStream } from '../test-support.js';
import type { FakeStreamOptions } from '../test-support.js';
import { jwtAuthnFilterFactory, JWT_AUTHN_FILTER_NAME } from './config.js';
import { JWT_AUTHN_METADATA_NAMESPACE, requestPrincipal, verifiedPayload } from './metadata.js';
import { claims, ISSUER, istioConfig, istioProvider, jwksOf, NOW_S, testKey } from './test-support.js';
import type { TestKey } from './test-support.js';

let key: TestKey;
let other: TestKey;
before(async () => {
  key = await testKey('RS256', 'k1');
  other = await testKey('ES256', 'k2');
});

function setup(config: Record<string, unknown>) {
  const clock = new ManualClockForTest();
  const stats = new StatsRegistry();
  const filter: HttpFilter = jwtAuthnFilterFactory.create(config, { clock, random: seededRandom(1), stats, statPrefix: 'in' });
  const stat = (n: string) => stats.valueOf(`envoy_http_jwt_authn_${n}`, { http_conn_manager_prefix: 'in' });
  const run = (opts: FakeStreamOptions = {}) => {
    const s = new FakeFilterStream({ authority: 'httpbin.foo:8000', path: '/headers', startTime: clock.now(), ...opts });
    return exchange(filter, s).then((x) => ({ ...x, s }));
  };
  return { clock, stats, stat, run, filter };
}
const istio = (extra: Record<string, unknown> = {}) => setup(istioConfig(istioProvider({ local: jwksOf(key, other) }, extra)));
const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

test('RA-09: no token passes with no identity; no metadata is written', async () => {
  const { run, stat } = istio();
  const r = await run();
  assert.equal(r.forwarded, true);
  assert.equal(r.s.info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE], undefined);
  assert.equal(stat('allowed'), 1);
  assert.equal(stat('denied'), 0);
});

test('RA-09: a valid token passes; its payload is in dynamic metadata for RBAC (principal <iss>/<sub>)', async () => {
  const { run, stat } = istio();
  const token = await key.sign(claims({ aud: ['a1', 'a2'], azp: 'web', groups: ['group1', 'group2'], scope: 'read  write', permission: 'p1 p2', nested: { level: 'deep' } }));
  const r = await run(bearer(token));
  assert.equal(r.forwarded, true);
  const payload = verifiedPayload(r.s.info, 'payload')!;
  assert.deepEqual(payload, {
    iss: ISSUER, sub: ISSUER, iat: NOW_S - 10, exp: NOW_S + 3600, aud: ['a1', 'a2'], azp: 'web', groups: ['group1', 'group2'],
    scope: ['read', 'write'], permission: ['p1', 'p2'], nested: { level: 'deep' },
  });
  assert.equal(requestPrincipal(payload), `${ISSUER}/${ISSUER}`);
  assert.deepEqual(Object.keys(r.s.info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE]!), ['payload']);
  assert.equal(stat('allowed'), 1);
});

test('clear_route_cache: a verified token of such a provider asks for the route to be picked again; none, or a failed one, does not', async () => {
  const token = await key.sign(claims({ groups: ['group1'] }));
  assert.equal((await istio({ clearRouteCache: true }).run(bearer(token))).s.routeCacheCleared, true);
  assert.equal((await istio().run(bearer(token))).s.routeCacheCleared, false);
  assert.equal((await istio({ clearRouteCache: true }).run()).s.routeCacheCleared, false, 'no token: nothing new to route on');
  assert.equal((await istio({ clearRouteCache: true }).run(bearer('invalid'))).s.routeCacheCleared, false);
});

test('RA-07: the token is removed before the request goes upstream unless forward is set', async () => {
  const token = await key.sign(claims());
  const stripped = await istio().run({ headers: { authorization: `Bearer ${token}`, 'x-other': '1' } });
  assert.equal(stripped.s.request.headers.authorization, undefined);
  assert.equal(stripped.s.request.headers['x-other'], '1');
  const kept = await istio({ forward: true }).run(bearer(token));
  assert.equal(kept.s.request.headers.authorization, `Bearer ${token}`);
  const inQuery = await istio().run({ path: `/headers?a=1&access_token=${token}` });
  assert.equal(inQuery.forwarded, true);
  assert.equal(inQuery.s.request.path, '/headers?a=1', 'a token parameter is removed too');
});

test('RA-09: an invalid token gets 401 "Jwt verification fails" with Envoy\'s challenge and details', async () => {
  const { run, stat } = istio();
  const r = await run({ path: '/headers?x=1', ...bearer('invalidToken') });
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="http://httpbin.foo:8000/headers?x=1", error="invalid_token"');
  assert.equal(r.headers.get('content-type'), 'text/plain');
  assert.equal(r.s.info.responseCodeDetails, 'jwt_authn_access_denied{Jwt_is_not_in_the_form_of_Header.Payload.Signature_with_two_dots_and_3_sections}');
  assert.deepEqual(r.s.info.responseFlags, [], 'Envoy sets no response flag');
  const impostor = await testKey('RS256', 'k1');
  const forged = await run(bearer(await impostor.sign(claims())));
  assert.equal(forged.status, 401);
  assert.equal(forged.body, 'Jwt verification fails');
  assert.equal(stat('denied'), 2);
});

test('a token from an issuer no provider names: 401 "Jwt issuer is not configured"', async () => {
  const r = await istio().run(bearer(await key.sign(claims({ iss: 'https://evil.example.com' }))));
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwt issuer is not configured');
});

test('a required provider without a token: 401 "Jwt is missing", challenge without error=', async () => {
  const { run } = setup({ providers: { p: istioProvider({ local: jwksOf(key) }) }, rules: [{ match: { prefix: '/' }, requires: { providerName: 'p' } }] });
  const r = await run();
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwt is missing');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="http://httpbin.foo:8000/headers"');
  assert.equal(r.s.info.responseCodeDetails, 'jwt_authn_access_denied{Jwt_is_missing}');
});

test('the realm holds at most 256 characters of the path', async () => {
  const path = `/${'p'.repeat(400)}`;
  const r = await istio().run({ path, ...bearer('a.b.c') });
  assert.equal(r.headers.get('www-authenticate'), `Bearer realm="http://httpbin.foo:8000${path.slice(0, 256)}", error="invalid_token"`);
});

test('RA-03: audiences: a token for another audience is 403 "Audiences in Jwt are not allowed"; http(s):// and a trailing / do not count', async () => {
  const { run } = istio({ audiences: ['https://api.example.com/'] });
  assert.equal((await run(bearer(await key.sign(claims({ aud: 'api.example.com' }))))).forwarded, true);
  assert.equal((await run(bearer(await key.sign(claims({ aud: ['x', 'http://api.example.com'] }))))).forwarded, true);
  const wrong = await run(bearer(await key.sign(claims({ aud: 'other' }))));
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body, 'Audiences in Jwt are not allowed');
  assert.equal((await run(bearer(await key.sign(claims())))).status, 403, 'no aud at all');
});

test('time: exp and nbf with the default 60 s skew, or the provider\'s clock_skew_seconds, on the injected clock', async () => {
  const { run, clock } = istio();
  const t = await key.sign(claims({ exp: NOW_S + 10, nbf: NOW_S + 30 }));
  const early = await run(bearer(t));
  assert.equal(early.forwarded, true, 'nbf - 60 s skew has passed');
  clock.advance(69_000);
  assert.equal((await run(bearer(t))).forwarded, true, 'exp + 60 s skew');
  clock.advance(2_000);
  const late = await run(bearer(t));
  assert.equal(late.status, 401);
  assert.equal(late.body, 'Jwt is expired');
  const strict = istio({ clockSkewSeconds: 1 });
  const notYet = await strict.run(bearer(await key.sign(claims({ nbf: NOW_S + 30 }))));
  assert.equal(notYet.body, 'Jwt not yet valid');
});

test('RA-06: outputPayloadToHeader carries the base64url payload; padding only when asked', async () => {
  const token = await key.sign(claims({ n: 'x' }));
  const payloadB64 = token.split('.')[1]!;
  const r = await istio({ forwardPayloadHeader: 'x-jwt-payload' }).run(bearer(token));
  assert.equal(r.s.request.headers['x-jwt-payload'], payloadB64);
  assert.deepEqual(JSON.parse(Buffer.from(payloadB64, 'base64url').toString()), claims({ n: 'x' }));
  const padded = await istio({ forwardPayloadHeader: 'x-jwt-payload', padForwardPayloadHeader: true }).run(bearer(token));
  assert.equal((padded.s.request.headers['x-jwt-payload'] as string).length % 4, 0);
});

test('RA-08: claims to headers: strings, nested claims by dots, numbers, booleans, objects and lists as base64 JSON; absent or null claims add nothing', async () => {
  const map = [['x-sub', 'sub'], ['x-level', 'nested.level'], ['x-n', 'n'], ['x-f', 'f'], ['x-ok', 'ok'], ['x-obj', 'nested'], ['x-list', 'groups'], ['x-none', 'missing'], ['x-nil', 'nil'], ['x-deep', 'sub.x']];
  const { run } = istio({ claimToHeaders: map.map(([headerName, claimName]) => ({ headerName, claimName })) });
  const r = await run(bearer(await key.sign(claims({ nested: { level: 'deep' }, n: 42, f: 1.5, ok: true, groups: ['g1', 'g2'], nil: null }))));
  const h = r.s.request.headers;
  assert.equal(h['x-sub'], ISSUER);
  assert.equal(h['x-level'], 'deep');
  assert.equal(h['x-n'], '42');
  assert.equal(h['x-f'], '1.500000', "C's %f, as Envoy's std::to_string");
  assert.equal(h['x-ok'], 'true');
  assert.equal(Buffer.from(h['x-obj'] as string, 'base64').toString(), '{"level":"deep"}');
  assert.equal(Buffer.from(h['x-list'] as string, 'base64').toString(), '["g1","g2"]');
  for (const n of ['x-none', 'x-nil', 'x-deep']) assert.equal(h[n], undefined, n);
});

test('headers the filter writes cannot be forged: they are removed from every request, with or without a token', async () => {
  const { run } = istio({ forwardPayloadHeader: 'x-jwt-payload', claimToHeaders: [{ headerName: 'x-user', claimName: 'sub' }] });
  const anon = await run({ headers: { 'x-jwt-payload': 'e30', 'x-user': 'admin' } });
  assert.equal(anon.forwarded, true);
  assert.equal(anon.s.request.headers['x-jwt-payload'], undefined);
  assert.equal(anon.s.request.headers['x-user'], undefined);
  const real = await run({ headers: { authorization: `Bearer ${await key.sign(claims())}`, 'x-user': 'admin' } });
  assert.equal(real.s.request.headers['x-user'], ISSUER);
});

test('several tokens: all must be valid (a good one does not carry a bad one)', async () => {
  const good = await key.sign(claims());
  const { run } = istio();
  const r = await run({ path: '/?access_token=bad.bad.bad', ...bearer(good) });
  assert.equal(r.status, 401);
  const both = await run({ path: `/?access_token=${good}`, ...bearer(good) });
  assert.equal(both.forwarded, true);
  const twoHeaders = await run({ headers: { authorization: [`Bearer ${good}`, 'Bearer x.y.z'] } });
  assert.equal(twoHeaders.status, 401);
});

test("Istio's several-provider shape: a token of either issuer passes, a token of neither fails, none passes", async () => {
  const k2 = await testKey('ES256', 'other-key');
  const cfg = {
    providers: {
      'origins-0': istioProvider({ local: jwksOf(key) }),
      'origins-1': istioProvider({ local: jwksOf(k2) }, { issuer: 'https://second.example.com' }),
    },
    rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [
      { providerName: 'origins-0' },
      { providerName: 'origins-1' },
      { requiresAll: { requirements: [
        { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } },
        { requiresAny: { requirements: [{ providerName: 'origins-1' }, { allowMissing: {} }] } },
      ] } },
    ] } } }],
    bypassCorsPreflight: true,
  };
  const { run } = setup(cfg);
  assert.equal((await run(bearer(await key.sign(claims())))).forwarded, true);
  const second = await run(bearer(await k2.sign(claims({ iss: 'https://second.example.com', sub: 'bob' }))));
  assert.equal(second.forwarded, true);
  assert.equal(requestPrincipal(verifiedPayload(second.s.info, 'payload')!), 'https://second.example.com/bob');
  assert.equal((await run(bearer(await k2.sign(claims({ iss: 'https://third.example.com' }))))).status, 401);
  assert.equal((await run(bearer(await (await testKey('RS256', 'k1')).sign(claims())))).body, 'Jwt verification fails', 'right issuer and kid, wrong key');
  assert.equal((await run()).forwarded, true);
});

test('requires_all, provider_and_audiences and allow_missing_or_failed', async () => {
  const k2 = await testKey('PS256', 'ps');
  const base = { providers: { a: istioProvider({ local: jwksOf(key) }, { fromHeaders: [{ name: 'x-a' }] }), b: istioProvider({ local: jwksOf(k2) }, { issuer: 'b', fromHeaders: [{ name: 'x-b' }], payloadInMetadata: 'b' }) } };
  const all = setup({ ...base, rules: [{ match: { prefix: '/' }, requires: { requiresAll: { requirements: [{ providerName: 'a' }, { providerName: 'b' }] } } }] });
  const ta = await key.sign(claims());
  const tb = await k2.sign(claims({ iss: 'b' }));
  const both = await all.run({ headers: { 'x-a': ta, 'x-b': tb } });
  assert.equal(both.forwarded, true);
  assert.deepEqual(Object.keys(both.s.info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE]!).sort(), ['b', 'payload'], 'each provider writes its own key');
  assert.equal((await all.run({ headers: { 'x-a': ta } })).body, 'Jwt is missing');
  const aud = setup({ ...base, rules: [{ match: { prefix: '/' }, requires: { providerAndAudiences: { providerName: 'a', audiences: ['svc'] } } }] });
  assert.equal((await aud.run({ headers: { 'x-a': ta } })).status, 403);
  assert.equal((await aud.run({ headers: { 'x-a': await key.sign(claims({ aud: 'svc' })) } })).forwarded, true);
  const lenient = setup({ ...base, rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'a' }, { allowMissingOrFailed: {} }] } } }] });
  const bad = await lenient.run({ headers: { 'x-a': 'bad' } });
  assert.equal(bad.forwarded, true, 'a failed token is let through');
  assert.equal(bad.s.info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE], undefined, 'with no identity');
});

test('rules: the first matching rule decides; a rule without a requirement and a path no rule matches are not checked', async () => {
  const { run, stat } = setup({
    providers: { p: istioProvider({ local: jwksOf(key) }) },
    rules: [
      { match: { path: '/healthz' } },
      { match: { prefix: '/api', caseSensitive: false, headers: [{ name: 'x-tenant', stringMatch: { exact: 't1' } }] }, requires: { providerName: 'p' } },
      { match: { pathSeparatedPrefix: '/admin' }, requires: { providerName: 'p' } },
    ],
  });
  assert.equal((await run({ path: '/healthz' })).forwarded, true);
  assert.equal((await run({ path: '/healthz?x' })).forwarded, true, 'path ignores the query');
  assert.equal((await run({ path: '/API/x', headers: { 'x-tenant': 't1' } })).status, 401);
  assert.equal((await run({ path: '/api/x', headers: { 'x-tenant': 't2' } })).forwarded, true);
  assert.equal((await run({ path: '/admin/users' })).status, 401);
  assert.equal((await run({ path: '/administrator' })).forwarded, true);
  assert.equal(stat('allowed'), 4);
  assert.equal(stat('denied'), 2);
});

test('per-route: disabled skips the filter; requirement_name picks from requirement_map; a wrong name is 403', async () => {
  const { run, filter } = setup({
    providers: { p: istioProvider({ local: jwksOf(key) }) },
    rules: [{ match: { prefix: '/' }, requires: { providerName: 'p' } }],
    requirementMap: { optional: { requiresAny: { requirements: [{ providerName: 'p' }, { allowMissing: {} }] } }, strict: { providerName: 'p' } },
  });
  assert.ok(filter);
  const per = (v: unknown) => ({ perRoute: { [JWT_AUTHN_FILTER_NAME]: jwtAuthnFilterFactory.compilePerRoute!(v as Record<string, unknown>) } });
  assert.equal((await run(per({ disabled: true }))).forwarded, true);
  assert.equal((await run(per({ requirementName: 'optional' }))).forwarded, true);
  assert.equal((await run(per({ requirementName: 'strict' }))).status, 401);
  const wrong = await run(per({ requirementName: 'nope' }));
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body, 'Failed JWT authentication: Wrong requirement_name: nope. It should be one of [optional,strict]');
  assert.equal(wrong.s.info.responseCodeDetails, 'jwt_authn_access_denied{Wrong_requirement_name:_nope._It_should_be_one_of_[optional,strict]}');
});

test('bypass_cors_preflight lets a preflight through without its token being looked at', async () => {
  const { run, stat } = setup({ ...istioConfig(istioProvider({ local: jwksOf(key) })), rules: [{ match: { prefix: '/' }, requires: { providerName: 'origins-0' } }] });
  const pre = await run({ method: 'OPTIONS', headers: { origin: 'https://a.example', 'access-control-request-method': 'POST', authorization: 'Bearer bad' } });
  assert.equal(pre.forwarded, true);
  assert.equal(stat('cors_preflight_bypassed'), 1);
  assert.equal(stat('allowed'), 1);
  assert.equal((await run({ method: 'OPTIONS' })).status, 401, 'a plain OPTIONS is checked');
});

test('strip_failure_response: the status only, no body and no challenge', async () => {
  const { run } = setup({ ...istioConfig(istioProvider({ local: jwksOf(key) })), stripFailureResponse: true });
  const r = await run(bearer('YWJj.e30.c2ln'));
  assert.equal(r.status, 401);
  assert.equal(r.body, '');
  assert.equal(r.headers.get('www-authenticate'), undefined);
  assert.equal(r.s.info.responseCodeDetails, 'jwt_authn_access_denied{Jwt_header_is_an_invalid_JSON}');
});

test('a gRPC request is answered the gRPC way: HTTP 200, grpc-status 16 (UNAUTHENTICATED), the text in grpc-message', async () => {
  const r = await istio().run({ method: 'POST', headers: { 'content-type': 'application/grpc', authorization: 'Bearer YWJj.e30.c2ln' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('grpc-status'), '16');
  assert.equal(r.headers.get('grpc-message'), 'Jwt header is an invalid JSON');
  assert.equal(r.headers.get('content-type'), 'application/grpc');
  assert.equal(r.body, '');
});

test('an inline key set without a usable key rejects every token ("Jwks doesn\'t have any valid public key")', async () => {
  const { run } = setup(istioConfig(istioProvider({ local: '{"keys":[]}' })));
  assert.equal((await run()).forwarded, true);
  assert.equal((await run(bearer(await key.sign(claims())))).body, "Jwks doesn't have any valid public key");
});

test('metadata from earlier filters in the namespace is kept; payload_in_metadata names the key (older Istio: the issuer)', async () => {
  const { filter } = istio({ payloadInMetadata: ISSUER, headerInMetadata: 'header' });
  const s = new FakeFilterStream(bearer(await key.sign(claims())));
  s.info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE] = { earlier: 1 };
  const r = await exchange(filter, s);
  assert.equal(r.forwarded, true);
  assert.deepEqual(Object.keys(s.info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE]!).sort(), ['earlier', 'header', ISSUER]);
  assert.deepEqual(verifiedPayload(s.info, 'header'), { alg: 'RS256', kid: 'k1' });
  assert.equal(verifiedPayload(s.info, ISSUER)!.sub, ISSUER);
});
