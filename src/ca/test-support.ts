// Helpers for CA tests: an operator-style intermediate CA under a root, temporary directories, and
// an independent check of chains with the `openssl verify` command when it is installed.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../common/clock.js';
import type { SigningMaterial } from './ca-material.js';
import { EC_P256, generateKeyPair, privateKeyToPem, randomSerial, x509 } from './x509.js';

export function tempDirForTest(prefix = 'strait-ca-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An intermediate CA certificate and key signed by `root` (as `istioctl`/openssl recipes make them). */
export async function intermediateForTest(root: SigningMaterial, opts: { notAfter?: Date; ca?: boolean; keyCertSign?: boolean } = {}): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair('ec-p256');
  const rootCert = new x509.X509Certificate(root.certPem);
  const usages = (opts.keyCertSign ?? true) ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'O=Strait test, CN=Intermediate CA',
    issuer: rootCert.subjectName,
    notBefore: new Date(systemClock.now() - 60_000),
    notAfter: opts.notAfter ?? new Date(systemClock.now() + 365 * 864e5),
    publicKey: keys.publicKey,
    signingKey: root.key,
    signingAlgorithm: EC_P256,
    extensions: [new x509.BasicConstraintsExtension(opts.ca ?? true, 0, true), new x509.KeyUsagesExtension(usages, true), await x509.AuthorityKeyIdentifierExtension.create(rootCert)],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyToPem(keys.privateKey) };
}

export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** `openssl verify -CAfile roots [-untrusted chain] -purpose P leaf`; returns its output and success. */
export function opensslVerify(roots: string, leafAndChain: readonly string[], purpose: 'sslclient' | 'sslserver'): { ok: boolean; output: string } {
  const dir = tempDirForTest('strait-openssl-');
  try {
    fs.writeFileSync(path.join(dir, 'roots.pem'), roots);
    fs.writeFileSync(path.join(dir, 'leaf.pem'), leafAndChain[0]!);
    const args = ['verify', '-CAfile', path.join(dir, 'roots.pem'), '-purpose', purpose];
    if (leafAndChain.length > 1) {
      fs.writeFileSync(path.join(dir, 'chain.pem'), leafAndChain.slice(1).join(''));
      args.push('-untrusted', path.join(dir, 'chain.pem'));
    }
    args.push(path.join(dir, 'leaf.pem'));
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
