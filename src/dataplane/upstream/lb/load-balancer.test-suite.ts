// Conformance suite every LoadBalancer implementation passes (ARCHITECTURE.md §4): the contract
// of load_balancer.h (missing context is fine, an empty host list yields nothing), the retry
// exclusion contract, fairness over equal hosts and weight-proportional shares.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import { newHost } from '../host.js';
import type { Host } from '../host.js';
import { EMPTY_LB_CONTEXT } from './load-balancer.js';
import type { LoadBalancer } from './load-balancer.js';

export function loadBalancerConformance(name: string, make: (hosts: readonly Host[]) => LoadBalancer): void {
  const tenHosts = () => Array.from({ length: 10 }, (_, i) => newHost(`127.0.0.${i + 1}`, 8080));

  test(`${name}: an empty host list yields no host, with or without a hash key`, () => {
    assert.equal(make([]).chooseHost(EMPTY_LB_CONTEXT), undefined);
    assert.equal(make([]).chooseHost({ hashKey: 7 }), undefined);
  });

  test(`${name}: a single host is always chosen, even when excluded`, () => {
    const h = newHost('127.0.0.1', 80);
    const lb = make([h]);
    for (let i = 0; i < 5; i++) assert.equal(lb.chooseHost({}), h);
    assert.equal(lb.chooseHost({ exclude: new Set([h]), hashKey: 3 }), h);
  });

  test(`${name}: every host gets traffic and none more than twice its share`, () => {
    const hosts = tenHosts();
    const lb = make(Object.freeze(hosts));
    const counts = new Map<Host, number>();
    for (let i = 0; i < 2000; i++) {
      const h = lb.chooseHost(EMPTY_LB_CONTEXT)!;
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    assert.equal(counts.size, 10);
    for (const c of counts.values()) assert.ok(c <= 400, `a host got ${c} of 2000`);
  });

  test(`${name}: excluded hosts are avoided while another host exists`, () => {
    const hosts = tenHosts();
    const lb = make(hosts);
    const exclude = new Set(hosts.slice(0, 9));
    for (let i = 0; i < 200; i++) {
      assert.equal(lb.chooseHost({ exclude }), hosts[9]);
      assert.equal(lb.chooseHost({ exclude, hashKey: (i * 2654435761) >>> 0 }), hosts[9]);
    }
  });

  test(`${name}: with every host excluded a host is still chosen`, () => {
    const hosts = tenHosts();
    const lb = make(hosts);
    const all = new Set(hosts);
    for (let i = 0; i < 20; i++) assert.ok(hosts.includes(lb.chooseHost({ exclude: all, hashKey: i })!));
  });

  test(`${name}: a host of weight 3 gets about three times the traffic of a host of weight 1`, () => {
    const light = newHost('10.0.0.1', 80, 1);
    const heavy = newHost('10.0.0.2', 80, 3);
    const lb = make([light, heavy]);
    let heavyPicks = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) if (lb.chooseHost(EMPTY_LB_CONTEXT) === heavy) heavyPicks++;
    const share = heavyPicks / n;
    assert.ok(share > 0.65 && share < 0.85, `heavy host share ${share} (expected about 0.75)`);
  });
}

export const testRandom = () => seededRandom(42);
