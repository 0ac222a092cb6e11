// CIDR ranges and address parsing for RBAC's IP rules, with node:net's BlockList as the oracle
// for the IPv6 text forms (compressed, embedded IPv4, zones), plus the `ip:port` forms StreamInfo
// holds and Node's IPv4-mapped peers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConfigError } from '../api.js';
import { compileCidrRange, hostMatches, ipFamily, portOf } from './ip.js';

const cidr = (addressPrefix: string, prefixLen?: number) => compileCidrRange(prefixLen === undefined ? { addressPrefix } : { addressPrefix, prefixLen }, 'r');

test('IPv4 ranges: exact /32, subnets, /0, and the host part of a substring', () => {
  assert.equal(cidr('1.2.3.4', 32)('1.2.3.4'), true);
  assert.equal(cidr('1.2.3.4', 32)('1.2.3.5'), false);
  assert.equal(cidr('5.6.7.0', 24)('5.6.7.255'), true);
  assert.equal(cidr('5.6.7.0', 24)('5.6.8.1'), false);
  assert.equal(cidr('10.1.2.3', 8)('10.200.0.1'), true, 'the configured prefix is masked, as Envoy masks it');
  assert.equal(cidr('0.0.0.0', 0)('203.0.113.9'), true);
  assert.equal(cidr('0.0.0.0')('8.8.8.8'), true, 'prefixLen unset is 0');
  assert.equal(cidr('0.0.0.0', 0)('::1'), false, 'a range matches only its own family');
  const s = 'x1.2.3.4y';
  assert.equal(cidr('1.2.3.4', 32)(s, 1, 8), true);
});

test("Node's IPv4-mapped peers match IPv4 ranges; IPv6 ranges need IPv6 peers", () => {
  assert.equal(cidr('127.0.0.0', 8)('::ffff:127.0.0.1'), true);
  assert.equal(cidr('::', 0)('::ffff:127.0.0.1'), false);
  assert.equal(cidr('::1', 128)('::1'), true);
});

test('IPv6 text forms agree with node:net BlockList', () => {
  const ranges: [string, number][] = [['2001:db8::', 32], ['fe80::', 10], ['::1', 128], ['2001:db8:0:0:1::', 80], ['::', 0], ['2001:db8::', 33]];
  const addrs = ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db9::1', '2001:db8:8000::1', 'fe80::1%eth0', 'febf:ffff::1', 'fec0::1', '::1', '::', '2001:db8::1:0:0:1', '2001:db8:0:0:1:ffff::', '2001:db8:0:0:1:0:1.2.3.4', '1::', '1:2:3:4:5:6:7:8', 'FE80::ABCD'];
  for (const [prefix, len] of ranges) {
    const bl = new net.BlockList();
    bl.addSubnet(prefix, len, 'ipv6');
    const m = cidr(prefix, len);
    for (const a of addrs) {
      const plain = a.replace(/%.*$/, '');
      assert.equal(m(a), bl.check(plain, 'ipv6'), `${a} in ${prefix}/${len}`);
    }
  }
});

test('malformed addresses never match and are not IPs', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '::1.2.3', 'abc', '1:2:3:4:5:6:7:1.2.3.4']) {
    assert.equal(ipFamily(bad), 0, bad);
    assert.equal(cidr('0.0.0.0', 0)(bad) || cidr('::', 0)(bad), false, bad);
  }
  assert.equal(ipFamily('::ffff:1.2.3.4'), 4);
  assert.equal(ipFamily('1:2:3:4:5:6:1.2.3.4'), 6);
});

test('ip:port strings as StreamInfo holds them', () => {
  const lo = cidr('127.0.0.0', 8);
  assert.equal(hostMatches(lo, '127.0.0.1:8080'), true);
  assert.equal(hostMatches(lo, '10.0.0.1:8080'), false);
  assert.equal(hostMatches(cidr('::1', 128), '[::1]:443'), true);
  assert.equal(hostMatches(cidr('::1', 128), '::1:443'), true, 'unbracketed IPv6: the last : starts the port');
  assert.equal(hostMatches(lo, '::ffff:127.0.0.1:80'), true);
  assert.equal(portOf('127.0.0.1:8080'), 8080);
  assert.equal(portOf('[::1]:443'), 443);
  assert.equal(portOf('127.0.0.1'), -1);
  assert.equal(portOf('1.2.3.4:99999'), -1);
  assert.equal(portOf(''), -1);
});

test('rejects malformed ranges, naming the field', () => {
  const rejects = (v: unknown, re: RegExp) => assert.throws(() => compileCidrRange(v, 'p.sourceIp'), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  rejects({ addressPrefix: '1.2.3.4', prefixLen: 33 }, /p\.sourceIp\.prefixLen: expected an integer in \[0, 32\]/);
  rejects({ addressPrefix: '::', prefixLen: 129 }, /prefixLen: expected an integer in \[0, 128\]/);
  rejects({ addressPrefix: 'example.com', prefixLen: 8 }, /p\.sourceIp\.addressPrefix: "example\.com" is not an IP address/);
  rejects({ addressPrefix: '' }, /addressPrefix: expected an IP address/);
  rejects({ address: '1.2.3.4' }, /unknown field "address" in CidrRange/);
  rejects('1.2.3.4/8', /expected a CidrRange object/);
});
