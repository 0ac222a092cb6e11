// Token parsing and time checks: every malformed shape fails with jwt_verify_lib's status (the
// text a client then reads), and nbf/exp honour the clock skew in both directions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTime, decodeBase64Url, MAX_TOKEN_BYTES, parseJwt } from './jwt.js';
import type { Jwt } from './jwt.js';
import { hasDuplicateKeys } from './strict-json.js';
import { b64url, rawToken } from './test-support.js';

const H = { alg: 'RS256', kid: 'k1' };
const P = { iss: 'https://issuer', sub: 'alice', aud: ['a', 'b'], exp: 2_000_000_000, nbf: 1_000, iat: 1_000, jti: 'x' };

test('a well-formed token parses into its header, payload and registered claims', () => {
  const jwt = parseJwt(rawToken(H, P)) as Jwt;
  assert.equal(typeof jwt, 'object');
  assert.equal(jwt.alg, 'RS256');
  assert.equal(jwt.kid, 'k1');
  assert.equal(jwt.iss, 'https://issuer');
  assert.equal(jwt.sub, 'alice');
  assert.deepEqual(jwt.audiences, ['a', 'b']);
  assert.equal(jwt.exp, 2_000_000_000);
  assert.equal(jwt.nbf, 1_000);
  assert.deepEqual(jwt.payload, P);
  assert.equal(jwt.signatureLength, 3);
});

test('absent optional claims take their defaults; a string aud is a list of one', () => {
  const jwt = parseJwt(rawToken({ alg: 'ES256' }, { aud: 'only' })) as Jwt;
  assert.equal(jwt.kid, '');
  assert.equal(jwt.iss, '');
  assert.equal(jwt.exp, 0);
  assert.equal(jwt.nbf, 0);
  assert.deepEqual(jwt.audiences, ['only']);
});

const cases: [string, string, string][] = [
  ['two sections', `${b64url(H)}.${b64url(P)}`, 'JwtBadFormat'],
  ['four sections', `${rawToken(H, P)}.x`, 'JwtBadFormat'],
  ['an empty signature', `${b64url(H)}.${b64url(P)}.`, 'JwtBadFormat'],
  ['no dots at all', 'invalidToken', 'JwtBadFormat'],
  ['a header that is not base64url', `h+/=.${b64url(P)}.c2ln`, 'JwtHeaderParseErrorBadBase64'],
  ['a header that is not JSON', `${b64url('{alg:')}.${b64url(P)}.c2ln`, 'JwtHeaderParseErrorBadJson'],
  ['a header that is a JSON list', rawToken(['RS256'], P), 'JwtHeaderParseErrorBadJson'],
  ['a header without alg', rawToken({ kid: 'k' }, P), 'JwtHeaderBadAlg'],
  ['a numeric alg', rawToken({ alg: 256 }, P), 'JwtHeaderBadAlg'],
  ['alg none', rawToken({ alg: 'none' }, P), 'JwtHeaderNotImplementedAlg'],
  ['alg None (case)', rawToken({ alg: 'None' }, P), 'JwtHeaderNotImplementedAlg'],
  ['an unknown alg', rawToken({ alg: 'ES256K' }, P), 'JwtHeaderNotImplementedAlg'],
  ['a numeric kid', rawToken({ alg: 'RS256', kid: 7 }, P), 'JwtHeaderBadKid'],
  ['a payload that is not base64url', `${b64url(H)}.p*q.c2ln`, 'JwtPayloadParseErrorBadBase64'],
  ['a payload that is not JSON', `${b64url(H)}.${b64url('not json')}.c2ln`, 'JwtPayloadParseErrorBadJson'],
  ['a payload that is a JSON string', rawToken(H, '"alice"'), 'JwtPayloadParseErrorBadJson'],
  ['a numeric iss', rawToken(H, { iss: 1 }), 'JwtPayloadParseErrorIssNotString'],
  ['a list sub', rawToken(H, { sub: ['a'] }), 'JwtPayloadParseErrorSubNotString'],
  ['a string iat', rawToken(H, { iat: '1' }), 'JwtPayloadParseErrorIatNotInteger'],
  ['a negative iat', rawToken(H, { iat: -1 }), 'JwtPayloadParseErrorIatOutOfRange'],
  ['a string nbf', rawToken(H, { nbf: 'soon' }), 'JwtPayloadParseErrorNbfNotInteger'],
  ['a huge nbf', rawToken(H, { nbf: 1e300 }), 'JwtPayloadParseErrorNbfOutOfRange'],
  ['a boolean exp', rawToken(H, { exp: true }), 'JwtPayloadParseErrorExpNotInteger'],
  ['a negative exp', rawToken(H, { exp: -5 }), 'JwtPayloadParseErrorExpOutOfRange'],
  ['a numeric jti', rawToken(H, { jti: 5 }), 'JwtPayloadParseErrorJtiNotString'],
  ['an aud list with a number', rawToken(H, { aud: ['a', 1] }), 'JwtPayloadParseErrorAudNotString'],
  ['an object aud', rawToken(H, { aud: { a: 1 } }), 'JwtPayloadParseErrorAudNotString'],
  ['a signature that is not base64url', `${b64url(H)}.${b64url(P)}.s!g`, 'JwtSignatureParseErrorBadBase64'],
];

for (const [what, token, status] of cases) {
  test(`${what} fails with ${status}`, () => {
    assert.equal(parseJwt(token), status);
  });
}

test('an empty section between dots is skipped, as absl::SkipEmpty does', () => {
  const t = rawToken(H, P);
  const [h, p, s] = t.split('.');
  const jwt = parseJwt(`${h}..${p}.${s}`) as Jwt;
  assert.equal(jwt.headerB64, h);
  assert.equal(jwt.payloadB64, p);
});

test('a header or payload with a repeated member name is refused (parser differential)', () => {
  const dupPayload = `${b64url(H)}.${b64url('{"sub":"alice","sub":"admin"}')}.c2ln`;
  assert.equal(parseJwt(dupPayload), 'JwtPayloadParseErrorBadJson');
  const dupHeader = `${b64url('{"alg":"RS256","alg":"none"}')}.${b64url(P)}.c2ln`;
  assert.equal(parseJwt(dupHeader), 'JwtHeaderParseErrorBadJson');
  const escaped = `${b64url(H)}.${b64url('{"sub":"a","\\u0073ub":"b"}')}.c2ln`;
  assert.equal(parseJwt(escaped), 'JwtPayloadParseErrorBadJson');
});

test('a token over MAX_TOKEN_BYTES is refused before it is decoded', () => {
  const big = rawToken(H, { ...P, pad: 'x'.repeat(MAX_TOKEN_BYTES) });
  assert.equal(parseJwt(big), 'JwtTooLarge');
  const fits = rawToken(H, { ...P, pad: 'x'.repeat(MAX_TOKEN_BYTES / 2) });
  assert.equal(typeof parseJwt(fits), 'object');
});

test('base64url: padding is optional, the standard alphabet and impossible lengths are not', () => {
  assert.equal(decodeBase64Url('YQ')?.toString(), 'a');
  assert.equal(decodeBase64Url('YQ==')?.toString(), 'a');
  assert.equal(decodeBase64Url('YQ='), undefined);
  assert.equal(decodeBase64Url('Y'), undefined);
  assert.equal(decodeBase64Url('a+b/'), undefined);
  assert.equal(decodeBase64Url('-_-_')?.length, 3);
  assert.equal(decodeBase64Url('')?.length, 0);
});

test('nbf and exp are checked with the skew, inclusive at the edge', () => {
  const jwt = parseJwt(rawToken(H, { nbf: 1000, exp: 2000 })) as Jwt;
  assert.equal(checkTime(jwt, 1500, 60), 'Ok');
  assert.equal(checkTime(jwt, 940, 60), 'Ok', 'nbf - skew is still valid');
  assert.equal(checkTime(jwt, 939, 60), 'JwtNotYetValid');
  assert.equal(checkTime(jwt, 2060, 60), 'Ok', 'exp + skew is still valid');
  assert.equal(checkTime(jwt, 2061, 60), 'JwtExpired');
  assert.equal(checkTime(jwt, 2001, 0), 'JwtExpired');
  const forever = parseJwt(rawToken(H, {})) as Jwt;
  assert.equal(checkTime(forever, 9e12, 60), 'Ok', 'no exp: never expires (Envoy)');
});

test('duplicate-key scan: nested objects, arrays and strings with braces are handled', () => {
  assert.equal(hasDuplicateKeys('{"a":{"b":1,"c":{"b":2}},"d":[{"a":1},{"a":2}]}'), false);
  assert.equal(hasDuplicateKeys('{"a":"}{\\"a\\":","b":1}'), false);
  assert.equal(hasDuplicateKeys('{"a":{"b":1,"b":2}}'), true);
  assert.equal(hasDuplicateKeys('[{"x":1,"y":[1,{"z":1,"z":2}]}]'), true);
  assert.equal(hasDuplicateKeys('{"a":1,"b":{"a":1},"c":1}'), false);
  const deep = '['.repeat(50_000) + ']'.repeat(50_000);
  assert.equal(hasDuplicateKeys(deep), false, 'deep nesting does not overflow the stack');
});
