// The router's route features through a real proxy listener and real upstreams on loopback:
// redirects, rewrites, header changes, retries (status, reset, per-try timeout, attempt count),
// timeout overrides, mirroring with a -shadow Host, consistent-hash cookies.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import { Proxy } from '../../src/dataplane/proxy.js';
import { MemorySink } from '../../src/telemetry/access-log/sink.js';
import { FILE_ACCESS_LOG_TYPE, HCM_TYPE, ROUTER_TYPE } from '../../src/xds/resources.js';
import type { Cluster, Route } from '../../src/xds/resources.js';
import { eventually, request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';

let main: TestUpstream;
let flaky: TestUpstream;
let shadow: TestUpstream;
let slow: TestUpstream;
let broken: TestUpstream;
let proxy: Proxy;
let base: string;
const sink = new MemorySink();

const cluster = (name: string, port: number): Cluster => ({
  name,
  type: 'STATIC',
  connectTimeout: '1s',
  loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }] },
});

const retry503 = { retryOn: 'retriable-status-codes', retriableStatusCodes: [503], numRetries: 2, retryBackOff: { baseInterval: '0.001s' } };

before(async () => {
  main = await startUpstream();
  shadow = await startUpstream();
  // Fails the first `fail` calls of each distinct URL with 503, then succeeds.
  const calls = new Map<string, number>();
  flaky = await startUpstream((r, res) => {
    const n = (calls.get(r.url) ?? 0) + 1;
    calls.set(r.url, n);
    if (n <= Number(/fail=(\d+)/.exec(r.url)?.[1] ?? 0)) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('busy');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ attempt: r.headers['x-envoy-attempt-count'], calls: n }));
  });
  slow = await startUpstream((r, res) => setTimeout(() => res.end(r.url), Number(/ms=(\d+)/.exec(r.url)?.[1] ?? 0)));
  broken = await startUpstream((_r, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('broken');
  });
  const routes: Route[] = [
    { name: 'redirect', match: { prefix: '/old' }, redirect: { pathRedirect: '/new', responseCode: 'FOUND' } },
    { name: 'https', match: { prefix: '/secure' }, redirect: { httpsRedirect: true, portRedirect: 8443 } },
    { name: 'prefix-rw', match: { prefix: '/v1/' }, route: { cluster: 'main', timeout: '0s', prefixRewrite: '/api/v1/', hostRewriteLiteral: 'internal.example' } },
    { name: 'regex-rw', match: { prefix: '/items/' }, route: { cluster: 'main', timeout: '0s', regexRewrite: { pattern: { regex: '^/items/([0-9]+)$' }, substitution: '/catalog?id=\\1' } } },
    {
      name: 'headers',
      match: { prefix: '/hdr' },
      route: { cluster: 'main', timeout: '0s' },
      requestHeadersToAdd: [{ header: { key: 'x-set', value: 'route' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }, { header: { key: 'x-add', value: 'two' } }],
      requestHeadersToRemove: ['x-secret'],
      responseHeadersToAdd: [{ header: { key: 'x-resp', value: 'yes' } }],
      responseHeadersToRemove: ['x-upstream'],
    },
    { name: 'retry', match: { prefix: '/flaky' }, route: { cluster: 'flaky', timeout: '0s', retryPolicy: retry503 } },
    { name: 'per-try', match: { prefix: '/slow-retry' }, route: { cluster: 'slow', timeout: '0s', retryPolicy: { retryOn: '5xx', numRetries: 1, perTryTimeout: '0.1s', retryBackOff: { baseInterval: '0.001s' } } } },
    { name: 'slow', match: { prefix: '/slow' }, route: { cluster: 'slow', timeout: '5s' } },
    { name: 'pair', match: { prefix: '/pair' }, route: { cluster: 'pair', timeout: '0s', retryPolicy: { retryOn: 'retriable-status-codes', retriableStatusCodes: [503], numRetries: 1, retryBackOff: { baseInterval: '0.001s' }, retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }] } } },
    { name: 'mirror', match: { prefix: '/mirror' }, route: { cluster: 'main', timeout: '0s', requestMirrorPolicies: [{ cluster: 'shadow' }] } },
    { name: 'decorated', match: { prefix: '/decorated' }, route: { cluster: 'main', timeout: '0s' }, decorator: { operation: 'main.default.svc.cluster.local:80/*' } },
    { name: 'hash', match: { prefix: '/sticky' }, route: { cluster: 'main', timeout: '0s', hashPolicy: [{ cookie: { name: 'affinity', ttl: '60s', path: '/' } }] } },
  ];
  proxy = new Proxy({
    bootstrap: {
      node: { id: 'router-features' },
      staticResources: {
        listeners: [{
          name: 'edge',
          address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
          filterChains: [{
            filters: [{
              name: 'envoy.filters.network.http_connection_manager',
              typedConfig: {
                '@type': HCM_TYPE,
                statPrefix: 'edge',
                routeConfig: { name: 'r', virtualHosts: [{ name: 'all', domains: ['*'], routes, includeRequestAttemptCount: true }] },
                httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } }],
                accessLog: [{ name: 'envoy.access_loggers.file', typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout' } }],
              },
            }],
          }],
        }],
        clusters: [
          cluster('main', main.port),
          cluster('flaky', flaky.port),
          cluster('shadow', shadow.port),
          cluster('slow', slow.port),
          {
            ...cluster('pair', main.port),
            lbPolicy: 'RANDOM',
            loadAssignment: { clusterName: 'pair', endpoints: [{ lbEndpoints: [main.port, broken.port].map((portValue) => ({ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue } } } })) }] },
          },
        ],
      },
    },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(11),
    log: () => undefined,
  });
  await proxy.start();
  for (const l of proxy.listeners.list()) for (const a of l.manager!.config.accessLogs) a.sink = sink;
  base = `http://127.0.0.1:${proxy.listeners.list()[0]!.port}`;
});

after(async () => {
  await proxy.stop();
  for (const u of [main, flaky, shadow, slow, broken]) await u.close();
});

test('redirect: pathRedirect with a 302 keeps the query', async () => {
  const r = await request(`${base}/old/x?q=1`, { headers: { host: 'a.example.com:8080' } });
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, 'http://a.example.com:8080/new?q=1');
});

test('redirect: httpsRedirect with a port goes to https on that port, 301 by default', async () => {
  const r = await request(`${base}/secure/p`, { headers: { host: 'a.example.com:8080' } });
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, 'https://a.example.com:8443/secure/p');
});

test('prefix and host rewrite; the original path travels as x-envoy-original-path', async () => {
  const r = await request(`${base}/v1/users?x=1`, { headers: { host: 'public.example.com' } });
  const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/api/v1/users?x=1');
  assert.equal(seen.headers.host, 'internal.example');
  assert.equal(seen.headers['x-envoy-original-path'], '/v1/users?x=1');
});

test('regex rewrite substitutes groups', async () => {
  const r = await request(`${base}/items/42`);
  assert.equal((JSON.parse(r.body) as { url: string }).url, '/catalog?id=42');
});

test('request and response header changes: set overwrites, add appends, remove removes', async () => {
  const r = await request(`${base}/hdr`, { headers: { 'x-set': 'client', 'x-add': 'one', 'x-secret': 's' } });
  const seen = JSON.parse(r.body) as { headers: Record<string, string> };
  assert.equal(seen.headers['x-set'], 'route');
  assert.equal(seen.headers['x-add'], 'one, two');
  assert.equal(seen.headers['x-secret'], undefined);
  assert.equal(r.headers['x-resp'], 'yes');
  assert.equal(r.headers['x-upstream'], undefined);
});

test('retriable status codes are retried; the upstream sees the attempt count', async () => {
  const r = await request(`${base}/flaky?fail=2`);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { attempt: '3', calls: 3 });
  assert.equal(proxy.stats.valueOf('envoy_cluster_upstream_rq_retry', { cluster_name: 'flaky' }), 2);
});

test('when retries run out the last 503 goes downstream with flag URX', async () => {
  const before = sink.lines.length;
  const r = await request(`${base}/flaky?fail=9`);
  assert.equal(r.status, 503);
  await eventually(() => sink.lines.length > before, 'the access log line');
  assert.match(sink.lines.at(-1)!, /" 503 URX via_upstream /);
});

test('a per-try timeout retries on another attempt, then answers 504 UT', async () => {
  const r = await request(`${base}/slow-retry?ms=500`);
  assert.equal(r.status, 504);
  assert.equal(r.headers['x-strait-flags'], 'UT');
  assert.match(r.body, /per-try timeout of 100 ms/);
});

test('x-envoy-upstream-rq-timeout-ms shortens the route timeout for one request', async () => {
  const r = await request(`${base}/slow?ms=400`, { headers: { 'x-envoy-upstream-rq-timeout-ms': '50' } });
  assert.equal(r.status, 504);
  const ok = await request(`${base}/slow?ms=10`);
  assert.equal(ok.status, 200);
});

test('mirroring sends a copy to the shadow cluster with a -shadow Host; the client gets the main answer', async () => {
  const before = shadow.requests.length;
  const r = await request(`${base}/mirror/x`, { method: 'POST', headers: { host: 'httpbin:8000' }, body: 'mirrored-body' });
  assert.equal(r.status, 200);
  const seen = await eventually(() => (shadow.requests.length > before ? shadow.requests.at(-1) : undefined), 'the mirrored request');
  assert.equal(seen.headers.host, 'httpbin-shadow:8000');
  assert.equal(seen.body, 'mirrored-body');
  assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers.host, 'httpbin:8000');
});

test('a cookie hash policy with a ttl sets the affinity cookie when the client has none', async () => {
  const r = await request(`${base}/sticky`);
  assert.match(String(r.headers['set-cookie']), /^affinity=[0-9a-f]+; Max-Age=60; Path=\/; HttpOnly$/);
  const again = await request(`${base}/sticky`, { headers: { cookie: 'affinity=abc' } });
  assert.equal(again.headers['set-cookie'], undefined);
});

test('an outbound route decorator travels upstream as x-envoy-decorator-operation (TASK-10 shows it)', async () => {
  const seen = JSON.parse((await request(`${base}/decorated`, { headers: { 'x-envoy-decorator-operation': 'spoofed' } })).body) as { headers: Record<string, string> };
  assert.equal(seen.headers['x-envoy-decorator-operation'], 'main.default.svc.cluster.local:80/*');
  const plain = JSON.parse((await request(`${base}/v1/x`)).body) as { headers: Record<string, string> };
  assert.equal(plain.headers['x-envoy-decorator-operation'], undefined);
});

test('retries with the previous_hosts predicate go to a host not tried yet', async () => {
  // One host of the pair always answers 503; one retry is allowed. Without the predicate, a
  // random pick would send some retries back to the broken host.
  for (let i = 0; i < 20; i++) assert.equal((await request(`${base}/pair/${i}`)).status, 200);
  const retries = proxy.stats.valueOf('envoy_cluster_upstream_rq_retry', { cluster_name: 'pair' }) ?? 0;
  assert.ok(retries > 0, 'the broken host was picked first at least once');
});
