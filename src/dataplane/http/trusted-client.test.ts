// Envoy's documented X-Forwarded-For examples (configuration/http/http_conn_man/headers,
// "x-forwarded-for"), plus the fall-backs to the peer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trustedXffAddress } from './trusted-client.js';

const XFF = '203.0.113.128, 203.0.113.10, 203.0.113.1';

test('edge proxy without trusted proxies (use_remote_address, 0 hops): XFF is ignored', () => {
  assert.equal(trustedXffAddress(XFF, true, 0), null);
});

test('edge proxy behind one or two trusted proxies: the Nth address from the right', () => {
  assert.equal(trustedXffAddress(XFF, true, 1), '203.0.113.1');
  assert.equal(trustedXffAddress(XFF, true, 2), '203.0.113.10');
  assert.equal(trustedXffAddress(XFF, true, 3), '203.0.113.128');
});

test('internal proxy (use_remote_address false): the last address, or the (N+1)th from the right', () => {
  assert.equal(trustedXffAddress(XFF, false, 0), '203.0.113.1');
  assert.equal(trustedXffAddress(XFF, false, 1), '203.0.113.10');
});

test('too few addresses, no header, or a non-address there: the peer', () => {
  assert.equal(trustedXffAddress(XFF, true, 4), null);
  assert.equal(trustedXffAddress(undefined, false, 0), null);
  assert.equal(trustedXffAddress('unknown, 203.0.113.1', true, 2), null);
  assert.equal(trustedXffAddress('', false, 0), null);
});

test('several header lines are one list; IPv6 and spaces are accepted', () => {
  assert.equal(trustedXffAddress(['198.51.100.1', '2001:db8::1 '], true, 1), '2001:db8::1');
  assert.equal(trustedXffAddress(['198.51.100.1', '2001:db8::1'], true, 2), '198.51.100.1');
});
