// The lean codec's parsers on their own: which request heads the lean path serves and which it
// leaves to node's server, response heads and chunked bodies split at every byte boundary, and
// the strictness rules (hardening-and-deps.md §A3.2/§A3.3) for what an upstream may send.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedDecoder } from './chunked-decoder.js';
import { INCOMPLETE, NOT_FAST, parseRequestHead, parseResponseHead } from './head-parser.js';

const req = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'), 8192);

test('plain keep-alive HTTP/1.1 requests are served by the lean path', () => {
  const text = 'GET /a/b?c=d&e=%2F HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Ws:  v \t\r\nContent-Length: 010\r\n\r\nbody';
  const r = req(text);
  assert.ok(typeof r === 'object');
  assert.deepEqual([r.method, r.target, r.raw, r.contentLength, r.headEnd], ['GET', '/a/b?c=d&e=%2F', ['Host', 'x', 'X-Empty', '', 'X-Ws', 'v', 'Content-Length', '010'], 10, text.length - 4]);
  const abs = req('GET http://backend.default.svc.cluster.local:8080/x?y HTTP/1.1\r\nHost: backend:8080\r\n\r\n');
  assert.ok(typeof abs === 'object' && abs.target === 'http://backend.default.svc.cluster.local:8080/x?y');
  const bare = req('DELETE / HTTP/1.1\r\n\r\n');
  assert.ok(typeof bare === 'object' && bare.raw.length === 0 && bare.contentLength === -1);
});

test('everything else goes to node, which serves or rejects it as before', () => {
  const cases: Record<string, string> = {
    'HTTP/1.0': 'GET / HTTP/1.0\r\n\r\n',
    'HTTP/2.0 line': 'GET / HTTP/2.0\r\n\r\n',
    'unknown method': 'BREW / HTTP/1.1\r\n\r\n',
    CONNECT: 'CONNECT a:443 HTTP/1.1\r\n\r\n',
    'lower-case method': 'get / HTTP/1.1\r\n\r\n',
    'absolute-form https': 'GET https://a/ HTTP/1.1\r\n\r\n',
    'absolute-form upper-case scheme': 'GET HTTP://a/ HTTP/1.1\r\n\r\n',
    'absolute-form without a path': 'GET http://a HTTP/1.1\r\n\r\n',
    'absolute-form with userinfo': 'GET http://u@a/ HTTP/1.1\r\n\r\n',
    'absolute-form IPv6': 'GET http://[::1]/ HTTP/1.1\r\n\r\n',
    'absolute-form empty authority': 'GET http:///a HTTP/1.1\r\n\r\n',
    asterisk: 'OPTIONS * HTTP/1.1\r\n\r\n',
    'fragment in the target': 'GET /a#b HTTP/1.1\r\n\r\n',
    'backslash in the target': 'GET /a\\b HTTP/1.1\r\n\r\n',
    'two spaces': 'GET  / HTTP/1.1\r\n\r\n',
    'chunked body': 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'any transfer-encoding': 'POST / HTTP/1.1\r\ntransfer-ENCODING: identity\r\n\r\n',
    'duplicate content-length': 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
    'signed content-length': 'POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n',
    'content-length list': 'POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n',
    'huge content-length': 'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n',
    expect: 'POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n',
    upgrade: 'GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    'upgrade alone': 'GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n',
    'connection close': 'GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n',
    'space before colon': 'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
    'empty name': 'GET / HTTP/1.1\r\n: a\r\n\r\n',
    'no colon': 'GET / HTTP/1.1\r\nHost a\r\n\r\n',
    'obs-fold': 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n',
    'leading whitespace': 'GET / HTTP/1.1\r\n\tA: b\r\n\r\n',
    'bare LF line': 'GET / HTTP/1.1\r\nA: b\nB: c\r\n\r\n',
    'bare CR': 'GET / HTTP/1.1\r\nA: b\rB: c\r\n\r\n',
    'CR LF CR': 'GET / HTTP/1.1\r\nA: b\r\n\rX: y\r\n\r\n',
    NUL: 'GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n',
    'obs-text value': 'GET / HTTP/1.1\r\nA: caf\xe9\r\n\r\n',
    'DEL in a value': 'GET / HTTP/1.1\r\nA: \x7f\r\n\r\n',
    'underscore-free token check': 'GET / HTTP/1.1\r\nA(b: c\r\n\r\n',
    'too large': `GET / HTTP/1.1\r\nA: ${'a'.repeat(9000)}\r\n\r\n`,
    'incomplete but too large': `GET / HTTP/1.1\r\nA: ${'a'.repeat(9000)}`,
  };
  for (const [name, s] of Object.entries(cases)) assert.equal(req(s), NOT_FAST, name);
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\n'), INCOMPLETE);
});

test('a response head split anywhere is incomplete until its end arrives', () => {
  const whole = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\nok', 'latin1');
  const headLen = whole.indexOf('\r\n\r\n') + 4;
  for (let n = 0; n < headLen; n++) assert.equal(parseResponseHead(whole.subarray(0, n), 16384, false), INCOMPLETE, `prefix ${n}`);
  const r = parseResponseHead(whole, 16384, false);
  assert.ok(typeof r === 'object' && !(r instanceof Error));
  assert.deepEqual([r.status, r.framing, r.contentLength, r.keepAlive, r.headEnd], [200, 'length', 2, true, headLen]);
});

test('response framing and keep-alive follow RFC 9112 §6.3 and llhttp', () => {
  const f = (s: string, head = false) => {
    const r = parseResponseHead(Buffer.from(s, 'latin1'), 16384, head);
    return r === INCOMPLETE || r instanceof Error ? String(r) : `${r.framing} ${r.keepAlive}`;
  };
  assert.equal(f('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'), 'chunked true');
  assert.equal(f('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'), 'close false');
  assert.equal(f('HTTP/1.1 200 OK\r\n\r\n'), 'close false');
  assert.equal(f('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 'none true');
  assert.equal(f('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', true), 'none true');
  assert.equal(f('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n'), 'none true');
  assert.equal(f('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n'), 'length false');
  assert.equal(f('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n'), 'length false');
  assert.equal(f('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n'), 'length true');
  assert.match(f('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'), /HPE_UNEXPECTED_CONTENT_LENGTH|Content-Length/);
  assert.match(f('HTTP/1.2 200 OK\r\n\r\n'), /version/);
  assert.match(f(`HTTP/1.1 200 OK\r\nA: ${'a'.repeat(17000)}\r\n\r\n`), /overflow/);
});

test('chunked bodies decode the same whatever the split, trailers included', () => {
  const wire = Buffer.from('5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nGrpc-Status: 0\r\nx-t:  y \r\n\r\nNEXT', 'latin1');
  for (let split = 0; split <= wire.length; split++) {
    const d = new ChunkedDecoder();
    let body = '';
    const sink = { data: (c: Buffer) => ((body += c.toString('latin1')), true) };
    let at = d.push(wire.subarray(0, split), 0, sink);
    assert.ok(typeof at === 'number');
    if (!d.done) {
      const second = wire.subarray(split);
      at = d.push(second, 0, sink);
      assert.ok(typeof at === 'number');
      at += split;
    }
    assert.ok(d.done, `split ${split}`);
    assert.equal(body, 'helloabcdefghijklmnopqrstuvwxyz', `split ${split}`);
    assert.deepEqual(d.trailers, ['Grpc-Status', '0', 'x-t', 'y']);
    assert.equal(wire.subarray(at).toString(), 'NEXT', `split ${split}`);
  }
});

test('malformed chunked framing is an error, never guessed (§A3.2)', () => {
  const bad = ['0x5\r\nhello\r\n0\r\n\r\n', '+5\r\nhello\r\n0\r\n\r\n', ' 5\r\nhello\r\n0\r\n\r\n', '5 \r\nhello\r\n0\r\n\r\n', '\r\n', '5\r\r;a\r\nhello\r\n0\r\n\r\n', '5\nhello\r\n0\r\n\r\n', '2\r\nabc\r\n0\r\n\r\n', '2\r\nab\n0\r\n\r\n', 'fffffffffffffffff\r\n', '0\r\nX: a\nb\r\n\r\n', '0\r\nX a\r\n\r\n'];
  for (const s of bad) {
    const r = new ChunkedDecoder().push(Buffer.from(s, 'latin1'), 0, { data: () => true });
    assert.ok(r instanceof Error, JSON.stringify(s));
  }
});
