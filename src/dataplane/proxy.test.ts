import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { systemClock } from '../common/clock.js';
import { seededRandom } from '../common/random.js';
import { MemorySink } from '../telemetry/access-log/sink.js';
import { FILE_ACCESS_LOG_TYPE, HCM_TYPE, ROUTER_TYPE } from '../xds/resources.js';
import type { Bootstrap, Cluster, Listener, RouteConfiguration } from '../xds/resources.js';
import { Proxy } from './proxy.js';
import { request, startUpstream } from '../../test/helpers/http.js';
import type { TestUpstream } from '../../test/helpers/http.js';

function listener(routeConfig: RouteConfiguration): Listener {
  return {
    name: 'edge',
    address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
    filterChains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typedConfig: {
          '@type': HCM_TYPE,
          statPrefix: 'edge',
          routeConfig,
          useRemoteAddress: true,
          serverName: 'istio-envoy',
          httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } }],
          accessLog: [{ name: 'envoy.access_loggers.file', typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout' } }],
        },
      }],
    }],
  };
}

function staticCluster(name: string, ports: number[]): Cluster {
  return {
    name,
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: ports.map((p) => ({ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } } })) }] },
  };
}

let up1: TestUpstream;
let up2: TestUpstream;
let proxy: Proxy;
let base: string;
let deadPort: number;
const sink = new MemorySink();

before(async () => {
  up1 = await startUpstream();
  up2 = await startUpstream();
  // A port nothing listens on: bind, read the number, close.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const routeConfig: RouteConfiguration = {
    name: 'edge-routes',
    virtualHosts: [
      {
        name: 'app',
        domains: ['app.example.com', 'app.example.com:*'],
        routes: [
          { name: 'exact-health', match: { path: '/healthz' }, directResponse: { status: 200, body: { inlineString: 'ok' } } },
          { name: 'api', match: { prefix: '/api' }, route: { cluster: 'both', timeout: '0s' } },
          { name: 'dead', match: { prefix: '/dead' }, route: { cluster: 'dead', timeout: '0s', retryPolicy: { retryOn: 'connect-failure', numRetries: 2, retryBackOff: { baseInterval: '0.001s' } } } },
          { name: 'empty', match: { prefix: '/empty' }, route: { cluster: 'empty', timeout: '0s' } },
          { name: 'missing', match: { prefix: '/missing' }, route: { cluster: 'no-such-cluster' } },
          { name: 'slow', match: { prefix: '/slow' }, route: { cluster: 'both', timeout: '0.2s' } },
        ],
      },
    ],
  };
  const bootstrap: Bootstrap = {
    node: { id: 'test~127.0.0.1~edge.test~test.svc.cluster.local' },
    staticResources: {
      listeners: [listener(routeConfig)],
      clusters: [staticCluster('both', [up1.port, up2.port]), staticCluster('dead', [deadPort]), { name: 'empty', type: 'STATIC', loadAssignment: { clusterName: 'empty', endpoints: [] } }],
    },
  };
  proxy = new Proxy({
    bootstrap,
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'stdout',
    clock: systemClock,
    random: seededRandom(7),
    log: () => undefined,
  });
  await proxy.start();
  for (const l of proxy.listeners.list()) for (const a of l.manager!.config.accessLogs) a.sink = sink;
  base = `http://127.0.0.1:${proxy.listeners.list()[0]!.port}`;
});

after(async () => {
  await proxy.stop();
  await up1.close();
  await up2.close();
});

test('routes by host and prefix, keeps method/path/query, sets forwarding headers', async () => {
  const res = await request(`${base}/api/items?x=1&y=2`, { method: 'POST', headers: { host: 'app.example.com', 'content-type': 'text/plain' }, body: 'hello' });
  assert.equal(res.status, 200);
  const seen = JSON.parse(res.body) as { method: string; url: string; headers: Record<string, string>; body: string };
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/api/items?x=1&y=2');
  assert.equal(seen.body, 'hello');
  assert.equal(seen.headers.host, 'app.example.com');
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.match(seen.headers['x-request-id']!, /^[0-9a-f-]{36}$/);
  assert.equal(res.headers.server, 'istio-envoy');
  assert.ok(Number(res.headers['x-envoy-upstream-service-time']) >= 0);
});

test('a host with a port matches the host:* domain', async () => {
  const res = await request(`${base}/api`, { headers: { host: 'app.example.com:8080' } });
  assert.equal(res.status, 200);
});

test('round robin spreads requests over both endpoints', async () => {
  const before1 = up1.requests.length;
  const before2 = up2.requests.length;
  for (let i = 0; i < 10; i++) assert.equal((await request(`${base}/api/rr`, { headers: { host: 'app.example.com' } })).status, 200);
  assert.equal(up1.requests.length - before1, 5);
  assert.equal(up2.requests.length - before2, 5);
});

test('an unknown host gets 404 NR with a reason', async () => {
  const res = await request(`${base}/api`, { headers: { host: 'other.example.com' } });
  assert.equal(res.status, 404);
  assert.equal(res.headers['x-strait-flags'], 'NR');
  assert.equal(res.headers['x-strait-details'], 'route_not_found');
  assert.match(res.body, /no virtual host .* matches host "other\.example\.com"/);
});

test('an unmatched path gets 404 NR naming the virtual host', async () => {
  const res = await request(`${base}/nothing-here`, { headers: { host: 'app.example.com' } });
  assert.equal(res.status, 404);
  assert.match(res.body, /no route of virtual host "app" matches path "\/nothing-here"/);
});

test('exact path matches ignore the query; direct responses answer locally', async () => {
  const res = await request(`${base}/healthz?probe=1`, { headers: { host: 'app.example.com' } });
  assert.equal(res.status, 200);
  assert.equal(res.body, 'ok');
});

test('connection refused upstream gives 503 UF after retries', async () => {
  const res = await request(`${base}/dead`, { headers: { host: 'app.example.com' } });
  assert.equal(res.status, 503);
  assert.equal(res.headers['x-strait-flags'], 'UF');
  assert.equal(res.headers['x-strait-details'], 'upstream_reset_before_response_started{connection_failure}');
  const line = sink.lines.find((l) => l.includes('"GET /dead HTTP/1.1"'));
  assert.match(line ?? '', /" 503 URX,UF upstream_reset_before_response_started\{connection_failure\} /);
  assert.equal(proxy.stats.valueOf('envoy_cluster_upstream_rq_retry', { cluster_name: 'dead' }), 2);
});

test('a cluster without endpoints gives 503 UH; an unknown cluster 503 NC', async () => {
  const uh = await request(`${base}/empty`, { headers: { host: 'app.example.com' } });
  assert.equal(uh.status, 503);
  assert.equal(uh.headers['x-strait-flags'], 'UH');
  const nc = await request(`${base}/missing`, { headers: { host: 'app.example.com' } });
  assert.equal(nc.status, 503);
  assert.equal(nc.headers['x-strait-flags'], 'NC');
});

test('absolute-form targets (HTTP_PROXY clients) route by the URL authority', async () => {
  const res = await request(base, { path: 'http://app.example.com/api/abs?q=1', headers: { host: 'ignored.example.com' } });
  assert.equal(res.status, 200);
  const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/api/abs?q=1');
  assert.equal(seen.headers.host, 'app.example.com');
});

test('hop-by-hop headers are not forwarded; an incoming x-request-id from loopback is kept', async () => {
  const res = await request(`${base}/api/h`, {
    headers: { host: 'app.example.com', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', 'x-request-id': 'abc-123', 'x-forwarded-for': '10.0.0.9' },
  });
  const seen = JSON.parse(res.body) as { headers: Record<string, string> };
  assert.equal(seen.headers['x-secret-hop'], undefined);
  assert.equal(seen.headers['keep-alive'], undefined);
  assert.equal(seen.headers['x-request-id'], 'abc-123');
  assert.equal(seen.headers['x-forwarded-for'], '10.0.0.9,127.0.0.1');
});

test('duplicate Host headers are rejected with 400 and never forwarded', async () => {
  const before = up1.requests.length + up2.requests.length;
  const raw = await rawRequest(base, 'GET /api/dup HTTP/1.1\r\nHost: app.example.com\r\nHost: evil.example.com\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 400 /);
  assert.equal(up1.requests.length + up2.requests.length, before);
});

test('malformed HTTP gets 400 from the parser and an access log line with DPE', async () => {
  const raw = await rawRequest(base, 'GET /api HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 400 /);
  assert.ok(sink.lines.some((l) => / 400 DPE http1\.codec_error/.test(l)), 'no DPE access-log line');
});

test('a route timeout gives 504 UT', async () => {
  const slow = await startUpstream((_r, res) => setTimeout(() => res.end('late'), 1000));
  const p2 = new Proxy({
    bootstrap: {
      node: { id: 'slow' },
      staticResources: {
        listeners: [listener({ name: 'r', virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'slow', timeout: '0.1s' } }] }] })],
        clusters: [staticCluster('slow', [slow.port])],
      },
    },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(1),
    log: () => undefined,
  });
  await p2.start();
  try {
    const res = await request(`http://127.0.0.1:${p2.listeners.list()[0]!.port}/x`);
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-strait-flags'], 'UT');
  } finally {
    await p2.stop();
    await slow.close();
  }
});

test('every request was access-logged in the Istio text format', async () => {
  await request(`${base}/api/logged`, { headers: { host: 'app.example.com', 'x-request-id': 'log-me-1', 'user-agent': 'tester/1' } });
  await new Promise((r) => setImmediate(r));
  const line = sink.lines.find((l) => l.includes('log-me-1'));
  assert.ok(line, 'no access log line for the request');
  assert.match(line, /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] "GET \/api\/logged HTTP\/1\.1" 200 - via_upstream - "-" 0 \d+ \d+ \d+ "127\.0\.0\.1" "tester\/1" "log-me-1" "app\.example\.com" "127\.0\.0\.1:\d+" both 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ - api\n$/);
  const nr = sink.lines.find((l) => l.includes('"other.example.com"'));
  assert.match(nr ?? '', /" 404 NR route_not_found /);
});

test('stats count requests per cluster and per connection manager', () => {
  assert.ok((proxy.stats.valueOf('envoy_cluster_upstream_rq_total', { cluster_name: 'both' }) ?? 0) >= 10);
  assert.ok((proxy.stats.valueOf('envoy_http_downstream_rq_xx', { http_conn_manager_prefix: 'edge', response_code_class: '4' }) ?? 0) >= 2);
  assert.match(proxy.stats.prometheusText(), /^envoy_cluster_upstream_rq_total\{cluster_name="both"\} \d+$/m);
});

function rawRequest(base: string, text: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(3000, () => s.destroy());
  });
}

test('a CONNECT request gets 405 and a client reset afterwards does not crash the proxy', async () => {
  const u = new URL(base);
  const raw = await new Promise<string>((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write('CONNECT app.example.com:443 HTTP/1.1\r\nHost: app.example.com:443\r\n\r\n'));
    let out = '';
    s.on('data', (d) => {
      out += d.toString();
      s.resetAndDestroy();
      resolve(out);
    });
    s.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 405 /);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await request(`${base}/api/after-connect`, { headers: { host: 'app.example.com' } })).status, 200);
});
