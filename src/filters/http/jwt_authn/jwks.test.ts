// Key sets: reading (each key validated on its own, jwt_verify_lib's statuses, HMAC and weak RSA
// keys refused) and signature checks with jose for every algorithm family Envoy verifies,
// including Envoy's kid/alg matching rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { haveOpenssl } from '../../../../test/helpers/certs.js';
import { parseJwt } from './jwt.js';
import type { Jwt } from './jwt.js';
import { parseJwks, verifySignature } from './jwks.js';
import type { Jwks } from './jwks.js';
import { jwksOf, rawToken, testKey } from './test-support.js';
import type { TestAlg } from './test-support.js';

const set = (text: string): Jwks => {
  const r = parseJwks(text);
  assert.equal(typeof r, 'object', `expected a key set, got ${String(r)}`);
  return r as Jwks;
};
const jwt = (t: string): Jwt => parseJwt(t) as Jwt;

for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as TestAlg[]) {
  test(`${alg}: a token signed by a key in the set verifies; another key's does not`, async () => {
    const k = await testKey(alg, 'k1');
    const other = await testKey(alg, 'k1');
    const jwks = set(jwksOf(k));
    assert.equal(await verifySignature(jwt(await k.sign({ sub: 'a' })), jwks), 'Ok');
    assert.equal(await verifySignature(jwt(await other.sign({ sub: 'a' })), jwks), 'JwtVerificationFail');
  });
}

test('kid and alg: a key is tried unless its kid or alg contradicts the token; none left is JwksKidAlgMismatch', async () => {
  const k = await testKey('RS256', 'k1');
  const token = jwt(await k.sign({}));
  assert.equal(await verifySignature(token, set(jwksOf({ ...k.jwk, kid: 'k2' }))), 'JwksKidAlgMismatch');
  assert.equal(await verifySignature(token, set(jwksOf({ ...k.jwk, alg: 'RS512' }))), 'JwksKidAlgMismatch');
  assert.equal(await verifySignature(token, set(jwksOf({ ...k.jwk, kid: undefined, alg: undefined }))), 'Ok', 'a key without kid/alg matches any');
  const noKid = jwt(await k.sign({}, { kid: undefined }));
  assert.equal(await verifySignature(noKid, set(jwksOf(k))), 'Ok', 'a token without kid tries every key');
  const two = await testKey('RS256', 'k2');
  assert.equal(await verifySignature(jwt(await two.sign({})), set(jwksOf(k, two))), 'Ok', 'the right key among several');
});

test('a key of another type with the same kid does not verify (Envoy: verification fails)', async () => {
  const rsa = await testKey('RS256', 'same');
  const ec = await testKey('ES256', 'same');
  const token = jwt(await rsa.sign({}));
  assert.equal(await verifySignature(token, set(jwksOf({ ...ec.jwk, alg: undefined }))), 'JwtVerificationFail');
  const es384 = await testKey('ES384', 'same');
  const p256Token = jwt(await ec.sign({}));
  assert.equal(await verifySignature(p256Token, set(jwksOf({ ...es384.jwk, alg: undefined }))), 'JwtVerificationFail', 'curve must fit the alg');
});

test('a crit header is refused even with a valid signature (RFC 7515 §4.1.11)', async () => {
  const k = await testKey('RS256', 'k1');
  const { CompactSign } = await import('jose');
  const signed = await new CompactSign(Buffer.from('{"sub":"a"}'))
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', crit: ['http://example.com/ext'], 'http://example.com/ext': 1 })
    .sign(k.privateKey, { crit: { 'http://example.com/ext': true } });
  assert.equal(await verifySignature(jwt(signed), set(jwksOf(k))), 'JwtVerificationFail');
});

test('an EdDSA signature of the wrong length is reported as such', async () => {
  const k = await testKey('EdDSA', 'ed');
  const [h, p] = (await k.sign({})).split('.');
  const short = Buffer.alloc(10).toString('base64url');
  assert.equal(await verifySignature(jwt(`${h}.${p}.${short}`), set(jwksOf(k))), 'JwtEd25519SignatureWrongLength');
});

test('a key set is read key by key: bad keys are refused with their reason, the good ones kept', async () => {
  const good = await testKey('ES256', 'good');
  const r = set(jwksOf(
    good,
    { kty: 'RSA', kid: 'no-n', e: 'AQAB' },
    { kty: 'EC', alg: 'RS256', x: 'a', y: 'b' },
    { kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' },
    { kid: 'no-kty' },
    'not an object',
  ));
  assert.equal(r.keys.length, 1);
  assert.equal(r.keys[0]!.kid, 'good');
  assert.deepEqual(r.refused.map((x) => x.status), ['JwksRSAKeyMissingN', 'JwksECKeyBadAlg', 'JwksNotImplementedKty', 'JwksMissingKty']);
});

const bad: [string, unknown, string][] = [
  ['not JSON', '{keys', 'JwksParseError'],
  ['a JSON list', '[]', 'JwksParseError'],
  ['no keys field', '{"foo":1}', 'JwksNoKeys'],
  ['keys not a list', '{"keys":{}}', 'JwksBadKeys'],
  ['an empty list', '{"keys":[]}', 'JwksNoValidKeys'],
];
for (const [what, text, status] of bad) {
  test(`a key set that is ${what} is ${status}`, () => {
    assert.equal(parseJwks(text as string), status);
  });
}

const badKeys: [string, Record<string, unknown>, string][] = [
  ['kty not a string', { kty: 1 }, 'JwksBadKty'],
  ['kty unknown', { kty: 'AKP' }, 'JwksNotImplementedKty'],
  ['an HMAC key (symmetric keys are refused)', { kty: 'oct', k: 'c2VjcmV0' }, 'JwksNotImplementedKty'],
  ['RSA with an EC alg', { kty: 'RSA', alg: 'ES256', n: 'AQAB', e: 'AQAB' }, 'JwksRSAKeyBadAlg'],
  ['RSA with a numeric n', { kty: 'RSA', n: 5, e: 'AQAB' }, 'JwksRSAKeyBadN'],
  ['RSA without e', { kty: 'RSA', n: 'AQAB' }, 'JwksRSAKeyMissingE'],
  ['RSA with e = 7', { kty: 'RSA', n: 'AQAB', e: 'Bw' }, 'JwksRsaParseError'],
  ['EC with P-256 and ES384', { kty: 'EC', alg: 'ES384', crv: 'P-256', x: 'a', y: 'b' }, 'JwksECKeyAlgNotCompatibleWithCrv'],
  ['EC on secp256k1', { kty: 'EC', crv: 'secp256k1', x: 'a', y: 'b' }, 'JwksECKeyAlgOrCrvUnsupported'],
  ['EC without y', { kty: 'EC', crv: 'P-256', x: 'AAAA' }, 'JwksECKeyMissingY'],
  ['EC with bad base64', { kty: 'EC', crv: 'P-256', x: 'a+b', y: 'AAAA' }, 'JwksEcXorYBadBase64'],
  ['EC with a point off the curve', { kty: 'EC', crv: 'P-256', x: Buffer.alloc(32, 1).toString('base64url'), y: Buffer.alloc(32, 2).toString('base64url') }, 'JwksEcParseError'],
  ['OKP with an RS alg', { kty: 'OKP', alg: 'RS256', crv: 'Ed25519', x: 'a' }, 'JwksOKPKeyBadAlg'],
  ['OKP without crv', { kty: 'OKP', x: 'a' }, 'JwksOKPKeyMissingCrv'],
  ['OKP on X25519', { kty: 'OKP', crv: 'X25519', x: 'a' }, 'JwksOKPKeyCrvUnsupported'],
  ['OKP with a short x', { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }, 'JwksOKPXWrongLength'],
];
for (const [what, jwk, status] of badKeys) {
  test(`a key with ${what} is refused: ${status}`, () => {
    const r = set(jwksOf(jwk, { kty: 'OKP', crv: 'Ed25519', x: Buffer.alloc(32, 9).toString('base64url') }));
    assert.deepEqual(r.refused.map((x) => x.status), [status]);
  });
}

test('RSA keys under 2048 bits are refused (jose would refuse them when verifying)', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const jwk = publicKey.export({ format: 'jwk' });
  assert.equal(parseJwks(jwksOf(jwk as Record<string, unknown>)), 'JwksNoValidKeys');
});

test('the x509 form {kid: PEM certificate} is read (Google certs endpoints), RSA keys only', { skip: !haveOpenssl() && 'needs openssl' }, async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-jwks-'));
  try {
    const keyFile = path.join(dir, 'k.pem');
    fs.writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const pem = execFileSync('openssl', ['req', '-x509', '-key', keyFile, '-subj', '/CN=jwks-test', '-days', '1'], { encoding: 'utf8' });
    assert.equal(new X509Certificate(pem).publicKey.asymmetricKeyType, 'rsa');
    const r = set(JSON.stringify({ k1: pem }));
    assert.equal(r.keys[0]!.kid, 'k1');
    const token = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    assert.equal(await verifySignature(jwt(token), r), 'Ok');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(parseJwks('{"k1":"not a certificate"}'), 'JwksNoKeys');
});

test('a forged token with alg none never reaches a key', async () => {
  assert.equal(parseJwt(rawToken({ alg: 'none' }, { sub: 'admin' }, '')), 'JwtBadFormat');
  assert.equal(parseJwt(rawToken({ alg: 'none' }, { sub: 'admin' })), 'JwtHeaderNotImplementedAlg');
});
