// Where a provider's keys come from: an inline key set (local_jwks), fixed for the life of the
// config, or a remote one (remote_jwks) fetched over HTTP(S) and cached. The remote source
// follows Envoy's JwksCache/JwksFetcher/JwksAsyncFetcher:
//
// - a fetch succeeds only on HTTP 200 with a non-empty body that is a key set with at least one
//   usable key; anything else (status, redirect, timeout, network error, bad JSON, no usable
//   key) counts in `jwks_fetch_failed` and fails the requests waiting for it with
//   "Jwks remote fetch is failed";
// - a fetched set is used for cache_duration (default 10 minutes), then fetched again on demand;
// - with async_fetch, the set is fetched when the config is applied and re-fetched 5 s before it
//   expires (after a failure: after failed_refetch_duration, default 1 s), so requests rarely wait.
//
// Strait additions: concurrent requests share one fetch (Envoy fetches once per request that
// finds the cache empty); a token whose `kid` is in no cached key makes one early re-fetch, at
// most every KID_REFETCH_COOLDOWN_MS, so a key rotation at the issuer is picked up without
// waiting for the cache to expire (Envoy waits); and the async re-fetch loop parks when no
// request used the set since the previous fetch, because filters have no "config removed" hook
// and a replaced config must not keep fetching forever (the next request fetches on demand and
// restarts the loop).
//
// The fetch goes straight to the URI with Node's fetch; Envoy sends it through http_uri.cluster.
// Strait proxies reach the key server directly (on the host network), so the cluster is only
// checked to be named. Redirects are not followed, as Envoy's async client does not follow them.

import type { Clock, Timer } from '../../../common/clock.js';
import type { Random } from '../../../common/random.js';
import type { Counter } from '../../../telemetry/stats/stats.js';
import { parseJwks } from './jwks.js';
import type { Jwks } from './jwks.js';
import type { Status } from './status.js';

/** Envoy's DefaultCacheExpirationSec. */
export const DEFAULT_CACHE_DURATION_MS = 600_000;
/** Envoy's RefetchBeforeExpiredSec. */
export const REFETCH_BEFORE_EXPIRY_MS = 5_000;
/** Envoy's DefaultRefetchAfterFailedSec. */
export const DEFAULT_FAILED_REFETCH_MS = 1_000;
/** The shortest time between two early re-fetches for an unknown `kid` (jose's default cooldown). */
export const KID_REFETCH_COOLDOWN_MS = 30_000;
/** Key sets larger than this are refused (a key set is a few KiB; this bounds memory per fetch). */
export const MAX_JWKS_BYTES = 1024 * 1024;

export interface KeySource {
  readonly remote: boolean;
  /** The key set to verify with now, or undefined when it must be loaded first. */
  cached(): Jwks | undefined;
  /** Fetches the set (or joins the fetch under way): the set, or why there is none. */
  load(): Promise<Jwks | Status>;
  /** After a `kid` found no key in a cached set: a fresh fetch, or undefined when too soon. */
  refetchForUnknownKid(): Promise<Jwks | Status> | undefined;
}

/** local_jwks: parsed once; an unusable set leaves the provider with no keys (as Envoy). */
export class LocalKeySource implements KeySource {
  readonly remote = false;
  private readonly jwks: Jwks | undefined;
  /** Why the inline set is unusable, when it is. */
  readonly problem: Status | undefined;

  constructor(text: string) {
    const r = parseJwks(text);
    this.jwks = typeof r === 'string' ? undefined : r;
    this.problem = typeof r === 'string' ? r : undefined;
  }

  cached(): Jwks | undefined {
    return this.jwks;
  }

  load(): Promise<Jwks | Status> {
    return Promise.resolve(this.jwks ?? 'JwksNoValidKeys');
  }

  refetchForUnknownKid(): undefined {
    return undefined;
  }
}

export interface RetrySettings {
  /** Retries after the first attempt. */
  readonly numRetries: number;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly on5xx: boolean;
  readonly onGatewayError: boolean;
  readonly onNetworkError: boolean;
}

export interface RemoteSettings {
  readonly uri: string;
  readonly timeoutMs: number;
  readonly cacheDurationMs: number;
  /** null: fetch on demand only. */
  readonly asyncFetch: { readonly failedRefetchMs: number } | null;
  readonly retry: RetrySettings | null;
}

export interface FetchStats {
  readonly jwks_fetch_success: Counter;
  readonly jwks_fetch_failed: Counter;
}

type Attempt = { kind: 'ok'; jwks: Jwks } | { kind: 'http'; status: number } | { kind: 'network' } | { kind: 'invalid' };

export class RemoteKeySource implements KeySource {
  readonly remote = true;
  private jwks: Jwks | undefined;
  private expiresAt = -Infinity;
  private lastFetchStart = -Infinity;
  private inflight: Promise<Jwks | Status> | null = null;
  private timer: Timer | null = null;
  private usedSinceFetch = false;

  constructor(
    private readonly s: RemoteSettings,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly stats: FetchStats,
  ) {
    if (s.asyncFetch) void this.load();
  }

  cached(): Jwks | undefined {
    this.usedSinceFetch = true;
    if (this.jwks !== undefined && this.clock.monotonic() < this.expiresAt) return this.jwks;
    return undefined;
  }

  load(): Promise<Jwks | Status> {
    if (this.inflight) return this.inflight;
    this.timer?.cancel();
    this.timer = null;
    this.lastFetchStart = this.clock.monotonic();
    this.usedSinceFetch = false;
    const p = this.fetchWithRetries().then((a) => this.settle(a));
    this.inflight = p;
    return p;
  }

  refetchForUnknownKid(): Promise<Jwks | Status> | undefined {
    if (this.inflight) return this.inflight;
    if (this.clock.monotonic() - this.lastFetchStart < KID_REFETCH_COOLDOWN_MS) return undefined;
    return this.load();
  }

  private settle(a: Attempt): Jwks | Status {
    this.inflight = null;
    const now = this.clock.monotonic();
    if (a.kind === 'ok') {
      this.jwks = a.jwks;
      this.expiresAt = now + this.s.cacheDurationMs;
      this.stats.jwks_fetch_success.value++;
      const d = this.s.cacheDurationMs;
      this.scheduleRefetch(d > REFETCH_BEFORE_EXPIRY_MS ? d - REFETCH_BEFORE_EXPIRY_MS : d);
      return a.jwks;
    }
    this.stats.jwks_fetch_failed.value++;
    if (this.s.asyncFetch) this.scheduleRefetch(this.s.asyncFetch.failedRefetchMs);
    return 'JwksFetchFail';
  }

  private scheduleRefetch(ms: number): void {
    if (!this.s.asyncFetch) return;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = null;
      // Park when nothing used the set since the last fetch (see the header comment).
      if (this.usedSinceFetch) void this.load();
    });
  }

  private async fetchWithRetries(): Promise<Attempt> {
    const r = this.s.retry;
    let a = await this.fetchOnce();
    for (let n = 0; r && n < r.numRetries && retriable(a, r); n++) {
      // Envoy's jittered exponential back-off: a uniform draw below min(base * 2^n, max).
      const ceiling = Math.min(r.baseIntervalMs * 2 ** n, r.maxIntervalMs);
      await this.sleep(Math.floor(this.random.next() * ceiling));
      a = await this.fetchOnce();
    }
    return a;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(ms, resolve));
  }

  private async fetchOnce(): Promise<Attempt> {
    const ac = new AbortController();
    const timer = this.clock.setTimer(this.s.timeoutMs, () => ac.abort());
    try {
      const res = await fetch(this.s.uri, { method: 'GET', redirect: 'manual', signal: ac.signal, headers: { accept: 'application/json' } });
      if (res.status !== 200) {
        await res.body?.cancel();
        return { kind: 'http', status: res.status };
      }
      const text = await readLimited(res, MAX_JWKS_BYTES);
      if (text === undefined || text.length === 0) return { kind: 'invalid' };
      const jwks = parseJwks(text);
      return typeof jwks === 'string' ? { kind: 'invalid' } : { kind: 'ok', jwks };
    } catch {
      return { kind: 'network' };
    } finally {
      timer.cancel();
    }
  }
}

function retriable(a: Attempt, r: RetrySettings): boolean {
  if (a.kind === 'network') return r.onNetworkError;
  if (a.kind !== 'http') return false;
  if (r.on5xx && a.status >= 500) return true;
  return r.onGatewayError && (a.status === 502 || a.status === 503 || a.status === 504);
}

/** The body as text, or undefined when it is longer than `limit` bytes. */
async function readLimited(res: Response, limit: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    // Leaving the loop cancels the body stream (and so the download).
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
