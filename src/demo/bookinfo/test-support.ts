// Test-only: a stand-in for the sidecars between Bookinfo's services. Workloads send every call to
// it (their HTTP_PROXY) in absolute form (`GET http://reviews:9080/reviews/0`); it records each
// call and routes it by authority, either to a real server (forwarded as is) or to a handler
// that answers itself (to fail, hang or answer a fixed body). Excluded from the build.

import http from 'node:http';
import { listenForTest } from '../../echo/test-support.js';

export interface Call {
  /** `details:9080` */
  authority: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

/** Answers a call itself. */
export type Answer = (call: Call, res: http.ServerResponse) => void;

/** A base URL to forward to, or an answer. */
export type Route = string | Answer;

export interface FakeSidecar {
  url: URL;
  calls: Call[];
  /** Calls to one authority. */
  to(authority: string): Call[];
  routes: Map<string, Route>;
  close(): Promise<void>;
}

export async function fakeSidecarForTest(routes: Record<string, Route>): Promise<FakeSidecar> {
  const calls: Call[] = [];
  const table = new Map(Object.entries(routes));
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://invalid');
    const call: Call = { authority: target.host, path: target.pathname + target.search, headers: req.headers };
    calls.push(call);
    const route = table.get(call.authority);
    if (route === undefined) {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' });
      return void res.end(`fake sidecar: no route for ${call.authority}`);
    }
    if (typeof route === 'function') {
      req.resume();
      return route(call, res);
    }
    const up = http.request(`${route}${call.path}`, { method: req.method, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(503);
      res.end();
    });
    req.pipe(up);
  });
  const url = new URL(await listenForTest(server));
  return {
    url,
    calls,
    routes: table,
    to: (authority) => calls.filter((c) => c.authority === authority),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** A route that never answers (until the connection is closed): for timeouts. */
export function hangForTest(): Answer {
  return () => undefined;
}

/** A route answering `status` with a JSON body. */
export function answerForTest(status: number, body: unknown = {}): Answer {
  return (_call, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}
