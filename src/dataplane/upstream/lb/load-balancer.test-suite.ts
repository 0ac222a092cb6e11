// Conformance suite every LoadBalancer implementation passes (ARCHITECTURE.md §4).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import { newHost } from '../host.js';
import type { Host } from '../host.js';
import type { LoadBalancer } from './load-balancer.js';

export function loadBalancerConformance(name: string, make: (hosts: readonly Host[]) => LoadBalancer): void {
  test(`${name}: an empty host list yields no host`, () => {
    assert.equal(make([]).chooseHost(), undefined);
  });

  test(`${name}: a single host is always chosen`, () => {
    const h = newHost('127.0.0.1', 80);
    const lb = make([h]);
    for (let i = 0; i < 5; i++) assert.equal(lb.chooseHost(), h);
  });

  test(`${name}: every host gets traffic and none more than twice its share`, () => {
    const hosts = Array.from({ length: 10 }, (_, i) => newHost(`127.0.0.${i + 1}`, 8080));
    const lb = make(hosts);
    const counts = new Map<Host, number>();
    for (let i = 0; i < 1000; i++) {
      const h = lb.chooseHost()!;
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    assert.equal(counts.size, 10);
    for (const c of counts.values()) assert.ok(c <= 200, `a host got ${c} of 1000`);
  });
}

export const testRandom = () => seededRandom(42);
