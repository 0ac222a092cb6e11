// JwtProvider (envoy.extensions.filters.http.jwt_authn.v3) in proto3-JSON shape, validated and
// compiled into a Provider with its key source. Fields Istio writes are all supported; fields
// Strait would not honour exactly are a ConfigError naming the field, so the proxy NACKs rather
// than authenticate differently from what was asked.

import fs from 'node:fs';
import type { Clock } from '../../../common/clock.js';
import type { Random } from '../../../common/random.js';
import { ConfigError } from '../api.js';
import { DEFAULT_CLOCK_SKEW_SECONDS } from './jwt.js';
import { array, bool, durationMs, headerName, isEmptyValue, object, onlyFields, string, strings, uint32 } from './json-shape.js';
import type { Obj } from './json-shape.js';
import { DEFAULT_CACHE_DURATION_MS, DEFAULT_FAILED_REFETCH_MS, LocalKeySource, RemoteKeySource } from './key-source.js';
import type { FetchStats, KeySource, RetrySettings } from './key-source.js';
import { AudienceChecker } from './provider.js';
import type { ClaimToHeader, Provider } from './provider.js';

export interface ProviderDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly stats: FetchStats;
}

// Accepted and ignored: jwt_cache_config only sizes Envoy's cache of verified tokens (a speed-up
// with no visible effect).
const IGNORED = ['jwtCacheConfig'];

const UNSUPPORTED: Readonly<Record<string, string>> = {
  subjects: 'subject matching is not supported; use an AuthorizationPolicy on request principals instead',
  requireExpiration: 'require_expiration is not supported',
  maxLifetime: 'max_lifetime is not supported',
  failedStatusInMetadata: 'failed_status_in_metadata is not supported',
};

const FIELDS = [
  'issuer', 'audiences', 'remoteJwks', 'localJwks', 'forward', 'fromHeaders', 'fromParams', 'fromCookies',
  'forwardPayloadHeader', 'padForwardPayloadHeader', 'payloadInMetadata', 'normalizePayloadInMetadata',
  'headerInMetadata', 'clockSkewSeconds', 'claimToHeaders', 'clearRouteCache', ...IGNORED, ...Object.keys(UNSUPPORTED),
];

export function compileProvider(name: string, v: unknown, at: string, deps: ProviderDeps): Provider {
  const o = object(v, at);
  onlyFields(o, FIELDS, at, 'JwtProvider');
  for (const [k, why] of Object.entries(UNSUPPORTED)) {
    if (!isEmptyValue(o[k])) throw new ConfigError(`${at}.${k}: ${why}`);
  }
  const issuer = o.issuer === undefined ? '' : string(o.issuer, `${at}.issuer`);
  const hasRemote = o.remoteJwks !== undefined;
  const hasLocal = o.localJwks !== undefined;
  if (hasRemote === hasLocal) throw new ConfigError(`${at}: set exactly one of remoteJwks or localJwks`);
  const keys: KeySource = hasRemote ? remoteSource(o.remoteJwks, `${at}.remoteJwks`, deps) : new LocalKeySource(dataSource(o.localJwks, `${at}.localJwks`));

  const fromHeaders = (o.fromHeaders === undefined ? [] : array(o.fromHeaders, `${at}.fromHeaders`)).map((h, i) => {
    const hat = `${at}.fromHeaders[${i}]`;
    const ho = object(h, hat);
    onlyFields(ho, ['name', 'valuePrefix'], hat, 'JwtHeader');
    return { name: headerName(ho.name, `${hat}.name`), valuePrefix: ho.valuePrefix === undefined ? '' : string(ho.valuePrefix, `${hat}.valuePrefix`) };
  });
  const fromParams = strings(o.fromParams, `${at}.fromParams`);
  const fromCookies = strings(o.fromCookies, `${at}.fromCookies`);
  const forwardPayloadHeader = o.forwardPayloadHeader === undefined || o.forwardPayloadHeader === '' ? '' : headerName(o.forwardPayloadHeader, `${at}.forwardPayloadHeader`);
  const claimToHeaders: ClaimToHeader[] = (o.claimToHeaders === undefined ? [] : array(o.claimToHeaders, `${at}.claimToHeaders`)).map((c, i) => {
    const cat = `${at}.claimToHeaders[${i}]`;
    const co = object(c, cat);
    onlyFields(co, ['headerName', 'claimName'], cat, 'JwtClaimToHeader');
    const claim = string(co.claimName, `${cat}.claimName`);
    if (claim === '') throw new ConfigError(`${cat}.claimName: must not be empty`);
    return { header: headerName(co.headerName, `${cat}.headerName`), claim };
  });
  let spaceDelimitedClaims: string[] = [];
  if (o.normalizePayloadInMetadata !== undefined) {
    const n = object(o.normalizePayloadInMetadata, `${at}.normalizePayloadInMetadata`);
    onlyFields(n, ['spaceDelimitedClaims'], `${at}.normalizePayloadInMetadata`, 'NormalizePayload');
    spaceDelimitedClaims = strings(n.spaceDelimitedClaims, `${at}.normalizePayloadInMetadata.spaceDelimitedClaims`);
  }
  if (o.jwtCacheConfig !== undefined) object(o.jwtCacheConfig, `${at}.jwtCacheConfig`);
  const skew = uint32(o.clockSkewSeconds, `${at}.clockSkewSeconds`);
  return {
    name,
    issuer,
    audiences: new AudienceChecker(strings(o.audiences, `${at}.audiences`)),
    keys,
    forward: bool(o.forward, `${at}.forward`),
    forwardPayloadHeader,
    padForwardPayloadHeader: bool(o.padForwardPayloadHeader, `${at}.padForwardPayloadHeader`),
    payloadInMetadata: o.payloadInMetadata === undefined ? '' : string(o.payloadInMetadata, `${at}.payloadInMetadata`),
    headerInMetadata: o.headerInMetadata === undefined ? '' : string(o.headerInMetadata, `${at}.headerInMetadata`),
    spaceDelimitedClaims,
    // Envoy: 0 (the proto default) means the library default of 60 s.
    clockSkewSeconds: skew > 0 ? skew : DEFAULT_CLOCK_SKEW_SECONDS,
    claimToHeaders,
    clearRouteCache: bool(o.clearRouteCache, `${at}.clearRouteCache`),
    locations: { issuer, fromHeaders, fromParams, fromCookies, outputHeaders: [...(forwardPayloadHeader ? [forwardPayloadHeader] : []), ...claimToHeaders.map((c) => c.header)] },
  };
}

/** config.core.v3.DataSource: the key set's text. */
function dataSource(v: unknown, at: string): string {
  const o = object(v, at);
  onlyFields(o, ['inlineString', 'inlineBytes', 'filename', 'environmentVariable'], at, 'DataSource');
  const set = Object.keys(o);
  if (set.length !== 1) throw new ConfigError(`${at}: set exactly one of inlineString, inlineBytes, filename or environmentVariable`);
  if (o.inlineString !== undefined) return string(o.inlineString, `${at}.inlineString`);
  if (o.inlineBytes !== undefined) return Buffer.from(string(o.inlineBytes, `${at}.inlineBytes`), 'base64').toString('utf8');
  if (o.environmentVariable !== undefined) {
    const name = string(o.environmentVariable, `${at}.environmentVariable`);
    const value = process.env[name];
    if (value === undefined) throw new ConfigError(`${at}.environmentVariable: ${name} is not set`);
    return value;
  }
  const file = string(o.filename, `${at}.filename`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${at}.filename: cannot read ${file}: ${(e as Error).message}`);
  }
}

function remoteSource(v: unknown, at: string, deps: ProviderDeps): RemoteKeySource {
  const o = object(v, at);
  onlyFields(o, ['httpUri', 'cacheDuration', 'asyncFetch', 'retryPolicy'], at, 'RemoteJwks');
  const h = object(o.httpUri, `${at}.httpUri`);
  onlyFields(h, ['uri', 'cluster', 'timeout'], `${at}.httpUri`, 'HttpUri');
  const uri = string(h.uri, `${at}.httpUri.uri`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ConfigError(`${at}.httpUri.uri: "${uri}" is not a URI`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${at}.httpUri.uri: "${uri}" must be http:// or https://`);
  // Required by Envoy; Strait fetches straight from the URI (see key-source.ts) but keeps the rule.
  if (string(h.cluster, `${at}.httpUri.cluster`) === '') throw new ConfigError(`${at}.httpUri.cluster: must not be empty`);
  if (h.timeout === undefined) throw new ConfigError(`${at}.httpUri.timeout: required`);
  const timeoutMs = durationMs(h.timeout, `${at}.httpUri.timeout`);
  let cacheDurationMs = DEFAULT_CACHE_DURATION_MS;
  if (o.cacheDuration !== undefined) {
    cacheDurationMs = durationMs(o.cacheDuration, `${at}.cacheDuration`);
    if (cacheDurationMs < 1) throw new ConfigError(`${at}.cacheDuration: must be at least 1ms`);
  }
  let asyncFetch: { failedRefetchMs: number } | null = null;
  if (o.asyncFetch !== undefined) {
    const a = object(o.asyncFetch, `${at}.asyncFetch`);
    onlyFields(a, ['fastListener', 'failedRefetchDuration'], `${at}.asyncFetch`, 'JwksAsyncFetch');
    // fast_listener false asks Envoy to hold the listener until the first fetch ends; Strait's
    // listeners do not wait for filters, so both values start the fetch and serve at once.
    bool(a.fastListener, `${at}.asyncFetch.fastListener`);
    asyncFetch = { failedRefetchMs: a.failedRefetchDuration === undefined ? DEFAULT_FAILED_REFETCH_MS : durationMs(a.failedRefetchDuration, `${at}.asyncFetch.failedRefetchDuration`) };
  }
  const retry = o.retryPolicy === undefined ? null : retryPolicy(o.retryPolicy, `${at}.retryPolicy`);
  return new RemoteKeySource({ uri, timeoutMs, cacheDurationMs, asyncFetch, retry }, deps.clock, deps.random, deps.stats);
}

/** config.core.v3.RetryPolicy, as Envoy converts it for the key fetch (5xx, gateway errors, resets). */
function retryPolicy(v: unknown, at: string): RetrySettings {
  const o: Obj = object(v, at);
  onlyFields(o, ['retryBackOff', 'numRetries', 'retryOn', 'retryPriority', 'retryHostPredicate', 'hostSelectionRetryMaxAttempts'], at, 'RetryPolicy');
  for (const k of ['retryPriority', 'retryHostPredicate']) {
    if (!isEmptyValue(o[k])) throw new ConfigError(`${at}.${k}: not supported for key set fetches (there is one host: the URI's)`);
  }
  let baseIntervalMs = 1000;
  let maxIntervalMs = 10_000;
  if (o.retryBackOff !== undefined) {
    const b = object(o.retryBackOff, `${at}.retryBackOff`);
    onlyFields(b, ['baseInterval', 'maxInterval'], `${at}.retryBackOff`, 'BackoffStrategy');
    baseIntervalMs = durationMs(b.baseInterval, `${at}.retryBackOff.baseInterval`);
    if (baseIntervalMs < 1) throw new ConfigError(`${at}.retryBackOff.baseInterval: must be at least 1ms`);
    maxIntervalMs = b.maxInterval === undefined ? baseIntervalMs * 10 : durationMs(b.maxInterval, `${at}.retryBackOff.maxInterval`);
    if (maxIntervalMs < baseIntervalMs) throw new ConfigError(`${at}.retryBackOff.maxInterval: must be greater than or equal to the baseInterval`);
  }
  const retryOn = o.retryOn === undefined || o.retryOn === '' ? '5xx,gateway-error,connect-failure,reset' : string(o.retryOn, `${at}.retryOn`);
  const on = new Set<string>();
  for (const t of retryOn.split(',').map((x) => x.trim())) {
    if (!['5xx', 'gateway-error', 'connect-failure', 'reset', 'refused-stream'].includes(t)) {
      throw new ConfigError(`${at}.retryOn: "${t}" is not supported for key set fetches (supported: 5xx, gateway-error, connect-failure, reset, refused-stream)`);
    }
    on.add(t);
  }
  if (o.hostSelectionRetryMaxAttempts !== undefined) uint32(Number(o.hostSelectionRetryMaxAttempts), `${at}.hostSelectionRetryMaxAttempts`);
  return {
    numRetries: o.numRetries === undefined ? 1 : uint32(o.numRetries, `${at}.numRetries`),
    baseIntervalMs,
    maxIntervalMs,
    on5xx: on.has('5xx'),
    onGatewayError: on.has('gateway-error'),
    onNetworkError: on.has('connect-failure') || on.has('reset') || on.has('refused-stream'),
  };
}
