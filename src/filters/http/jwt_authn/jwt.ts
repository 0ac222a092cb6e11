// One JWT taken apart the way Envoy's jwt_verify_lib does it (Jwt::parseFromString and
// verifyTimeConstraint), so a malformed token fails with the same status, and so the same token
// is accepted or refused by the same rules: three dot-separated base64url sections, a JSON-object
// header with a string `alg` from the implemented list and an optional string `kid`, a
// JSON-object payload whose registered claims have the right types, and `nbf`/`exp` checked
// against the injected clock with a clock skew. `iat` is type-checked only, as in Envoy (it is
// not a validity claim, RFC 7519 §4.1.6).
//
// Two hardening rules Envoy does not have: a token longer than MAX_TOKEN_BYTES is refused before
// it is decoded (HTTP/2 header lists can be larger than the 16 KiB HTTP/1.1 head Node accepts),
// and a header or payload with a repeated member name is refused, because two JSON parsers
// (ours, the upstream's) may pick different values for it (RFC 8725 §2.4 parser differentials).
//
// Nothing here checks a signature; jwks.ts does, after the issuer and the time have passed.

import type { Status } from './status.js';
import { hasDuplicateKeys } from './strict-json.js';

/** Tokens longer than this are refused: the HTTP/1.1 head limit, applied to HTTP/2 too. */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** jwt_verify_lib's kClockSkewInSecond, the default of JwtProvider.clock_skew_seconds. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/** The algorithms jwt_verify_lib implements (anything else, `none` included, is refused). */
const IMPLEMENTED_ALGS = new Set(['ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA']);

export interface Jwt {
  /** The three sections as received (the signing input is `${headerB64}.${payloadB64}`). */
  readonly headerB64: string;
  readonly payloadB64: string;
  readonly signatureB64: string;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly alg: string;
  /** '' when absent. */
  readonly kid: string;
  /** '' when absent. */
  readonly iss: string;
  readonly sub: string;
  /** `aud` as a list (a string `aud` is a list of one). */
  readonly audiences: readonly string[];
  /** Seconds since the epoch; 0 when absent. */
  readonly exp: number;
  readonly nbf: number;
  readonly signatureLength: number;
}

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** absl::WebSafeBase64Unescape: the URL-safe alphabet, padding optional; undefined if invalid. */
export function decodeBase64Url(s: string): Buffer | undefined {
  if (!B64URL.test(s)) return undefined;
  const pad = s.indexOf('=');
  const body = pad < 0 ? s : s.slice(0, pad);
  // A padded input must be whole quads; one leftover character can never encode a byte.
  if (pad >= 0 && s.length % 4 !== 0) return undefined;
  if (body.length % 4 === 1) return undefined;
  return Buffer.from(body, 'base64url');
}

function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  const text = bytes.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  // A protobuf Struct (what Envoy parses into) is a JSON object and nothing else.
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  if (hasDuplicateKeys(text)) return undefined;
  return v as Record<string, unknown>;
}

type Found<T> = T | 'missing' | 'wrong_type' | 'out_of_range';

function getString(o: Readonly<Record<string, unknown>>, k: string): Found<string> {
  if (!Object.hasOwn(o, k)) return 'missing';
  const v = o[k];
  return typeof v === 'string' ? v : 'wrong_type';
}

/** StructUtils::GetUInt64: a JSON number in [0, 2^64), truncated. */
function getUInt64(o: Readonly<Record<string, unknown>>, k: string): Found<number> {
  if (!Object.hasOwn(o, k)) return 'missing';
  const v = o[k];
  if (typeof v !== 'number') return 'wrong_type';
  if (v < 0 || v >= 18446744073709551616) return 'out_of_range';
  return Math.floor(v);
}

/** Parses a compact JWS the way jwt_verify_lib does; a Status says why it is not a JWT. */
export function parseJwt(token: string): Jwt | Status {
  if (token.length > MAX_TOKEN_BYTES) return 'JwtTooLarge';
  // absl::StrSplit(jwt, '.', absl::SkipEmpty()): empty sections are dropped, not counted.
  const parts = token.split('.').filter((p) => p.length > 0);
  if (parts.length !== 3) return 'JwtBadFormat';
  const [headerB64, payloadB64, signatureB64] = parts as [string, string, string];

  const headerBytes = decodeBase64Url(headerB64);
  if (!headerBytes) return 'JwtHeaderParseErrorBadBase64';
  const header = parseObject(headerBytes);
  if (!header) return 'JwtHeaderParseErrorBadJson';
  const alg = getString(header, 'alg');
  if (alg === 'missing' || alg === 'wrong_type') return 'JwtHeaderBadAlg';
  if (!IMPLEMENTED_ALGS.has(alg)) return 'JwtHeaderNotImplementedAlg';
  const kid = getString(header, 'kid');
  if (kid === 'wrong_type') return 'JwtHeaderBadKid';

  const payloadBytes = decodeBase64Url(payloadB64);
  if (!payloadBytes) return 'JwtPayloadParseErrorBadBase64';
  const payload = parseObject(payloadBytes);
  if (!payload) return 'JwtPayloadParseErrorBadJson';
  const iss = getString(payload, 'iss');
  if (iss === 'wrong_type') return 'JwtPayloadParseErrorIssNotString';
  const sub = getString(payload, 'sub');
  if (sub === 'wrong_type') return 'JwtPayloadParseErrorSubNotString';
  const iat = getUInt64(payload, 'iat');
  if (iat === 'wrong_type') return 'JwtPayloadParseErrorIatNotInteger';
  if (iat === 'out_of_range') return 'JwtPayloadParseErrorIatOutOfRange';
  const nbf = getUInt64(payload, 'nbf');
  if (nbf === 'wrong_type') return 'JwtPayloadParseErrorNbfNotInteger';
  if (nbf === 'out_of_range') return 'JwtPayloadParseErrorNbfOutOfRange';
  const exp = getUInt64(payload, 'exp');
  if (exp === 'wrong_type') return 'JwtPayloadParseErrorExpNotInteger';
  if (exp === 'out_of_range') return 'JwtPayloadParseErrorExpOutOfRange';
  if (getString(payload, 'jti') === 'wrong_type') return 'JwtPayloadParseErrorJtiNotString';
  const audiences = audienceList(payload);
  if (audiences === undefined) return 'JwtPayloadParseErrorAudNotString';

  const signature = decodeBase64Url(signatureB64);
  if (!signature) return 'JwtSignatureParseErrorBadBase64';

  return {
    headerB64,
    payloadB64,
    signatureB64,
    header,
    payload,
    alg,
    kid: kid === 'missing' ? '' : kid,
    iss: iss === 'missing' ? '' : iss,
    sub: sub === 'missing' ? '' : sub,
    audiences,
    exp: typeof exp === 'number' ? exp : 0,
    nbf: typeof nbf === 'number' ? nbf : 0,
    signatureLength: signature.length,
  };
}

/** `aud`: absent (no audiences), a string, or a list of strings; anything else is undefined. */
function audienceList(payload: Readonly<Record<string, unknown>>): string[] | undefined {
  if (!Object.hasOwn(payload, 'aud')) return [];
  const v = payload.aud;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return undefined;
  return v as string[];
}

/** Jwt::verifyTimeConstraint: `nbf` and `exp` with `skewSeconds` of tolerance either way. */
export function checkTime(jwt: Jwt, nowSeconds: number, skewSeconds: number): Status {
  if (nowSeconds + skewSeconds < jwt.nbf) return 'JwtNotYetValid';
  if (jwt.exp !== 0 && nowSeconds > jwt.exp + skewSeconds) return 'JwtExpired';
  return 'Ok';
}
