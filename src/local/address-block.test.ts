import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressBlock } from './address-block.js';

test('pods get distinct pod IP / pod-local pairs inside the block', () => {
  const b = new AddressBlock('127.10.0.0/20');
  assert.deepEqual(b.allocate(), { ip: '127.10.0.16', local: '127.10.0.17' });
  assert.deepEqual(b.allocate(), { ip: '127.10.0.18', local: '127.10.0.19' });
  for (let i = 0; i < 200; i++) b.allocate();
  assert.deepEqual(b.allocate(), { ip: '127.10.1.164', local: '127.10.1.165' });
});

test('the block is aligned to its prefix and rejects addresses outside 127/8', () => {
  assert.equal(new AddressBlock('127.10.5.7/20').hostAddress(), '127.10.0.1');
  assert.throws(() => new AddressBlock('10.0.0.0/20'), /inside 127\.0\.0\.0\/8/);
  assert.throws(() => new AddressBlock('127.0.0.0/30'), /prefix/);
});

test('a full block says so', () => {
  const b = new AddressBlock('127.10.0.0/24');
  assert.throws(() => {
    for (let i = 0; i < 200; i++) b.allocate();
  }, /is full/);
});

test('random blocks stay inside 127/8 and away from 127.0.x.x', () => {
  for (let i = 0; i < 50; i++) {
    const ip = AddressBlock.random().allocate().ip.split('.').map(Number);
    assert.equal(ip[0], 127);
    assert.ok(ip[1]! >= 16 && ip[1]! <= 253);
  }
});
