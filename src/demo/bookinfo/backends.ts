// How productpage calls the other Bookinfo services, with Bookinfo's client behaviour (reference
// §3 conventions): details and ratings once with a 3 s timeout; reviews with a 3 s timeout and
// one more attempt after any failure (Bookinfo's deliberate "bug" that the fault-injection task
// explains: a 7 s ratings delay costs 2 × 3 s before the page gives up). Every failure comes back
// as Bookinfo's own error object with the upstream's status, or 500 when there was none.

import type http from 'node:http';
import type { Clock } from '../../common/clock.js';
import { Forwarder, type ForwardResult } from '../../echo/forward.js';
import { serviceUrl, type BookinfoService } from './bookinfo-env.js';

export interface Fetched {
  status: number;
  body: Record<string, unknown>;
}

export interface BackendOptions {
  proxy: URL | null;
  bases: Readonly<Record<BookinfoService, URL>>;
  /** Per-attempt timeouts; 3 s each unless given (tests pass short ones). */
  detailsTimeoutMs?: number;
  reviewsTimeoutMs?: number;
  ratingsTimeoutMs?: number;
  /** Attempts at reviews; 2 (one retry) unless given. */
  reviewsAttempts?: number;
  clock?: Clock;
}

export const APP_TIMEOUT_MS = 3000;
export const REVIEWS_ATTEMPTS = 2;

const UNAVAILABLE: Readonly<Record<BookinfoService, string>> = {
  details: 'Sorry, product details are currently unavailable for this book.',
  reviews: 'Sorry, product reviews are currently unavailable for this book.',
  ratings: 'Sorry, product ratings are currently unavailable for this book.',
};

export class BookinfoBackends {
  private readonly clients: Record<BookinfoService, Forwarder>;
  private readonly attempts: number;

  constructor(private readonly opts: BackendOptions) {
    const client = (timeoutMs: number | undefined) => new Forwarder({ proxy: opts.proxy, timeoutMs: timeoutMs ?? APP_TIMEOUT_MS, clock: opts.clock });
    this.clients = {
      details: client(opts.detailsTimeoutMs),
      reviews: client(opts.reviewsTimeoutMs),
      ratings: client(opts.ratingsTimeoutMs),
    };
    this.attempts = Math.max(1, opts.reviewsAttempts ?? REVIEWS_ATTEMPTS);
  }

  details(id: string, headers: http.OutgoingHttpHeaders, signal: AbortSignal): Promise<Fetched> {
    return this.get('details', `/details/${encodeURIComponent(id)}`, headers, signal, 1);
  }

  reviews(id: string, headers: http.OutgoingHttpHeaders, signal: AbortSignal): Promise<Fetched> {
    return this.get('reviews', `/reviews/${encodeURIComponent(id)}`, headers, signal, this.attempts);
  }

  ratings(id: string, headers: http.OutgoingHttpHeaders, signal: AbortSignal): Promise<Fetched> {
    return this.get('ratings', `/ratings/${encodeURIComponent(id)}`, headers, signal, 1);
  }

  destroy(): void {
    for (const c of Object.values(this.clients)) c.destroy();
  }

  private async get(service: BookinfoService, path: string, headers: http.OutgoingHttpHeaders, signal: AbortSignal, attempts: number): Promise<Fetched> {
    const url = serviceUrl(this.opts.bases[service], path);
    let last: ForwardResult | undefined;
    for (let i = 0; i < attempts && !signal.aborted; i++) {
      last = await this.clients[service].call(url, headers, signal);
      if (!('error' in last) && last.status === 200 && isObject(last.body)) return { status: 200, body: last.body };
    }
    const status = last && !('error' in last) && last.status !== 200 ? last.status : 500;
    return { status, body: { error: UNAVAILABLE[service] } };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
