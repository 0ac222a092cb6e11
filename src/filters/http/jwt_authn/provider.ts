// A compiled JwtProvider: everything needed to verify a token of one issuer and to act on it.
// Built once per config by config.ts; shared, read-only, by every request.

import type { LocationSpec } from './extractor.js';
import type { KeySource } from './key-source.js';

export interface ClaimToHeader {
  readonly header: string;
  /** Dot-separated path into the payload (`a.b` reads payload.a.b), as Envoy's StructUtils. */
  readonly claim: string;
}

export interface Provider {
  /** The key in JwtAuthentication.providers. */
  readonly name: string;
  /** '' accepts any `iss` (Envoy: an empty issuer matches every token). */
  readonly issuer: string;
  readonly audiences: AudienceChecker;
  readonly keys: KeySource;
  /** Keep the token in the request (false: remove it before forwarding; RA-07). */
  readonly forward: boolean;
  /** Header that receives the payload's base64url text ('' = none; RA-06). */
  readonly forwardPayloadHeader: string;
  readonly padForwardPayloadHeader: boolean;
  /** Dynamic metadata key for the verified payload ('' = none). */
  readonly payloadInMetadata: string;
  /** Dynamic metadata key for the token's JOSE header ('' = none). */
  readonly headerInMetadata: string;
  /** String claims written to metadata as lists of their space-separated words (RA-08). */
  readonly spaceDelimitedClaims: readonly string[];
  readonly clockSkewSeconds: number;
  readonly claimToHeaders: readonly ClaimToHeader[];
  /** Pick the route again once the filters are done, so routes can match on the claims. */
  readonly clearRouteCache: boolean;
  readonly locations: LocationSpec;
}

const HTTP = 'http://';
const HTTPS = 'https://';

/** jwt_verify_lib's sanitizeAudience: an http(s):// scheme and one trailing slash do not count. */
function sanitizeAudience(aud: string): string {
  if (aud === '') return aud;
  let s = aud;
  if (s.startsWith(HTTP)) s = s.slice(HTTP.length);
  else if (s.startsWith(HTTPS)) s = s.slice(HTTPS.length);
  if (aud.endsWith('/')) s = s.slice(0, -1);
  return s;
}

/** CheckAudience: no configured audiences accepts any token; else one `aud` must be listed. */
export class AudienceChecker {
  private readonly allowed: ReadonlySet<string>;

  constructor(audiences: readonly string[]) {
    this.allowed = new Set(audiences.map(sanitizeAudience));
  }

  allows(tokenAudiences: readonly string[]): boolean {
    if (this.allowed.size === 0) return true;
    return tokenAudiences.some((a) => this.allowed.has(sanitizeAudience(a)));
  }
}

/** Providers by issuer, for requirements that accept any configured provider (allow_missing...). */
export class ProviderIndex {
  private readonly byIssuerMap = new Map<string, Provider>();

  constructor(readonly all: ReadonlyMap<string, Provider>) {
    // Envoy keeps the first provider of each issuer.
    for (const p of all.values()) if (!this.byIssuerMap.has(p.issuer)) this.byIssuerMap.set(p.issuer, p);
  }

  /** JwksCache::findByIssuer: the issuer's provider, else a provider with an empty issuer. */
  byIssuer(iss: string): Provider | undefined {
    return this.byIssuerMap.get(iss) ?? (iss !== '' ? this.byIssuerMap.get('') : undefined);
  }
}
