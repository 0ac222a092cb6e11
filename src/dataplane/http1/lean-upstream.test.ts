// The lean HTTP/1.1 client against node's: the same calls through a cluster's pool with either
// codec must put the same bytes on the wire and read the same outcome (status, headers, body,
// trailers, completeness, error code) from the same upstream bytes, malformed ones included.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { ManualClockForTest } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { StatsRegistry } from '../../telemetry/stats/stats.js';
import { sendUpstream } from '../router/upstream-request.js';
import type { UpstreamCall } from '../router/upstream-request.js';
import { Cluster } from '../upstream/cluster.js';
import { closeServer, LOCAL, listen, staticCluster, until } from '../upstream/test-support.js';

interface Outcome {
  status?: number;
  raw?: readonly string[];
  body?: string;
  trailers?: string[];
  complete?: boolean;
  error?: string;
  reused?: boolean;
}

function cluster(port: number, lean: boolean, extra: Parameters<typeof staticCluster>[2] = {}): Cluster {
  return new Cluster(staticCluster('c', [port], extra), new StatsRegistry(), seededRandom(1), LOCAL, { clock: new ManualClockForTest(), leanHttp1: lean });
}

function run(c: Cluster, call: UpstreamCall, body: readonly string[] = []): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = {};
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      out.trailers = up.trailers();
      out.complete = up.complete();
      out.reused = up.reusedConnection;
      resolve(out);
    };
    const up = sendUpstream(c, c.hosts()[0]!, call, {
      connected: () => undefined,
      response: (head, res) => {
        out.status = head.status;
        out.raw = head.raw;
        out.body = '';
        res.on('data', (b: Buffer) => (out.body += b.toString('latin1')));
        res.on('error', () => undefined);
        res.once('close', done);
      },
      error: (err) => {
        out.error ??= err.code ?? err.message;
        if (out.status === undefined) done();
      },
    });
    for (const b of body) up.write(Buffer.from(b));
    up.end();
  });
}

/** A raw upstream: records what arrives and answers each request head with `answer(n)`. */
async function rawUpstream(answer: (n: number, socket: net.Socket) => void): Promise<{ port: number; seen: string[]; server: net.Server }> {
  const seen: string[] = [];
  let n = 0;
  const server = net.createServer((s) => {
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // Answer once the request (head, and body when framed) is in.
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const cl = /content-length: *(\d+)/i.exec(head);
      const chunked = /transfer-encoding: *chunked/i.test(head);
      const rest = buf.slice(end + 4);
      if (cl && rest.length < Number(cl[1])) return;
      if (chunked && !rest.endsWith('0\r\n\r\n')) return;
      seen.push(buf);
      buf = '';
      answer(n++, s);
    });
  });
  const port = await listen(server);
  servers.push(server);
  return { port, seen, server };
}

const servers: net.Server[] = [];
after(async () => {
  for (const s of servers) await closeServer(s);
});

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

test('both codecs write the same request bytes', async () => {
  const calls: [UpstreamCall, string[]][] = [
    [{ method: 'GET', path: '/p?q=1', headers: { host: 'a', 'x-a': ['1', '2'], cookie: ['c=1', 'd=2'], 'x-request-id': 'r' }, hasBody: false }, []],
    [{ method: 'POST', path: '/p', headers: { host: 'a' }, hasBody: false }, []],
    [{ method: 'POST', path: '/p', headers: { host: 'a', 'content-length': '3' }, hasBody: true }, ['abc']],
    [{ method: 'PUT', path: '/p', headers: { host: 'a', 'transfer-encoding': 'chunked' }, hasBody: true }, ['abc', 'defgh']],
    [{ method: 'DELETE', path: '/d', headers: { host: 'a' }, hasBody: false }, []],
    [{ method: 'HEAD', path: '/', headers: { host: 'a' }, hasBody: false }, []],
  ];
  const seen: string[][] = [];
  for (const lean of [false, true]) {
    const up = await rawUpstream((_n, s) => s.write(OK));
    const c = cluster(up.port, lean);
    for (const [call, body] of calls) {
      const o = await run(c, call, body);
      assert.equal(o.status, 200, JSON.stringify(o));
    }
    seen.push(up.seen);
    c.close();
  }
  assert.deepEqual(seen[1], seen[0]);
});

test('the last request of a connection (maxRequestsPerConnection) says Connection: close with both codecs', async () => {
  const seen: string[][] = [];
  for (const lean of [false, true]) {
    const up = await rawUpstream((_n, s) => s.write(OK));
    const c = cluster(up.port, lean, { commonHttpProtocolOptions: { maxRequestsPerConnection: 1 } });
    await run(c, { method: 'GET', path: '/', headers: { host: 'a' }, hasBody: false });
    seen.push(up.seen);
    c.close();
  }
  assert.match(seen[0]![0]!, /Connection: close/);
  assert.deepEqual(seen[1], seen[0]);
});

test('both codecs read the same outcome from the same upstream bytes', async () => {
  const cases: { name: string; reply: string; method?: string; close?: boolean }[] = [
    { name: 'content-length', reply: 'HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello' },
    { name: 'chunked with trailers', reply: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\ngrpc-status: 0\r\nx-t: y\r\n\r\n' },
    { name: 'chunked upper-case hex', reply: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n' },
    { name: 'read until close', reply: 'HTTP/1.1 200 OK\r\n\r\nuntil the end', close: true },
    { name: 'HTTP/1.0 read until close', reply: 'HTTP/1.0 200 OK\r\n\r\nold', close: true },
    { name: 'HEAD with a length', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', method: 'HEAD' },
    { name: '204', reply: 'HTTP/1.1 204 No Content\r\n\r\n' },
    { name: '304 with a length', reply: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n' },
    { name: '100 then 200', reply: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
    { name: '103 then 200', reply: 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
    { name: 'no reason phrase', reply: 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok' },
    { name: 'obs-text in a value', reply: 'HTTP/1.1 200 OK\r\nX-L: caf\xe9\r\nContent-Length: 2\r\n\r\nok' },
    { name: 'leading-zero length', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 02\r\n\r\nok' },
    { name: 'closed before answering', reply: '', close: true },
    { name: 'closed mid-body', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', close: true },
    { name: 'closed mid-chunk', reply: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', close: true },
    { name: 'bad version', reply: 'HTTP/2.0 200 OK\r\n\r\n', close: true },
    { name: 'bad status', reply: 'HTTP/1.1 2x0 OK\r\n\r\n', close: true },
    { name: 'space before colon', reply: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok', close: true },
    { name: 'duplicate content-length', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok', close: true },
    { name: 'length and chunked', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', close: true },
    { name: 'bad length', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nok', close: true },
    { name: 'bare LF in the head', reply: 'HTTP/1.1 200 OK\r\nX: a\nContent-Length: 2\r\n\r\nok', close: true },
    { name: 'bare CR in a value', reply: 'HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 2\r\n\r\nok', close: true },
    { name: 'obs-fold', reply: 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok', close: true },
    { name: 'bad chunk size', reply: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', close: true },
    { name: 'chunk data longer than its size', reply: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', close: true },
  ];
  for (const k of cases) {
    const outcomes: Outcome[] = [];
    for (const lean of [false, true]) {
      const up = await rawUpstream((_n, s) => {
        if (k.close) s.end(k.reply, 'latin1');
        else s.write(k.reply, 'latin1');
      });
      const c = cluster(up.port, lean);
      outcomes.push(await run(c, { method: k.method ?? 'GET', path: '/', headers: { host: 'a' }, hasBody: false }));
      c.close();
    }
    const [node, lean] = outcomes;
    // Parse errors carry llhttp's code with node and the nearest code with the lean parser;
    // what matters to the router is that both fail (and how: a reset, before or after a response).
    const shape = (o: Outcome) => ({ ...o, error: o.error === undefined ? undefined : o.error.startsWith('HPE_') ? 'HPE' : o.error });
    assert.deepEqual(shape(lean!), shape(node!), k.name);
  }
});

test('the lean client reuses one connection for sequential requests, and not after Connection: close', async () => {
  let close = false;
  const up = await rawUpstream((_n, s) => s.write(close ? 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok' : OK));
  const stats = new StatsRegistry();
  const c = new Cluster(staticCluster('c', [up.port]), stats, seededRandom(1), LOCAL, { clock: new ManualClockForTest(), leanHttp1: true });
  const call: UpstreamCall = { method: 'GET', path: '/', headers: { host: 'a' }, hasBody: false };
  const cx = () => stats.valueOf('envoy_cluster_upstream_cx_total', { cluster_name: 'c' });
  const first = await run(c, call);
  await until(() => c.pool.forHost(c.hosts()[0]!).idleCount === 1, 'the connection to come back');
  const second = await run(c, call);
  assert.deepEqual([first.reused, second.reused, cx()], [false, true, 1]);
  close = true;
  await until(() => c.pool.forHost(c.hosts()[0]!).idleCount === 1, 'the connection to come back');
  await run(c, call);
  await until(() => c.pool.forHost(c.hosts()[0]!).connectionCount === 0, 'the closed connection to go');
  const fourth = await run(c, call);
  assert.deepEqual([fourth.reused, cx()], [false, 2]);
  c.close();
});

test('the lean client pauses the upstream while the body is paused and delivers every byte', async () => {
  const big = 'x'.repeat(256 * 1024);
  const up = await rawUpstream((_n, s) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`));
  const c = cluster(up.port, true);
  const got = await new Promise<number>((resolve) => {
    let n = 0;
    const u = sendUpstream(c, c.hosts()[0]!, { method: 'GET', path: '/', headers: { host: 'a' }, hasBody: false }, {
      connected: () => undefined,
      response: (_h, res) => {
        res.on('data', (b: Buffer) => {
          n += b.length;
          res.pause();
          setImmediate(() => res.resume());
        });
        res.once('end', () => resolve(n));
      },
      error: () => resolve(-1),
    });
    u.end();
  });
  assert.equal(got, big.length);
  c.close();
});
