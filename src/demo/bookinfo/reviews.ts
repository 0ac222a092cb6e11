// Bookinfo's reviews service, three versions (reference §3 conventions):
//   v1  two reviews, no ratings (productpage shows no stars);
//   v2  asks ratings for the stars (10 s timeout), shown black;
//   v3  the same with a 2.5 s timeout, shown red.
// When ratings fails (error, non-200, timeout), each review says "Ratings service is currently
// unavailable" instead of stars, and reviews itself still answers 200, as Bookinfo's does.
// `version` and each rating's `color` are in the JSON, so callers can tell the versions apart.

import http from 'node:http';
import type { Clock } from '../../common/clock.js';
import { Forwarder } from '../../echo/forward.js';
import { productId, REVIEW_TEXT, REVIEWERS } from './book.js';
import { serviceUrl } from './bookinfo-env.js';
import { safeHandler, sendJson, splitTarget } from '../http-kit.js';
import { BACKEND_FORWARDED, pickHeaders } from './propagate.js';
import type { BOOKINFO_VERSIONS } from './versions.js';

export type ReviewsVersion = (typeof BOOKINFO_VERSIONS.reviews)[number];

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

interface Flavour {
  readonly ratings: boolean;
  readonly color: string | null;
  readonly ratingsTimeoutMs: number;
}

const FLAVOURS: Readonly<Record<ReviewsVersion, Flavour>> = {
  v1: { ratings: false, color: null, ratingsTimeoutMs: 0 },
  v2: { ratings: true, color: 'black', ratingsTimeoutMs: 10_000 },
  v3: { ratings: true, color: 'red', ratingsTimeoutMs: 2_500 },
};

export interface ReviewsOptions {
  version: ReviewsVersion;
  /** Base URL of ratings (`http://ratings:9080`). */
  ratingsBase: URL;
  /** The sidecar (HTTP_PROXY); null calls ratings directly. */
  proxy: URL | null;
  /** Reported as `podname` ("Reviews served by"). */
  podName?: string | null;
  clusterName?: string | null;
  /** Overrides the version's ratings timeout (tests). */
  ratingsTimeoutMs?: number;
  clock?: Clock;
}

export interface Review {
  reviewer: string;
  text: string;
  rating?: { stars: number; color: string } | { error: string };
}

export function createReviewsServer(opts: ReviewsOptions): http.Server {
  const flavour = FLAVOURS[opts.version];
  const ratings = flavour.ratings
    ? new Forwarder({ proxy: opts.proxy, timeoutMs: opts.ratingsTimeoutMs ?? flavour.ratingsTimeoutMs, clock: opts.clock })
    : null;

  const server = http.createServer(
    safeHandler(async (req, res, signal) => {
      const { path } = splitTarget(req.url);
      if (path === '/health') return sendJson(res, 200, { status: 'Reviews is healthy' });
      const m = /^\/reviews\/([^/]*)$/.exec(path);
      if (!m) return sendJson(res, 404, { error: `no such path: ${path}` });
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: `method ${req.method} not allowed` }, { allow: 'GET, HEAD' });
      const id = productId(m[1]!);
      if (id === undefined) return sendJson(res, 400, { error: 'please provide numeric product id' });

      let stars: Record<string, number> | null = null;
      if (ratings) {
        const r = await ratings.call(serviceUrl(opts.ratingsBase, `/ratings/${id}`), pickHeaders(req.headers, BACKEND_FORWARDED), signal);
        if (signal.aborted) return;
        if (!('error' in r) && r.status === 200) stars = starsFrom(r.body);
      }
      const reviews: Review[] = REVIEWERS.map((reviewer) => {
        const review: Review = { reviewer, text: REVIEW_TEXT[reviewer] };
        if (!flavour.ratings) return review;
        const n = stars?.[reviewer];
        review.rating = n === undefined ? { error: RATINGS_UNAVAILABLE } : { stars: n, color: flavour.color! };
        return review;
      });
      return sendJson(res, 200, {
        // A string, as Bookinfo's reviews answers it.
        id: String(id),
        version: opts.version,
        podname: opts.podName ?? null,
        clustername: opts.clusterName ?? 'null',
        reviews,
      });
    }),
  );
  server.on('close', () => ratings?.destroy());
  return server;
}

/** The reviewers' stars from a ratings answer; whole numbers 0..5 only (anything else is left out). */
function starsFrom(body: unknown): Record<string, number> | null {
  const r = (body as { ratings?: unknown } | null)?.ratings;
  if (typeof r !== 'object' || r === null) return null;
  const out: Record<string, number> = {};
  for (const reviewer of REVIEWERS) {
    const n = (r as Record<string, unknown>)[reviewer];
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 5) out[reviewer] = n;
  }
  return out;
}
