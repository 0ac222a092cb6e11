// The lean HTTP/1.1 server against node's: two proxies with the same config, one per codec,
// get the same byte sequences on fresh connections and must answer them with the same bytes
// (Date and the service time normalised) and send the same bytes upstream. The sequences
// cover what the lean path serves itself and everything it hands to node's server: a head
// split over reads, chunked and `Expect` requests, `Connection: close`, HTTP/1.0, malformed
// and oversized heads, pipelining, and a connection handed over after lean-served requests.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { systemClock } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { Proxy } from '../proxy.js';
import { httpChain, loopbackListener, staticCluster } from '../../../test/helpers/proxy.js';
import type { Http1Codec } from './codec.js';

const ORIGIN_REPLIES: Record<string, string> = {
  '/cl': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Up: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello',
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: t\r\n\r\n',
  '/nocontent': 'HTTP/1.1 204 No Content\r\n\r\n',
  '/created': 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
};

interface Side {
  proxy: Proxy;
  port: number;
  /** Requests as the origin received them, for this proxy. */
  seen: string[];
  origin: net.Server;
}

const sides = new Map<Http1Codec, Side>();

/** An origin answering by path; it records every request's bytes (head and CL body). */
async function origin(seen: string[]): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => {
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end + 4);
        const cl = /content-length: *(\d+)/i.exec(head);
        const chunked = /transfer-encoding: *chunked/i.test(head);
        let len = cl ? Number(cl[1]) : 0;
        if (chunked) {
          const term = buf.indexOf('0\r\n\r\n', end + 4);
          if (term < 0) return;
          len = term + 5 - (end + 4);
        }
        if (buf.length < end + 4 + len) return;
        const body = buf.slice(end + 4, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        seen.push(head.replace(/\r\nx-request-id: [^\r]*/i, '\r\nx-request-id: ID') + body);
        const path = head.split(' ')[1]!;
        const reply = ORIGIN_REPLIES[path] ?? `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
        s.write(reply, 'latin1');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port };
}

before(async () => {
  for (const codec of ['node', 'lean'] as const) {
    const seen: string[] = [];
    const o = await origin(seen);
    const routes = [
      { name: 'direct', match: { path: '/direct' }, directResponse: { status: 200, body: { inlineString: 'direct' } } },
      { name: 'up', match: { prefix: '/' }, route: { cluster: 'origin', timeout: '0s' } },
    ];
    const proxy = new Proxy({
      bootstrap: { node: { id: 'test-proxy' }, staticResources: { listeners: [loopbackListener('l', [httpChain('lean', routes, { useRemoteAddress: true })])], clusters: [staticCluster('origin', o.port)] } },
      addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
      accessLogTarget: 'off',
      clock: systemClock,
      random: seededRandom(1),
      log: () => undefined,
      http1Codec: codec,
    });
    await proxy.start();
    sides.set(codec, { proxy, port: proxy.listeners.list()[0]!.port, seen, origin: o.server });
  }
});

after(async () => {
  for (const s of sides.values()) {
    await s.proxy.stop();
    await new Promise<void>((r) => s.origin.close(() => r()));
  }
});

/** One step: bytes to write (parts written a turn apart), then how many responses to read. */
interface Step {
  readonly write: readonly string[];
  readonly responses: number;
  /** Methods of the requests answered, in order (HEAD responses carry no body). */
  readonly head?: boolean;
}

function normalise(s: string): string {
  return s.replace(/\r\nDate: [^\r]*/g, '\r\nDate: D').replace(/\r\nx-envoy-upstream-service-time: \d+/g, '\r\nx-envoy-upstream-service-time: N');
}

/** Runs the steps on one connection; returns every response, and how the connection ended. */
async function conversation(port: number, steps: readonly Step[], readToClose = false): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let buf = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | null = null;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const more = () => new Promise<void>((r) => (wake = r));
  const out: string[] = [];
  const readResponse = async (head: boolean): Promise<string | null> => {
    for (;;) {
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) {
        const h = text.slice(0, end);
        const status = Number(h.split(' ')[1]);
        const cl = /\r\ncontent-length: *(\d+)/i.exec(h);
        let total = -1;
        if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) total = end + 4;
        else if (cl) total = end + 4 + Number(cl[1]);
        else if (/\r\ntransfer-encoding: *chunked/i.test(h)) {
          const term = text.indexOf('\r\n\r\n', text.indexOf('\r\n0\r\n', end) + 2);
          if (text.slice(end + 4).startsWith('0\r\n')) total = text.indexOf('\r\n\r\n', end + 4) + 4;
          else if (term >= 0) total = term + 4;
        }
        if (total > 0 && buf.length >= total) {
          buf = buf.subarray(total);
          return normalise(text.slice(0, total));
        }
      }
      if (closed) return buf.length ? `[closed with] ${normalise(buf.toString('latin1'))}` : null;
      await more();
    }
  };
  for (const step of steps) {
    for (let i = 0; i < step.write.length; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      socket.write(step.write[i]!, 'latin1');
    }
    for (let n = 0; n < step.responses; n++) out.push((await readResponse(step.head === true)) ?? '[closed]');
  }
  if (readToClose) {
    while (!closed) await more();
    if (buf.length) out.push(`[then] ${normalise(buf.toString('latin1'))}`);
    out.push('[closed]');
  }
  socket.destroy();
  return out;
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\n${extra}\r\n`;

const CASES: { name: string; steps: Step[]; readToClose?: boolean }[] = [
  {
    name: 'lean-served keep-alive requests',
    steps: [
      { write: [get('/cl')], responses: 1 },
      { write: [get('/chunked')], responses: 1 },
      { write: [`HEAD /cl HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\n\r\n`], responses: 1, head: true },
      { write: [get('/direct')], responses: 1 },
      { write: [get('/nocontent')], responses: 1 },
      { write: [get('/created', 'Cookie: a=1\r\nCookie: b=2\r\nX-Dup: 1\r\nX-Dup: 2\r\n')], responses: 1 },
      { write: [`POST /echo HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\nContent-Length: 11\r\n\r\nhello world`], responses: 1 },
      { write: [`POST /echo HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\nContent-Length: 6\r\n\r\nab`, 'cdef'], responses: 1 },
      { write: [get('/cl', 'Connection: keep-alive, x-hop\r\nx-hop: 1\r\n')], responses: 1 },
    ],
  },
  { name: 'pipelined requests', steps: [{ write: [get('/cl') + get('/direct') + get('/chunked')], responses: 3 }] },
  { name: 'a head split over two reads', steps: [{ write: ['GET /cl HTTP/1.1\r\nHo', 'st: app.test\r\nx-request-id: r1\r\n\r\n'], responses: 1 }, { write: [get('/cl')], responses: 1 }] },
  { name: 'a chunked request body', steps: [{ write: [`POST /echo HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`], responses: 1 }] },
  { name: 'Expect: 100-continue', steps: [{ write: [`POST /echo HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n`], responses: 1 }, { write: ['ok'], responses: 1 }] },
  { name: 'Connection: close', steps: [{ write: [get('/cl', 'Connection: close\r\n')], responses: 1 }], readToClose: true },
  { name: 'HTTP/1.0', steps: [{ write: ['GET /cl HTTP/1.0\r\nHost: app.test\r\nx-request-id: r1\r\n\r\n'], responses: 1 }], readToClose: true },
  { name: 'no Host', steps: [{ write: ['GET /cl HTTP/1.1\r\nx-request-id: r1\r\n\r\n'], responses: 1 }] },
  { name: 'duplicate Host', steps: [{ write: [get('/cl', 'Host: other.test\r\n')], responses: 1 }] },
  { name: 'duplicate Content-Length', steps: [{ write: [get('/cl', 'Content-Length: 1\r\nContent-Length: 2\r\n')], responses: 1 }], readToClose: true },
  { name: 'space before the colon', steps: [{ write: ['GET /cl HTTP/1.1\r\nHost : app.test\r\n\r\n'], responses: 1 }], readToClose: true },
  { name: 'bare LF', steps: [{ write: ['GET /cl HTTP/1.1\nHost: app.test\n\n'], responses: 1 }], readToClose: true },
  { name: 'obs-fold', steps: [{ write: [get('/cl', 'X-A: a\r\n b\r\n')], responses: 1 }], readToClose: true },
  { name: 'NUL in a value', steps: [{ write: [get('/cl', 'X-A: a\x00b\r\n')], responses: 1 }], readToClose: true },
  { name: 'a target node refuses', steps: [{ write: ['GET /a b HTTP/1.1\r\nHost: app.test\r\n\r\n'], responses: 1 }], readToClose: true },
  { name: 'an oversized head', steps: [{ write: [get('/cl', `X-Big: ${'b'.repeat(20_000)}\r\n`)], responses: 1 }], readToClose: true },
  { name: 'malformed after lean-served requests', steps: [{ write: [get('/cl')], responses: 1 }, { write: [get('/cl', 'Content-Length: x\r\n')], responses: 1 }], readToClose: true },
  { name: 'absolute-form target', steps: [{ write: ['GET http://app.test/cl HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\n\r\n'], responses: 1 }] },
  { name: 'absolute-form target with a port and another Host', steps: [{ write: ['GET http://other.test:8080/cl?a=1 HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\n\r\n'], responses: 1 }] },
  { name: 'absolute-form https target', steps: [{ write: ['GET https://app.test/cl HTTP/1.1\r\nHost: app.test\r\nx-request-id: r1\r\n\r\n'], responses: 1 }] },
  { name: 'a path that normalisation rejects', steps: [{ write: [get('/a/%00b')], responses: 1 }] },
];

for (const c of CASES) {
  test(`same bytes from both codecs: ${c.name}`, async () => {
    const node = sides.get('node')!;
    const lean = sides.get('lean')!;
    node.seen.length = 0;
    lean.seen.length = 0;
    const fromNode = await conversation(node.port, c.steps, c.readToClose);
    const fromLean = await conversation(lean.port, c.steps, c.readToClose);
    assert.deepEqual(fromLean, fromNode);
    assert.deepEqual(lean.seen, node.seen);
  });
}

test('both codecs count the same connections and requests', () => {
  const values = (codec: Http1Codec) => {
    const s = sides.get(codec)!.proxy.stats;
    return ['envoy_http_downstream_cx_total', 'envoy_http_downstream_rq_total', 'envoy_http_downstream_rq_xx'].map((f) => JSON.stringify(s.valueOf(f, { http_conn_manager_prefix: 'lean' }) ?? s.prometheusText().split('\n').filter((l) => l.startsWith(f)).join('|')));
  };
  assert.deepEqual(values('lean'), values('node'));
});
