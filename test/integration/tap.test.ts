// The admin endpoint's live tap (/tap, LNK-07) on a real proxy: requests completed while a
// client taps arrive as NDJSON lines with method, authority, path, status, duration and response
// flags; filters select what is streamed; `max` ends the stream; nobody tapping leaves the hub
// empty; a client that stops reading never holds the proxy back.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAdminServer } from '../../src/dataplane/admin/admin-server.js';
import type { TapEvent } from '../../src/dataplane/http/tap.js';
import { eventually, request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

let upstream: TestUpstream;
let proxy: RunningProxy;
let admin: http.Server;
let adminBase: string;

before(async () => {
  upstream = await startUpstream();
  const routes = [
    { name: 'app', match: { prefix: '/app' }, route: { cluster: 'app', timeout: '0s' } },
    { name: 'dead', match: { prefix: '/dead' }, route: { cluster: 'dead', timeout: '0s' } },
  ];
  proxy = await startStaticProxy([loopbackListener('outbound_0.0.0.0_80', [httpChain('outbound_0.0.0.0_80', routes)])], [staticCluster('app', upstream.port), staticCluster('dead', 1)]);
  admin = await startAdminServer(proxy.proxy, '127.0.0.1', 0, () => undefined);
  adminBase = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
});

after(async () => {
  admin?.closeAllConnections();
  admin?.close();
  await proxy?.stop();
  await upstream?.close();
});

/** Opens /tap and collects its lines until the stream ends or `close()` is called. */
function tap(query: string): { lines: unknown[]; ended: Promise<void>; close: () => void; ready: Promise<void> } {
  const lines: unknown[] = [];
  let close = () => undefined as void;
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const ended = new Promise<void>((resolve, reject) => {
    const req = http.get(`${adminBase}/tap${query}`, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/x-ndjson');
      ready();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
    close = () => req.destroy();
  });
  return { lines, ended, close: () => close(), ready: readyP };
}

test('nobody tapping: the hub has no subscribers, so requests pay one null check', async () => {
  assert.equal(proxy.proxy.tap.subscribers, null);
  assert.equal((await request(`${proxy.base}/app/quiet`)).status, 200);
});

test('a tapped request arrives with method, authority, path, status, duration and flags', async () => {
  const t = tap('');
  await t.ready;
  await eventually(() => proxy.proxy.tap.count === 1, 'the tap subscribed');
  const ok = await request(`${proxy.base}/app/one?x=1`, { headers: { 'x-request-id': 'tap-1', host: 'app.example:80' } });
  assert.equal(ok.status, 200);
  const failed = await request(`${proxy.base}/dead/two`, { method: 'POST', body: 'x' });
  assert.equal(failed.status, 503);
  await eventually(() => t.lines.length >= 2, 'two tap lines');
  t.close();
  await t.ended;
  const [a, b] = t.lines as TapEvent[];
  assert.equal(a!.direction, 'outbound');
  assert.equal(a!.method, 'GET');
  assert.equal(a!.authority, 'app.example:80');
  assert.equal(a!.path, '/app/one?x=1');
  assert.equal(a!.status, 200);
  assert.equal(a!.flags, '-');
  assert.equal(a!.requestId, 'tap-1');
  assert.equal(a!.route, 'app');
  assert.equal(a!.upstreamCluster, 'app');
  assert.ok(a!.durationMs >= 0);
  assert.equal(b!.method, 'POST');
  assert.equal(b!.status, 503);
  assert.equal(b!.flags, 'UF');
  assert.match(b!.details, /upstream_reset_before_response_started|connection_failure|upstream/);
  await eventually(() => proxy.proxy.tap.subscribers === null, 'the closed tap unsubscribed');
});

test('filters select by method and path prefix; max ends the stream with a summary line', async () => {
  const t = tap('?method=GET&path=/app/keep&max=2');
  await t.ready;
  await eventually(() => proxy.proxy.tap.count === 1, 'the tap subscribed');
  await request(`${proxy.base}/app/skip`);
  await request(`${proxy.base}/app/keep`, { method: 'POST', body: 'x' });
  await request(`${proxy.base}/app/keep/1`);
  await request(`${proxy.base}/app/keep/2`);
  await t.ended;
  const events = t.lines.slice(0, -1) as TapEvent[];
  assert.deepEqual(events.map((e) => `${e.method} ${e.path}`), ['GET /app/keep/1', 'GET /app/keep/2']);
  assert.deepEqual(t.lines.at(-1), { end: true, sent: 2, dropped: 0 });
  assert.equal(proxy.proxy.tap.subscribers, null);
});

test('a bad filter is refused with 400', async () => {
  const res = await request(`${adminBase}/tap?direction=sideways`);
  assert.equal(res.status, 400);
  assert.match(res.body, /direction must be inbound or outbound/);
});

test('a tap client that never reads costs the proxy nothing: requests keep completing, events are dropped', async () => {
  // A raw socket that sends the request and then never reads: the admin's socket buffer fills.
  const net = await import('node:net');
  const port = (admin.address() as AddressInfo).port;
  const sock = net.connect(port, '127.0.0.1');
  sock.pause();
  sock.write('GET /tap?max_rps=1000 HTTP/1.1\r\nHost: admin\r\n\r\n');
  await eventually(() => proxy.proxy.tap.count === 1, 'the stalled tap subscribed');
  const path = `/app/${'p'.repeat(2000)}`;
  for (let i = 0; i < 300; i++) assert.equal((await request(`${proxy.base}${path}`)).status, 200);
  sock.destroy();
  await eventually(() => proxy.proxy.tap.subscribers === null, 'the stalled tap unsubscribed on close');
});
