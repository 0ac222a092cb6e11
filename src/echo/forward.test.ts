import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { FORWARDED_BODY_CAP, Forwarder, outboundHeaders, parseForwardUrl, PROPAGATED_HEADERS } from './forward.js';
import { closeForTest, fakeProxyForTest, listenForTest } from './test-support.js';

const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) await closeForTest(s);
});

async function upstream(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  return listenForTest(server);
}

const never = new AbortController().signal;

test('through a proxy: absolute-form request target, Host = the URL authority, proxy credentials', async () => {
  const proxy = await fakeProxyForTest();
  servers.push(proxy.server);
  const proxyUrl = new URL(proxy.url);
  proxyUrl.username = 'u';
  proxyUrl.password = 'p w';
  const fwd = new Forwarder({ proxy: proxyUrl });
  try {
    const r = await fwd.call(new URL('http://user:secret@backend.shop:8080/p/q?x=1#frag'), { 'x-request-id': 'r1' }, never);
    assert.equal(proxy.hits.length, 1);
    assert.equal(proxy.hits[0].target, 'http://backend.shop:8080/p/q?x=1');
    assert.equal(proxy.hits[0].host, 'backend.shop:8080');
    assert.equal(proxy.hits[0].headers['x-request-id'], 'r1');
    assert.equal(proxy.hits[0].headers['proxy-authorization'], `Basic ${Buffer.from('u:p w').toString('base64')}`);
    assert.ok('status' in r);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { via: 'fake-proxy', target: 'http://backend.shop:8080/p/q?x=1' });
    assert.equal(r.url, 'http://user:secret@backend.shop:8080/p/q?x=1#frag');
  } finally {
    fwd.destroy();
  }
});

test('without a proxy: origin-form request straight to the host; keep-alive reuses the connection', async () => {
  const ports: number[] = [];
  const base = await upstream((req, res) => {
    ports.push(req.socket.remotePort ?? 0);
    res.setHeader('content-type', 'text/plain');
    res.end(`target=${req.url} host=${req.headers.host}`);
  });
  const fwd = new Forwarder({ proxy: null });
  try {
    const r1 = await fwd.call(new URL(`${base}/direct?a=b`), {}, never);
    const r2 = await fwd.call(new URL(`${base}/again`), {}, never);
    assert.ok('body' in r1 && 'body' in r2);
    assert.equal(r1.body, `target=/direct?a=b host=${new URL(base).host}`);
    assert.equal(r2.body, `target=/again host=${new URL(base).host}`);
    assert.equal(ports[0], ports[1], 'second call reused the pooled connection');
  } finally {
    fwd.destroy();
  }
});

test('a pooled connection found dead on reuse is retried once on a fresh one', async () => {
  // Raw TCP so the race is deterministic: each connection answers its first request with a
  // keep-alive response, and drops the connection on the second without answering.
  let connections = 0;
  const tcp = net.createServer((sock) => {
    connections++;
    let requests = 0;
    sock.on('data', (d) => {
      if (!d.includes('\r\n\r\n')) return;
      if (++requests > 1) return sock.destroy();
      sock.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(tcp.address() as net.AddressInfo).port}`;
  const fwd = new Forwarder({ proxy: null });
  try {
    const first = await fwd.call(new URL(`${base}/1`), {}, never);
    const second = await fwd.call(new URL(`${base}/2`), {}, never);
    assert.deepEqual([first, second].map((r) => ('status' in r ? r.body : r.error)), ['ok', 'ok']);
    assert.equal(connections, 2, 'the second call retried on a new connection');
  } finally {
    fwd.destroy();
    tcp.close();
  }
});

test('JSON bodies are parsed (including +json); anything else, or broken JSON, is text', async () => {
  const base = await upstream((req, res) => {
    const kind = req.url?.slice(1);
    if (kind === 'json') res.setHeader('content-type', 'application/json; charset=utf-8');
    if (kind === 'problem') res.setHeader('content-type', 'application/problem+json');
    if (kind === 'broken') res.setHeader('content-type', 'application/json');
    res.end(kind === 'broken' ? '{not json' : '{"k":[1,2]}');
  });
  const fwd = new Forwarder({ proxy: null });
  try {
    const body = async (kind: string): Promise<unknown> => {
      const r = await fwd.call(new URL(`${base}/${kind}`), {}, never);
      assert.ok('body' in r);
      return r.body;
    };
    assert.deepEqual(await body('json'), { k: [1, 2] });
    assert.deepEqual(await body('problem'), { k: [1, 2] });
    assert.equal(await body('text'), '{"k":[1,2]}');
    assert.equal(await body('broken'), '{not json');
  } finally {
    fwd.destroy();
  }
});

test('bodies are capped at 64 KiB and marked truncated; exactly 64 KiB is not truncated', async () => {
  const base = await upstream((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('x'.repeat(req.url === '/exact' ? FORWARDED_BODY_CAP : 3 * FORWARDED_BODY_CAP));
  });
  const fwd = new Forwarder({ proxy: null });
  try {
    const big = await fwd.call(new URL(`${base}/big`), {}, never);
    assert.ok('body' in big);
    assert.equal(big.truncated, true);
    assert.equal((big.body as string).length, FORWARDED_BODY_CAP);
    const exact = await fwd.call(new URL(`${base}/exact`), {}, never);
    assert.ok('body' in exact);
    assert.equal(exact.truncated, undefined);
    assert.equal((exact.body as string).length, FORWARDED_BODY_CAP);
  } finally {
    fwd.destroy();
  }
});

test('failures come back as { url, error }: refused, timeout, caller gone', async () => {
  // A port nobody listens on: bind one, then free it.
  const closedBase = await upstream(() => {});
  await closeForTest(servers.pop()!);
  const hanging = await upstream(() => { /* never answers */ });
  const fwd = new Forwarder({ proxy: null, timeoutMs: 100 });
  try {
    const refused = await fwd.call(new URL(`${closedBase}/x`), {}, never);
    assert.ok('error' in refused);
    assert.match(refused.error, /ECONNREFUSED/);
    assert.equal(refused.url, `${closedBase}/x`);

    const slow = await fwd.call(new URL(`${hanging}/x`), {}, never);
    assert.deepEqual(slow, { url: `${hanging}/x`, error: 'timeout after 100 ms' });

    const gone = new AbortController();
    const pending = fwd.call(new URL(`${hanging}/y`), {}, gone.signal);
    gone.abort();
    assert.deepEqual(await pending, { url: `${hanging}/y`, error: 'the inbound request went away' });
  } finally {
    fwd.destroy();
  }
});

test('outboundHeaders copies the trace and identity headers, and turns x-echo-forward-next into x-echo-forward', () => {
  const inbound: http.IncomingHttpHeaders = { host: 'frontend', 'content-length': '3', 'x-other': 'no' };
  for (const name of PROPAGATED_HEADERS) inbound[name] = `v-${name}`;
  inbound['x-echo-forward-next'] = 'http://c:8080/';
  inbound['x-echo-forward'] = 'http://b:8080/';
  const out = outboundHeaders(inbound);
  const expected: http.OutgoingHttpHeaders = { 'x-echo-forward': 'http://c:8080/' };
  for (const name of PROPAGATED_HEADERS) expected[name] = `v-${name}`;
  assert.deepEqual(out, expected);
  assert.ok(PROPAGATED_HEADERS.includes('traceparent') && PROPAGATED_HEADERS.includes('x-b3-traceid'));
  assert.deepEqual(outboundHeaders({}), {});
});

test('parseForwardUrl accepts absolute http URLs only', () => {
  assert.equal((parseForwardUrl('http://backend:8080/x') as URL).href, 'http://backend:8080/x');
  assert.match((parseForwardUrl('/relative') as { error: string }).error, /not an absolute URL/);
  assert.match((parseForwardUrl('https://backend/') as { error: string }).error, /only http/);
  assert.match((parseForwardUrl('http://[bad') as { error: string }).error, /not an absolute URL/);
});
