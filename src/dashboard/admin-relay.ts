// Relays read-only admin pages of one proxy through the control plane's API
// (`GET /api/proxy/<page>?pod=<namespace>/<name>`), so `strait proxy-config`, `strait
// proxy-status` and the dashboard reach every proxy through one address. Only the pages below
// are relayed: the admin endpoint also has POST /quitquitquit, which the API must not expose.

import http from 'node:http';
import type { ServerResponse } from 'node:http';

export const RELAYED_PAGES = ['config_dump', 'clusters', 'certs', 'server_info', 'stats', 'stats/prometheus', 'listeners', 'ready'] as const;

const TIMEOUT_MS = 5000;

/** GET `<adminUrl>/<page>` and copy status, content type and body to `res`. */
export function relayAdminPage(adminUrl: string, page: string, query: string, res: ServerResponse): void {
  const req = http.get(`${adminUrl}/${page}${query}`, { timeout: TIMEOUT_MS }, (up) => {
    res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'text/plain', 'cache-control': 'no-cache' });
    up.pipe(res);
  });
  const fail = (why: string) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `the proxy's admin endpoint ${adminUrl} ${why}` }) + '\n');
  };
  req.on('timeout', () => {
    req.destroy();
    fail(`did not answer within ${TIMEOUT_MS} ms`);
  });
  req.on('error', (e) => fail(`is unreachable (${e.message})`));
}

/** GET `<adminUrl>/<page>` as text (for the control plane's own use: scrapes, config views). */
export function fetchAdminText(adminUrl: string, page: string, timeoutMs = TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${adminUrl}/${page}`, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${page}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${page}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
