// Hop-by-hop removal (RFC 9110 §7.6.1): the fixed list and every field the Connection header
// names are dropped, whatever their case; end-to-end fields pass, repeats kept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardableHeaders, forwardableResponseHeaders } from './headers.js';

test('request headers: fields named in Connection and the fixed hop-by-hop list are removed', () => {
  const raw = ['Host', 'a', 'Connection', 'keep-alive, X-Trace-Hop', 'X-Trace-Hop', '1', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Accept', 'x', 'accept', 'y', 'Cookie', 'a=1', 'cookie', 'b=2'];
  assert.deepEqual(forwardableHeaders(raw), { host: 'a', accept: ['x', 'y'], cookie: 'a=1; b=2' });
});

test('response headers: Connection: keep-alive alone removes only the hop-by-hop fields; a named field goes too', () => {
  assert.deepEqual(forwardableResponseHeaders(['Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Server', 'nginx', 'close', 'kept']), ['server', 'nginx', 'close', 'kept']);
  assert.deepEqual(forwardableResponseHeaders(['Connection', 'close', 'close', 'dropped', 'Set-Cookie', 'a', 'Set-Cookie', 'b']), ['set-cookie', 'a', 'set-cookie', 'b']);
  assert.deepEqual(forwardableResponseHeaders(['connection', 'Upgrade, x-hop', 'upgrade', 'websocket', 'X-Hop', '1', 'date', 'd']), ['date', 'd']);
});
