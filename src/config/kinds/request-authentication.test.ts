import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';

const ra = (spec: Record<string, unknown>) => stringify({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'foo' }, spec });
const rule = (jwtRule: Record<string, unknown>) => loadText(ra({ jwtRules: [jwtRule] }));
const ISSUER = 'testing@secure.istio.io';

/** A JWKS made now from a fresh key pair (no key material is committed). */
function jwks(kind: 'public' | 'private' = 'public'): string {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = (kind === 'public' ? publicKey : privateKey).export({ format: 'jwk' });
  return JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'RS256', use: 'sig' }] });
}

test('RequestAuthentication: the JWT task policy with Istio\'s defaults (TASK-13, RA-02..07)', () => {
  const { resource, diagnostics } = loadOne(
    'RequestAuthentication',
    ra({ selector: { matchLabels: { app: 'httpbin' } }, jwtRules: [{ issuer: ISSUER, jwksUri: 'https://raw.githubusercontent.com/istio/istio/master/security/tools/jwt/samples/jwks.json' }] }),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec, {
    selector: { matchLabels: { app: 'httpbin' } },
    targetRefs: [],
    jwtRules: [
      {
        issuer: ISSUER,
        audiences: [],
        jwksUri: 'https://raw.githubusercontent.com/istio/istio/master/security/tools/jwt/samples/jwks.json',
        fromHeaders: [],
        fromParams: [],
        fromCookies: [],
        forwardOriginalToken: false,
        outputClaimToHeaders: [],
        spaceDelimitedClaims: [],
        path: ['spec', 'jwtRules', 0],
      },
    ],
  });
});

test('RequestAuthentication: every JWTRule field is typed; jwks_uri folds into jwksUri (RA-04..08)', () => {
  const keys = jwks();
  const { resource, diagnostics } = loadOne(
    'RequestAuthentication',
    ra({
      jwtRules: [
        {
          issuer: ISSUER,
          audiences: ['bookstore.example.com'],
          jwks: keys,
          fromHeaders: [{ name: 'x-jwt-assertion', prefix: 'Bearer ' }, { name: 'x-raw', prefix: '' }],
          fromParams: ['my_token'],
          fromCookies: ['auth-token'],
          outputPayloadToHeader: 'x-jwt-payload',
          forwardOriginalToken: true,
          outputClaimToHeaders: [{ header: 'x-jwt-group', claim: 'nested.key.group' }],
          timeout: '2s',
          spaceDelimitedClaims: ['roles'],
        },
        { issuer: 'https://accounts.example.com', jwks_uri: 'http://keys.example.com:8080/jwks' },
      ],
    }),
  );
  assert.deepEqual(diagnostics, []);
  const [full, legacy] = resource.spec.jwtRules;
  assert.deepEqual(full, {
    issuer: ISSUER,
    audiences: ['bookstore.example.com'],
    jwks: keys,
    fromHeaders: [{ name: 'x-jwt-assertion', prefix: 'Bearer ' }, { name: 'x-raw' }],
    fromParams: ['my_token'],
    fromCookies: ['auth-token'],
    outputPayloadToHeader: 'x-jwt-payload',
    forwardOriginalToken: true,
    outputClaimToHeaders: [{ header: 'x-jwt-group', claim: 'nested.key.group' }],
    spaceDelimitedClaims: ['roles'],
    timeout: { ms: 2000, text: '2s' },
    path: ['spec', 'jwtRules', 0],
  });
  assert.equal(legacy.jwksUri, 'http://keys.example.com:8080/jwks');
  // An empty policy and one with no spec are valid no-ops.
  assert.deepEqual(loadOne('RequestAuthentication', ra({})).resource.spec, { targetRefs: [], jwtRules: [] });
});

test('RequestAuthentication rules: positioned errors with fixes (Istio validateJwtRule and CRD)', () => {
  const r = loadText(
    yaml(
      'apiVersion: security.istio.io/v1', //                         1
      'kind: RequestAuthentication', //                              2
      'metadata: {name: jwt, namespace: foo}', //                    3
      'spec:', //                                                    4
      '  jwtRules:', //                                              5
      '  - jwksUri: ftp://keys.example.com/jwks', //                 6
      '  - issuer: a', //                                            7
      '    jwksUri: https://keys.example.com/jwks', //               8
      '    jwks: \'{"keys": []}\'', //                               9
      '  - issuer: b', //                                            10
      '    fromHeaders: [{name: "bad header"}]', //                  11
      '    outputClaimToHeaders: [{header: "x.y", claim: sub}]', // 12
      '    timeout: 0.5ms', //                                       13
      '  - audiences: [aud]', //                                     14
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@6:14', 'error:one-of@7:5', 'error:invalid-value@11:26', 'error:invalid-value@12:37', 'error:invalid-value@13:14', 'error:missing-field@14:5']);
  assert.match(r.diagnostics[0].message, /"ftp:\/\/keys\.example\.com\/jwks" is not valid: it must be an http:\/\/ or https:\/\/ URL/);
  assert.match(r.diagnostics[1].message, /at most one of jwksUri, jwks_uri, jwks may be set, found jwksUri and jwks/);
  assert.match(r.diagnostics[5].message, /needs issuer or jwksUri/);
  assert.equal(r.diagnostics[5].fix, "add issuer: the token's iss claim");
  assert.deepEqual(r.resources, []);
  assert.deepEqual(rule({ issuer: ISSUER, audiences: [''] }).codes, ['error:invalid-value']);
  assert.deepEqual(rule({ issuer: ISSUER, fromParams: [''], fromCookies: [''] }).codes, ['error:invalid-value', 'error:invalid-value']);
});

test('RequestAuthentication: inline jwks must be a key set Envoy can use; private keys warn', () => {
  const codes = (text: string) => rule({ issuer: ISSUER, jwks: text }).codes;
  assert.deepEqual(codes(jwks()), []);
  assert.deepEqual(codes(jwks('private')), ['warning:private-jwks-key']);
  assert.deepEqual(codes('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'), ['warning:private-jwks-key']);
  assert.deepEqual(codes('not json'), ['error:invalid-jwks']);
  assert.deepEqual(codes('{"keys": []}'), ['error:invalid-jwks']);
  assert.deepEqual(codes('{"keys": [{"kty": "RSA", "e": "AQAB"}]}'), ['error:invalid-jwks']);
  assert.deepEqual(codes('{"keys": [{"kty": "EC", "crv": "secp256k1", "x": "a", "y": "b"}]}'), ['error:invalid-jwks']);
  const single = rule({ issuer: ISSUER, jwks: JSON.stringify(JSON.parse(jwks()).keys[0]) });
  assert.deepEqual(single.codes, ['error:invalid-jwks']);
  assert.equal(single.diagnostics[0].fix, 'wrap the key: {"keys": [ <the key> ]}');
  assert.deepEqual(rule({ issuer: ISSUER, jwksUri: 'https://' }).codes, ['error:invalid-value']);
  assert.deepEqual(rule({ jwksUri: 'https://keys.example.com/jwks' }).codes, []);
});

test('RequestAuthentication: duplicate issuers and claim headers warn; selector and targetRefs follow Istio', () => {
  assert.deepEqual(loadText(ra({ jwtRules: [{ issuer: 'a', jwksUri: 'https://a/j' }, { issuer: 'a', jwksUri: 'https://b/j' }] })).at, ['warning:duplicate-issuer@10:15']);
  assert.deepEqual(rule({ issuer: 'a', outputClaimToHeaders: [{ header: 'x-a', claim: 'a' }, { header: 'X-A', claim: 'b' }] }).codes, ['warning:duplicate-value']);
  const targeted = loadOne('RequestAuthentication', ra({ targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' }] }));
  assert.deepEqual(targeted.codes, ['warning:unsupported-field']);
  assert.match(targeted.diagnostics[0].message, /applies to no Strait proxy \(not to the whole namespace\)/);
  assert.deepEqual(targeted.resource.spec.targetRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', path: ['spec', 'targetRefs', 0] }]);
  assert.deepEqual(loadOne('RequestAuthentication', ra({ targetRef: { kind: 'Service', name: 'svc' } })).resource.spec.targetRefs, [{ group: '', kind: 'Service', name: 'svc', path: ['spec', 'targetRef'] }]);
  const wrongGroup = loadText(ra({ targetRefs: [{ kind: 'Service', group: 'networking.istio.io', name: 'svc', namespace: 'bar' }] }));
  assert.deepEqual(wrongGroup.codes, ['error:invalid-value', 'error:invalid-value']);
  assert.deepEqual(loadText(ra({ selector: { matchLabels: { app: 'a' } }, targetRefs: [{ kind: 'ServiceEntry', group: 'networking.istio.io', name: 'se' }] })).codes, ['error:conflict', 'warning:unsupported-field']);
  assert.deepEqual(loadText(ra({ targetRefs: [{ kind: 'Deployment', group: 'apps', name: 'd' }] })).codes, ['error:invalid-value']);
});
