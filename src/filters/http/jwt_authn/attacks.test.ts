// The JWT attack list (hardening-and-deps.md §A3.5, jwt_tool's catalogue) as one table, each row
// a crafted request against the filter configured as Istio configures it; the oracle is what a
// client would see: the status and Envoy's text, and that the forged identity never reaches the
// dynamic metadata RBAC reads.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ManualClockForTest } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import type { HttpFilter } from '../api.js';
import { exchange, FakeFilterStream } from '../test-support.js';
import type { FakeStreamOptions } from '../test-support.js';
import { jwtAuthnFilterFactory } from './config.js';
import { MAX_TOKEN_BYTES } from './jwt.js';
import { JWT_AUTHN_METADATA_NAMESPACE } from './metadata.js';
import { b64url, claims, ISSUER, istioConfig, istioProvider, jwksOf, NOW_S, rawToken, startJwksServer, testKey } from './test-support.js';
import type { JwksServer, TestKey } from './test-support.js';

let rsa: TestKey;
let attacker: TestKey;
let ed: TestKey;
let jwksServer: JwksServer;
let filter: HttpFilter;
let remoteFilter: HttpFilter;
let clock: ManualClockForTest;
let stats: StatsRegistry;

before(async () => {
  rsa = await testKey('RS256', 'k1');
  ed = await testKey('EdDSA', 'ed');
  attacker = await testKey('RS256', 'k1');
  clock = new ManualClockForTest();
  stats = new StatsRegistry();
  const ctx = { clock, random: seededRandom(1), stats, statPrefix: 'in' };
  filter = jwtAuthnFilterFactory.create(istioConfig(istioProvider({ local: jwksOf(rsa, ed, { ...rsa.jwk, kid: 'noalg', alg: undefined }) }, { audiences: ['httpbin'], forwardPayloadHeader: 'x-jwt-assertion' })), ctx);
  jwksServer = await startJwksServer(jwksOf(rsa));
  remoteFilter = jwtAuthnFilterFactory.create(istioConfig(istioProvider({ remote: jwksServer.url })), { ...ctx, statPrefix: 'remote' });
});
after(() => jwksServer.close());

const good = (extra = {}) => claims({ aud: 'httpbin', ...extra });
const send = async (f: HttpFilter, opts: FakeStreamOptions) => {
  const s = new FakeFilterStream({ path: '/headers', ...opts });
  const r = await exchange(f, s);
  return { ...r, upstreamHeaders: s.request.headers, identity: s.info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE]?.payload as Record<string, unknown> | undefined };
};
const bearer = (t: string): FakeStreamOptions => ({ headers: { authorization: `Bearer ${t}` } });
const flip = (t: string, part: number, mutate: (s: string) => string) => t.split('.').map((p, i) => (i === part ? mutate(p) : p)).join('.');
const hs256 = (header: object, payload: object, secret: string | Buffer) => {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

interface Row {
  readonly attack: string;
  readonly request: () => Promise<FakeStreamOptions>;
  /** The expected status and body; 200 means "passes, with the identity checked below". */
  readonly status: number;
  readonly body?: string;
  /** For 200 rows: the sub the metadata must hold (undefined: no identity at all). */
  readonly sub?: string;
  /** More checks on the request as it would go upstream. */
  readonly upstream?: (headers: Record<string, unknown>) => void;
}

const rows: Row[] = [
  { attack: 'control: a valid token', request: async () => bearer(await rsa.sign(good())), status: 200, sub: ISSUER },
  { attack: 'alg none, no signature', request: async () => bearer(rawToken({ alg: 'none' }, good({ sub: 'admin' }), '')), status: 401, body: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' },
  { attack: 'alg none with a signature section', request: async () => bearer(rawToken({ alg: 'none', kid: 'k1' }, good({ sub: 'admin' }))), status: 401, body: 'Jwt header [alg] is not supported' },
  { attack: 'alg NoNe', request: async () => bearer(rawToken({ alg: 'NoNe' }, good({ sub: 'admin' }))), status: 401, body: 'Jwt header [alg] is not supported' },
  { attack: 'HS256 keyed with the RSA public key as a JWK (alg confusion)', request: async () => bearer(hs256({ alg: 'HS256', kid: 'k1' }, good({ sub: 'admin' }), JSON.stringify(rsa.jwk))), status: 401, body: "Jwks doesn't have key to match kid or alg from Jwt" },
  { attack: 'HS256 keyed with the RSA public key as PEM, no kid', request: async () => {
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: rsa.jwk as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' }) as string;
    return bearer(hs256({ alg: 'HS256' }, good({ sub: 'admin' }), pem));
  }, status: 401, body: 'Jwt verification fails' },
  { attack: 'HS256 against a key without alg (the key type decides)', request: async () => bearer(hs256({ alg: 'HS256', kid: 'noalg' }, good({ sub: 'admin' }), JSON.stringify(rsa.jwk))), status: 401, body: 'Jwt verification fails' },
  { attack: 'EdDSA header on an RSA-signed token', request: async () => bearer(flip(await rsa.sign(good()), 0, () => b64url({ alg: 'EdDSA', kid: 'ed' }))), status: 401, body: 'Jwt ED25519 signature is wrong length' },
  { attack: 'expired beyond the skew', request: async () => bearer(await rsa.sign(good({ exp: NOW_S - 61 }))), status: 401, body: 'Jwt is expired' },
  { attack: 'expired within the 60 s skew (accepted, as Envoy)', request: async () => bearer(await rsa.sign(good({ exp: NOW_S - 59 }))), status: 200, sub: ISSUER },
  { attack: 'not yet valid beyond the skew', request: async () => bearer(await rsa.sign(good({ nbf: NOW_S + 61 }))), status: 401, body: 'Jwt not yet valid' },
  { attack: 'iat in the future (not a validity claim: accepted, as Envoy)', request: async () => bearer(await rsa.sign(good({ iat: NOW_S + 86_400 }))), status: 200, sub: ISSUER },
  { attack: 'wrong issuer', request: async () => bearer(await rsa.sign(good({ iss: 'https://evil.example.com' }))), status: 401, body: 'Jwt issuer is not configured' },
  { attack: 'issuer missing', request: async () => bearer(await rsa.sign(good({ iss: undefined }))), status: 401, body: 'Jwt issuer is not configured' },
  { attack: 'wrong audience', request: async () => bearer(await rsa.sign(good({ aud: 'other' }))), status: 403, body: 'Audiences in Jwt are not allowed' },
  { attack: 'payload tampered (sub changed, signature kept)', request: async () => bearer(flip(await rsa.sign(good()), 1, () => b64url(good({ sub: 'admin' })))), status: 401, body: 'Jwt verification fails' },
  { attack: 'header tampered (kid removed, signature kept)', request: async () => bearer(flip(await rsa.sign(good()), 0, () => b64url({ alg: 'RS256' }))), status: 401, body: 'Jwt verification fails' },
  { attack: 'signature tampered', request: async () => bearer(flip(await rsa.sign(good()), 2, (s) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1))), status: 401, body: 'Jwt verification fails' },
  { attack: 'signature stripped', request: async () => bearer((await rsa.sign(good())).split('.').slice(0, 2).join('.') + '.'), status: 401, body: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' },
  { attack: 'signed by another key with the same kid', request: async () => bearer(await attacker.sign(good({ sub: 'admin' }))), status: 401, body: 'Jwt verification fails' },
  { attack: 'kid not in the key set', request: async () => bearer(await rsa.sign(good(), { kid: 'unknown' })), status: 401, body: "Jwks doesn't have key to match kid or alg from Jwt" },
  { attack: 'kid path traversal', request: async () => bearer(await rsa.sign(good(), { kid: '../../../../dev/null' })), status: 401, body: "Jwks doesn't have key to match kid or alg from Jwt" },
  { attack: 'kid injection', request: async () => bearer(await rsa.sign(good(), { kid: "k1' OR '1'='1" })), status: 401, body: "Jwks doesn't have key to match kid or alg from Jwt" },
  { attack: 'embedded jwk header with the attacker key', request: async () => {
    const evil = await testKey('RS256', 'evil');
    return bearer(await evil.sign(good({ sub: 'admin' }), { kid: 'k1', jwk: evil.jwk }));
  }, status: 401, body: 'Jwt verification fails' },
  { attack: 'jku / x5u headers pointing at attacker keys (never fetched)', request: async () => bearer(await attacker.sign(good({ sub: 'admin' }), { jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/cert' })), status: 401, body: 'Jwt verification fails' },
  { attack: 'a crit extension the proxy does not understand', request: async () => {
    const { CompactSign } = await import('jose');
    const t = await new CompactSign(Buffer.from(JSON.stringify(good())))
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', crit: ['urn:x'], 'urn:x': true })
      .sign(rsa.privateKey, { crit: { 'urn:x': true } });
    return bearer(t);
  }, status: 401, body: 'Jwt verification fails' },
  { attack: 'an unencoded payload (b64: false, RFC 7797)', request: async () => {
    const { FlattenedSign } = await import('jose');
    const raw = '{"sub":"admin"}';
    const jws = await new FlattenedSign(Buffer.from(raw)).setProtectedHeader({ alg: 'RS256', kid: 'k1', b64: false, crit: ['b64'] }).sign(rsa.privateKey);
    return bearer(`${jws.protected}.${raw}.${jws.signature}`);
  }, status: 401, body: 'Jwt payload is an invalid Base64url encoded' },
  { attack: 'duplicate claims (sub twice)', request: async () => {
    const t = await rsa.sign(good());
    const dup = JSON.stringify(good()).replace(/}$/, ',"sub":"admin"}');
    return bearer(flip(t, 1, () => b64url(dup)));
  }, status: 401, body: 'Jwt payload is an invalid JSON' },
  { attack: 'an oversized token', request: async () => bearer(await rsa.sign(good({ pad: 'x'.repeat(MAX_TOKEN_BYTES) }))), status: 401, body: 'Jwt is too large' },
  { attack: 'header not base64url', request: async () => bearer('eyJ*.e30.c2ln'), status: 401, body: 'Jwt header is an invalid Base64url encoded' },
  { attack: 'payload not JSON', request: async () => bearer(`${b64url({ alg: 'RS256' })}.${b64url('{"sub":')}.c2ln`), status: 401, body: 'Jwt payload is an invalid JSON' },
  { attack: 'a good header token and a bad parameter token', request: async () => ({ path: '/headers?access_token=x.y.z', ...bearer(await rsa.sign(good())) }), status: 401 },
  { attack: 'a bad header token and a good parameter token', request: async () => ({ path: `/headers?access_token=${await rsa.sign(good())}`, ...bearer('x.y.z') }), status: 401 },
  { attack: 'the same good token twice', request: async () => {
    const t = await rsa.sign(good());
    return { path: `/headers?access_token=${t}`, ...bearer(t) };
  }, status: 200, sub: ISSUER },
  { attack: 'a token behind the wrong prefix is no token (anonymous, no identity)', request: async () => ({ headers: { authorization: `bearer ${await rsa.sign(good())}` } }), status: 200, sub: undefined },
  { attack: 'a token in a header no provider reads is no token', request: async () => ({ headers: { 'x-jwt': await attacker.sign(good({ sub: 'admin' })) } }), status: 200, sub: undefined },
  { attack: 'a forged payload header from the client is dropped', request: async () => ({ headers: { 'x-jwt-assertion': b64url(good({ sub: 'admin' })) } }), status: 200, sub: undefined,
    upstream: (h) => assert.equal(h['x-jwt-assertion'], undefined) },
];

for (const row of rows) {
  test(`attack: ${row.attack} → ${row.status}${row.body ? ` "${row.body}"` : ''}`, async () => {
    const r = await send(filter, await row.request());
    assert.equal(r.status, row.status, `body: ${r.body ?? ''}`);
    if (row.body !== undefined) assert.equal(r.body, row.body);
    if (row.status === 200) assert.equal(r.identity?.sub, row.sub);
    else assert.equal(r.identity, undefined, 'no identity on a denied request');
    row.upstream?.(r.upstreamHeaders);
  });
}

test('attack: kid unknown to a remote key set → one re-fetch (the rotation case), then refused; no re-fetch storm', async () => {
  jwksServer.respond(200, jwksOf(rsa));
  assert.equal((await send(remoteFilter, bearer(await rsa.sign(claims())))).status, 200);
  const hits = jwksServer.hits;
  clock.advance(31_000);
  const rotated = await testKey('ES256', 'k-new');
  jwksServer.respond(200, jwksOf(rsa, rotated));
  assert.equal((await send(remoteFilter, bearer(await rotated.sign(claims())))).status, 200, 'the new key is fetched at once');
  assert.equal(jwksServer.hits, hits + 1);
  const r = await send(remoteFilter, bearer(await rsa.sign(claims(), { kid: 'never' })));
  assert.equal(r.status, 401);
  assert.equal(r.body, "Jwks doesn't have key to match kid or alg from Jwt");
  for (let i = 0; i < 5; i++) await send(remoteFilter, bearer(await rsa.sign(claims(), { kid: `never-${i}` })));
  assert.equal(jwksServer.hits, hits + 1, 'within the cooldown, unknown kids do not fetch');
});

test('attack: a key set served with a key of the wrong type fails the fetch; the token is refused', async () => {
  const f = jwtAuthnFilterFactory.create(istioConfig(istioProvider({ remote: jwksServer.url })), { clock, random: seededRandom(1), stats, statPrefix: 'wrongtype' });
  jwksServer.respond(200, jwksOf({ ...(await testKey('ES256', 'k1')).jwk, kty: 'RSA' }));
  const r = await send(f, bearer(await rsa.sign(claims())));
  assert.equal(r.status, 401);
  assert.equal(r.body, 'Jwks remote fetch is failed');
  assert.equal(stats.valueOf('envoy_http_jwt_authn_jwks_fetch_failed', { http_conn_manager_prefix: 'wrongtype' }), 1);
});
