// A JSON Web Key Set (RFC 7517) read the way Envoy's jwt_verify_lib reads one (Jwks::createFrom,
// extractJwk, verifyJwtWithoutTimeChecking), and signatures checked with `jose` against it.
//
// Reading: every key is validated on its own; a bad key is left out (and reported), and the set
// is usable if at least one key is. Keys become node:crypto KeyObjects at once, so a key that is
// not a real public key (a point off its curve, a malformed modulus) is refused when the set is
// read, not on some later request. Only public-key types are accepted: RSA (RS*, PS*), EC
// (ES256/384/512 on P-256/384/521) and OKP Ed25519 (EdDSA). Envoy also accepts `oct` (HMAC)
// keys; Strait refuses them, because a shared secret published in a key set is not a secret and
// HS* tokens are the algorithm-confusion attack's tool. RSA moduli under 2048 bits are refused
// too (jose would refuse them at verification; refusing them here says why).
//
// Verifying: the keys tried are those whose `kid` and `alg` do not contradict the token's
// (either side may leave them out), exactly Envoy's rule, and a key is only used with an
// algorithm of its own type: HS256 "signed" with an RSA public key finds no usable key. jose
// then checks the signature with the token's `alg` as the only allowed algorithm.

import { createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { compactVerify as CompactVerify } from 'jose';
import { decodeBase64Url } from './jwt.js';
import type { Jwt } from './jwt.js';
import type { Status } from './status.js';

/** jose loads with the first verification: proxies without jwt_authn never pay its memory. */
let jose: Promise<{ compactVerify: typeof CompactVerify }> | undefined;
const loadJose = () => (jose ??= import('jose'));

export interface PublicJwk {
  readonly kty: 'RSA' | 'EC' | 'OKP';
  /** '' when the key has none (then it matches any token `kid`). */
  readonly kid: string;
  /** '' when the key has none (then any algorithm of its type may use it). */
  readonly alg: string;
  /** EC and OKP curve ('P-256', 'P-384', 'P-521', 'Ed25519'); '' for RSA. */
  readonly crv: string;
  readonly key: KeyObject;
}

export interface Jwks {
  readonly keys: readonly PublicJwk[];
  /** Why each refused key was refused (index in the set, status), for diagnostics. */
  readonly refused: readonly { readonly index: number; readonly status: Status }[];
}

/** A key set, or why the text is not one (JwksNoValidKeys when every key was refused). */
export function parseJwks(text: string): Jwks | Status {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'JwksParseError';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'JwksParseError';
  const o = doc as Record<string, unknown>;
  if (!Object.hasOwn(o, 'keys')) return isX509Set(o) ? x509Set(o) : 'JwksNoKeys';
  if (!Array.isArray(o.keys)) return 'JwksBadKeys';
  const keys: PublicJwk[] = [];
  const refused: { index: number; status: Status }[] = [];
  o.keys.forEach((k: unknown, index) => {
    // Envoy skips list entries that are not objects without counting them as errors.
    if (typeof k !== 'object' || k === null || Array.isArray(k)) return;
    const r = readJwk(k as Record<string, unknown>);
    if (typeof r === 'string') refused.push({ index, status: r });
    else keys.push(r);
  });
  if (keys.length === 0) return 'JwksNoValidKeys';
  return { keys, refused };
}

function str(o: Record<string, unknown>, k: string): string | undefined | null {
  if (!Object.hasOwn(o, k)) return undefined;
  return typeof o[k] === 'string' ? (o[k] as string) : null;
}

function readJwk(o: Record<string, unknown>): PublicJwk | Status {
  const kty = str(o, 'kty');
  if (kty === undefined) return 'JwksMissingKty';
  if (kty === null) return 'JwksBadKty';
  // jwt_verify_lib ignores a `kid` or `alg` of the wrong type (treats it as absent).
  const kid = str(o, 'kid') ?? '';
  const alg = str(o, 'alg') ?? '';
  switch (kty) {
    case 'RSA':
      return readRsa(o, kid, alg);
    case 'EC':
      return readEc(o, kid, alg);
    case 'OKP':
      return readOkp(o, kid, alg);
    default:
      // `oct` included: see the header comment.
      return 'JwksNotImplementedKty';
  }
}

function readRsa(o: Record<string, unknown>, kid: string, alg: string): PublicJwk | Status {
  if (alg !== '' && !alg.startsWith('RS') && !alg.startsWith('PS')) return 'JwksRSAKeyBadAlg';
  const n = str(o, 'n');
  if (n === undefined) return 'JwksRSAKeyMissingN';
  if (n === null) return 'JwksRSAKeyBadN';
  const e = str(o, 'e');
  if (e === undefined) return 'JwksRSAKeyMissingE';
  if (e === null) return 'JwksRSAKeyBadE';
  const eBytes = decodeBase64Url(e);
  if (!decodeBase64Url(n) || !eBytes) return 'JwksRsaParseError';
  // jwt_verify_lib accepts only the standard public exponents.
  const eValue = eBytes.reduce((acc, b) => acc * 256 + b, 0);
  if (eValue !== 3 && eValue !== 65537) return 'JwksRsaParseError';
  const key = publicKey({ kty: 'RSA', n, e });
  if (!key || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return 'JwksRsaParseError';
  return { kty: 'RSA', kid, alg, crv: '', key };
}

const EC_CURVE_OF_ALG: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

function readEc(o: Record<string, unknown>, kid: string, alg: string): PublicJwk | Status {
  if (alg !== '' && !alg.startsWith('ES')) return 'JwksECKeyBadAlg';
  const crvField = str(o, 'crv');
  if (crvField === null) return 'JwksECKeyBadCrv';
  let crv = crvField ?? '';
  if (alg !== '' && crv !== '' && EC_CURVE_OF_ALG[alg] !== crv) return 'JwksECKeyAlgNotCompatibleWithCrv';
  // Neither given: P-256, as jwt_verify_lib assumes. Otherwise the alg names the curve.
  if (alg === '' && crv === '') crv = 'P-256';
  else if (crv === '') crv = EC_CURVE_OF_ALG[alg] ?? '';
  if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') return 'JwksECKeyAlgOrCrvUnsupported';
  const x = str(o, 'x');
  if (x === undefined) return 'JwksECKeyMissingX';
  if (x === null) return 'JwksECKeyBadX';
  const y = str(o, 'y');
  if (y === undefined) return 'JwksECKeyMissingY';
  if (y === null) return 'JwksECKeyBadY';
  if (!decodeBase64Url(x) || !decodeBase64Url(y)) return 'JwksEcXorYBadBase64';
  const key = publicKey({ kty: 'EC', crv, x, y });
  if (!key) return 'JwksEcParseError';
  return { kty: 'EC', kid, alg, crv, key };
}

function readOkp(o: Record<string, unknown>, kid: string, alg: string): PublicJwk | Status {
  if (alg !== '' && alg !== 'EdDSA') return 'JwksOKPKeyBadAlg';
  const crv = str(o, 'crv');
  if (crv === undefined) return 'JwksOKPKeyMissingCrv';
  if (crv === null) return 'JwksOKPKeyBadCrv';
  if (crv !== 'Ed25519') return 'JwksOKPKeyCrvUnsupported';
  const x = str(o, 'x');
  if (x === undefined) return 'JwksOKPKeyMissingX';
  if (x === null) return 'JwksOKPKeyBadX';
  const raw = decodeBase64Url(x);
  if (!raw) return 'JwksOKPXBadBase64';
  if (raw.length !== 32) return 'JwksOKPXWrongLength';
  const key = publicKey({ kty: 'OKP', crv, x });
  if (!key) return 'JwksOKPXBadBase64';
  return { kty: 'OKP', kid, alg, crv, key };
}

function publicKey(jwk: Record<string, string>): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    return undefined;
  }
}

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----\n';
const PEM_END = '\n-----END CERTIFICATE-----\n';

/** Google's older key-set form: {"<kid>": "<PEM certificate>", ...} (jwt_verify_lib reads it). */
function isX509Set(o: Record<string, unknown>): boolean {
  const entries = Object.entries(o);
  return entries.length > 0 && entries.every(([k, v]) => k !== '' && typeof v === 'string' && v.startsWith(PEM_BEGIN) && v.endsWith(PEM_END));
}

function x509Set(o: Record<string, unknown>): Jwks | Status {
  const keys: PublicJwk[] = [];
  for (const [kid, pem] of Object.entries(o)) {
    let key: KeyObject;
    try {
      key = new X509Certificate(pem as string).publicKey;
    } catch {
      return 'JwksNoValidKeys';
    }
    // jwt_verify_lib takes RSA keys only from certificates.
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return 'JwksNoValidKeys';
    keys.push({ kty: 'RSA', kid, alg: '', crv: '', key });
  }
  return { keys, refused: [] };
}

/** Whether `k` may carry a signature made with `alg` (its type and curve fit the algorithm). */
function usableFor(k: PublicJwk, alg: string): boolean {
  switch (k.kty) {
    case 'RSA':
      return alg.startsWith('RS') || alg.startsWith('PS');
    case 'EC':
      return EC_CURVE_OF_ALG[alg] === k.crv;
    case 'OKP':
      return alg === 'EdDSA';
  }
}

/**
 * verifyJwtWithoutTimeChecking: Ok when some key whose kid/alg fit the token's verifies its
 * signature; JwtVerificationFail when such keys exist but none verifies; JwksKidAlgMismatch
 * when there is no such key (the caller may then refresh a remote key set).
 */
export async function verifySignature(jwt: Jwt, jwks: Jwks): Promise<Status> {
  // RFC 7515 §4.1.11: a recipient must refuse critical extensions it does not understand, and
  // Strait understands none (jose alone would honour `b64`, RFC 7797, which JWTs never use).
  // Envoy ignores `crit`.
  if (Object.hasOwn(jwt.header, 'crit')) return 'JwtVerificationFail';
  const compact = `${jwt.headerB64}.${jwt.payloadB64}.${jwt.signatureB64}`;
  let matched = false;
  for (const k of jwks.keys) {
    if (jwt.kid !== '' && k.kid !== '' && k.kid !== jwt.kid) continue;
    if (k.alg !== '' && k.alg !== jwt.alg) continue;
    matched = true;
    if (!usableFor(k, jwt.alg)) continue;
    if (k.kty === 'OKP' && jwt.signatureLength !== 64) return 'JwtEd25519SignatureWrongLength';
    try {
      await (await loadJose()).compactVerify(compact, k.key, { algorithms: [jwt.alg] });
      return 'Ok';
    } catch {
      // Not this key; try the next one that fits.
    }
  }
  return matched ? 'JwtVerificationFail' : 'JwksKidAlgMismatch';
}
