// Consistent-hash balancers: key → host stability, independence from endpoint order, minimal
// disruption when a host leaves, weights, and Envoy's ring sizing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import { newHost } from '../host.js';
import type { Host } from '../host.js';
import { createLoadBalancer } from './load-balancer.js';
import type { LbPolicyName, LoadBalancer } from './load-balancer.js';
import { RingHashLoadBalancer } from './ring-hash.js';

const hostsN = (n: number): Host[] => Array.from({ length: n }, (_, i) => newHost(`10.1.${i >> 8}.${i & 255}`, 8080));
const keys = Array.from({ length: 5000 }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) >>> 0) ^ i);

function mapping(lb: LoadBalancer): Host[] {
  return keys.map((k) => lb.chooseHost({ hashKey: k })!);
}

for (const policy of ['RING_HASH', 'MAGLEV'] as LbPolicyName[]) {
  const make = (hosts: readonly Host[], seed = 1) => createLoadBalancer(policy, hosts, seededRandom(seed));

  test(`${policy}: the same key always reaches the same host`, () => {
    const lb = make(hostsN(7));
    for (const k of keys.slice(0, 200)) {
      const h = lb.chooseHost({ hashKey: k });
      for (let i = 0; i < 3; i++) assert.equal(lb.chooseHost({ hashKey: k }), h);
    }
  });

  test(`${policy}: the mapping does not depend on endpoint order or on the random source`, () => {
    const hosts = hostsN(9);
    const a = mapping(make(hosts, 1)).map((h) => h.key);
    const b = mapping(make([...hosts].reverse(), 99)).map((h) => h.key);
    assert.deepEqual(a, b);
  });

  test(`${policy}: keys spread over all hosts`, () => {
    const hosts = hostsN(10);
    const counts = new Map<Host, number>();
    for (const h of mapping(make(hosts))) counts.set(h, (counts.get(h) ?? 0) + 1);
    assert.equal(counts.size, 10);
    for (const c of counts.values()) assert.ok(c > 250 && c < 800, `a host owns ${c} of 5000 keys`);
  });

  test(`${policy}: removing one of 10 hosts moves only about 1/10 of the keys`, () => {
    const hosts = hostsN(10);
    const before = mapping(make(hosts));
    const removed = hosts[3]!;
    const after = mapping(make(hosts.filter((h) => h !== removed)));
    let moved = 0;
    let movedFromOthers = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] !== after[i]) {
        moved++;
        if (before[i] !== removed) movedFromOthers++;
      }
    }
    const owned = before.filter((h) => h === removed).length;
    assert.ok(moved >= owned, 'every key of the removed host moved');
    assert.ok(moved / keys.length < 0.1 + 0.04, `${moved} of ${keys.length} keys moved`);
    // A ring moves nothing else; Maglev reshuffles a little (the paper's "minimal disruption").
    if (policy === 'RING_HASH') assert.equal(movedFromOthers, 0);
    else assert.ok(movedFromOthers / keys.length < 0.03, `${movedFromOthers} keys moved between remaining hosts`);
  });

  test(`${policy}: a host of weight 4 owns about 4/7 of the keys against three hosts of weight 1`, () => {
    const hosts = [newHost('10.0.0.1', 80, 4), newHost('10.0.0.2', 80), newHost('10.0.0.3', 80), newHost('10.0.0.4', 80)];
    const share = mapping(make(hosts)).filter((h) => h === hosts[0]).length / keys.length;
    assert.ok(Math.abs(share - 4 / 7) < 0.06, `heavy host share ${share}`);
  });

  test(`${policy}: an excluded host hands its keys to one other host per key, stably`, () => {
    const hosts = hostsN(5);
    const lb = make(hosts);
    const exclude = new Set([hosts[0]!]);
    for (const k of keys.slice(0, 300)) {
      const h = lb.chooseHost({ hashKey: k, exclude });
      assert.notEqual(h, hosts[0]);
      assert.equal(lb.chooseHost({ hashKey: k, exclude }), h);
    }
  });
}

test('RING_HASH ring size: at least the minimum, under twice it, capped by the maximum, proportional to weight', () => {
  const ring = (hosts: Host[], min = 1024, max = 8 * 1024 * 1024) => new RingHashLoadBalancer(hosts, seededRandom(1), min, max).size;
  assert.equal(ring(hostsN(4)), 1024);
  assert.equal(ring(hostsN(3)), 3 * 512);
  // The lightest host's count is the same for 9 and 10 hosts: a host leaving redraws nothing.
  assert.equal(ring(hostsN(10)) / 10, ring(hostsN(9)) / 9);
  // Weight 1 against 99: the light host needs 1024/100 → 16 points, the heavy one 99 × 16.
  assert.equal(ring([newHost('10.0.0.1', 80, 1), newHost('10.0.0.2', 80, 99)]), 16 * 100);
  assert.equal(ring(hostsN(4), 100_000, 2048), 2048);
});
