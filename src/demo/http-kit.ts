// Small HTTP helpers shared by the built-in sample servers (Bookinfo, httpbin): a handler wrapper
// that never lets an exception or a broken client crash the process, reply helpers, a capped body
// reader, and cookie and target parsing that treat client input as data.

import type http from 'node:http';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal) => Promise<void> | void;

/**
 * Wraps a handler: `signal` aborts when the client goes away before the answer is complete (so
 * outbound calls and delays stop), a failure becomes a 500 when nothing was sent yet, and a
 * broken request stream is ignored rather than thrown as an uncaught 'error'.
 */
export function safeHandler(fn: Handler): http.RequestListener {
  return (req, res) => {
    const gone = new AbortController();
    req.on('error', () => gone.abort());
    res.on('close', () => {
      if (!res.writableEnded) gone.abort();
    });
    Promise.resolve()
      .then(() => fn(req, res, gone.signal))
      .catch((e: unknown) => {
        if (res.headersSent || gone.signal.aborted) return res.destroy();
        sendJson(res, 500, { error: `internal error: ${(e as Error).message}` });
      })
      .catch(() => res.destroy());
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  sendBody(res, status, 'application/json', JSON.stringify(body), headers);
}

export function sendHtml(res: http.ServerResponse, status: number, html: string, headers: http.OutgoingHttpHeaders = {}): void {
  sendBody(res, status, 'text/html; charset=utf-8', html, headers);
}

export function sendText(res: http.ServerResponse, status: number, text: string, headers: http.OutgoingHttpHeaders = {}): void {
  sendBody(res, status, 'text/plain; charset=utf-8', text, headers);
}

/** Sends a complete answer of the given content type (no-op when one was already sent). */
export function sendBody(res: http.ServerResponse, status: number, type: string, text: string, headers: http.OutgoingHttpHeaders = {}): void {
  if (res.writableEnded || res.destroyed) return;
  // 204 and 304 have no body by definition, and HEAD gets the headers only.
  const noBody = status === 204 || status === 304;
  const body = noBody ? '' : text;
  res.writeHead(status, noBody ? headers : { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge: true } | null;

/**
 * Reads the request body up to `cap` bytes. `{ ok: false }` when it is larger (declared or
 * counted; the rest is drained so the client reads the 413 instead of a reset); null when the
 * request broke off first.
 */
export function readBody(req: http.IncomingMessage, cap: number, signal: AbortSignal): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > cap;
    if (over) resolve({ ok: false, tooLarge: true });
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > cap) {
        over = true;
        chunks.length = 0;
        resolve({ ok: false, tooLarge: true });
      } else chunks.push(c);
    });
    req.on('end', () => resolve(over ? { ok: false, tooLarge: true } : { ok: true, body: Buffer.concat(chunks) }));
    req.on('close', () => resolve(null)); // a no-op after 'end': a promise settles once
    signal.addEventListener('abort', () => resolve(null), { once: true });
  });
}

/** Cookie header → name/value map (values percent-decoded when they decode). First one wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (out.has(name)) continue;
    try {
      value = decodeURIComponent(value);
    } catch {
      // Not percent-encoding after all: keep it as sent.
    }
    out.set(name, value);
  }
  return out;
}

/** The path and query of a request target (origin or absolute form); never throws. */
export function splitTarget(target: string | undefined): { path: string; query: URLSearchParams } {
  const raw = target ?? '/';
  let pathAndQuery = raw;
  if (!raw.startsWith('/') && URL.canParse(raw)) {
    const u = new URL(raw);
    pathAndQuery = u.pathname + u.search;
  }
  const q = pathAndQuery.indexOf('?');
  return {
    path: q === -1 ? pathAndQuery : pathAndQuery.slice(0, q),
    query: new URLSearchParams(q === -1 ? '' : pathAndQuery.slice(q + 1)),
  };
}

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
