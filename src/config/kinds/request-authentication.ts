// security.istio.io RequestAuthentication (istio/api security/v1beta1/request_authentication.proto):
// which JWTs a workload accepts, where it reads them and what it forwards (RA-01..09).
// Implemented and typed: selector and jwtRules[] with every JWTRule field. targetRef(s) are typed
// and checked but warned about: they attach to gateways and waypoints Strait does not run.
// Istio's rules (ValidateRequestAuthentication, validateJwtRule and the CRD's own checks) are
// applied, and a little more where Envoy would refuse what Istio lets through: inline `jwks` must
// be a key set Envoy can use (`{"keys": [...]}`, each key importable), and header names must be
// valid. Remote key sets are never fetched here (jwksUri reachability is a runtime matter).

import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { bool, field, listOf, mapped, obj, required, str } from '../schema.js';
import type { Refiner } from '../schema.js';
import type { ClaimToHeader, JWTHeader, JWTRule, RequestAuthenticationResource } from '../types.js';
import { defineKind, resourceSchema } from './common.js';
import { checkHeaderName, durationSchema } from './istio-common.js';
import { ISTIO_SECURITY_VERSIONS, checkScope, rejectDryRun, scopeFields, toSelector, toTargetRefs } from './security-common.js';

// ---- JWKS --------------------------------------------------------------------------------------

const EC_CURVES = ['P-256', 'P-384', 'P-521'];

/** Why one key of a JWKS cannot be used by Envoy's verifier, or undefined. */
function jwkProblem(k: unknown): string | undefined {
  if (typeof k !== 'object' || k === null || Array.isArray(k)) return 'is not a JSON object';
  const key = k as Record<string, unknown>;
  const kty = key.kty;
  if (typeof kty !== 'string') return 'has no "kty" (key type)';
  if (kty === 'oct') return typeof key.k === 'string' && key.k !== '' ? undefined : 'is an "oct" key without "k"';
  if (kty === 'EC' && !EC_CURVES.includes(String(key.crv))) return `has curve ${JSON.stringify(key.crv)}; Envoy verifies ${EC_CURVES.join(', ')}`;
  if (kty === 'OKP' && key.crv !== 'Ed25519') return `has curve ${JSON.stringify(key.crv)}; Envoy verifies Ed25519 OKP keys only`;
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return `has key type ${JSON.stringify(kty)}; Envoy verifies RSA, EC, OKP and oct keys`;
  try {
    // Importing with Node's own JWK reader proves the members are present and well formed.
    createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    return undefined;
  } catch (e) {
    return `cannot be read as a ${kty} key (${(e as Error).message})`;
  }
}

/** Checks inline `jwks` text: errors for what cannot verify a token, warnings for private keys. */
export function checkJwks(text: string, r: Refiner, path: readonly (string | number)[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    r.error(path, 'invalid-jwks', `jwks is not valid JSON (${(e as Error).message})`, 'write the key set as JSON: {"keys": [{"kty": "RSA", "e": "AQAB", "n": "..."}]}');
    return;
  }
  const keys = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>).keys : undefined;
  if (!Array.isArray(keys)) {
    const single = typeof parsed === 'object' && parsed !== null && 'kty' in parsed;
    r.error(path, 'invalid-jwks', `jwks is not a JWK Set: it needs a "keys" list${single ? ' (this is a single key)' : ''}`, single ? 'wrap the key: {"keys": [ <the key> ]}' : 'write {"keys": [ ... ]} with the issuer\'s public keys');
    return;
  }
  if (keys.length === 0) {
    r.error(path, 'invalid-jwks', 'jwks has no keys, so no token can ever be verified', 'add the issuer\'s public keys to "keys"');
    return;
  }
  keys.forEach((k: unknown, i) => {
    const broken = jwkProblem(k);
    if (broken) {
      r.error(path, 'invalid-jwks', `jwks key ${i} ${broken}`, 'fix or remove that key');
      return;
    }
    const key = k as Record<string, unknown>;
    if (key.kty === 'oct' || key.d !== undefined) {
      r.warn(path, 'private-jwks-key', `jwks key ${i} contains private key material${key.kty === 'oct' ? ' (a symmetric key)' : ' ("d")'}; only public keys are needed to verify tokens`, 'publish only the public part of the key (Istio warns about this too)');
    }
  });
}

/** Istio's JWKS URI rule (security.ParseJwksURI and the CRD): an http(s) URL of at most 2048 characters, with a host. */
function checkJwksUri(v: string): string | undefined {
  if (v.length > 2048) return 'at most 2048 characters long';
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'an http:// or https:// URL';
  return url.hostname === '' ? 'a URL with a host' : undefined;
}

// ---- JWT rules ---------------------------------------------------------------------------------

/** Istio's ValidateStrictHTTPHeaderName (outputClaimToHeaders), also the CRD's pattern. */
const checkStrictHeaderName = (v: string) => (/^[-_A-Za-z0-9]+$/.test(v) ? undefined : 'a header name of letters, digits, - and _');

const jwtHeaderSchema = mapped(
  obj({
    name: required(str({ nonEmpty: true, rule: checkHeaderName })),
    prefix: field(str(), 'e.g. "Bearer " (with the space); absent = the whole value'),
  }),
  (h): JWTHeader => ({ name: h.name, ...(h.prefix ? { prefix: h.prefix } : {}) }),
);

const claimToHeaderSchema = mapped(
  obj({
    header: required(str({ nonEmpty: true, rule: checkStrictHeaderName })),
    claim: required(str({ nonEmpty: true }), 'nested claims as a.b.c'),
  }),
  (c): ClaimToHeader => ({ header: c.header, claim: c.claim }),
);

const nonEmptyList = () => listOf(str({ nonEmpty: true }));

const jwtRuleSchema = mapped(
  obj(
    {
      issuer: field(str({ nonEmpty: true }), 'the token\'s iss must equal it; issuer or jwksUri is required'),
      audiences: field(nonEmptyList(), 'accepted aud values; empty: the service name'),
      jwksUri: field(str({ nonEmpty: true, rule: checkJwksUri }), 'http(s) URL of the key set; never with jwks'),
      jwks_uri: field(str({ nonEmpty: true, rule: checkJwksUri }), 'the older spelling of jwksUri, accepted by Istio\'s CRD'),
      jwks: field(str({ nonEmpty: true }), 'inline key set (JSON); never with jwksUri'),
      fromHeaders: field(listOf(jwtHeaderSchema), 'default: Authorization: Bearer, then ?access_token'),
      fromParams: field(nonEmptyList()),
      fromCookies: field(nonEmptyList()),
      outputPayloadToHeader: field(str({ nonEmpty: true, rule: checkHeaderName })),
      forwardOriginalToken: field(bool(), 'default false: the token is removed before the request goes upstream'),
      outputClaimToHeaders: field(listOf(claimToHeaderSchema)),
      timeout: field(durationSchema(), 'time to fetch jwksUri; default 5s'),
      spaceDelimitedClaims: field(listOf(str({ nonEmpty: true }), { maxItems: 64 }), 'scope and permission are always split'),
    },
    {
      atMostOne: [['jwksUri', 'jwks_uri', 'jwks']],
      refine(j, r) {
        if (j.issuer === undefined && j.jwksUri === undefined && j.jwks_uri === undefined) {
          r.error([], 'missing-field', 'a JWT rule needs issuer or jwksUri (Istio rejects it otherwise)', "add issuer: the token's iss claim", 'key');
        }
        if (j.jwks !== undefined) checkJwks(j.jwks, r, ['jwks']);
        const headers = new Map<string, number>();
        (j.outputClaimToHeaders ?? []).forEach((c, i) => {
          const first = headers.get(c.header.toLowerCase());
          if (first !== undefined) r.warn(['outputClaimToHeaders', i, 'header'], 'duplicate-value', `header ${c.header} is already written by outputClaimToHeaders[${first}]; Istio requires the headers to be unique (the last one wins)`, 'use a different header for each claim');
          else headers.set(c.header.toLowerCase(), i);
        });
      },
    },
  ),
  (j, path): JWTRule => {
    const jwksUri = j.jwksUri ?? j.jwks_uri;
    return {
      ...(j.issuer !== undefined ? { issuer: j.issuer } : {}),
      audiences: j.audiences ?? [],
      ...(jwksUri !== undefined ? { jwksUri } : {}),
      ...(j.jwks !== undefined ? { jwks: j.jwks } : {}),
      fromHeaders: j.fromHeaders ?? [],
      fromParams: j.fromParams ?? [],
      fromCookies: j.fromCookies ?? [],
      ...(j.outputPayloadToHeader !== undefined ? { outputPayloadToHeader: j.outputPayloadToHeader } : {}),
      forwardOriginalToken: j.forwardOriginalToken ?? false,
      outputClaimToHeaders: j.outputClaimToHeaders ?? [],
      spaceDelimitedClaims: j.spaceDelimitedClaims ?? [],
      ...(j.timeout !== undefined ? { timeout: j.timeout } : {}),
      path,
    };
  },
);

export const requestAuthenticationSpecSchema = obj(
  {
    ...scopeFields(),
    jwtRules: field(
      listOf(jwtRuleSchema, {
        maxItems: 4096,
        refine(rules, r) {
          // Istio accepts two rules for one issuer, but which rule's audiences, locations and
          // output headers apply to a token of that issuer is then not defined.
          const seen = new Map<string, number>();
          rules.forEach((rule, i) => {
            if (rule.issuer === undefined) return;
            const first = seen.get(rule.issuer);
            if (first !== undefined) r.warn([i, 'issuer'], 'duplicate-issuer', `issuer ${rule.issuer} is also the issuer of jwtRules[${first}]; which rule's settings apply to its tokens is not defined`, 'merge the two rules into one (list every audience and token location in it)');
            else seen.set(rule.issuer, i);
          });
        },
      }),
      'a request without a token is accepted with no identity; pair with an AuthorizationPolicy to require one',
    ),
  },
  { refine: (s, r) => checkScope(s, r, 'RequestAuthentication') },
);

export const requestAuthenticationKind = defineKind({
  kind: 'RequestAuthentication',
  apiVersions: ISTIO_SECURITY_VERSIONS,
  origin: 'Istio',
  schema: resourceSchema({ spec: field(requestAuthenticationSpecSchema) }, undefined, { refine: (v, r) => rejectDryRun(v.metadata.annotations, 'RequestAuthentication', r) }),
  convert(v, base): RequestAuthenticationResource {
    const s = v.spec ?? {};
    const selector = toSelector(s.selector);
    return {
      ...base,
      kind: 'RequestAuthentication',
      spec: { ...(selector ? { selector } : {}), targetRefs: toTargetRefs(s), jwtRules: s.jwtRules ?? [] },
    };
  },
});
