// Verifies the tokens one requirement found (Envoy's jwt_authn Authenticator): parse, issuer
// allowed at the token's location, time (nbf/exp with skew), audiences, then the signature
// against the provider's keys (fetched first when remote and not cached). A verified token's
// provider then acts on the request: payload header, claim headers, token removal, and the
// payload for dynamic metadata (collected in the context; the filter writes it only when the
// whole requirement passes).
//
// Every token found is verified, last found first, as Envoy does, and all must pass: the first
// failure ends it (allow_missing forgives only the absence of any token); under allow_failed all
// are tried, the verified ones count, and the request passes whatever the outcome.
//
// Stays synchronous while no token is present (the common anonymous request costs no promise);
// a token's signature check is asynchronous (WebCrypto via jose).

import type { FilterRequest } from '../api.js';
import type { TokenLocation } from './extractor.js';
import { checkTime, parseJwt } from './jwt.js';
import type { Jwt } from './jwt.js';
import { verifySignature } from './jwks.js';
import type { Jwks } from './jwks.js';
import type { KeySource } from './key-source.js';
import type { AudienceChecker, Provider, ProviderIndex } from './provider.js';
import type { Status } from './status.js';

export type MaybePromise<T> = T | Promise<T>;

/** One request's verification: its request, its time, and what passes on to the metadata. */
export interface VerifyContext {
  readonly req: FilterRequest;
  /** Seconds since the epoch, from the injected clock. */
  readonly nowSeconds: number;
  /** Metadata entries of verified tokens (payload_in_metadata / header_in_metadata keys). */
  readonly metadata: Record<string, unknown>;
  /** Set when a verified token's provider asks for the route to be picked again. */
  clearRouteCache?: boolean;
  /**
   * Key sources whose fetch failed during this request: Istio's requirement verifies a token
   * twice (provider, then allow_missing), and the second pass must not fetch again.
   */
  failedSources?: Set<KeySource>;
}

export interface AuthenticatorOptions {
  /** The one provider tokens must belong to; null: any configured provider, by `iss`. */
  readonly provider: Provider | null;
  /** provider_and_audiences: these audiences instead of the provider's. */
  readonly audiences: AudienceChecker | null;
  readonly allowFailed: boolean;
  readonly allowMissing: boolean;
  readonly index: ProviderIndex;
}

export function authenticate(ctx: VerifyContext, found: readonly TokenLocation[], o: AuthenticatorOptions): MaybePromise<Status> {
  const tokens = [...found];
  const done = (status: Status): MaybePromise<Status> => {
    // Envoy also goes on after a failure under allow_missing, so the last token decides and a
    // bad token after a good one is forwarded as if verified; Strait stops at the first failure
    // unless failures are allowed (allow_missing forgives a missing token, nothing else).
    if ((status !== 'Ok' && !o.allowFailed) || tokens.length === 0) {
      if (o.allowFailed) return 'Ok';
      if (o.allowMissing && status === 'JwtMissed') return 'Ok';
      return status;
    }
    return next();
  };
  const next = (): MaybePromise<Status> => {
    const r = verifyToken(ctx, tokens.pop()!, o);
    return typeof r === 'string' ? done(r) : r.then(done);
  };
  return tokens.length === 0 ? done('JwtMissed') : next();
}

function verifyToken(ctx: VerifyContext, loc: TokenLocation, o: AuthenticatorOptions): MaybePromise<Status> {
  const jwt = parseJwt(loc.token);
  if (typeof jwt === 'string') return jwt;
  if (!loc.isIssuerAllowed(jwt.iss)) return 'JwtUnknownIssuer';
  const provider = o.provider ?? o.index.byIssuer(jwt.iss);
  if (!provider) return 'JwtUnknownIssuer';
  const time = checkTime(jwt, ctx.nowSeconds, provider.clockSkewSeconds);
  if (time !== 'Ok') return time;
  if (!(o.audiences ?? provider.audiences).allows(jwt.audiences)) return 'JwtAudienceNotAllowed';

  const keys = provider.keys;
  const cached = keys.cached();
  let verified: Promise<Status>;
  if (cached) {
    verified = verifySignature(jwt, cached).then((st) => (st === 'JwksKidAlgMismatch' ? retryWithFreshKeys(jwt, provider, st) : st));
  } else if (keys.remote) {
    if (ctx.failedSources?.has(keys)) return 'JwksFetchFail';
    verified = keys.load().then((r) => {
      if (typeof r !== 'string') return verifySignature(jwt, r);
      (ctx.failedSources ??= new Set()).add(keys);
      return r;
    });
  } else {
    // An inline key set without one usable key: nothing can verify (Envoy's JwksNoValidKeys).
    return 'JwksNoValidKeys';
  }
  return verified.then((st) => {
    if (st === 'Ok') onVerified(ctx, jwt, loc, provider);
    return st;
  });
}

/** A `kid` unknown to a cached remote set: one early re-fetch (rate-limited by the source). */
function retryWithFreshKeys(jwt: Jwt, provider: Provider, original: Status): Status | Promise<Status> {
  const fresh = provider.keys.refetchForUnknownKid();
  if (!fresh) return original;
  return fresh.then((r: Jwks | Status) => (typeof r === 'string' ? original : verifySignature(jwt, r)));
}

/** Envoy's handleGoodJwt: what a verified token does to the request and the metadata. */
function onVerified(ctx: VerifyContext, jwt: Jwt, loc: TokenLocation, p: Provider): void {
  const headers = ctx.req.headers;
  if (p.forwardPayloadHeader !== '') {
    addHeader(headers, p.forwardPayloadHeader, p.padForwardPayloadHeader ? padBase64(jwt.payloadB64) : jwt.payloadB64);
  }
  for (const c of p.claimToHeaders) {
    const v = claimHeaderValue(lookupClaim(jwt.payload, c.claim));
    if (v !== '') addHeader(headers, c.header, v);
  }
  if (!p.forward) loc.remove(ctx.req);
  if (p.headerInMetadata !== '') ctx.metadata[p.headerInMetadata] = jwt.header;
  if (p.payloadInMetadata !== '') ctx.metadata[p.payloadInMetadata] = normalizedPayload(jwt.payload, p.spaceDelimitedClaims);
  if (p.clearRouteCache) ctx.clearRouteCache = true;
}

function addHeader(headers: FilterRequest['headers'], name: string, value: string): void {
  const prev = headers[name];
  if (prev === undefined) headers[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else headers[name] = [prev, value];
}

function padBase64(s: string): string {
  return s.length % 4 === 0 ? s : s + '='.repeat(4 - (s.length % 4));
}

/** StructUtils::GetValue: `a.b.c` walks nested objects; undefined when any step is missing. */
export function lookupClaim(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * A claim as Envoy writes it into a header: strings as they are, whole non-negative numbers as
 * integers and other numbers as C's "%f", booleans as true/false, objects and lists as base64 of
 * their JSON; '' (no header) for null or a missing claim.
 */
export function claimHeaderValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v < 18446744073709551616 ? BigInt(v).toString() : v.toFixed(6);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object' && v !== null) return Buffer.from(JSON.stringify(v)).toString('base64');
  return '';
}

/** normalize_payload_in_metadata: listed string claims become lists of their words. */
function normalizedPayload(payload: Readonly<Record<string, unknown>>, claims: readonly string[]): Readonly<Record<string, unknown>> {
  let out: Record<string, unknown> | undefined;
  for (const c of claims) {
    const v = payload[c];
    if (!Object.hasOwn(payload, c) || typeof v !== 'string') continue;
    const words = v.split(' ').filter((w) => w !== '');
    if (words.length === 0) continue;
    out ??= { ...payload };
    out[c] = words;
  }
  return out ?? payload;
}
