// Test-only helpers shared by the echo tests: listen on 127.0.0.1 port 0, a plain HTTP client
// that can send repeated headers, and a fake sidecar (HTTP proxy) that records what it was sent.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1, an ephemeral port; resolves with the base URL (`http://127.0.0.1:N`). */
export async function listenForTest(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeForTest(server: http.Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

export interface TestResponse {
  status: number;
  /** The client side's port, to compare with what the server saw as its peer. */
  localPort: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (throws if it is not). */
  json: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- assertions read it freely
}

/** One request on a fresh connection; header values given as arrays go out as repeated lines. */
export function requestForTest(
  url: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const localPort = res.socket.localPort ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          localPort,
          headers: res.headers,
          text,
          get json() {
            return JSON.parse(text) as Record<string, unknown>;
          },
        });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface ProxyHit {
  /** The request target as sent: absolute form when a client uses the proxy properly. */
  target: string;
  host: string | undefined;
  headers: http.IncomingHttpHeaders;
}

/**
 * A stand-in for the sidecar's outbound listener: records each request and answers with `answer`
 * (default: 200 JSON `{ "via": "fake-proxy", "target": ... }`).
 */
export async function fakeProxyForTest(
  answer?: (hit: ProxyHit, res: http.ServerResponse) => void,
): Promise<{ url: string; hits: ProxyHit[]; server: http.Server }> {
  const hits: ProxyHit[] = [];
  const server = http.createServer((req, res) => {
    const hit: ProxyHit = { target: req.url ?? '', host: req.headers.host, headers: req.headers };
    hits.push(hit);
    req.resume();
    if (answer) return answer(hit, res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ via: 'fake-proxy', target: hit.target }));
  });
  return { url: await listenForTest(server), hits, server };
}
