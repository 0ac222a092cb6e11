// PEM helpers on node:crypto alone. Kept apart from x509.ts, whose certificate library
// (@peculiar/x509) costs a proxy ~10 MB of memory: a proxy without a workload identity needs
// only these (its admin /certs page), and loads x509.ts only when it has an identity.

import { X509Certificate } from 'node:crypto';

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle, each normalised to end with one newline. */
export function splitPemCertificates(pem: string): string[] {
  return (pem.match(CERT_RE) ?? []).map((c) => `${c}\n`);
}

/** SHA-256 fingerprint as `AA:BB:...` (what `openssl x509 -fingerprint -sha256` prints). */
export function fingerprint256(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}
