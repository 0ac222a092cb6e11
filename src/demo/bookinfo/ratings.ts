// Bookinfo's ratings service: `GET /ratings/<id>` answers the stars each reviewer gave,
// `{ id, ratings: { Reviewer1: 5, Reviewer2: 4 } }` unless a `POST /ratings/<id>` changed them
// (kept in memory, per process). v1 and v2 answer the same: Bookinfo's v2 reads the same numbers
// from a database, which Strait's built-in does without.

import http from 'node:http';
import { DEFAULT_RATINGS, productId, REVIEWERS, type Reviewer } from './book.js';
import { readBody, safeHandler, sendJson, splitTarget } from '../http-kit.js';

const MAX_BODY = 16 * 1024;

export function createRatingsServer(): http.Server {
  const added = new Map<number, Record<Reviewer, number>>();
  const ratingsOf = (id: number) => ({ id, ratings: added.get(id) ?? { ...DEFAULT_RATINGS } });

  return http.createServer(
    safeHandler(async (req, res, signal) => {
      const { path } = splitTarget(req.url);
      if (path === '/health') return sendJson(res, 200, { status: 'Ratings is healthy' });
      const m = /^\/ratings\/([^/]*)$/.exec(path);
      if (!m) return sendJson(res, 404, { error: `no such path: ${path}` });
      const id = productId(m[1]!);
      if (id === undefined) return sendJson(res, 400, { error: 'please provide numeric product ID' });

      if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, ratingsOf(id));
      if (req.method !== 'POST') return sendJson(res, 405, { error: `method ${req.method} not allowed` }, { allow: 'GET, HEAD, POST' });

      const body = await readBody(req, MAX_BODY, signal);
      if (body === null) return;
      if (!body.ok) return sendJson(res, 413, { error: `request body exceeds ${MAX_BODY} bytes` });
      const parsed = parseRatings(body.body.toString('utf8'));
      if ('error' in parsed) return sendJson(res, 400, { error: parsed.error });
      added.set(id, parsed.ratings);
      return sendJson(res, 200, ratingsOf(id));
    }),
  );
}

function parseRatings(text: string): { ratings: Record<Reviewer, number> } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { error: 'the body must be JSON: {"Reviewer1": 1-5, "Reviewer2": 1-5}' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'the body must be a JSON object' };
  const ratings = { ...DEFAULT_RATINGS };
  for (const r of REVIEWERS) {
    const n = (v as Record<string, unknown>)[r];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 5) return { error: `${r} must be a whole number of stars from 1 to 5` };
    ratings[r] = n;
  }
  return { ratings };
}
