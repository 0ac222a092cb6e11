// Client-side TLS SecureContexts by content. Building one costs a lot on OpenSSL 3
// (nodejs/node#43128, performance.md §4.4), so every cluster with the same CA, client
// certificate and protocol settings shares one context, and a config push that changes none of
// them reuses it. After each commit the cluster manager keeps only the contexts its clusters use.

import { createHash, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { ConfigError } from '../../config/durations.js';
import type { TlsOptions } from '../../tls/tls-context.js';

export interface ClientContextSpec {
  /** Trusted CA bundle (PEM); undefined means Node's bundled root CAs. */
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly options: TlsOptions;
}

export class SecureContextCache {
  private readonly cache = new Map<string, tls.SecureContext>();

  static keyOf(spec: ClientContextSpec): string {
    const o = spec.options;
    return createHash('sha256')
      .update(spec.ca ?? '\u0000system')
      .update('\u0000')
      .update(spec.cert ?? '')
      .update('\u0000')
      .update(spec.key ?? '')
      .update(`\u0000${o.minVersion}|${o.maxVersion}|${o.ciphers}|${o.ecdhCurve}`)
      .digest('hex');
  }

  /** Builds (or reuses) a context; throws ConfigError naming `where` on bad input. */
  get(where: string, spec: ClientContextSpec): tls.SecureContext {
    const key = SecureContextCache.keyOf(spec);
    const hit = this.cache.get(key);
    if (hit) return hit;
    if (spec.ca !== undefined) checkCertificates(`${where} trustedCa`, spec.ca);
    if (spec.cert !== undefined) checkCertificates(`${where} client certificate`, spec.cert);
    let ctx: tls.SecureContext;
    try {
      const { minVersion, maxVersion, ciphers, ecdhCurve } = spec.options;
      ctx = tls.createSecureContext({ ca: spec.ca, cert: spec.cert, key: spec.key, minVersion, maxVersion, ciphers, ecdhCurve });
    } catch (e) {
      throw new ConfigError(`${where}: cannot use the TLS settings: ${(e as Error).message}`);
    }
    this.cache.set(key, ctx);
    return ctx;
  }

  /** Drops every context but those of `keep` (the keys of the committed clusters). */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const k of this.cache.keys()) if (!keep.has(k)) this.cache.delete(k);
  }

  get size(): number {
    return this.cache.size;
  }
}

/** Node accepts garbage as a CA silently; parse every PEM block so bad input is a NACK. */
function checkCertificates(where: string, pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new ConfigError(`${where}: no PEM certificate found`);
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      throw new ConfigError(`${where}: invalid certificate: ${(e as Error).message}`);
    }
  }
}
