// The admin endpoint's /certs: the certificates a proxy runs with, in the shape of Envoy's
// /certs (envoy.admin.v3.Certificates: `ca_cert` and `cert_chain` lists of CertificateDetails with
// path, serial_number, subject_alt_names, days_until_expiration, valid_from, expiration_time),
// one entry per secret and named after it (`default`, `ROOTCA`, `kubernetes://...`) as
// `istioctl proxy-config secret` lists them. Read from the secrets in use, whoever delivered them
// (SDS, the identity agent, static config), so it always shows what new handshakes present.

import { X509Certificate } from 'node:crypto';
import { splitPemCertificates } from '../../ca/pem.js';
import type { Secret } from '../../xds/resources.js';

export interface CertificateDetails {
  readonly path: string;
  /** Lower-case hex, as Envoy prints it. */
  readonly serial_number: string;
  readonly subject_alt_names: readonly San[];
  /** Whole days left (0 once expired), a string as in Envoy's JSON (uint64). */
  readonly days_until_expiration: string;
  readonly valid_from: string;
  readonly expiration_time: string;
}

export interface CertificateEntry {
  /** The secret's name (Strait's addition to Envoy's shape). */
  readonly name: string;
  readonly ca_cert: readonly CertificateDetails[];
  readonly cert_chain: readonly CertificateDetails[];
}

const DAY_MS = 864e5;

type San = { uri: string } | { dns: string } | { ip_address: string };

function sans(c: X509Certificate): San[] {
  const list: San[] = [];
  for (const part of (c.subjectAltName ?? '').split(', ')) {
    const i = part.indexOf(':');
    if (i < 0) continue;
    const [kind, value] = [part.slice(0, i), part.slice(i + 1)];
    if (kind === 'URI') list.push({ uri: value });
    else if (kind === 'DNS') list.push({ dns: value });
    else if (kind === 'IP Address') list.push({ ip_address: value });
  }
  return list;
}

export function certificateDetails(pem: string, now: number): CertificateDetails {
  const c = new X509Certificate(pem);
  const notAfter = new Date(c.validTo).getTime();
  return {
    path: '<inline>',
    serial_number: c.serialNumber.toLowerCase(),
    subject_alt_names: sans(c),
    days_until_expiration: String(Math.max(0, Math.floor((notAfter - now) / DAY_MS))),
    valid_from: new Date(c.validFrom).toISOString(),
    expiration_time: new Date(notAfter).toISOString(),
  };
}

function details(pem: string | undefined, now: number): CertificateDetails[] {
  const out: CertificateDetails[] = [];
  for (const p of splitPemCertificates(pem ?? '')) {
    try {
      out.push(certificateDetails(p, now));
    } catch {
      // A certificate the proxy could not use was rejected with its config; nothing to show.
    }
  }
  return out;
}

/** Every secret that holds certificates, by name. */
export function certsView(secrets: ReadonlyMap<string, Secret>, now: number): { certificates: CertificateEntry[] } {
  const certificates: CertificateEntry[] = [];
  for (const [name, s] of [...secrets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const chain = details(s.tlsCertificate?.certificateChain?.inlineString, now);
    const ca = details(s.validationContext?.trustedCa?.inlineString, now);
    if (chain.length || ca.length) certificates.push({ name, ca_cert: ca, cert_chain: chain });
  }
  return { certificates };
}
