import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newHost } from '../host.js';
import { createLoadBalancer } from './load-balancer.js';
import { loadBalancerConformance, testRandom } from './load-balancer.test-suite.js';

loadBalancerConformance('ROUND_ROBIN', (hosts) => createLoadBalancer('ROUND_ROBIN', hosts, testRandom()));
loadBalancerConformance('LEAST_REQUEST', (hosts) => createLoadBalancer('LEAST_REQUEST', hosts, testRandom()));
loadBalancerConformance('RANDOM', (hosts) => createLoadBalancer('RANDOM', hosts, testRandom()));

test('ROUND_ROBIN visits every host once per cycle, in order', () => {
  const hosts = [newHost('10.0.0.1', 80), newHost('10.0.0.2', 80), newHost('10.0.0.3', 80)];
  const lb = createLoadBalancer('ROUND_ROBIN', hosts, testRandom());
  const first = hosts.indexOf(lb.chooseHost()!);
  for (let i = 1; i < 6; i++) assert.equal(lb.chooseHost(), hosts[(first + i) % 3]);
});

test('LEAST_REQUEST avoids the busy host when the two draws differ', () => {
  const idle = newHost('10.0.0.1', 80);
  const busy = newHost('10.0.0.2', 80);
  busy.activeRequests = 50;
  const lb = createLoadBalancer('LEAST_REQUEST', [idle, busy], testRandom());
  let busyPicks = 0;
  for (let i = 0; i < 400; i++) if (lb.chooseHost() === busy) busyPicks++;
  // busy is only chosen when both draws land on it: about a quarter of the time.
  assert.ok(busyPicks > 50 && busyPicks < 150, `busy chosen ${busyPicks} times`);
});
