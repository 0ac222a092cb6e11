// HTTP/2 session pool against real node:http2 servers: h2c with prior knowledge and h2 over
// TLS by ALPN, stream limits (the cluster's and the peer's), breaker overflow, GOAWAY, idle close
// on the manual clock, max requests per connection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { haveOpenssl } from '../../../../test/helpers/certs.js';
import { UPSTREAM_TLS_TYPE } from '../../../xds/resources.js';
import type { Cluster as ClusterResource } from '../../../xds/resources.js';
import { closeServer, listen, makeCertWithSans, makeCluster, settle, staticCluster, until } from '../test-support.js';
import type { TestCluster } from '../test-support.js';
import { upstreamFailure, UPSTREAM_OVERFLOW } from './errors.js';

/** A server whose streams wait until released; it records each stream's session. */
function h2Server(opts: { maxConcurrentStreams?: number } = {}) {
  const held: http2.ServerHttp2Stream[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer({ settings: { maxConcurrentStreams: opts.maxConcurrentStreams } });
  server.on('session', (s) => sessions.add(s));
  server.on('stream', (stream) => held.push(stream));
  const release = () => {
    for (const s of held.splice(0)) {
      s.respond({ ':status': 200 });
      s.end('h2 ok');
    }
  };
  return { server, held, sessions, release };
}

function get(session: http2.ClientHttp2Session, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': 'GET' });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    // 'close' (not 'end'): the pool counts the stream as finished only then.
    stream.on('close', () => resolve({ status, body }));
    stream.on('error', reject);
    stream.end();
  });
}

const h2c = (port: number, extra: Partial<ClusterResource> = {}) => staticCluster('h2', [port], { http2ProtocolOptions: {}, ...extra });

async function done(t: TestCluster, server: http2.Http2Server | http2.Http2SecureServer) {
  t.cluster.close();
  await closeServer(server);
}

test('h2c: a session carries many streams; later callers get the same session', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  const t = makeCluster(h2c(port));
  const host = t.cluster.hosts()[0]!;
  const a = await t.cluster.h2Session(host);
  const pa = get(a, '/a');
  const b = await t.cluster.h2Session(host);
  const pb = get(b, '/b');
  assert.equal(a, b);
  await until(() => s.held.length === 2);
  s.release();
  assert.deepEqual(await Promise.all([pa, pb]), [{ status: 200, body: 'h2 ok' }, { status: 200, body: 'h2 ok' }]);
  assert.equal(t.stat('upstream_cx_http2_total'), 1);
  await done(t, s.server);
});

test('maxConcurrentStreams 1: concurrent callers get separate sessions', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  const t = makeCluster(h2c(port, { http2ProtocolOptions: { maxConcurrentStreams: 1 } }));
  const host = t.cluster.hosts()[0]!;
  const [a, b] = await Promise.all([t.cluster.h2Session(host), t.cluster.h2Session(host)]);
  assert.notEqual(a, b);
  const replies = [get(a), get(b)];
  await until(() => s.held.length === 2);
  s.release();
  await Promise.all(replies);
  assert.equal(t.stat('upstream_cx_http2_total'), 2);
  assert.equal(s.sessions.size, 2);
  await done(t, s.server);
});

test("the peer's SETTINGS_MAX_CONCURRENT_STREAMS also limits a session", async () => {
  const s = h2Server({ maxConcurrentStreams: 1 });
  const port = await listen(s.server);
  const t = makeCluster(h2c(port));
  const host = t.cluster.hosts()[0]!;
  const a = await t.cluster.h2Session(host);
  await new Promise((resolve) => (a.remoteSettings.maxConcurrentStreams === 1 ? resolve(null) : a.once('remoteSettings', resolve)));
  const first = get(a);
  const b = await t.cluster.h2Session(host);
  assert.notEqual(a, b);
  const second = get(b);
  await until(() => s.held.length === 2);
  s.release();
  await Promise.all([first, second]);
  await done(t, s.server);
});

test('with the only allowed session full and the pending queue full, a caller fails at once with overflow', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  const t = makeCluster(h2c(port, { http2ProtocolOptions: { maxConcurrentStreams: 1 }, circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1 }] } }));
  const host = t.cluster.hosts()[0]!;
  const a = await t.cluster.h2Session(host);
  const first = get(a, '/1');
  await until(() => s.held.length === 1);
  const waiting = t.cluster.h2Session(host); // queued: the session is full, no second one allowed
  const refused = await settle(t.cluster.h2Session(host));
  assert.equal((refused as NodeJS.ErrnoException).code, UPSTREAM_OVERFLOW);
  assert.equal(upstreamFailure(refused), 'overflow');
  assert.equal(t.stat('upstream_rq_pending_overflow'), 1);
  s.release();
  await first;
  const b = await waiting; // the finished stream freed the slot
  assert.equal(b, a);
  const second = get(b, '/2');
  await until(() => s.held.length === 1);
  s.release();
  assert.equal((await second).status, 200);
  assert.equal(t.stat('upstream_rq_pending_active'), 0);
  await done(t, s.server);
});

test('after GOAWAY the session takes no new streams and the next caller gets a new one', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  const t = makeCluster(h2c(port));
  const host = t.cluster.hosts()[0]!;
  const a = await t.cluster.h2Session(host);
  const first = get(a);
  await until(() => s.held.length === 1);
  const goaway = new Promise((resolve) => a.once('goaway', resolve));
  for (const ss of s.sessions) ss.goaway();
  await goaway;
  const b = await t.cluster.h2Session(host);
  assert.notEqual(b, a);
  s.release();
  await first;
  await until(() => a.closed || a.destroyed);
  await done(t, s.server);
});

test('a session closed by the server leaves the pool', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  const t = makeCluster(h2c(port));
  const host = t.cluster.hosts()[0]!;
  const a = await t.cluster.h2Session(host);
  await until(() => s.sessions.size === 1);
  for (const ss of s.sessions) ss.destroy();
  await until(() => a.destroyed);
  const b = await t.cluster.h2Session(host);
  assert.notEqual(b, a);
  await done(t, s.server);
});

test('an idle session closes after the idle timeout on the cluster clock', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  const t = makeCluster(h2c(port, { commonHttpProtocolOptions: { idleTimeout: '60s' } }));
  const host = t.cluster.hosts()[0]!;
  const a = await t.cluster.h2Session(host);
  const reply = get(a);
  await until(() => s.held.length === 1);
  t.clock.advance(60_000); // busy: nothing happens
  s.release();
  await reply;
  await until(() => t.stat('upstream_cx_active') === 1);
  t.clock.advance(59_000);
  assert.equal(a.closed, false);
  t.clock.advance(1_000);
  await until(() => a.destroyed);
  assert.equal(t.stat('upstream_cx_idle_timeout'), 1);
  await done(t, s.server);
});

test('maxRequestsPerConnection 2: the third stream goes to a new session', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  const t = makeCluster(h2c(port, { commonHttpProtocolOptions: { maxRequestsPerConnection: 2 } }));
  const host = t.cluster.hosts()[0]!;
  const sessions: http2.ClientHttp2Session[] = [];
  for (let i = 0; i < 3; i++) {
    const session = await t.cluster.h2Session(host);
    sessions.push(session);
    const r = get(session);
    await until(() => s.held.length === 1);
    s.release();
    await r;
  }
  assert.equal(sessions[0], sessions[1]);
  assert.notEqual(sessions[2], sessions[0]);
  assert.equal(t.stat('upstream_cx_max_requests'), 1);
  await until(() => sessions[0]!.destroyed);
  await done(t, s.server);
});

test('a refused connection rejects the caller with a connect failure', async () => {
  const s = h2Server();
  const port = await listen(s.server);
  await closeServer(s.server);
  const t = makeCluster(h2c(port));
  const err = await settle(t.cluster.h2Session(t.cluster.hosts()[0]!));
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.equal(upstreamFailure(err), 'connect_failure');
  await until(() => t.stat('upstream_cx_active') === 0);
  assert.equal(t.stat('circuit_breakers_default_cx_open'), 0);
  t.cluster.close();
});

test('an HTTP/1.1 cluster has no HTTP/2 sessions', async () => {
  const t = makeCluster(staticCluster('h1', [1]));
  assert.equal((await settle(t.cluster.h2Session(t.cluster.hosts()[0]!)) as NodeJS.ErrnoException).code, 'STRAIT_UPSTREAM_NOT_HTTP2');
});

test('h2 over TLS: ALPN negotiates h2 with the cluster’s TLS settings', { skip: !haveOpenssl() && 'openssl CLI not available' }, async () => {
  const pem = makeCertWithSans('h2.test', ['DNS:h2.test']);
  let alpn: string | false = false;
  const server = http2.createSecureServer({ cert: pem.cert, key: pem.key });
  server.on('secureConnection', (sock) => (alpn = sock.alpnProtocol));
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('secure h2');
  });
  const port = await listen(server);
  const t = makeCluster(
    h2c(port, {
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: { '@type': UPSTREAM_TLS_TYPE, sni: 'h2.test', commonTlsContext: { validationContext: { trustedCa: { inlineString: pem.cert }, matchSubjectAltNames: [{ exact: 'h2.test' }] } } },
      },
    }),
  );
  assert.deepEqual(t.cluster.tls?.alpn, ['h2']);
  const session = await t.cluster.h2Session(t.cluster.hosts()[0]!);
  assert.deepEqual(await get(session), { status: 200, body: 'secure h2' });
  assert.equal(alpn, 'h2');
  await done(t, server);
});
