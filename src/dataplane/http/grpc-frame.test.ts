// The proxy's own unary gRPC calls read their answer as the gRPC HTTP/2 protocol says: one
// length-prefixed message and grpc-status 0 is an answer; a trailers-only status, a non-200,
// a non-gRPC content type, a missing status, a compressed, partial or second message is not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpcFrame, grpcTimeout, grpcUnaryAnswer } from './grpc-frame.js';

const GRPC = ['content-type', 'application/grpc'];
const msg = Buffer.from('hello');

test('frame: flag 0, big-endian length, the bytes', () => {
  assert.deepEqual([...grpcFrame(msg)], [0, 0, 0, 0, 5, ...msg]);
  assert.deepEqual([...grpcFrame(new Uint8Array(0))], [0, 0, 0, 0, 0]);
});

test('grpc-status 0 in the trailers and one message: the message', () => {
  const r = grpcUnaryAnswer(200, GRPC, grpcFrame(msg), ['grpc-status', '0']);
  assert.equal(r.kind, 'ok');
  assert.equal(r.kind === 'ok' && r.message.toString(), 'hello');
  assert.equal(grpcUnaryAnswer(200, ['content-type', 'application/grpc+proto'], grpcFrame(msg), ['grpc-status', '0']).kind, 'ok');
});

const FAILURES: [string, Parameters<typeof grpcUnaryAnswer>, RegExp, number][] = [
  ['a trailers-only status', [200, [...GRPC, 'grpc-status', '7', 'grpc-message', 'not%20you'], Buffer.alloc(0), []], /grpc-status 7 \(not you\)/, 7],
  ['a status in the trailers', [200, GRPC, Buffer.alloc(0), ['grpc-status', '14']], /grpc-status 14$/, 14],
  ['HTTP 503', [503, [], Buffer.alloc(0), []], /HTTP 503/, 14],
  ['a non-gRPC content type', [200, ['content-type', 'text/html'], Buffer.alloc(0), []], /content-type text\/html/, 13],
  ['no grpc-status', [200, GRPC, grpcFrame(msg), []], /without a grpc-status/, 13],
  ['status 0 and no message', [200, GRPC, Buffer.alloc(0), ['grpc-status', '0']], /without a response message/, 13],
  ['a compressed message', [200, GRPC, Buffer.from([1, 0, 0, 0, 0]), ['grpc-status', '0']], /compressed/, 13],
  ['a message cut short', [200, GRPC, grpcFrame(msg).subarray(0, 7), ['grpc-status', '0']], /cut short/, 13],
  ['two messages', [200, GRPC, Buffer.concat([grpcFrame(msg), grpcFrame(msg)]), ['grpc-status', '0']], /more than one/, 13],
];

for (const [what, args, reason, status] of FAILURES) {
  test(`failure: ${what}`, () => {
    const r = grpcUnaryAnswer(...args);
    assert.equal(r.kind, 'failure');
    if (r.kind !== 'failure') return;
    assert.match(r.reason, reason);
    assert.equal(r.grpcStatus, status);
  });
}

test('grpc-timeout: milliseconds while they fit in 8 digits, then seconds, then hours', () => {
  assert.equal(grpcTimeout(600_000), '600000m');
  assert.equal(grpcTimeout(99_999_999), '99999999m');
  assert.equal(grpcTimeout(100_000_000), '100000S');
  assert.equal(grpcTimeout(1e12), '277778H');
});
