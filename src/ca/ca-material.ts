// What the CA signs with, and where it comes from. Three sources, in Istio's `cacerts` layout
// (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem): files an operator names, a Secret
// `cacerts` in istio-system among the manifests, or a directory the CA owns, where a self-signed
// root (ECDSA P-256, 10 years, as istiod's own CA) is created on first start and kept. Operator
// material is checked here, once, with a message naming the file: a CA that signs with a key
// that is not its certificate's, or whose chain does not reach a root, would only show up later
// as failed handshakes everywhere.

import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import type { CryptoKey } from './x509.js';
import { splitPemCertificates } from './pem.js';
import { EC_P256, generateKeyPair, importPrivateKeyPem, keyMatchesCertificate, privateKeyToPem, randomSerial, x509 } from './x509.js';

/** The four files of Istio's cacerts layout, as text (cert-chain and root-cert are optional). */
export interface CaFiles {
  readonly caCert: string;
  readonly caKey: string;
  readonly certChain?: string;
  readonly rootCert?: string;
}

export const CACERTS_FILES = { caCert: 'ca-cert.pem', caKey: 'ca-key.pem', certChain: 'cert-chain.pem', rootCert: 'root-cert.pem' } as const;

export type CaSource = 'self-signed' | 'files' | 'secret';

/** A checked signer: its key, the certificates up to a root, and the roots the mesh trusts. */
export interface SigningMaterial {
  readonly source: CaSource;
  /** The certificate that signs workload certificates (a root, or an intermediate). */
  readonly certPem: string;
  readonly keyPem: string;
  readonly key: CryptoKey;
  /** Intermediates a leaf must present: the signer first, up to (not including) the root; empty when the signer is a root. */
  readonly chain: readonly string[];
  /** Roots the mesh trusts; the one the signer's chain ends at first. */
  readonly roots: readonly string[];
  /** The earliest expiry among the signer and its chain: no leaf may outlive it. */
  readonly notAfter: Date;
}

export class CaMaterialError extends Error {}

export const ROOT_TTL_MS = 3650 * 24 * 3600 * 1000;

/** A new self-signed root for the trust domain (istiod's self-signed CA: O=<trust domain>). */
export async function createSelfSignedRoot(trustDomain: string, clock: Clock, ttlMs = ROOT_TTL_MS): Promise<SigningMaterial> {
  const keys = await generateKeyPair('ec-p256');
  const now = clock.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ O: [trustDomain] }, { CN: [`Strait root CA ${new Date(now).toISOString().slice(0, 10)}`] }],
    // A minute of slack for clocks that disagree a little (processes on other machines).
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + ttlMs),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  return { source: 'self-signed', certPem, keyPem: await privateKeyToPem(keys.privateKey), key: keys.privateKey, chain: [], roots: [certPem], notAfter: cert.notAfter };
}

function isSelfSigned(c: X509Certificate): boolean {
  return c.checkIssued(c) && c.verify(c.publicKey);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

// Node's X509Certificate.ca is OpenSSL's X509_check_ca, false also when keyUsage lacks
// keyCertSign; reading the extensions tells the operator which of the two is wrong.
function hasCaFlag(pem: string): boolean {
  return new x509.X509Certificate(pem).getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

function canSignCertificates(pem: string): boolean {
  const ku = new x509.X509Certificate(pem).getExtension(x509.KeyUsagesExtension);
  return !ku || (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0;
}

/**
 * Checks cacerts material and puts it in the CA's order. `where` names the source in messages
 * (a directory, "--ca-cert ...", "Secret istio-system/cacerts"). cert-chain.pem may hold the
 * signer itself and the root, as Istio's samples write it; both are tolerated.
 */
export async function checkCaFiles(files: CaFiles, source: CaSource, where: string, now: Date): Promise<SigningMaterial> {
  const fail = (m: string): never => {
    throw new CaMaterialError(`${where}: ${m}`);
  };
  const signerPems = splitPemCertificates(files.caCert);
  if (signerPems.length !== 1) fail(`${CACERTS_FILES.caCert} must hold exactly one certificate (found ${signerPems.length})`);
  const certPem = signerPems[0]!;
  const signer = new X509Certificate(certPem);
  if (!hasCaFlag(certPem)) fail(`${CACERTS_FILES.caCert} is not a CA certificate (basicConstraints CA:TRUE is missing)`);
  if (!canSignCertificates(certPem)) fail(`${CACERTS_FILES.caCert} may not sign certificates (keyUsage lacks keyCertSign)`);
  let keyMatches = false;
  try {
    keyMatches = keyMatchesCertificate(files.caKey, certPem);
  } catch (e) {
    fail(`${CACERTS_FILES.caKey} is not a private key PEM: ${(e as Error).message}`);
  }
  if (!keyMatches) fail(`${CACERTS_FILES.caKey} does not belong to the certificate in ${CACERTS_FILES.caCert}`);
  const notAfterOf = (c: X509Certificate) => new Date(c.validTo);
  if (notAfterOf(signer) <= now) fail(`${CACERTS_FILES.caCert} expired on ${signer.validTo}`);
  if (new Date(signer.validFrom) > now) fail(`${CACERTS_FILES.caCert} is not valid before ${signer.validFrom}`);

  const rootPems = splitPemCertificates(files.rootCert ?? '');
  if (files.rootCert !== undefined && rootPems.length === 0) fail(`${CACERTS_FILES.rootCert} holds no certificate`);
  if (rootPems.length === 0) {
    if (!isSelfSigned(signer)) fail(`${CACERTS_FILES.caCert} is an intermediate; ${CACERTS_FILES.rootCert} is needed`);
    rootPems.push(certPem);
  }
  const roots = rootPems.map((p) => ({ pem: p, cert: new X509Certificate(p) }));
  for (const r of roots) if (!hasCaFlag(r.pem)) fail(`${CACERTS_FILES.rootCert} holds a certificate that is not a CA (${r.cert.subject || r.cert.fingerprint256})`);

  // The chain: the signer, then each issuer, until a certificate a trusted root issued.
  const chainPems = splitPemCertificates(files.certChain ?? '').filter((p) => !isSelfSigned(new X509Certificate(p)));
  if (chainPems[0] === undefined || !new X509Certificate(chainPems[0]).raw.equals(signer.raw)) chainPems.unshift(certPem);
  const chain = isSelfSigned(signer) ? [] : chainPems;
  let top = signer;
  for (let i = 1; i < chain.length; i++) {
    const next = new X509Certificate(chain[i]!);
    if (!issuedBy(top, next)) fail(`${CACERTS_FILES.certChain}: certificate ${i + 1} did not issue the one before it`);
    if (notAfterOf(next) <= now) fail(`${CACERTS_FILES.certChain}: certificate ${i + 1} expired on ${next.validTo}`);
    top = next;
  }
  const anchor = isSelfSigned(signer) ? roots.find((r) => r.cert.raw.equals(signer.raw)) : roots.find((r) => issuedBy(top, r.cert));
  if (!anchor) fail(isSelfSigned(signer) ? `${CACERTS_FILES.rootCert} does not hold the self-signed ${CACERTS_FILES.caCert}` : `no certificate in ${CACERTS_FILES.rootCert} issued the chain of ${CACERTS_FILES.caCert}`);
  const ordered = [anchor!.pem, ...roots.filter((r) => r !== anchor).map((r) => r.pem)];
  const expiries = [signer, ...chain.slice(1).map((p) => new X509Certificate(p)), anchor!.cert].map(notAfterOf);
  let key: CryptoKey;
  try {
    key = await importPrivateKeyPem(files.caKey);
  } catch (e) {
    return fail(`${CACERTS_FILES.caKey}: ${(e as Error).message}`);
  }
  return { source, certPem, keyPem: files.caKey, key, chain, roots: ordered, notAfter: new Date(Math.min(...expiries.map((d) => d.getTime()))) };
}

/** Reads cacerts files from a directory; undefined when it holds no ca-cert.pem. */
export function readCaDir(dir: string): CaFiles | undefined {
  const read = (f: string) => {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  const caCert = read(CACERTS_FILES.caCert);
  if (caCert === undefined) return undefined;
  const caKey = read(CACERTS_FILES.caKey);
  if (caKey === undefined) throw new CaMaterialError(`${dir}: ${CACERTS_FILES.caCert} without ${CACERTS_FILES.caKey}`);
  return { caCert, caKey, certChain: read(CACERTS_FILES.certChain), rootCert: read(CACERTS_FILES.rootCert) };
}

/**
 * Writes the self-signed CA's files: the key first, each file by rename so a reader never sees
 * half a file, and root-cert.pem (the trust bundle, old roots included while they overlap) last.
 * The key is readable by its owner only.
 */
export function writeCaDir(dir: string, m: SigningMaterial): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const put = (name: string, text: string, mode: number) => {
    const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, text, { mode });
    fs.renameSync(tmp, path.join(dir, name));
  };
  put(CACERTS_FILES.caKey, m.keyPem, 0o600);
  put(CACERTS_FILES.caCert, m.certPem, 0o644);
  put(CACERTS_FILES.rootCert, m.roots.join(''), 0o644);
}

/** A `cacerts` Secret's keys as CaFiles (Istio's plugged-in CA Secret). */
export function caFilesFromSecret(data: Readonly<Record<string, Buffer>>, where: string): CaFiles {
  const text = (k: string) => data[k]?.toString('utf8');
  const caCert = text(CACERTS_FILES.caCert);
  const caKey = text(CACERTS_FILES.caKey);
  if (caCert === undefined || caKey === undefined) throw new CaMaterialError(`${where}: needs the keys ${CACERTS_FILES.caCert} and ${CACERTS_FILES.caKey}`);
  return { caCert, caKey, certChain: text(CACERTS_FILES.certChain), rootCert: text(CACERTS_FILES.rootCert) };
}
