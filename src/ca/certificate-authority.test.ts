// The CA: self-signed root, workload certificates from CSRs (SAN from the caller's identity only,
// key types, lifetimes), operator material in the cacerts layout, its own state directory, and
// refusals. Chains are checked with Node's X509Certificate and, when installed, `openssl verify`.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ManualClockForTest, systemClock } from '../common/clock.js';
import { caFilesFromSecret, CaMaterialError, createSelfSignedRoot } from './ca-material.js';
import { CertificateAuthority, SignRequestError } from './certificate-authority.js';
import { intermediateForTest, opensslAvailable, opensslVerify, tempDirForTest } from './test-support.js';
import { createCsr, generateKeyPair, x509 } from './x509.js';

const ID = { namespace: 'default', serviceAccount: 'sleep' };
const URI = 'spiffe://cluster.local/ns/default/sa/sleep';
const opts = { trustDomain: 'cluster.local', clock: systemClock };

async function csr(kind: 'ec-p256' | 'rsa-2048' = 'ec-p256', san?: string): Promise<string> {
  return createCsr(await generateKeyPair(kind), san);
}

describe('CertificateAuthority: self-signed root', () => {
  it('creates an ECDSA P-256 root valid for 10 years, CA:true with keyCertSign', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, opts);
    const [rootPem] = ca.trustBundle();
    const root = new X509Certificate(rootPem!);
    assert.equal(root.ca, true);
    assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const years = (new Date(root.validTo).getTime() - Date.now()) / (365 * 864e5);
    assert.ok(years > 9.9 && years < 10.1, `root lifetime ${years} years`);
    const ku = new x509.X509Certificate(rootPem!).getExtension(x509.KeyUsagesExtension)!;
    assert.ok(ku.usages & x509.KeyUsageFlags.keyCertSign);
    assert.match(root.subject, /O=cluster.local/);
  });

  it('issues [leaf, root] with exactly the SPIFFE URI SAN, no subject, 24 h, client+server auth', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, opts);
    const out = await ca.sign({ csrPem: await csr(), identity: ID });
    assert.equal(out.certChain.length, 2);
    const leaf = new X509Certificate(out.certChain[0]!);
    const root = new X509Certificate(out.certChain[1]!);
    assert.equal(leaf.subjectAltName, `URI:${URI}`);
    assert.equal(out.spiffeId, URI);
    assert.equal(leaf.subject, undefined);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey));
    assert.deepEqual([...(leaf.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const ku = new x509.X509Certificate(out.certChain[0]!).getExtension(x509.KeyUsagesExtension)!;
    assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    const hours = (out.notAfter.getTime() - Date.now()) / 3600e3;
    assert.ok(hours > 23.9 && hours <= 24, `lifetime ${hours} h`);
    assert.equal(out.rootFingerprint, root.fingerprint256);
  });

  it('passes `openssl verify` for both TLS purposes', { skip: !opensslAvailable() && 'openssl is not installed' }, async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, opts);
    const out = await ca.sign({ csrPem: await csr(), identity: ID });
    for (const purpose of ['sslclient', 'sslserver'] as const) {
      const r = opensslVerify(ca.trustBundle().join(''), [out.certChain[0]!], purpose);
      assert.ok(r.ok, r.output);
    }
  });

  it('accepts RSA 2048 keys and refuses RSA 1024', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, opts);
    const out = await ca.sign({ csrPem: await csr('rsa-2048'), identity: ID });
    assert.equal(out.keyDescription, 'RSA 2048');
    const small = await globalThis.crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify']);
    await assert.rejects(ca.sign({ csrPem: await createCsr(small), identity: ID }), (e: Error) => e instanceof SignRequestError && /1024 bits/.test(e.message));
  });

  it('signs the caller identity: a CSR naming the same URI is fine, another one is refused', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, opts);
    const same = await ca.sign({ csrPem: await csr('ec-p256', URI), identity: ID });
    assert.equal(new X509Certificate(same.certChain[0]!).subjectAltName, `URI:${URI}`);
    await assert.rejects(
      ca.sign({ csrPem: await csr('ec-p256', 'spiffe://cluster.local/ns/istio-system/sa/istiod'), identity: ID }),
      (e: Error) => e instanceof SignRequestError && /asks for spiffe:\/\/cluster.local\/ns\/istio-system\/sa\/istiod, but the caller is spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep/.test(e.message),
    );
  });

  it('refuses a CSR whose signature does not verify, and text that is no CSR', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, opts);
    const good = new x509.Pkcs10CertificateRequest(await csr());
    const der = Buffer.from(good.rawData);
    der[der.length - 5]! ^= 0x01; // inside the signature BIT STRING
    const bad = new x509.Pkcs10CertificateRequest(der).toString('pem');
    await assert.rejects(ca.sign({ csrPem: bad, identity: ID }), (e: Error) => e instanceof SignRequestError && /signature/.test(e.message));
    await assert.rejects(ca.sign({ csrPem: 'hello', identity: ID }), (e: Error) => e instanceof SignRequestError && /not a PEM PKCS#10/.test(e.message));
  });

  it('honours a requested lifetime, refuses one above the maximum, and caps at the CA lifetime', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, { ...opts, maxTtlSeconds: 7 * 86400 });
    const hour = await ca.sign({ csrPem: await csr(), identity: ID, ttlSeconds: 3600 });
    assert.ok(Math.abs(hour.notAfter.getTime() - Date.now() - 3600e3) < 5000);
    await assert.rejects(ca.sign({ csrPem: await csr(), identity: ID, ttlSeconds: 8 * 86400 }), SignRequestError);
    // A root with two hours left: a 24 h request ends with the root.
    const shortRoot = await createSelfSignedRoot('cluster.local', systemClock, 2 * 3600e3);
    const short = await CertificateAuthority.open({ kind: 'files', files: { caCert: shortRoot.certPem, caKey: shortRoot.keyPem }, where: 'test' }, opts);
    const capped = await short.sign({ csrPem: await csr(), identity: ID });
    assert.equal(capped.notAfter.getTime(), shortRoot.notAfter.getTime());
  });

  it('refuses identities that are not Kubernetes names (no path injection into the URI)', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, opts);
    await assert.rejects(ca.sign({ csrPem: await csr(), identity: { namespace: 'a/sa/b', serviceAccount: 'x' } }), /not a DNS label/);
  });

  it('uses the injected clock for validity', async () => {
    const clock = new ManualClockForTest(Date.UTC(2030, 0, 1));
    const ca = await CertificateAuthority.open({ kind: 'memory' }, { trustDomain: 'example.org', clock });
    const out = await ca.sign({ csrPem: await csr(), identity: ID });
    assert.equal(out.notAfter.toISOString(), '2030-01-02T00:00:00.000Z');
    assert.equal(out.spiffeId, 'spiffe://example.org/ns/default/sa/sleep');
  });
});

describe('CertificateAuthority: operator material (cacerts layout)', () => {
  it('signs with an intermediate: [leaf, intermediate, root], verified by openssl with -untrusted', async () => {
    const root = await createSelfSignedRoot('cluster.local', systemClock);
    const inter = await intermediateForTest(root);
    // Istio's samples put the intermediate and the root in cert-chain.pem.
    const ca = await CertificateAuthority.open({ kind: 'files', files: { caCert: inter.certPem, caKey: inter.keyPem, certChain: inter.certPem + root.certPem, rootCert: root.certPem }, where: 'test' }, opts);
    const out = await ca.sign({ csrPem: await csr(), identity: ID });
    assert.equal(out.certChain.length, 3);
    assert.equal(out.certChain[1], inter.certPem);
    assert.equal(out.certChain[2], root.certPem);
    const leaf = new X509Certificate(out.certChain[0]!);
    assert.ok(leaf.verify(new X509Certificate(inter.certPem).publicKey));
    assert.equal(ca.source, 'files');
    await assert.rejects(ca.rotateRoot(), /operator-supplied/);
    if (opensslAvailable()) {
      const r = opensslVerify(root.certPem, [out.certChain[0]!, out.certChain[1]!], 'sslserver');
      assert.ok(r.ok, r.output);
    }
  });

  it('reads a cacerts Secret', async () => {
    const root = await createSelfSignedRoot('cluster.local', systemClock);
    const data = { 'ca-cert.pem': Buffer.from(root.certPem), 'ca-key.pem': Buffer.from(root.keyPem), 'root-cert.pem': Buffer.from(root.certPem) };
    const ca = await CertificateAuthority.open({ kind: 'secret', files: caFilesFromSecret(data, 'Secret istio-system/cacerts'), where: 'Secret istio-system/cacerts' }, opts);
    assert.equal(ca.source, 'secret');
    assert.equal(ca.trustBundle()[0], root.certPem);
    assert.throws(() => caFilesFromSecret({}, 'Secret istio-system/cacerts'), /needs the keys ca-cert.pem and ca-key.pem/);
  });

  it('refuses a key that is not the certificate\'s, a non-CA certificate, a missing root and a foreign root', async () => {
    const root = await createSelfSignedRoot('cluster.local', systemClock);
    const other = await createSelfSignedRoot('cluster.local', systemClock);
    const inter = await intermediateForTest(root);
    const open = (files: { caCert: string; caKey: string; certChain?: string; rootCert?: string }) => CertificateAuthority.open({ kind: 'files', files, where: '--ca-cert x' }, opts);
    await assert.rejects(open({ caCert: root.certPem, caKey: other.keyPem }), (e: Error) => e instanceof CaMaterialError && /--ca-cert x: ca-key.pem does not belong/.test(e.message));
    const notCa = await intermediateForTest(root, { ca: false });
    await assert.rejects(open({ caCert: notCa.certPem, caKey: notCa.keyPem, rootCert: root.certPem }), /not a CA certificate/);
    const noSign = await intermediateForTest(root, { keyCertSign: false });
    await assert.rejects(open({ caCert: noSign.certPem, caKey: noSign.keyPem, rootCert: root.certPem }), /keyCertSign/);
    await assert.rejects(open({ caCert: inter.certPem, caKey: inter.keyPem }), /intermediate; root-cert.pem is needed/);
    await assert.rejects(open({ caCert: inter.certPem, caKey: inter.keyPem, rootCert: other.certPem }), /no certificate in root-cert.pem issued/);
    await assert.rejects(open({ caCert: 'x', caKey: root.keyPem }), /exactly one certificate/);
  });
});

describe('CertificateAuthority: state directory', () => {
  it('creates a root on first start, keeps it, and persists rotations and retirements', async () => {
    const parent = tempDirForTest();
    const dir = path.join(parent, 'ca');
    try {
      const first = await CertificateAuthority.open({ kind: 'dir', dir }, opts);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem']);
      assert.equal(fs.statSync(path.join(dir, 'ca-key.pem')).mode & 0o077, 0);
      const again = await CertificateAuthority.open({ kind: 'dir', dir }, opts);
      assert.deepEqual(again.trustBundle(), first.trustBundle());
      assert.equal(again.source, 'self-signed');

      await again.rotateRoot();
      const afterRotation = await CertificateAuthority.open({ kind: 'dir', dir }, opts);
      assert.equal(afterRotation.trustBundle().length, 2);
      assert.equal(afterRotation.trustBundle()[1], first.trustBundle()[0]);
      assert.equal(afterRotation.signerStatus().fingerprint, new X509Certificate(again.trustBundle()[0]!).fingerprint256);
      // The overlap survives a restart: the reopened CA can still retire the old root.
      assert.deepEqual(afterRotation.retireRoots(), [new X509Certificate(first.trustBundle()[0]!).fingerprint256]);
      const afterRetire = await CertificateAuthority.open({ kind: 'dir', dir }, opts);
      assert.deepEqual(afterRetire.trustBundle(), [again.trustBundle()[0]]);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  it('two CAs starting at once on an empty directory agree on one root', async () => {
    const parent = tempDirForTest();
    const dir = path.join(parent, 'ca');
    try {
      const [a, b] = await Promise.all([CertificateAuthority.open({ kind: 'dir', dir }, opts), CertificateAuthority.open({ kind: 'dir', dir }, opts)]);
      assert.deepEqual(a.trustBundle(), b.trustBundle());
      assert.deepEqual(fs.readdirSync(parent), ['ca']);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  it('refuses a non-empty directory without cacerts files', async () => {
    const dir = tempDirForTest();
    try {
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
      await assert.rejects(CertificateAuthority.open({ kind: 'dir', dir }, opts), /not empty and holds no ca-cert.pem/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
