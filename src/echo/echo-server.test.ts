import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { ManualClockForTest, type Clock } from '../common/clock.js';
import { createEchoServer, DEFAULT_MAX_BODY_BYTES, type EchoOptions } from './echo-server.js';
import { closeForTest, fakeProxyForTest, listenForTest, requestForTest } from './test-support.js';

// A regression here tends to hang (a response that never comes) rather than throw.
const T = { timeout: 10_000 };
const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) await closeForTest(s);
});

async function startEcho(opts: EchoOptions = {}): Promise<string> {
  const server = createEchoServer(opts);
  servers.push(server);
  return listenForTest(server);
}

async function startServer(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  return listenForTest(server);
}

/** A manual clock that reports each timer set and cancelled, so /delay is tested without sleeping. */
function watchedClock() {
  const manual = new ManualClockForTest();
  const timers: { ms: number; cancelled: boolean }[] = [];
  let wake: (() => void) | null = null;
  const clock: Clock = {
    now: () => manual.now(),
    monotonic: () => manual.monotonic(),
    setTimer(ms, fn) {
      const entry = { ms, cancelled: false };
      timers.push(entry);
      const t = manual.setTimer(ms, fn);
      wake?.();
      return { cancel: () => { entry.cancelled = true; t.cancel(); } };
    },
  };
  const timerSet = async (count: number): Promise<void> => {
    while (timers.length < count) await new Promise<void>((r) => { wake = r; });
  };
  return { clock, manual, timers, timerSet };
}

/** Resolves once `lines` has `n` entries (the log callback fires when a response closes). */
async function logged(lines: string[], n: number): Promise<void> {
  while (lines.length < n) await new Promise((r) => setImmediate(r));
}

const closedPort = async (): Promise<string> => {
  const s = http.createServer();
  const base = await listenForTest(s);
  await closeForTest(s);
  return base;
};

const identity: EchoOptions = {
  service: 'frontend', version: 'v2', pod: 'frontend-v2-x1', namespace: 'shop', podIP: '127.10.0.5',
  serviceAccount: 'frontend-sa', labels: { app: 'frontend', version: 'v2' },
};

test('echoes the request and the pod as JSON', T, async () => {
  const base = await startEcho(identity);
  // Typed loosely on purpose: Node's types allow one user-agent, the wire allows two.
  const headers: Record<string, string | string[]> = {
    host: 'shop.example:8080',
    'user-agent': ['ua-one', 'ua-two'],
    'X-Multi': ['a', 'b', 'c'],
    'content-type': 'text/plain',
  };
  const r = await requestForTest(`${base}/some/path?x=1&x=2&y=z`, { method: 'POST', headers, body: 'hello' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  const j = r.json;
  assert.equal(j.service, 'frontend');
  assert.equal(j.version, 'v2');
  assert.equal(j.pod, 'frontend-v2-x1');
  assert.equal(j.namespace, 'shop');
  assert.equal(j.podIP, '127.10.0.5');
  assert.equal(j.serviceAccount, 'frontend-sa');
  assert.deepEqual(j.labels, { app: 'frontend', version: 'v2' });
  assert.equal(j.host, 'shop.example:8080');
  assert.equal(j.method, 'POST');
  assert.equal(j.path, '/some/path');
  assert.deepEqual(j.query, { x: ['1', '2'], y: 'z' });
  assert.equal(j.proto, 'HTTP/1.1');
  // Node itself would keep only the first user-agent; the echo shows both.
  assert.deepEqual(j.headers['user-agent'], ['ua-one', 'ua-two']);
  assert.deepEqual(j.headers['x-multi'], ['a', 'b', 'c']);
  assert.equal(j.headers['content-type'], 'text/plain');
  assert.equal(j.headers.host, 'shop.example:8080');
  assert.deepEqual(j.peer, { address: '127.0.0.1', port: r.localPort, identity: null, xfcc: null });
  assert.equal(j.bodyBytes, 5);
  assert.equal(j.forwarded, undefined);
});

test('defaults: unset identity fields are null', T, async () => {
  const base = await startEcho();
  const j = (await requestForTest(`${base}/`)).json;
  for (const k of ['service', 'version', 'pod', 'namespace', 'serviceAccount', 'podIP']) assert.equal(j[k], null, k);
  assert.deepEqual(j.labels, {});
});

test('peer.identity comes from the x-forwarded-client-cert URI', T, async () => {
  const base = await startEcho();
  const xfcc = 'By=spiffe://cluster.local/ns/shop/sa/frontend-sa;Hash=ab;Subject="";URI=spiffe://cluster.local/ns/shop/sa/gateway';
  const j = (await requestForTest(`${base}/`, { headers: { 'x-forwarded-client-cert': xfcc } })).json;
  assert.equal(j.peer.identity, 'spiffe://cluster.local/ns/shop/sa/gateway');
  assert.deepEqual(j.peer.xfcc[0].by, ['spiffe://cluster.local/ns/shop/sa/frontend-sa']);
});

test('/status/<code> answers that code, with the JSON body except for 204 and 304', T, async () => {
  const base = await startEcho(identity);
  const r503 = await requestForTest(`${base}/status/503?why=test`);
  assert.equal(r503.status, 503);
  assert.equal(r503.json.path, '/status/503');
  assert.equal(r503.json.service, 'frontend');

  const r418 = await requestForTest(`${base}/status/418`, { method: 'DELETE' });
  assert.equal(r418.status, 418);
  assert.equal(r418.json.method, 'DELETE');

  for (const code of [204, 304]) {
    const r = await requestForTest(`${base}/status/${code}`);
    assert.equal(r.status, code);
    assert.equal(r.text, '');
    assert.equal(r.headers['content-type'], undefined);
  }

  for (const bad of ['abc', '600', '99', '100']) {
    const r = await requestForTest(`${base}/status/${bad}`);
    assert.equal(r.status, 400, bad);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(r.json.error, /status/);
    assert.equal(r.json.service, 'frontend', 'errors still say which workload answered');
  }
});

test('/delay/<ms> waits on the clock before answering; capped at 60 s; non-numbers are 400', T, async () => {
  const { clock, manual, timers, timerSet } = watchedClock();
  const base = await startEcho({ clock });
  let answered = false;
  const pending = requestForTest(`${base}/delay/5000`).then((r) => { answered = true; return r; });
  await timerSet(1);
  assert.equal(timers[0].ms, 5000);
  manual.advance(4999);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(answered, false, 'answered before the delay elapsed');
  manual.advance(1);
  const r = await pending;
  assert.equal(r.status, 200);
  assert.equal(r.json.path, '/delay/5000');

  const capped = requestForTest(`${base}/delay/3600000`);
  await timerSet(2);
  assert.equal(timers[1].ms, 60_000);
  manual.advance(60_000);
  assert.equal((await capped).status, 200);

  const bad = await requestForTest(`${base}/delay/soon`);
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /delay/);
});

test('/delay with the real clock (short)', T, async () => {
  const base = await startEcho();
  const r = await requestForTest(`${base}/delay/20`);
  assert.equal(r.status, 200);
  assert.equal(r.json.path, '/delay/20');
});

test('a client that leaves during /delay cancels the timer and is logged as aborted', T, async () => {
  const { clock, timers, timerSet } = watchedClock();
  const lines: string[] = [];
  const base = await startEcho({ clock, log: (l) => lines.push(l) });
  const req = http.get(`${base}/delay/30000`, { agent: false });
  req.on('error', () => {});
  await timerSet(1);
  req.destroy();
  await logged(lines, 1);
  assert.equal(timers[0].cancelled, true);
  assert.match(lines[0], /^GET \/delay\/30000 aborted 0B /);
});

test('request bodies: counted up to 1 MiB; above that 413, and the connection stays usable', T, async () => {
  const base = await startEcho();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const exact = await requestForTest(`${base}/up`, { method: 'PUT', body: Buffer.alloc(DEFAULT_MAX_BODY_BYTES), agent });
    assert.equal(exact.status, 200);
    assert.equal(exact.json.bodyBytes, DEFAULT_MAX_BODY_BYTES);

    const over = await requestForTest(`${base}/up`, { method: 'PUT', body: Buffer.alloc(DEFAULT_MAX_BODY_BYTES + 1), agent });
    assert.equal(over.status, 413);
    assert.match(over.json.error, /exceeds 1048576 bytes/);

    // The refused body was drained, so the same keep-alive connection serves the next request.
    const next = await requestForTest(`${base}/after`, { agent });
    assert.equal(next.status, 200);
    assert.equal(next.localPort, over.localPort);
  } finally {
    agent.destroy();
  }
});

test('request bodies: a chunked body that grows past the cap is refused with 413', T, async () => {
  const lines: string[] = [];
  const base = await startEcho({ maxBodyBytes: 1000, log: (l) => lines.push(l) });
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${base}/chunked`, { method: 'POST', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let i = 0; i < 5; i++) req.write(Buffer.alloc(300));
    req.end();
  });
  assert.equal(status, 413);
  await logged(lines, 1);
  assert.match(lines[0], /^POST \/chunked 413 1200B /);
});

test('Expect: 100-continue with a body over the cap gets 413 without inviting the body', T, async () => {
  const base = await startEcho({ maxBodyBytes: 1000 });
  let continued = false;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${base}/expect`, {
      method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': '5000' },
    }, resolve);
    req.on('continue', () => { continued = true; });
    req.on('error', reject);
    req.flushHeaders();
  });
  res.resume();
  assert.equal(res.statusCode, 413);
  assert.equal(continued, false);
  assert.equal(res.headers.connection, 'close');

  // Under the cap, the client is invited to send and the body is counted.
  const ok = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${base}/expect`, {
      method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': '10' },
    }, resolve);
    req.on('continue', () => req.end('0123456789'));
    req.on('error', reject);
    req.flushHeaders();
  });
  const chunks: Buffer[] = [];
  for await (const c of ok) chunks.push(c as Buffer);
  assert.equal(ok.statusCode, 200);
  assert.equal(JSON.parse(Buffer.concat(chunks).toString()).bodyBytes, 10);
});

test('x-echo-forward goes through the sidecar (HTTP_PROXY) with the trace headers', T, async () => {
  const proxy = await fakeProxyForTest();
  servers.push(proxy.server);
  const lines: string[] = [];
  const base = await startEcho({ ...identity, proxy: new URL(proxy.url), log: (l) => lines.push(l) });
  const propagated = {
    'x-request-id': 'req-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'k=v', 'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7', 'x-b3-spanid': 'e457b5a2e4d86bd1',
    'x-b3-parentspanid': '05e3ac9a4f6e3b90', 'x-b3-sampled': '1', 'x-b3-flags': '0', b3: '80f198ee-e457b5a2-1',
    'x-ot-span-context': 'ctx', 'end-user': 'jason', 'user-agent': 'test-agent', authorization: 'Bearer t',
    cookie: 'session=abc',
  };
  const r = await requestForTest(`${base}/front`, {
    headers: { ...propagated, 'x-echo-forward': 'http://backend.shop:8080/api?q=1', 'x-not-propagated': 'no' },
  });
  assert.equal(r.status, 200);
  assert.equal(proxy.hits.length, 1);
  const hit = proxy.hits[0];
  assert.equal(hit.target, 'http://backend.shop:8080/api?q=1');
  assert.equal(hit.host, 'backend.shop:8080');
  for (const [name, value] of Object.entries(propagated)) assert.equal(hit.headers[name], value, name);
  assert.equal(hit.headers['x-not-propagated'], undefined);
  assert.equal(hit.headers['x-echo-forward'], undefined);

  const f = r.json.forwarded;
  assert.equal(f.url, 'http://backend.shop:8080/api?q=1');
  assert.equal(f.status, 200);
  assert.equal(f.headers['content-type'], 'application/json');
  assert.deepEqual(f.body, { via: 'fake-proxy', target: 'http://backend.shop:8080/api?q=1' });
  assert.equal(r.json.path, '/front');
  await logged(lines, 1);
  assert.match(lines[0], /^GET \/front 200 0B .* forward http:\/\/backend\.shop:8080\/api\?q=1 200$/);
});

test('x-echo-forward-next chains three echoes, each hop carrying the trace headers', T, async () => {
  const c = await startEcho({ service: 'c' });
  const b = await startEcho({ service: 'b' });
  const a = await startEcho({ service: 'a' });
  const r = await requestForTest(`${a}/start`, {
    headers: { 'x-echo-forward': `${b}/middle`, 'x-echo-forward-next': `${c}/end`, 'x-request-id': 'chain-1' },
  });
  assert.equal(r.status, 200);
  const hopB = r.json.forwarded.body;
  assert.equal(hopB.service, 'b');
  assert.equal(hopB.path, '/middle');
  assert.equal(hopB.headers['x-echo-forward'], `${c}/end`);
  assert.equal(hopB.headers['x-request-id'], 'chain-1');
  const hopC = hopB.forwarded.body;
  assert.equal(hopC.service, 'c');
  assert.equal(hopC.path, '/end');
  assert.equal(hopC.headers['x-request-id'], 'chain-1');
  assert.equal(hopC.forwarded, undefined, 'the chain ends at c');
});

test('ECHO_FORWARD is the default target; the header overrides it, an empty header turns it off', T, async () => {
  const backend = await startEcho({ service: 'backend' });
  const other = await startEcho({ service: 'other' });
  const front = await startEcho({ service: 'frontend', defaultForward: new URL(`${backend}/from-default`) });

  const byDefault = (await requestForTest(`${front}/`)).json;
  assert.equal(byDefault.forwarded.url, `${backend}/from-default`);
  assert.equal(byDefault.forwarded.body.service, 'backend');
  assert.equal(byDefault.forwarded.body.path, '/from-default');

  const overridden = (await requestForTest(`${front}/`, { headers: { 'x-echo-forward': `${other}/x` } })).json;
  assert.equal(overridden.forwarded.body.service, 'other');

  const off = (await requestForTest(`${front}/`, { headers: { 'x-echo-forward': '' } })).json;
  assert.equal(off.forwarded, undefined);
});

test('a failed forward answers 502 with the error; a bad forward URL answers 400', T, async () => {
  const base = await startEcho({ forwardTimeoutMs: 100 });
  const dead = await closedPort();
  const refused = await requestForTest(`${base}/`, { headers: { 'x-echo-forward': `${dead}/x` } });
  assert.equal(refused.status, 502);
  assert.equal(refused.json.forwarded.url, `${dead}/x`);
  assert.match(refused.json.forwarded.error, /ECONNREFUSED/);
  assert.equal(refused.json.path, '/', 'the echo part is still there');

  const silent = await startServer(() => { /* never answers */ });
  const timedOut = await requestForTest(`${base}/`, { headers: { 'x-echo-forward': `${silent}/slow` } });
  assert.equal(timedOut.status, 502);
  assert.deepEqual(timedOut.json.forwarded, { url: `${silent}/slow`, error: 'timeout after 100 ms' });

  for (const bad of ['not a url', 'https://backend/', '/relative']) {
    const r = await requestForTest(`${base}/`, { headers: { 'x-echo-forward': bad } });
    assert.equal(r.status, 400, bad);
    assert.match(r.json.error, /^x-echo-forward: /);
  }
});

test('an upstream 5xx is shown nested under 200, or propagated on request; /status combines with forwarding', T, async () => {
  const failing = await startServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('no healthy upstream');
  });
  const ok = await startEcho({ service: 'ok' });
  const base = await startEcho();

  const shown = await requestForTest(`${base}/`, { headers: { 'x-echo-forward': failing } });
  assert.equal(shown.status, 200);
  assert.equal(shown.json.forwarded.status, 503);
  assert.equal(shown.json.forwarded.body, 'no healthy upstream');

  const propagated = await requestForTest(`${base}/`, {
    headers: { 'x-echo-forward': failing, 'x-echo-propagate-status': 'true' },
  });
  assert.equal(propagated.status, 503);
  assert.equal(propagated.json.forwarded.status, 503);

  const withStatus = await requestForTest(`${base}/status/201`, {
    headers: { 'x-echo-forward': ok, 'x-echo-propagate-status': 'true' },
  });
  assert.equal(withStatus.status, 201);
  assert.equal(withStatus.json.forwarded.body.service, 'ok');
});

test('speaks HTTP/2 with prior knowledge (h2c) on the same port', T, async () => {
  const base = await startEcho({ service: 'h2' });
  const session = http2.connect(base);
  try {
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/h2/path?k=v', 'x-custom': 'yes' });
      let status = 0;
      let body = '';
      stream.on('response', (h) => { status = Number(h[':status']); });
      stream.on('data', (c: Buffer) => { body += c.toString(); });
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
      stream.end('abc');
    });
    assert.equal(reply.status, 200);
    const j = JSON.parse(reply.body);
    assert.equal(j.proto, 'HTTP/2.0');
    assert.equal(j.method, 'POST');
    assert.equal(j.path, '/h2/path');
    assert.deepEqual(j.query, { k: 'v' });
    assert.equal(j.host, new URL(base).host);
    assert.equal(j.headers['x-custom'], 'yes');
    assert.equal(j.headers[':path'], undefined);
    assert.equal(j.bodyBytes, 3);
    assert.equal(j.peer.address, '127.0.0.1');
  } finally {
    session.close();
  }
  // HTTP/1.1 still works on the same listener (requests starting with P are not mistaken for h2).
  const r = await requestForTest(`${base}/h1`, { method: 'PUT', body: 'x' });
  assert.equal(r.json.proto, 'HTTP/1.1');
});

test('close(): a request in flight finishes with connection: close, then the server is closed', { timeout: 5000 }, async () => {
  const { clock, manual, timerSet } = watchedClock();
  const server = createEchoServer({ clock });
  // Long enough that the test would time out if shutdown waited for the keep-alive timeout.
  server.keepAliveTimeout = 60_000;
  const base = await listenForTest(server);
  const agent = new http.Agent({ keepAlive: true });
  try {
    const pending = requestForTest(`${base}/delay/1000`, { agent });
    await timerSet(1);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    manual.advance(1000);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    await closed;
  } finally {
    agent.destroy();
  }
});

test('close(): idle HTTP/2 sessions get a GOAWAY and do not hold the server open', { timeout: 5000 }, async () => {
  const server = createEchoServer();
  const base = await listenForTest(server);
  const session = http2.connect(base);
  const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    const s = session.request({ ':path': '/' });
    s.on('error', reject);
    s.resume();
    s.on('end', resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await goaway;
  session.destroy();
});

test('malformed input and broken clients do not take the server down', T, async () => {
  const lines: string[] = [];
  const base = await startEcho({ log: (l) => lines.push(l) });
  const { port } = new URL(base);

  // Garbage instead of HTTP: Node answers 400 itself.
  const garbage = await new Promise<string>((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.write('NOT HTTP AT ALL\r\n\r\n'));
    let got = '';
    sock.on('data', (d) => { got += d.toString(); });
    sock.on('close', () => resolve(got));
    sock.on('error', () => resolve(got));
  });
  assert.match(garbage, /^HTTP\/1\.1 400/);

  // A client that promises a body and leaves half-way.
  await new Promise<void>((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => {
      sock.write('POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
      setTimeout(() => { sock.destroy(); resolve(); }, 20);
    });
  });
  await logged(lines, 1);
  assert.match(lines[0], /^POST \/half aborted /);

  // A duplicated x-echo-forward is refused, not guessed at.
  const dup = await requestForTest(`${base}/`, { headers: { 'x-echo-forward': ['http://a/', 'http://b/'] } });
  assert.equal(dup.status, 400);

  const still = await requestForTest(`${base}/alive`);
  assert.equal(still.status, 200);
});
