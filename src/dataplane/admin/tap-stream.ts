// GET /tap on the admin endpoint: streams the proxy's completed requests as NDJSON (one
// TapEvent per line) until the client disconnects or `max` events were sent. Query parameters:
// method, authority, path (prefix), direction (inbound|outbound), max (events, then the stream
// ends), max_rps (default 100, at most 1000, as Linkerd's tap). The proxy never waits for a tap
// client: when the socket's buffer is full, events are dropped (and counted in the stream's
// closing line) until it drains, so a slow reader costs the request path nothing.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../common/clock.js';
import type { TapFilter, TapHub } from '../http/tap.js';

const DEFAULT_MAX_RPS = 100;

export function tapFilterFromQuery(q: URLSearchParams): TapFilter | string {
  const direction = q.get('direction') ?? undefined;
  if (direction !== undefined && direction !== 'inbound' && direction !== 'outbound') return `direction must be inbound or outbound (got "${direction}")`;
  return {
    ...(q.get('method') ? { method: q.get('method')!.toUpperCase() } : {}),
    ...(q.get('authority') ? { authority: q.get('authority')! } : {}),
    ...(q.get('path') ? { pathPrefix: q.get('path')! } : {}),
    ...(direction ? { direction } : {}),
  };
}

export function serveTap(hub: TapHub, clock: Clock, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const filter = tapFilterFromQuery(url.searchParams);
  const maxRps = Math.min(1000, Math.max(1, Number(url.searchParams.get('max_rps') ?? DEFAULT_MAX_RPS) || DEFAULT_MAX_RPS));
  const max = Number(url.searchParams.get('max') ?? '0') || Infinity;
  if (typeof filter === 'string') {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(filter + '\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  res.flushHeaders();
  let sent = 0;
  let dropped = 0;
  let blocked = false;
  // A token bucket of one second's worth of events.
  let tokens = maxRps;
  let last = clock.monotonic();
  const done = () => {
    unsubscribe();
    res.end(JSON.stringify({ end: true, sent, dropped }) + '\n');
  };
  const unsubscribe = hub.subscribe({
    filter,
    deliver(line) {
      const now = clock.monotonic();
      tokens = Math.min(maxRps, tokens + ((now - last) * maxRps) / 1000);
      last = now;
      if (blocked || tokens < 1) {
        dropped++;
        return;
      }
      tokens--;
      sent++;
      if (!res.write(line)) {
        blocked = true;
        res.once('drain', () => (blocked = false));
      }
      if (sent >= max) done();
    },
  });
  req.once('close', unsubscribe);
  res.once('close', unsubscribe);
}
