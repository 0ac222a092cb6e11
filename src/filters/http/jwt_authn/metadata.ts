// The dynamic metadata this filter leaves for later filters (RBAC) and the access log, and a
// reader for it. The shape is Envoy's: under the namespace `envoy.filters.http.jwt_authn`, one
// entry per verified token's provider, keyed by that provider's payload_in_metadata, holding the
// token's payload as JSON (claims as they are in the token; the provider's space-delimited
// claims, `scope` and `permission` with Istio, as lists of words). Istio writes
// payload_in_metadata: "payload" (older Istio: the issuer), and its RBAC policies read
// `[payload][iss]`, `[payload][sub]`, `[payload][aud]`, `[payload][azp]` and claims.
//
// Written only when the whole requirement passed and at least one token was verified; an
// anonymous request (no token, allowed by allow_missing) leaves no entry.

import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { lookupClaim } from './authenticator.js';

export const JWT_AUTHN_METADATA_NAMESPACE = 'envoy.filters.http.jwt_authn';

/** The verified payload stored under `key` (Istio: "payload"), if any. */
export function verifiedPayload(info: StreamInfo, key: string): Readonly<Record<string, unknown>> | undefined {
  const v = info.dynamicMetadata[JWT_AUTHN_METADATA_NAMESPACE]?.[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Istio's request principal `<iss>/<sub>` of a verified payload, or undefined without both. */
export function requestPrincipal(payload: Readonly<Record<string, unknown>>): string | undefined {
  const { iss, sub } = payload;
  return typeof iss === 'string' && typeof sub === 'string' ? `${iss}/${sub}` : undefined;
}

/**
 * A claim by path, Istio's `request.auth.claims[a][b]` as ['a', 'b'] (a string path `a.b` is
 * split on dots as Envoy's claim_to_headers does).
 */
export function claimAt(payload: Readonly<Record<string, unknown>>, path: string | readonly string[]): unknown {
  if (typeof path === 'string') return lookupClaim(payload, path);
  let cur: unknown = payload;
  for (const part of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
