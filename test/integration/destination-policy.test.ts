// DestinationRule traffic policies as the proxy enforces them, through a real listener and real
// upstreams on loopback: consistent hashing (a user sticks to one host), circuit breakers (503 UO
// while the limits are full, TASK-06), and outlier detection (a host answering 5xx is ejected and
// the next requests go to the healthy one, DR-08). The clusters are what the generators write
// for such rules.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { Cluster, Route } from '../../src/xds/resources.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';
import { request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';

const hosts: TestUpstream[] = [];
let bad: TestUpstream;
let good: TestUpstream;
let held: TestUpstream;
const waiting: http.ServerResponse[] = [];
const heldCount = () => waiting.length;
let proxy: RunningProxy;
let base: string;

before(async () => {
  for (let i = 0; i < 3; i++) {
    hosts.push(
      await startUpstream((_r, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`host-${i}`);
      }),
    );
  }
  bad = await startUpstream((_r, res) => {
    res.writeHead(500);
    res.end('bad');
  });
  good = await startUpstream((_r, res) => res.end('good'));
  held = await startUpstream((_r, res) => waiting.push(res));

  const clusters: Cluster[] = [
    staticCluster('ring', hosts.map((h) => h.port), { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: 1024 } }),
    // TASK-06's rule: maxConnections 1, http1MaxPendingRequests 1, maxRequestsPerConnection 1.
    staticCluster('limited', held.port, { circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 4294967295 }] } }),
    staticCluster('ejecting', [bad.port, good.port], {
      lbPolicy: 'ROUND_ROBIN',
      outlierDetection: { consecutive5xx: 1, enforcingConsecutive5xx: 100, interval: '1s', baseEjectionTime: '180s', maxEjectionPercent: 100, enforcingSuccessRate: 0 },
    }),
  ];
  const routes: Route[] = [
    { name: 'ring', match: { prefix: '/ring' }, route: { cluster: 'ring', timeout: '0s', hashPolicy: [{ header: { headerName: 'x-user' } }] } },
    { name: 'limited', match: { prefix: '/limited' }, route: { cluster: 'limited', timeout: '0s' } },
    { name: 'ejecting', match: { prefix: '/eject' }, route: { cluster: 'ejecting', timeout: '0s' } },
  ];
  proxy = await startStaticProxy([loopbackListener('edge', [httpChain('edge', routes)])], clusters, 17);
  base = proxy.base;
});

after(async () => {
  for (const r of waiting) r.end();
  await proxy.stop();
  for (const u of [...hosts, bad, good, held]) await u.close();
});

test('DR-03 consistent hash on a header: each user always reaches the same host, and users spread', async () => {
  const seenBy = new Map<string, Set<string>>();
  for (let u = 0; u < 12; u++) {
    for (let i = 0; i < 3; i++) {
      const r = await request(`${base}/ring`, { headers: { 'x-user': `user-${u}` } });
      assert.equal(r.status, 200);
      const s = seenBy.get(`user-${u}`) ?? new Set<string>();
      s.add(r.body);
      seenBy.set(`user-${u}`, s);
    }
  }
  for (const [user, s] of seenBy) assert.equal(s.size, 1, `${user} reached ${[...s].join(', ')}`);
  const used = new Set([...seenBy.values()].map((s) => [...s][0]));
  assert.ok(used.size >= 2, `12 users all hashed to ${[...used].join(', ')}`);
});

test('TASK-06 circuit breaker: with the connection and the pending slot taken, the next request fails fast with 503 UO', async () => {
  const first = request(`${base}/limited/1`);
  // Wait until the upstream holds the first request on the only connection allowed.
  for (let i = 0; i < 200 && heldCount() === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(waiting.length, 1);
  const second = request(`${base}/limited/2`); // waits for the connection: the one pending slot
  await new Promise((r) => setTimeout(r, 50));
  const third = await request(`${base}/limited/3`);
  assert.equal(third.status, 503);
  assert.equal(third.headers['x-strait-flags'], 'UO');
  assert.match(third.body, /circuit-breaker|overflow/);
  waiting.shift()!.end('one');
  for (let i = 0; i < 200 && heldCount() === 0; i++) await new Promise((r) => setTimeout(r, 10));
  waiting.shift()!.end('two');
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
});

test('DR-08 outlier detection: after one 5xx the host is ejected and the healthy host takes every request', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await request(`${base}/eject/${i}`)).status);
  // Round robin sends one of the first two requests to the bad host; from then on it is ejected.
  assert.equal(statuses.filter((s) => s === 500).length, 1, `statuses: ${statuses.join(',')}`);
  assert.deepEqual(statuses.slice(2), Array(8).fill(200));
});
