// Which requests count as made on this machine: loopback Host names, and no foreign Origin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { loopbackHost, sameMachine } from './same-machine.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

test('loopback Host names, any port; lookalikes are not', () => {
  for (const h of ['127.0.0.1', '127.10.0.3:15000', 'localhost:15014', '[::1]:80', undefined]) assert.ok(loopbackHost(h), String(h));
  for (const h of ['127.0.0.1.evil.example', 'evil.example', '10.0.0.1:80', 'localhost.evil']) assert.ok(!loopbackHost(h), h);
});

test('a foreign Origin is refused even with a loopback Host; no Origin (CLI, curl) is fine', () => {
  assert.ok(sameMachine(req({ host: '127.0.0.1:15014' })));
  assert.ok(sameMachine(req({ host: '127.0.0.1:15014', origin: 'http://127.0.0.1:15014' })));
  assert.ok(!sameMachine(req({ host: '127.0.0.1:15014', origin: 'http://evil.example' })));
  assert.ok(!sameMachine(req({ host: '127.0.0.1:15014', origin: 'null' })), 'sandboxed pages send null');
  assert.ok(!sameMachine(req({ host: 'evil.example:15014' })));
});
