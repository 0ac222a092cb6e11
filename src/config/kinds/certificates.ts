// Checks of the PEM material in Secrets that hold TLS certificates: the kubernetes.io/tls keys
// (tls.crt, tls.key, optional ca.crt; ING-17) and Istio's generic-secret keys (cert, key, cacert;
// IG-06). Parsing is node:crypto's (OpenSSL's): every certificate of a chain must parse, the key
// must parse and belong to the first (leaf) certificate. Done at load time because a gateway
// would otherwise fail on the first TLS handshake, far from the file that caused it. Expired and
// not-yet-valid certificates are only warnings: the manifest is right, the certificate is stale.
//
// Every finding is positioned at the Secret key it concerns, under `stringData` when the key is
// given there (it wins over `data`, as the API server merges them) and under `data` otherwise.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { FieldPath, Severity } from '../types.js';

export interface CertificateFinding {
  readonly severity: Severity;
  readonly code: string;
  /** Relative to the Secret: ['data', 'tls.crt'] or ['stringData', 'tls.crt']. */
  readonly path: FieldPath;
  readonly message: string;
  readonly fix: string;
}

/** The three keys of one certificate format. */
export interface CertificateKeys {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export const TLS_SECRET_KEYS: CertificateKeys = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' };
export const ISTIO_GENERIC_KEYS: CertificateKeys = { cert: 'cert', key: 'key', ca: 'cacert' };

export interface PemBlock {
  readonly label: string;
  /** The whole block, BEGIN and END lines included (what X509Certificate wants). */
  readonly text: string;
}

const PEM_BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The complete PEM blocks of `text`, in order; text between blocks is skipped, as Go's pem.Decode does. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK_RE)].map((m) => ({ label: m[1], text: m[0] }));
}

function describe(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ') || 'no subject';
}

/** A value encoded twice (base64 of base64 of the PEM file) is the commonest slip with `data`. */
function doubleEncoded(text: string): boolean {
  const compact = text.replace(/\s/g, '');
  return compact.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact) && Buffer.from(compact, 'base64').toString('latin1').includes('-----BEGIN');
}

function noPem(name: string, text: string, what: 'certificate' | 'private key', example: string): { message: string; fix: string } {
  if (doubleEncoded(text)) {
    return { message: `${name} is base64-encoded twice: decoding it gives base64 text, not a PEM ${what}`, fix: `encode the PEM file only once (base64 -w0 file.pem), or put the PEM text under stringData` };
  }
  const other = what === 'certificate' ? /PRIVATE KEY-----/.test(text) : /-----BEGIN CERTIFICATE-----/.test(text);
  if (other) {
    return {
      message: `${name} holds a ${what === 'certificate' ? 'private key' : 'certificate'}, not a PEM ${what}`,
      fix: 'check that the certificate and the key are not swapped',
    };
  }
  return { message: `${name} holds no PEM ${what} (a block starting with ${example})`, fix: `put the ${what} here in PEM form (openssl ${what === 'certificate' ? 'x509' : 'pkey'} -inform DER -in file.der converts a DER file)` };
}

/** Parses every certificate of a PEM bundle; reports blocks that do not parse and bundles without one. */
export function parseCertificates(name: string, text: string, path: FieldPath): { certs: X509Certificate[]; findings: CertificateFinding[] } {
  const findings: CertificateFinding[] = [];
  const blocks = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  const begun = text.split('-----BEGIN CERTIFICATE-----').length - 1;
  if (begun > blocks.length) {
    findings.push({ severity: 'error', code: 'invalid-certificate', path, message: `a -----BEGIN CERTIFICATE----- block in ${name} has no -----END CERTIFICATE----- line`, fix: 'copy the whole PEM text, END line included' });
    return { certs: [], findings };
  }
  if (blocks.length === 0) {
    findings.push({ severity: 'error', code: 'invalid-certificate', path, ...noPem(name, text, 'certificate', '-----BEGIN CERTIFICATE-----') });
    return { certs: [], findings };
  }
  const certs: X509Certificate[] = [];
  blocks.forEach((b, i) => {
    try {
      certs.push(new X509Certificate(b.text));
    } catch (err) {
      const which = blocks.length === 1 ? `the certificate in ${name}` : `certificate ${i + 1} of ${blocks.length} in ${name}`;
      findings.push({ severity: 'error', code: 'invalid-certificate', path, message: `${which} cannot be parsed: ${(err as Error).message}`, fix: 'replace it with the PEM text of the certificate, unmodified' });
    }
  });
  return { certs: findings.length > 0 ? [] : certs, findings };
}

/** Warnings for certificates outside their validity period at `now`. */
export function checkValidity(name: string, certs: readonly X509Certificate[], path: FieldPath, now: Date): CertificateFinding[] {
  const out: CertificateFinding[] = [];
  certs.forEach((cert, i) => {
    const which = certs.length === 1 ? `the certificate in ${name}` : `certificate ${i + 1} of ${certs.length} in ${name}`;
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    if (now.getTime() > to.getTime()) {
      out.push({ severity: 'warning', code: 'certificate-expired', path, message: `${which} (${describe(cert)}) expired on ${to.toISOString()}; clients will refuse it`, fix: 'renew the certificate and put the new certificate and key here' });
    } else if (now.getTime() < from.getTime()) {
      out.push({ severity: 'warning', code: 'certificate-not-yet-valid', path, message: `${which} (${describe(cert)}) is not valid before ${from.toISOString()}; clients will refuse it until then`, fix: 'check the clock of the machine that issued it, or issue it again' });
    }
  });
  return out;
}

/** Parses a PEM private key (PKCS#8, PKCS#1 or SEC1), refusing encrypted keys with a precise message. */
export function parsePrivateKey(name: string, text: string, path: FieldPath): { key?: KeyObject; findings: CertificateFinding[] } {
  const blocks = pemBlocks(text).filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (blocks.length === 0) {
    return { findings: [{ severity: 'error', code: 'invalid-private-key', path, ...noPem(name, text, 'private key', '-----BEGIN PRIVATE KEY-----') }] };
  }
  if (blocks[0].label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type: 4,ENCRYPTED$/m.test(blocks[0].text)) {
    return {
      findings: [{ severity: 'error', code: 'invalid-private-key', path, message: `the private key in ${name} is encrypted, and Strait has no passphrase for it`, fix: 'store it decrypted (openssl pkey -in key.pem -out plain-key.pem)' }],
    };
  }
  try {
    return { key: createPrivateKey({ key: blocks[0].text, format: 'pem' }), findings: [] };
  } catch (err) {
    return { findings: [{ severity: 'error', code: 'invalid-private-key', path, message: `the private key in ${name} cannot be parsed: ${(err as Error).message}`, fix: 'replace it with the PEM text of the key, unmodified' }] };
  }
}

/** A Secret key's value as text, and where the manifest wrote it. */
export interface SecretValue {
  readonly text: string;
  readonly path: FieldPath;
}

/** The values of a Secret by key: `stringData` merged over the decoded `data` (see secret.ts). */
export type SecretValues = ReadonlyMap<string, SecretValue>;

function checkKeys(s: SecretValues, keys: CertificateKeys, checkKey: boolean, now: Date): CertificateFinding[] {
  const out: CertificateFinding[] = [];
  const cert = s.get(keys.cert);
  const key = checkKey ? s.get(keys.key) : undefined;
  const ca = s.get(keys.ca);
  const chain = cert ? parseCertificates(keys.cert, cert.text, cert.path) : undefined;
  const priv = key ? parsePrivateKey(keys.key, key.text, key.path) : undefined;
  if (chain && cert) out.push(...chain.findings, ...checkValidity(keys.cert, chain.certs, cert.path, now));
  if (priv) out.push(...priv.findings);
  const leaf = chain?.certs[0];
  if (leaf && priv?.key && key && !leaf.checkPrivateKey(priv.key)) {
    out.push({
      severity: 'error',
      code: 'key-mismatch',
      path: key.path,
      message: `the private key in ${keys.key} does not belong to the certificate in ${keys.cert} (${describe(leaf)})`,
      fix: `put the key that was generated with this certificate in ${keys.key}, or the matching certificate in ${keys.cert}`,
    });
  }
  if (ca) out.push(...parseCertificates(keys.ca, ca.text, ca.path).findings);
  return out;
}

/**
 * Certificate checks for one Secret. The tls.* keys are checked in every Secret that has them
 * (an Opaque Secret with tls.crt and tls.key also serves an Ingress). Istio's generic keys are
 * checked in Opaque Secrets that have `cert` or `cacert`; `key` alone is not enough, since
 * plenty of Secrets hold an API key under that name, and it is checked only beside `cert`.
 */
export function checkSecretCertificates(type: string, s: SecretValues, now: Date): CertificateFinding[] {
  const out = checkKeys(s, TLS_SECRET_KEYS, true, now);
  if (type === 'Opaque') {
    const has = (k: string) => s.has(k);
    if (has(ISTIO_GENERIC_KEYS.cert) || has(ISTIO_GENERIC_KEYS.ca)) out.push(...checkKeys(s, ISTIO_GENERIC_KEYS, has(ISTIO_GENERIC_KEYS.cert), now));
  }
  return out;
}
