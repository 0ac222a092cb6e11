// Test helpers for the JWT filter (excluded from the build by name): signing keys made with
// jose for every algorithm family Envoy verifies, key-set documents, hand-built (forged or
// malformed) tokens, a real key-set HTTP server on 127.0.0.1:0 whose answers a test can change,
// and a provider config in the shape Istio writes.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';

export type TestAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export interface TestKey {
  readonly alg: TestAlg;
  readonly kid: string;
  /** The public key as a JWK with kid and alg (drop them with `{...jwk, kid: undefined}`). */
  readonly jwk: JWK;
  readonly privateKey: CryptoKey;
  /** A compact JWT over `payload`, with `{alg, kid}` plus `header` in its protected header. */
  sign(payload: JWTPayload, header?: Record<string, unknown>): Promise<string>;
}

export async function testKey(alg: TestAlg, kid = `${alg.toLowerCase()}-key`): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg };
  return {
    alg,
    kid,
    jwk,
    privateKey,
    sign: (payload, header = {}) => new SignJWT(payload).setProtectedHeader({ alg, kid, ...header }).sign(privateKey),
  };
}

/** A key-set document: {"keys": [...]}. */
export function jwksOf(...keys: (TestKey | JWK | Record<string, unknown> | string)[]): string {
  const isKey = (k: unknown): k is TestKey => typeof k === 'object' && k !== null && 'jwk' in k && 'sign' in k;
  return JSON.stringify({ keys: keys.map((k) => (isKey(k) ? k.jwk : k)) });
}

export function b64url(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
}

/** A token assembled by hand: any header, payload and signature text. */
export function rawToken(header: unknown, payload: unknown, signature = 'c2ln'): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

export const ISSUER = 'testing@secure.istio.io';
/** The injected clock's time in tests (ManualClockForTest's default start), in seconds. */
export const NOW_S = 1_700_000_000;

/** Claims valid at NOW_S for ISSUER. */
export function claims(extra: JWTPayload = {}): JWTPayload {
  return { iss: ISSUER, sub: ISSUER, iat: NOW_S - 10, exp: NOW_S + 3600, ...extra };
}

export interface JwksServer {
  readonly url: string;
  /** Requests served so far. */
  hits: number;
  /** What the next requests get (status 200 with this body by default). */
  respond(status: number, body: string, headers?: Record<string, string>): void;
  /** Hold answers until release() (to observe waiting requests). */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startJwksServer(body = '{"keys":[]}'): Promise<JwksServer> {
  let answer = { status: 200, body, headers: { 'content-type': 'application/json' } as Record<string, string> };
  let held: (() => void)[] | null = null;
  const server = http.createServer((_req, res) => {
    s.hits++;
    const send = (): void => {
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    };
    if (held) held.push(send);
    else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const s: JwksServer = {
    url: `http://127.0.0.1:${port}/jwks.json`,
    hits: 0,
    respond(status, b, headers = { 'content-type': 'application/json' }) {
      answer = { status, body: b, headers };
    },
    hold() {
      held ??= [];
    },
    release() {
      const list = held ?? [];
      held = null;
      for (const f of list) f();
    },
    close: () =>
      new Promise<void>((r) => {
        s.release();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return s;
}

/** One jwtRule as Istio compiles it: payload in metadata as "payload", scope/permission split. */
export function istioProvider(jwks: { local: string } | { remote: string; cacheDuration?: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const source = 'local' in jwks
    ? { localJwks: { inlineString: jwks.local } }
    : { remoteJwks: { httpUri: { uri: jwks.remote, cluster: 'outbound|80||jwks.example.com', timeout: '5s' }, cacheDuration: jwks.cacheDuration ?? '300s' } };
  return {
    issuer: ISSUER,
    ...source,
    payloadInMetadata: 'payload',
    normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'scope'] },
    ...extra,
  };
}

/** Istio's JwtAuthentication for one jwtRule: `requires_any: [origins-0, allow_missing]`. */
export function istioConfig(provider: Record<string, unknown>): Record<string, unknown> {
  return {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
    providers: { 'origins-0': provider },
    rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } } }],
    bypassCorsPreflight: true,
  };
}
