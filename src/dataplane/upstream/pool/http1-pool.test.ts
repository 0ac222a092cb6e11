// HTTP/1.1 pool semantics against real servers on 127.0.0.1: keep-alive reuse, Envoy's pending
// and connection limits (TASK-06), connection lifetime limits on the manual clock, failures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { closeServer, heldServer, listen, makeCluster, send, settle, staticCluster, until } from '../test-support.js';
import type { Reply } from '../test-support.js';
import { upstreamFailure, UPSTREAM_OVERFLOW } from './errors.js';

function okServer() {
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    res.end(`hello ${req.url}`);
  });
  return { server, seen };
}

test('keep-alive: sequential requests share one connection, and the second knows it was reused', async () => {
  const { server } = okServer();
  const port = await listen(server);
  const { cluster, stat } = makeCluster(staticCluster('c', [port]));
  const host = cluster.hosts()[0]!;
  const a = await send(cluster, host, '/a');
  const b = await send(cluster, host, '/b');
  assert.deepEqual([a.status, a.body, a.reused], [200, 'hello /a', false]);
  assert.deepEqual([b.status, b.reused], [200, true]);
  assert.equal(stat('upstream_cx_total'), 1);
  assert.equal(stat('upstream_cx_http1_total'), 1);
  assert.equal(stat('upstream_rq_pending_total'), 1); // only the first waited for its connection
  cluster.close();
  await closeServer(server);
});

test('maxRequestsPerConnection 1: every request gets its own connection, closed after the response', async () => {
  const { server, seen } = okServer();
  const port = await listen(server);
  const { cluster, stat } = makeCluster(staticCluster('c', [port], { commonHttpProtocolOptions: { maxRequestsPerConnection: 1 } }));
  const host = cluster.hosts()[0]!;
  for (let i = 0; i < 3; i++) assert.equal((await send(cluster, host)).status, 200);
  assert.equal(stat('upstream_cx_total'), 3);
  assert.equal(stat('upstream_cx_max_requests'), 3);
  assert.ok(seen.every((r) => r.headers.connection === 'close'));
  await until(() => stat('upstream_cx_active') === 0);
  cluster.close();
  await closeServer(server);
});

test('TASK-06: maxConnections 1, maxPendingRequests 1 — a request beyond the queue fails at once with overflow', async () => {
  const held = heldServer();
  const port = await listen(held.server);
  const { cluster, stat } = makeCluster(
    staticCluster('httpbin', [port], {
      circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1 }] },
      commonHttpProtocolOptions: { maxRequestsPerConnection: 1 },
    }),
  );
  const host = cluster.hosts()[0]!;
  const first = settle(send(cluster, host, '/1'));
  await until(() => held.seen.length === 1); // the only connection is up and busy
  const second = settle(send(cluster, host, '/2')); // waits: no connection may be opened
  const third = await settle(send(cluster, host, '/3')); // the queue is full: fails fast
  assert.ok(third instanceof Error);
  assert.equal((third as Error & { code: string }).code, UPSTREAM_OVERFLOW);
  assert.equal(upstreamFailure(third), 'overflow');
  assert.equal(stat('circuit_breakers_default_cx_open'), 1);
  assert.equal(stat('circuit_breakers_default_rq_pending_open'), 1);
  held.release();
  await until(() => held.seen.length === 2); // /2 got the connection that replaced /1's
  held.release();
  assert.equal(((await first) as Reply).status, 200);
  assert.equal(((await second) as Reply).status, 200);
  assert.deepEqual(held.seen.map((r) => r.url), ['/1', '/2']);
  assert.equal(stat('upstream_rq_pending_overflow'), 1);
  assert.equal(stat('upstream_rq_pending_total'), 2);
  assert.equal(stat('upstream_cx_overflow'), 1);
  assert.equal(stat('upstream_cx_total'), 2);
  await until(() => stat('upstream_rq_pending_active') === 0 && stat('circuit_breakers_default_cx_open') === 0);
  cluster.close();
  await closeServer(held.server);
});

test('TASK-06 load: 3 concurrent clients, 10 requests each — some fail fast with overflow, the rest succeed', async () => {
  const { server } = okServer();
  const port = await listen(server);
  const { cluster, stat } = makeCluster(
    staticCluster('httpbin', [port], {
      circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1 }] },
      commonHttpProtocolOptions: { maxRequestsPerConnection: 1 },
    }),
  );
  const host = cluster.hosts()[0]!;
  let ok = 0;
  let overflow = 0;
  const client = async () => {
    for (let i = 0; i < 10; i++) {
      const r = await settle(send(cluster, host));
      if (r instanceof Error) {
        assert.equal(upstreamFailure(r), 'overflow', r.message);
        overflow++;
      } else {
        assert.equal(r.status, 200);
        ok++;
      }
    }
  };
  await Promise.all([client(), client(), client()]);
  assert.equal(ok + overflow, 30);
  // All three start in the same tick: one connects, its pending slot is taken, two overflow.
  assert.ok(overflow >= 2 && ok > 0, `ok ${ok}, overflow ${overflow}`);
  assert.equal(stat('upstream_rq_pending_overflow'), overflow);
  await until(() => stat('upstream_cx_active') === 0);
  cluster.close();
  await closeServer(server);
});

test('queued requests take a freed keep-alive connection in arrival order', async () => {
  const held = heldServer();
  const port = await listen(held.server);
  const { cluster, stat } = makeCluster(staticCluster('c', [port], { circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 10 }] } }));
  const host = cluster.hosts()[0]!;
  const replies = ['/1', '/2', '/3'].map((p) => send(cluster, host, p));
  await until(() => held.seen.length === 1);
  assert.equal(stat('upstream_rq_pending_active'), 2);
  held.release();
  await until(() => held.seen.length === 2);
  held.release();
  await until(() => held.seen.length === 3);
  held.release();
  const r = await Promise.all(replies);
  assert.deepEqual(r.map((x) => [x.status, x.reused]), [[200, false], [200, true], [200, true]]);
  assert.deepEqual(held.seen.map((x) => x.url), ['/1', '/2', '/3']);
  assert.equal(stat('upstream_cx_total'), 1);
  assert.equal(stat('upstream_rq_pending_active'), 0);
  cluster.close();
  await closeServer(held.server);
});

test('a queued request that is abandoned is skipped and releases its pending slot', async () => {
  const held = heldServer();
  const port = await listen(held.server);
  const { cluster, stat } = makeCluster(staticCluster('c', [port], { circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1 }] } }));
  const host = cluster.hosts()[0]!;
  const first = send(cluster, host, '/1');
  await until(() => held.seen.length === 1);
  const abandoned = http.request({ ...cluster.requestOptions(host), path: '/abandoned' });
  abandoned.on('error', () => undefined);
  abandoned.end();
  abandoned.destroy();
  // The pending slot is full of an abandoned request: the next one finds it and takes its place.
  const next = send(cluster, host, '/next');
  held.release();
  await until(() => held.seen.length === 2);
  held.release();
  assert.equal((await first).status, 200);
  assert.equal((await next).status, 200);
  assert.deepEqual(held.seen.map((x) => x.url), ['/1', '/next']);
  assert.equal(stat('upstream_rq_pending_active'), 0);
  cluster.close();
  await closeServer(held.server);
});

test('a host with no connection may open one even when other hosts hold all maxConnections', async () => {
  const a = heldServer();
  const b = okServer();
  const [pa, pb] = [await listen(a.server), await listen(b.server)];
  const { cluster, stat } = makeCluster(staticCluster('c', [pa, pb], { circuitBreakers: { thresholds: [{ maxConnections: 1 }] } }));
  const [ha, hb] = cluster.hosts() as [never, never];
  const held = send(cluster, ha);
  await until(() => a.seen.length === 1);
  assert.equal((await send(cluster, hb)).status, 200);
  assert.equal(stat('upstream_cx_total'), 2);
  a.releaseAll();
  await held;
  cluster.close();
  await Promise.all([closeServer(a.server), closeServer(b.server)]);
});

test('idle connections close after idleTimeout on the cluster clock', async () => {
  const { server } = okServer();
  const port = await listen(server);
  const { cluster, clock, stat } = makeCluster(staticCluster('c', [port], { commonHttpProtocolOptions: { idleTimeout: '30s' } }));
  const host = cluster.hosts()[0]!;
  // The connection returns to the pool just after the response ends: advance the clock only
  // once it is idle, or the idle period would start at the advanced time.
  const idle = () => until(() => cluster.pool.forHost(host).idleCount === 1);
  await send(cluster, host);
  await idle();
  clock.advance(20_000);
  await send(cluster, host); // reused: the idle clock starts again
  await idle();
  clock.advance(20_000);
  assert.equal(stat('upstream_cx_active'), 1);
  clock.advance(10_000);
  await until(() => stat('upstream_cx_active') === 0);
  assert.equal(stat('upstream_cx_idle_timeout'), 1);
  assert.equal(stat('upstream_cx_total'), 1);
  cluster.close();
  await closeServer(server);
});

test('maxConnectionDuration: an old connection finishes its request and is not reused', async () => {
  const held = heldServer();
  const port = await listen(held.server);
  const { cluster, clock, stat } = makeCluster(staticCluster('c', [port], { commonHttpProtocolOptions: { maxConnectionDuration: '60s' } }));
  const host = cluster.hosts()[0]!;
  const busy = send(cluster, host, '/busy');
  await until(() => held.seen.length === 1);
  clock.advance(60_000);
  assert.equal(stat('upstream_cx_max_duration_reached'), 1);
  held.release();
  assert.equal((await busy).status, 200);
  await until(() => stat('upstream_cx_active') === 0);
  const next = send(cluster, host, '/next');
  await until(() => held.seen.length === 2);
  held.release();
  assert.equal((await next).reused, false);
  assert.equal(stat('upstream_cx_total'), 2);
  cluster.close();
  await closeServer(held.server);
});

test('a refused connection fails the request as a connect failure and frees the breaker', async () => {
  const probe = net.createServer();
  const port = await listen(probe);
  await closeServer(probe); // nothing listens on `port` now
  const { cluster, stat } = makeCluster(staticCluster('c', [port]));
  const err = await settle(send(cluster, cluster.hosts()[0]!));
  assert.ok(err instanceof Error);
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.equal(upstreamFailure(err), 'connect_failure');
  await until(() => stat('upstream_cx_active') === 0);
  assert.equal(stat('upstream_cx_connect_fail'), 1);
  assert.equal(stat('upstream_rq_pending_active'), 0);
  assert.equal(stat('circuit_breakers_default_cx_open'), 0);
  cluster.close();
});

test('the cluster-wide agent (host and port per request) shares the per-host pools', async () => {
  const { server } = okServer();
  const port = await listen(server);
  const { cluster, stat } = makeCluster(staticCluster('c', [port]));
  await send(cluster, cluster.hosts()[0]!);
  const viaAgent = await new Promise<boolean>((resolve, reject) => {
    const req = http.request({ agent: cluster.pool.agent, host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve(req.reusedSocket));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(viaAgent, true);
  assert.equal(stat('upstream_cx_total'), 1);
  cluster.close();
  await closeServer(server);
});

test('loopback upstreams see the pod address as the source', async () => {
  let remote = '';
  const server = http.createServer((req, res) => {
    remote = req.socket.remoteAddress ?? '';
    res.end();
  });
  const port = await listen(server);
  const { cluster } = makeCluster(staticCluster('c', [port]), { addresses: { wildcard: '127.0.0.7', localhost: '127.0.0.1' } });
  await send(cluster, cluster.hosts()[0]!);
  assert.equal(remote, '127.0.0.7');
  cluster.close();
  await closeServer(server);
});

test('drain closes idle connections now and busy ones after their response; close fails queued requests', async () => {
  const held = heldServer();
  const port = await listen(held.server);
  const { cluster, stat } = makeCluster(staticCluster('c', [port], { circuitBreakers: { thresholds: [{ maxConnections: 1 }] } }));
  const host = cluster.hosts()[0]!;
  const first = send(cluster, host, '/1');
  await until(() => held.seen.length === 1);
  cluster.drain();
  held.release();
  assert.equal((await first).status, 200);
  await until(() => stat('upstream_cx_active') === 0);

  const busy = settle(send(cluster, host, '/2'));
  await until(() => held.seen.length === 2);
  const queued = settle(send(cluster, host, '/3'));
  cluster.close();
  const [e2, e3] = await Promise.all([busy, queued]);
  assert.ok(e2 instanceof Error && e3 instanceof Error);
  assert.equal((e3 as Error & { code: string }).code, 'STRAIT_UPSTREAM_POOL_CLOSED');
  assert.equal(stat('upstream_rq_pending_active'), 0);
  await closeServer(held.server);
});

test('a host leaving the EDS set has its idle connections closed and its pool dropped', async () => {
  const { server } = okServer();
  const port = await listen(server);
  const eds = { name: 'c', type: 'EDS' as const, edsClusterConfig: { edsConfig: { ads: {} } }, connectTimeout: '1s' };
  const { cluster, stat } = makeCluster(eds);
  const at = (p: number) => ({ clusterName: 'c', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } } }] }] });
  cluster.setEndpoints(at(port));
  await send(cluster, cluster.hosts()[0]!);
  assert.equal(stat('upstream_cx_active'), 1);
  cluster.setEndpoints(at(port === 1 ? 2 : 1));
  await until(() => stat('upstream_cx_active') === 0);
  assert.equal(cluster.pool.hosts.size, 0);
  cluster.close();
  await closeServer(server);
});

test('ORIGINAL_DST destinations get a pool each, dropped once its last connection closes', async () => {
  const { server } = okServer();
  const port = await listen(server);
  const { cluster, stat } = makeCluster({ name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: '1s', commonHttpProtocolOptions: { maxRequestsPerConnection: 1 } });
  const host = cluster.chooseHost(`127.0.0.1:${port}`)!;
  assert.equal((await send(cluster, host)).status, 200);
  await until(() => stat('upstream_cx_active') === 0);
  assert.equal(cluster.pool.hosts.size, 0);
  cluster.close();
  await closeServer(server);
});
