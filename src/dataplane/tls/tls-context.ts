// Server-side TLS settings from DownstreamTlsContext and certificate PEMs. The defaults are
// Envoy's for servers: TLS 1.2 minimum, AEAD-only cipher suites for TLS 1.2 (TLS 1.3 suites are
// all AEAD), X25519 and P-256 key exchange. A filter chain's TLS server is built once and only
// gets a new context when its certificate or settings change (creating one is expensive with
// OpenSSL 3, nodejs/node#43128).

import tls from 'node:tls';
import type { CommonTlsContext, TlsVersion } from '../../xds/resources.js';
import { ConfigError } from '../config/durations.js';

/** Envoy's default server cipher list for TLS 1.2 (no CBC, no RSA key exchange, no SHA-1). */
export const DEFAULT_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
];

const VERSIONS: Readonly<Record<TlsVersion, tls.SecureVersion | undefined>> = {
  TLS_AUTO: undefined,
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

export interface CertificatePair {
  readonly certificateChain: string;
  readonly privateKey: string;
}

/** Protocol settings of a context; OpenSSL takes these from the listener, not the SNI context. */
export interface TlsOptions {
  readonly minVersion: tls.SecureVersion;
  readonly maxVersion: tls.SecureVersion;
  readonly ciphers: string;
  readonly ecdhCurve: string;
}

export function tlsOptions(where: string, common: CommonTlsContext): TlsOptions {
  const params = common.tlsParams ?? {};
  const minVersion = VERSIONS[params.tlsMinimumProtocolVersion ?? 'TLS_AUTO'] ?? 'TLSv1.2';
  const maxVersion = VERSIONS[params.tlsMaximumProtocolVersion ?? 'TLS_AUTO'] ?? 'TLSv1.3';
  if (minVersion === 'TLSv1' || minVersion === 'TLSv1.1') throw new ConfigError(`${where}: TLS versions below 1.2 are not offered`);
  return {
    minVersion,
    maxVersion,
    ciphers: (params.cipherSuites?.length ? params.cipherSuites : DEFAULT_CIPHERS).join(':'),
    ecdhCurve: (params.ecdhCurves?.length ? params.ecdhCurves : ['X25519', 'P-256']).join(':'),
  };
}

/** Throws ConfigError when OpenSSL cannot use the pair with these settings. */
export function checkCertificate(where: string, pair: CertificatePair, o: TlsOptions): void {
  try {
    tls.createSecureContext({ cert: pair.certificateChain, key: pair.privateKey, minVersion: o.minVersion, maxVersion: o.maxVersion, ciphers: o.ciphers, ecdhCurve: o.ecdhCurve });
  } catch (e) {
    throw new ConfigError(`${where}: cannot use the certificate: ${(e as Error).message}`);
  }
}

/** Options for a TLS server presenting `pair` (Node's tls.createServer / setSecureContext). */
export function serverTlsOptions(pair: CertificatePair, o: TlsOptions): tls.SecureContextOptions {
  return { cert: pair.certificateChain, key: pair.privateKey, minVersion: o.minVersion, maxVersion: o.maxVersion, ciphers: o.ciphers, ecdhCurve: o.ecdhCurve, honorCipherOrder: true };
}
