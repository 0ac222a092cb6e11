// The httpbin workload (what `mccutchen/go-httpbin`, `kong/httpbin` and `kennethreitz/httpbin`
// images run locally): the endpoints Istio's tasks use, with httpbin's JSON shapes.
//   /get /headers /ip /user-agent          describe the request
//   /anything[/...] /post /put /patch /delete   the same with the body (data, form, json)
//   /status/<code>                          answers that status (418: the teapot)
//   /delay/<seconds>                        answers after min(seconds, 10)
// Pure configuration in (a clock for /delay); nothing here reads the environment.

import http from 'node:http';
import { systemClock, type Clock } from '../../common/clock.js';
import { readBody, safeHandler, sendBody, sendHtml, sendJson, sendText, splitTarget } from '../http-kit.js';
import { bodyFields, httpbinArgs, httpbinHeaders, origin, requestUrl } from './httpbin-request.js';

export interface HttpbinOptions {
  clock?: Clock;
  /** Request bodies above this are answered 413. Default 1 MiB. */
  maxBodyBytes?: number;
}

export const MAX_DELAY_SECONDS = 10;

/** httpbin's answer to /status/418, as Istio's secure-ingress task shows it. */
export const TEAPOT = [
  '',
  '    -=[ teapot ]=-',
  '',
  '       _...._',
  "     .'  _ _ `.",
  '    | ."` ^ `". _,',
  '    \\_;`"---"`|//',
  '      |       ;/',
  '      \\_     _/',
  '        `"""`',
  '',
].join('\n');

const BODY_METHODS: Readonly<Record<string, string>> = { '/post': 'POST', '/put': 'PUT', '/patch': 'PATCH', '/delete': 'DELETE' };

export function createHttpbinServer(opts: HttpbinOptions = {}): http.Server {
  const clock = opts.clock ?? systemClock;
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;

  return http.createServer(
    safeHandler(async (req, res, signal) => {
      const target = req.url ?? '/';
      const { path, query } = splitTarget(target);
      const method = req.method ?? 'GET';
      const describe = () => ({ args: httpbinArgs(query), headers: httpbinHeaders(req.rawHeaders), origin: origin(req), url: requestUrl(req, target) });
      const withBody = async (): Promise<Record<string, unknown> | null> => {
        const body = await readBody(req, maxBody, signal);
        if (body === null) return null;
        if (!body.ok) {
          sendJson(res, 413, { error: `request body exceeds ${maxBody} bytes` });
          return null;
        }
        return { ...describe(), ...bodyFields(body.body, req.headers['content-type']) };
      };
      const readOnly: Record<string, () => void> = {
        '/': () => sendHtml(res, 200, INDEX),
        '/get': () => sendJson(res, 200, describe()),
        '/headers': () => sendJson(res, 200, { headers: describe().headers }),
        '/ip': () => sendJson(res, 200, { origin: origin(req) }),
        '/user-agent': () => sendJson(res, 200, { 'user-agent': req.headers['user-agent'] ?? null }),
      };
      if (Object.hasOwn(readOnly, path)) {
        if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
        return readOnly[path]!();
      }

      if (path === '/anything' || path.startsWith('/anything/')) {
        const d = await withBody();
        if (d) sendJson(res, 200, { ...d, method });
        return;
      }
      const only = BODY_METHODS[path];
      if (only !== undefined) {
        if (method !== only) return methodNotAllowed(res, only);
        const d = await withBody();
        if (d) sendJson(res, 200, d);
        return;
      }
      if (path.startsWith('/status/')) return status(res, path.slice('/status/'.length));
      if (path.startsWith('/delay/')) {
        const seconds = Number(path.slice('/delay/'.length));
        if (!/^\d+(\.\d+)?$/.test(path.slice('/delay/'.length)) || !Number.isFinite(seconds)) {
          return sendText(res, 400, 'delay must be a number of seconds\n');
        }
        const d = await withBody();
        if (!d) return;
        if (!(await sleep(clock, Math.min(seconds, MAX_DELAY_SECONDS) * 1000, signal))) return;
        return sendJson(res, 200, d);
      }
      return sendText(res, 404, `httpbin: no endpoint ${path}\n`);
    }),
  );
}

function status(res: http.ServerResponse, arg: string): void {
  const code = /^\d{3}$/.test(arg) ? Number(arg) : NaN;
  // A 1xx is interim in HTTP: sent as the final answer, the client would wait for another.
  if (!(code >= 200 && code <= 599)) return sendText(res, 400, 'Invalid status code\n');
  if (code === 418) return sendBody(res, 418, 'text/plain; charset=utf-8', TEAPOT, { 'x-more-info': 'http://tools.ietf.org/html/rfc2324' });
  const headers: http.OutgoingHttpHeaders = {};
  if ([301, 302, 303, 305, 307].includes(code)) headers.location = '/redirect/1';
  if (code === 401) headers['www-authenticate'] = 'Basic realm="Fake Realm"';
  sendBody(res, code, 'text/html; charset=utf-8', '', headers);
}

function methodNotAllowed(res: http.ServerResponse, allow: string): void {
  sendText(res, 405, 'Method Not Allowed\n', { allow });
}

/** Waits `ms`; false (and the timer cancelled) if the client goes away first. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const INDEX = [
  '<!DOCTYPE html><html><head><meta charset="utf-8"><title>httpbin</title></head><body>',
  '<h1>httpbin (Strait built-in)</h1><ul>',
  ...['/get', '/headers', '/ip', '/user-agent', '/anything', '/post', '/status/418', '/delay/1'].map((p) => `<li><a href="${p}">${p}</a></li>`),
  '</ul></body></html>',
  '',
].join('\n');
