// Bookinfo's details service: `GET /details/<id>` answers the book's details as JSON (type,
// pages, publisher, language, ISBNs). With ENABLE_EXTERNAL_BOOK_SERVICE=true it looks the book up
// in Google's book API instead, as Bookinfo's details does; locally only over plain HTTP
// (DO_NOT_ENCRYPT=true), through the sidecar, because the sidecar's HTTP proxy does not tunnel
// TLS (no CONNECT). Bookinfo's v2 image turns the lookup on by default; the built-in v2 does not,
// so the demo works offline (docs/examples.md).

import http from 'node:http';
import type { Clock } from '../../common/clock.js';
import { Forwarder } from '../../echo/forward.js';
import { bookDetails, EXTERNAL_ISBN, productId } from './book.js';
import { safeHandler, sendJson, splitTarget } from '../http-kit.js';
import { pickHeaders, TRACE_HEADERS } from './propagate.js';

export interface DetailsOptions {
  /** Look the book up in the external book service. */
  external?: { url: URL; proxy: URL | null; timeoutMs?: number; clock?: Clock } | { error: string };
}

/** Bookinfo's read timeout for the external lookup. */
const EXTERNAL_TIMEOUT_MS = 5000;

/** Where the lookup goes: plain HTTP on port 80 only when DO_NOT_ENCRYPT says so. */
export function externalBookUrl(doNotEncrypt: boolean): URL | { error: string } {
  if (!doNotEncrypt) {
    return { error: 'the external book service is HTTPS, which Strait sidecars cannot tunnel yet (no CONNECT); set DO_NOT_ENCRYPT=true to call it over HTTP' };
  }
  return new URL(`http://www.googleapis.com/books/v1/volumes?q=isbn:${EXTERNAL_ISBN}`);
}

export function createDetailsServer(opts: DetailsOptions = {}): http.Server {
  const ext = opts.external && 'url' in opts.external ? opts.external : null;
  const client = ext ? new Forwarder({ proxy: ext.proxy, timeoutMs: ext.timeoutMs ?? EXTERNAL_TIMEOUT_MS, clock: ext.clock }) : null;

  const server = http.createServer(
    safeHandler(async (req, res, signal) => {
      const { path } = splitTarget(req.url);
      if (path === '/health') return sendJson(res, 200, { status: 'Details is healthy' });
      const m = /^\/details\/([^/]*)$/.exec(path);
      if (!m) return sendJson(res, 404, { error: `no such path: ${path}` });
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: `method ${req.method} not allowed` }, { allow: 'GET, HEAD' });
      const id = productId(m[1]!);
      if (id === undefined) return sendJson(res, 400, { error: 'please provide numeric product id' });
      if (opts.external && 'error' in opts.external) return sendJson(res, 400, { error: opts.external.error });
      if (!client || !ext) return sendJson(res, 200, bookDetails(id));

      const r = await client.call(ext.url, pickHeaders(req.headers, TRACE_HEADERS), signal);
      if (signal.aborted) return;
      const book = 'error' in r ? { error: r.error } : r.status !== 200 ? { error: `the external book service answered ${r.status}` } : fromExternal(id, r.body);
      return sendJson(res, 'error' in book ? 400 : 200, book);
    }),
  );
  server.on('close', () => client?.destroy());
  return server;
}

/** Maps the book API's first volume to details' shape, as Bookinfo does. */
export function fromExternal(id: number, body: unknown): Record<string, unknown> {
  const items = (body as { items?: unknown } | null)?.items;
  const info = Array.isArray(items) ? (items[0] as { volumeInfo?: Record<string, unknown> } | undefined)?.volumeInfo : undefined;
  if (typeof info !== 'object' || info === null) return { error: 'the external book service did not return a book' };
  const ids = Array.isArray(info.industryIdentifiers) ? (info.industryIdentifiers as { type?: unknown; identifier?: unknown }[]) : [];
  const isbn = (type: string) => ids.find((x) => x?.type === type)?.identifier ?? null;
  return {
    id,
    author: Array.isArray(info.authors) ? info.authors[0] ?? null : null,
    year: info.publishedDate ?? null,
    type: info.printType === 'BOOK' ? 'paperback' : 'unknown',
    pages: info.pageCount ?? null,
    publisher: info.publisher ?? null,
    language: info.language === 'en' ? 'English' : 'unknown',
    'ISBN-10': isbn('ISBN_10'),
    'ISBN-13': isbn('ISBN_13'),
  };
}
