// RequestAuthentication → Envoy's JWT authentication filter (RA-01..RA-09), as Istio's
// pilot/pkg/security/authn/policy_applier.go writes it:
//
// - the jwtRules of every RequestAuthentication that applies to the proxy, sorted by issuer,
//   each one provider `origins-<i>`;
// - a token, when present, must be valid for one of the providers (else 401), and a request
//   without a token passes with no identity (RA-09): one provider → requires_any
//   [provider, allow_missing]; several → requires_any [each provider, requires_all [each
//   (provider or allow_missing)]], the outer "any provider" case covering providers that read
//   the same header (where the AND of all would always fail);
// - the verified payload goes to dynamic metadata `envoy.filters.http.jwt_authn` → `payload`
//   (JWT_PAYLOAD_KEY), where the RBAC filter's request.auth.* matchers read it (Istio dropped its
//   own istio_authn filter for this);
// - keys: `jwks` inline → local_jwks; `jwksUri` → remote_jwks fetched by the proxy through the
//   cluster `outbound|<port>||<host>` of the URI (5s timeout unless the rule has one, cached 5
//   minutes: Istio's values); neither → the URI OIDC discovery found for the issuer (the control
//   plane's oidc-discovery.ts, as istiod does), and until it is found an empty key set, so the
//   rule's tokens are rejected (fail closed, as Istio does when its fetch fails).

import type { JWTRule } from '../../../config/types.js';
import type { HttpFilter, JwtAuthentication, JwtProvider, JwtRequirement } from '../../../xds/resources.js';
import { protoDuration } from '../destination-policy.js';
import { outboundClusterName } from '../names.js';
import { JWT_PAYLOAD_KEY } from './authz-matchers.js';
import { JWT_AUTHN_FILTER, JWT_AUTHN_TYPE } from './envoy-types.js';

/** The jwt_authn config this generator writes: its providers and its one rule are always there. */
export interface IstioJwtAuthentication extends JwtAuthentication {
  '@type': typeof JWT_AUTHN_TYPE;
  providers: Record<string, JwtProvider>;
  rules: { match: { prefix: string }; requires: JwtRequirement }[];
}

export interface JwtFilterOptions {
  /**
   * Re-pick the route after the token is verified, so routes can match on claims: Istio sets it
   * on gateways (every proxy but sidecars).
   */
  readonly clearRouteCache: boolean;
  /** jwks_uri found by OIDC discovery for issuers whose rules have neither jwksUri nor jwks. */
  readonly discoveredJwksUris?: ReadonlyMap<string, string>;
}

/** A key set with no keys: no token verifies against it. */
export const EMPTY_JWKS = '{"keys":[]}';
const DEFAULT_JWKS_TIMEOUT = '5s';
const JWKS_CACHE_DURATION = '300s';

/** Claims whose space-separated string value is split into a list: Istio always adds these two. */
const DEFAULT_SPACE_DELIMITED = ['permission', 'scope'];

/** The cluster the proxy fetches a JWKS URI through, or undefined for a URI Istio cannot parse. */
export function jwksCluster(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  // URL keeps brackets around IPv6 hosts; Istio's host name has none.
  return outboundClusterName(port, '', u.hostname.replace(/^\[(.*)\]$/, '$1'));
}

function provider(rule: JWTRule, o: JwtFilterOptions): JwtProvider {
  // Without an issuer (Istio then needs jwksUri), Envoy accepts a token from any issuer.
  const p: JwtProvider = { ...(rule.issuer ? { issuer: rule.issuer } : {}), payloadInMetadata: JWT_PAYLOAD_KEY };
  if (rule.audiences.length) p.audiences = [...rule.audiences];
  const timeout = rule.timeout === undefined ? DEFAULT_JWKS_TIMEOUT : protoDuration(rule.timeout.ms);
  const uri = rule.jwks ? undefined : rule.jwksUri ?? (rule.issuer ? o.discoveredJwksUris?.get(rule.issuer) : undefined);
  const cluster = uri ? jwksCluster(uri) : undefined;
  if (uri && cluster) p.remoteJwks = { httpUri: { uri, cluster, timeout }, cacheDuration: JWKS_CACHE_DURATION };
  else p.localJwks = { inlineString: rule.jwks || EMPTY_JWKS };
  if (rule.forwardOriginalToken) p.forward = true;
  if (rule.fromHeaders.length) p.fromHeaders = rule.fromHeaders.map((h) => (h.prefix ? { name: h.name, valuePrefix: h.prefix } : { name: h.name }));
  if (rule.fromParams.length) p.fromParams = [...rule.fromParams];
  if (rule.fromCookies.length) p.fromCookies = [...rule.fromCookies];
  if (rule.outputPayloadToHeader) p.forwardPayloadHeader = rule.outputPayloadToHeader;
  p.normalizePayloadInMetadata = { spaceDelimitedClaims: [...new Set([...rule.spaceDelimitedClaims, ...DEFAULT_SPACE_DELIMITED])].sort() };
  if (rule.outputClaimToHeaders.length) p.claimToHeaders = rule.outputClaimToHeaders.map((c) => ({ headerName: c.header, claimName: c.claim }));
  if (o.clearRouteCache) p.clearRouteCache = true;
  return p;
}

/** The jwt_authn filter config for the rules that apply to a proxy, or undefined when there are none. */
export function jwtAuthentication(rules: readonly JWTRule[], o: JwtFilterOptions): IstioJwtAuthentication | undefined {
  if (rules.length === 0) return undefined;
  // Stable sort: rules of the same issuer keep their policies' order.
  const iss = (r: JWTRule): string => r.issuer ?? '';
  const sorted = [...rules].sort((a, b) => (iss(a) < iss(b) ? -1 : iss(a) > iss(b) ? 1 : 0));
  const providers: Record<string, JwtProvider> = {};
  const eachOrMissing: JwtRequirement[] = [];
  const each: JwtRequirement[] = [];
  sorted.forEach((r, i) => {
    const name = `origins-${i}`;
    providers[name] = provider(r, o);
    each.push({ providerName: name });
    eachOrMissing.push({ requiresAny: { requirements: [{ providerName: name }, { allowMissing: {} }] } });
  });
  const requires: JwtRequirement = eachOrMissing.length === 1 ? eachOrMissing[0]! : { requiresAny: { requirements: [...each, { requiresAll: { requirements: eachOrMissing } }] } };
  return { '@type': JWT_AUTHN_TYPE, providers, rules: [{ match: { prefix: '/' }, requires }], bypassCorsPreflight: true };
}

export function jwtAuthnFilter(rules: readonly JWTRule[], o: JwtFilterOptions): HttpFilter | undefined {
  const config = jwtAuthentication(rules, o);
  return config && { name: JWT_AUTHN_FILTER, typedConfig: config as unknown as HttpFilter['typedConfig'] };
}
