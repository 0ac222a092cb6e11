// The connection manager's last line of defence: an exception in the request path costs that one
// request (a 500 that says so, counted), never the proxy or the requests after it. Real HTTP
// server on 127.0.0.1:0, a real client; the fault is a route table that throws.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { StatsRegistry } from '../../telemetry/stats/stats.js';
import { HCM_TYPE, ROUTER_TYPE } from '../../xds/resources.js';
import { ClusterManager } from '../upstream/cluster-manager.js';
import { LOCAL } from '../upstream/test-support.js';
import { HttpConnectionManager } from './connection-manager.js';
import { compileHcm } from './hcm-config.js';
import type { HcmConfig } from './hcm-config.js';

let server: http.Server;
let url: string;
let cfg: HcmConfig;
let failing = false;

before(async () => {
  const stats = new StatsRegistry();
  const random = seededRandom(1);
  cfg = compileHcm(
    'test',
    {
      '@type': HCM_TYPE,
      statPrefix: 'guard',
      httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } }],
      routeConfig: { name: 'local', virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: 'fine' } } }] }] },
    },
    new Map(),
    stats,
    { clock: systemClock, random },
  );
  const table = cfg.routeTable;
  const match = table.match.bind(table);
  // A bug stand-in: the route lookup throws while `failing` is set.
  (table as { match: typeof table.match }).match = (...args) => {
    if (failing) throw new Error('route table exploded');
    return match(...args);
  };
  const manager = new HttpConnectionManager(cfg, { clusters: new ClusterManager(stats, random, LOCAL), clock: systemClock, random });
  server = http.createServer(manager.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

after(() => server.close());

test('an exception in the request path is a 500 internal_error for that request; the next one is served', async () => {
  failing = true;
  const bad = await fetch(url);
  assert.equal(bad.status, 500);
  assert.equal(bad.headers.get('x-strait-details'), 'internal_error');
  assert.match(await bad.text(), /route table exploded/);
  assert.equal(cfg.stats.internalErrors.value, 1);
  failing = false;
  const good = await fetch(url);
  assert.equal(good.status, 200);
  assert.equal(await good.text(), 'fine');
  assert.equal(cfg.stats.rqActive.value, 0, 'the failed request does not stay active');
});

test('a throw before the request is tracked (while reading its headers) is answered and not left counted as active', async () => {
  const hops = cfg.xffNumTrustedHops;
  let throwing = true;
  Object.defineProperty(cfg, 'xffNumTrustedHops', { configurable: true, get: () => {
    if (throwing) throw new Error('header handling exploded');
    return hops;
  } });
  const before = cfg.stats.internalErrors.value;
  const bad = await fetch(url);
  assert.equal(bad.status, 500);
  assert.match(await bad.text(), /header handling exploded/);
  assert.equal(cfg.stats.internalErrors.value, before + 1);
  throwing = false;
  assert.equal((await fetch(url)).status, 200);
  assert.equal(cfg.stats.rqActive.value, 0);
});
