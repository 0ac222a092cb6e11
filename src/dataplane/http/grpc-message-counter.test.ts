import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcMessageCounter } from './grpc-message-counter.js';

const frame = (len: number) => Buffer.concat([Buffer.from([0, 0, 0, (len >> 8) & 255, len & 255]), Buffer.alloc(len, 7)]);

test('gRPC messages are counted across any chunking, empty messages included', () => {
  const stream = Buffer.concat([frame(3), frame(0), frame(300), frame(1)]);
  for (const size of [1, 2, 5, 7, 64, stream.length]) {
    const c = new GrpcMessageCounter();
    for (let i = 0; i < stream.length; i += size) c.push(stream.subarray(i, i + size));
    assert.equal(c.count, 4, `chunks of ${size}`);
  }
  const partial = new GrpcMessageCounter();
  partial.push(frame(10).subarray(0, 3));
  assert.equal(partial.count, 0);
});
