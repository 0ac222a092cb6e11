import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newHost } from '../host.js';
import type { Host } from '../host.js';
import { createLoadBalancer, EMPTY_LB_CONTEXT } from './load-balancer.js';
import { loadBalancerConformance, testRandom } from './load-balancer.test-suite.js';

loadBalancerConformance('ROUND_ROBIN', (hosts) => createLoadBalancer('ROUND_ROBIN', hosts, testRandom()));
loadBalancerConformance('LEAST_REQUEST', (hosts) => createLoadBalancer('LEAST_REQUEST', hosts, testRandom()));
loadBalancerConformance('LEAST_REQUEST choiceCount 5', (hosts) => createLoadBalancer('LEAST_REQUEST', hosts, testRandom(), { choiceCount: 5 }));
loadBalancerConformance('RANDOM', (hosts) => createLoadBalancer('RANDOM', hosts, testRandom()));
loadBalancerConformance('RING_HASH', (hosts) => createLoadBalancer('RING_HASH', hosts, testRandom()));
loadBalancerConformance('MAGLEV', (hosts) => createLoadBalancer('MAGLEV', hosts, testRandom()));
loadBalancerConformance('MAGLEV small table', (hosts) => createLoadBalancer('MAGLEV', hosts, testRandom(), { tableSize: 251 }));

const threeHosts = () => [newHost('10.0.0.1', 80), newHost('10.0.0.2', 80), newHost('10.0.0.3', 80)];

test('ROUND_ROBIN visits every host once per cycle, in order', () => {
  const hosts = threeHosts();
  const lb = createLoadBalancer('ROUND_ROBIN', hosts, testRandom());
  const first = hosts.indexOf(lb.chooseHost(EMPTY_LB_CONTEXT)!);
  for (let i = 1; i < 6; i++) assert.equal(lb.chooseHost(EMPTY_LB_CONTEXT), hosts[(first + i) % 3]);
});

test('ROUND_ROBIN with weights 1,2,3 gives exact shares per cycle of 6, interleaved (smooth)', () => {
  const [a, b, c] = [newHost('10.0.0.1', 80, 1), newHost('10.0.0.2', 80, 2), newHost('10.0.0.3', 80, 3)];
  const lb = createLoadBalancer('ROUND_ROBIN', [a, b, c], testRandom());
  const picks = Array.from({ length: 60 }, () => lb.chooseHost(EMPTY_LB_CONTEXT)!);
  for (let cycle = 0; cycle < 10; cycle++) {
    const window = picks.slice(cycle * 6, cycle * 6 + 6);
    assert.deepEqual([a, b, c].map((h) => window.filter((x) => x === h).length), [1, 2, 3]);
  }
  // Smooth: the heaviest host never takes three turns in a row.
  for (let i = 2; i < picks.length; i++) assert.ok(!(picks[i] === c && picks[i - 1] === c && picks[i - 2] === c));
});

test('LEAST_REQUEST avoids the busy host when the two draws differ', () => {
  const idle = newHost('10.0.0.1', 80);
  const busy = newHost('10.0.0.2', 80);
  busy.activeRequests = 50;
  const lb = createLoadBalancer('LEAST_REQUEST', [idle, busy], testRandom());
  let busyPicks = 0;
  for (let i = 0; i < 400; i++) if (lb.chooseHost(EMPTY_LB_CONTEXT) === busy) busyPicks++;
  // busy is only chosen when both draws land on it: about a quarter of the time.
  assert.ok(busyPicks > 50 && busyPicks < 150, `busy chosen ${busyPicks} times`);
});

test('LEAST_REQUEST with more choices picks the least loaded host more often', () => {
  const hosts = Array.from({ length: 8 }, (_, i) => newHost(`10.0.0.${i + 1}`, 80));
  hosts.forEach((h, i) => (h.activeRequests = i === 5 ? 0 : 10));
  const count = (choiceCount: number) => {
    const lb = createLoadBalancer('LEAST_REQUEST', hosts, testRandom(), { choiceCount });
    let n = 0;
    for (let i = 0; i < 1000; i++) if (lb.chooseHost(EMPTY_LB_CONTEXT) === hosts[5]) n++;
    return n;
  };
  assert.ok(count(6) > count(2) + 200, `choiceCount 6: ${count(6)}, choiceCount 2: ${count(2)}`);
});

test('weighted LEAST_REQUEST divides a weight by the host’s active requests + 1', () => {
  const a = newHost('10.0.0.1', 80, 2);
  const b = newHost('10.0.0.2', 80, 1);
  // a has twice the weight but 3 active requests: effective 2/4 = 0.5 against b's 1/1.
  a.activeRequests = 3;
  const lb = createLoadBalancer('LEAST_REQUEST', [a, b], testRandom());
  const picks = new Map<Host, number>([[a, 0], [b, 0]]);
  for (let i = 0; i < 300; i++) {
    const h = lb.chooseHost(EMPTY_LB_CONTEXT)!;
    picks.set(h, picks.get(h)! + 1);
  }
  assert.ok(picks.get(b)! > picks.get(a)!, `a ${picks.get(a)} b ${picks.get(b)}`);
});

test('RANDOM honours weights with no host starved', () => {
  const hosts = [newHost('10.0.0.1', 80, 1), newHost('10.0.0.2', 80, 1), newHost('10.0.0.3', 80, 8)];
  const lb = createLoadBalancer('RANDOM', hosts, testRandom());
  const counts = [0, 0, 0];
  for (let i = 0; i < 5000; i++) counts[hosts.indexOf(lb.chooseHost(EMPTY_LB_CONTEXT)!)]!++;
  assert.ok(counts[2]! > 3600 && counts[2]! < 4400, `counts ${counts.join(',')}`);
  assert.ok(counts[0]! > 300 && counts[1]! > 300, `counts ${counts.join(',')}`);
});
