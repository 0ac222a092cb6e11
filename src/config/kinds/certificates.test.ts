import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { stringify } from 'yaml';
import { loadConfigText } from '../load-config.js';
import { opensslSkipReason, testCertificates } from '../test-support.js';
import type { SecretResource } from '../types.js';
import { checkValidity, pemBlocks } from './certificates.js';

// The certificates are made by openssl when the first test runs (never committed); without
// openssl every test here is skipped with that reason.
const skip = opensslSkipReason();
const b64 = (s: string) => Buffer.from(s).toString('base64');

function load(text: string) {
  const { resources, diagnostics } = loadConfigText(text, 's.yaml');
  return {
    secret: resources[0] as SecretResource | undefined,
    diagnostics,
    codes: diagnostics.map((d) => `${d.severity}:${d.code}`),
    where: diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`),
  };
}

/** `type: null` leaves the type out (it then defaults to Opaque). */
function secret(fields: Record<string, unknown>, type: string | null = 'kubernetes.io/tls') {
  return load(stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert' }, ...(type !== null ? { type } : {}), ...fields }));
}

/** One-line base64 values under `data`, so that each key sits on a known line (6, 7, 8). */
function dataText(values: Record<string, string>, type = 'kubernetes.io/tls'): string {
  const lines = ['apiVersion: v1', 'kind: Secret', 'metadata: {name: cert}', `type: ${type}`, 'data:'];
  for (const [k, v] of Object.entries(values)) lines.push(`  ${k}: ${b64(v)}`);
  return `${lines.join('\n')}\n`;
}

const corrupt = '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n';

test('a valid kubernetes.io/tls Secret loads without a word, from stringData or from data', { skip }, () => {
  const { valid } = testCertificates();
  const fromString = secret({ stringData: { 'tls.crt': valid.cert, 'tls.key': valid.key } });
  assert.deepEqual(fromString.diagnostics, []);
  assert.equal(fromString.secret?.data['tls.crt'].toString(), valid.cert);
  const fromData = load(dataText({ 'tls.crt': valid.cert, 'tls.key': valid.key }));
  assert.deepEqual(fromData.diagnostics, []);
  assert.equal(fromData.secret?.data['tls.key'].toString(), valid.key);
});

test('a key that does not belong to the certificate is an error at tls.key, and the Secret is dropped', { skip }, () => {
  const { valid, other } = testCertificates();
  const r = load(dataText({ 'tls.crt': valid.cert, 'tls.key': other.key }));
  assert.deepEqual(r.where, ['key-mismatch@7:12']);
  assert.equal(r.diagnostics[0].message, 'data["tls.key"]: the private key in tls.key does not belong to the certificate in tls.crt (CN=foo.bar.com)');
  assert.match(r.diagnostics[0].fix ?? '', /generated with this certificate/);
  assert.equal(r.secret, undefined);
});

test('a SEC1 (EC PRIVATE KEY) form of the right key matches too', { skip }, () => {
  const { valid } = testCertificates();
  const sec1 = createPrivateKey(valid.key).export({ type: 'sec1', format: 'pem' }).toString();
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  assert.deepEqual(secret({ stringData: { 'tls.crt': valid.cert, 'tls.key': sec1 } }).diagnostics, []);
});

test('garbage instead of PEM: errors at the key that holds it', { skip }, () => {
  const { valid } = testCertificates();
  const crt = load(dataText({ 'tls.crt': 'not a certificate', 'tls.key': valid.key }));
  assert.deepEqual(crt.where, ['invalid-certificate@6:12']);
  assert.match(crt.diagnostics[0].message, /tls\.crt holds no PEM certificate \(a block starting with -----BEGIN CERTIFICATE-----\)/);
  const key = load(dataText({ 'tls.crt': valid.cert, 'tls.key': 'not a key' }));
  assert.deepEqual(key.where, ['invalid-private-key@7:12']);
  assert.match(key.diagnostics[0].message, /tls\.key holds no PEM private key/);
});

test('every certificate of the chain must parse: a broken block is named by its place in the chain', { skip }, () => {
  const { valid, other } = testCertificates();
  const alone = secret({ stringData: { 'tls.crt': corrupt, 'tls.key': valid.key } });
  assert.deepEqual(alone.codes, ['error:invalid-certificate']);
  assert.match(alone.diagnostics[0].message, /the certificate in tls\.crt cannot be parsed: /);
  const chain = secret({ stringData: { 'tls.crt': valid.cert + corrupt, 'tls.key': valid.key } });
  assert.deepEqual(chain.codes, ['error:invalid-certificate']);
  assert.match(chain.diagnostics[0].message, /certificate 2 of 2 in tls\.crt cannot be parsed/);
  // A chain that parses: the key is matched against the first (leaf) certificate only.
  assert.deepEqual(secret({ stringData: { 'tls.crt': valid.cert + other.cert, 'tls.key': valid.key } }).diagnostics, []);
  assert.deepEqual(secret({ stringData: { 'tls.crt': other.cert + valid.cert, 'tls.key': valid.key } }).codes, ['error:key-mismatch']);
});

test('an unterminated block, swapped values, double base64 and encrypted keys get their own messages', { skip }, () => {
  const { valid, encryptedKey } = testCertificates();
  const cut = secret({ stringData: { 'tls.crt': valid.cert.replace('-----END CERTIFICATE-----', ''), 'tls.key': valid.key } });
  assert.match(cut.diagnostics[0].message, /has no -----END CERTIFICATE----- line/);
  const swapped = secret({ stringData: { 'tls.crt': valid.key, 'tls.key': valid.cert } });
  assert.deepEqual(swapped.diagnostics.map((d) => d.message.replace(/^[^:]+: /, '')), [
    'tls.crt holds a private key, not a PEM certificate',
    'tls.key holds a certificate, not a PEM private key',
  ]);
  assert.equal(swapped.diagnostics[0].fix, 'check that the certificate and the key are not swapped');
  const twice = load(dataText({ 'tls.crt': b64(valid.cert), 'tls.key': valid.key }));
  assert.deepEqual(twice.codes, ['error:invalid-certificate']);
  assert.match(twice.diagnostics[0].message, /tls\.crt is base64-encoded twice/);
  const enc = secret({ stringData: { 'tls.crt': valid.cert, 'tls.key': encryptedKey } });
  assert.deepEqual(enc.codes, ['error:invalid-private-key']);
  assert.match(enc.diagnostics[0].message, /the private key in tls\.key is encrypted, and Strait has no passphrase for it/);
});

test('an expired or not yet valid certificate is a warning at tls.crt; the Secret still loads', { skip }, () => {
  const { expired, notYetValid } = testCertificates();
  const old = load(dataText({ 'tls.crt': expired.cert, 'tls.key': expired.key }));
  assert.deepEqual(old.where, ['certificate-expired@6:12']);
  assert.equal(old.diagnostics[0].severity, 'warning');
  assert.match(old.diagnostics[0].message, /the certificate in tls\.crt \(CN=old\.bar\.com\) expired on 2020-01-02T00:00:00\.000Z; clients will refuse it/);
  assert.ok(old.secret);
  const future = secret({ stringData: { 'tls.crt': notYetValid.cert, 'tls.key': notYetValid.key } });
  assert.deepEqual(future.codes, ['warning:certificate-not-yet-valid']);
  assert.match(future.diagnostics[0].message, /is not valid before 2099-01-01T00:00:00\.000Z/);
});

test('checkValidity compares with the time it is given', { skip }, () => {
  const cert = new X509Certificate(testCertificates().valid.cert);
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  const codes = (t: number) => checkValidity('tls.crt', [cert], ['data', 'tls.crt'], new Date(t)).map((f) => f.code);
  assert.deepEqual(codes(from + 1000), []);
  assert.deepEqual(codes(to), [], 'the last second is still valid');
  assert.deepEqual(codes(to + 1000), ['certificate-expired']);
  assert.deepEqual(codes(from - 1000), ['certificate-not-yet-valid']);
});

test('ca.crt is optional, may be a bundle, and must parse', { skip }, () => {
  const { valid, other } = testCertificates();
  assert.deepEqual(secret({ stringData: { 'tls.crt': valid.cert, 'tls.key': valid.key, 'ca.crt': valid.cert + other.cert } }).diagnostics, []);
  const bad = load(dataText({ 'tls.crt': valid.cert, 'tls.key': valid.key, 'ca.crt': 'nope' }));
  assert.deepEqual(bad.where, ['invalid-certificate@8:11']);
  assert.match(bad.diagnostics[0].message, /ca\.crt holds no PEM certificate/);
});

test('stringData wins over data: its value is checked, and reported at stringData', { skip }, () => {
  const { valid, other } = testCertificates();
  assert.deepEqual(secret({ data: { 'tls.crt': b64(valid.cert), 'tls.key': b64('garbage') }, stringData: { 'tls.key': valid.key } }).diagnostics, []);
  const text = [
    'apiVersion: v1',
    'kind: Secret',
    'metadata: {name: cert}',
    'type: kubernetes.io/tls',
    'data:',
    `  tls.crt: ${b64(valid.cert)}`,
    `  tls.key: ${b64(valid.key)}`,
    'stringData:',
    `  tls.key: ${JSON.stringify(other.key)}`, // 9
  ].join('\n');
  assert.deepEqual(load(text).where, ['key-mismatch@9:12']);
});

test("Istio's generic format (cert, key, cacert) in Opaque Secrets gets the same checks", { skip }, () => {
  const { valid, other } = testCertificates();
  assert.deepEqual(secret({ stringData: { cert: valid.cert, key: valid.key, cacert: other.cert } }, null).diagnostics, []);
  const mismatch = load(dataText({ cert: valid.cert, key: other.key }, 'Opaque'));
  assert.deepEqual(mismatch.where, ['key-mismatch@7:8']);
  assert.match(mismatch.diagnostics[0].message, /the private key in key does not belong to the certificate in cert/);
  assert.deepEqual(secret({ stringData: { cacert: 'nope' } }, 'Opaque').codes, ['error:invalid-certificate']);
  assert.deepEqual(secret({ stringData: { cert: valid.cert } }, 'Opaque').diagnostics, [], 'a cert without a key: only the cert is checked');
  // Without cert or cacert, `key` is just a key of an Opaque Secret (an API key, say).
  assert.deepEqual(secret({ stringData: { key: 'sk-live-123' } }, 'Opaque').diagnostics, []);
  // Other types are not Istio's format.
  assert.deepEqual(secret({ stringData: { cert: 'x', username: 'u', password: 'p' } }, 'kubernetes.io/basic-auth').diagnostics, []);
  // tls.* keys are checked in any Secret that has them (an Opaque one can serve an Ingress).
  assert.deepEqual(secret({ stringData: { 'tls.crt': 'x', 'tls.key': valid.key } }, 'Opaque').codes, ['error:invalid-certificate']);
});

test('pemBlocks: complete blocks only, labels matched, text between blocks skipped', () => {
  const text = 'intro\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\nbetween\n-----BEGIN EC PRIVATE KEY-----\nBBB\n-----END EC PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nCCC\n-----END PRIVATE KEY-----\n';
  assert.deepEqual(pemBlocks(text).map((b) => b.label), ['CERTIFICATE', 'EC PRIVATE KEY']);
  assert.equal(pemBlocks(text)[0].text, '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----');
});
