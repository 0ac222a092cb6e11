// Bookinfo's productpage: the page users see (`GET /productpage`, product 0) and a small JSON API,
// built from details and reviews, which it calls through its sidecar (HTTP_PROXY) with Bookinfo's
// timeouts and retry (backends.ts). Login/logout set the user whose name goes to reviews as
// `end-user`. Routes:
//   GET  /  /productpage  /health  /static/bookinfo.css
//   POST /login (form: username)   GET /logout
//   GET  /api/v1/products  /api/v1/products/<id>  .../<id>/reviews  .../<id>/ratings

import http from 'node:http';
import { PRODUCTS } from './book.js';
import { BookinfoBackends, type BackendOptions } from './backends.js';
import { readBody, safeHandler, sendBody, sendHtml, sendJson, sendText, splitTarget } from '../http-kit.js';
import { renderIndex, renderProductPage, STYLESHEET } from './productpage-html.js';
import { pickHeaders, PRODUCTPAGE_FORWARDED } from './propagate.js';
import { loginCookie, logoutCookie, userFromCookie, validUser } from './session.js';

export type ProductpageOptions = BackendOptions;

const MAX_FORM_BYTES = 16 * 1024;

export function createProductpageServer(opts: ProductpageOptions): http.Server {
  const backends = new BookinfoBackends(opts);

  /** The headers for the calls one inbound request causes: propagated, plus end-user if logged in. */
  const forwardHeaders = (req: http.IncomingMessage): http.OutgoingHttpHeaders => {
    const headers = pickHeaders(req.headers, PRODUCTPAGE_FORWARDED);
    const user = userFromCookie(req.headers.cookie);
    if (user) headers['end-user'] = user;
    return headers;
  };

  const server = http.createServer(
    safeHandler(async (req, res, signal) => {
      const { path, query } = splitTarget(req.url);
      const method = req.method ?? 'GET';
      const read = method === 'GET' || method === 'HEAD';

      if (path === '/login') {
        if (method !== 'POST') return sendText(res, 405, 'use POST /login with a form field "username"\n', { allow: 'POST' });
        const body = await readBody(req, MAX_FORM_BYTES, signal);
        if (body === null) return;
        if (!body.ok) return sendText(res, 413, `the login form exceeds ${MAX_FORM_BYTES} bytes\n`);
        const form = new URLSearchParams(body.body.toString('utf8'));
        const user = validUser(form.get('username') ?? query.get('username'));
        // An empty or unusable name signs out, as an empty Bookinfo session user does.
        const cookie = user ? loginCookie(user) : logoutCookie();
        res.writeHead(302, { location: '/productpage', 'set-cookie': cookie, 'content-length': 0 });
        return void res.end();
      }
      if (!read) return sendText(res, 405, `method ${method} not allowed\n`, { allow: 'GET, HEAD' });
      if (path === '/logout') {
        res.writeHead(302, { location: '/productpage', 'set-cookie': logoutCookie(), 'content-length': 0 });
        return void res.end();
      }
      if (path === '/health') return sendText(res, 200, 'Product page is healthy');
      if (path === '/' || path === '/index.html') return sendHtml(res, 200, renderIndex(userFromCookie(req.headers.cookie)));
      if (path === '/static/bookinfo.css') return sendBody(res, 200, 'text/css; charset=utf-8', STYLESHEET);
      if (path.startsWith('/static/')) return sendText(res, 404, `no static file ${path}\n`);

      if (path === '/productpage') {
        const headers = forwardHeaders(req);
        const product = PRODUCTS[0]!;
        // One after the other, as Bookinfo does: the page's time is details' plus reviews'.
        const details = await backends.details(String(product.id), headers, signal);
        const reviews = await backends.reviews(String(product.id), headers, signal);
        if (signal.aborted) return;
        return sendHtml(res, 200, renderProductPage({ product, details, reviews, user: userFromCookie(req.headers.cookie) }));
      }

      if (path === '/api/v1/products') return sendJson(res, 200, PRODUCTS);
      const api = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/.exec(path);
      if (api) {
        const id = decodeSegment(api[1]!);
        const headers = forwardHeaders(req);
        const r = await (api[2] === 'reviews' ? backends.reviews(id, headers, signal)
          : api[2] === 'ratings' ? backends.ratings(id, headers, signal)
            : backends.details(id, headers, signal));
        if (signal.aborted) return;
        return sendJson(res, r.status, r.body);
      }
      return sendText(res, 404, `no such page: ${path}\n`);
    }),
  );
  server.on('close', () => backends.destroy());
  return server;
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
