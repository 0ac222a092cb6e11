import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appScrapeFromEnv, startMergedMetricsServer } from './merged-metrics.js';

test('ISTIO_PROMETHEUS_ANNOTATIONS: port and path, default /metrics, scrape false or no port means none', () => {
  assert.deepEqual(appScrapeFromEnv('{"scrape":"true","port":"9090","path":"/m"}'), { port: 9090, path: '/m' });
  assert.deepEqual(appScrapeFromEnv('{"port":"9090"}'), { port: 9090, path: '/metrics' });
  assert.equal(appScrapeFromEnv('{"scrape":"false","port":"9090"}'), undefined);
  assert.equal(appScrapeFromEnv('{"scrape":"true"}'), undefined);
  assert.equal(appScrapeFromEnv('not json'), undefined);
  assert.equal(appScrapeFromEnv(undefined), undefined);
});

test('merged endpoint: the proxy\'s exposition then the app\'s; an app that is down costs only its part', async () => {
  const app = http.createServer((req, res) => res.end(req.url === '/metrics' ? '# TYPE app_hits_total counter\napp_hits_total 3' : ''));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  let ready = false;
  const source = { proxyText: () => '# TYPE envoy_server_live gauge\nenvoy_server_live 1\n', ready: () => ready };
  const merged = await startMergedMetricsServer(source, '127.0.0.1', 0, { port: appPort, path: '/metrics' });
  const url = `http://127.0.0.1:${(merged.address() as AddressInfo).port}`;
  try {
    const text = await (await fetch(`${url}/stats/prometheus`)).text();
    assert.equal(text, '# TYPE envoy_server_live gauge\nenvoy_server_live 1\n# TYPE app_hits_total counter\napp_hits_total 3\n');
    assert.equal((await fetch(`${url}/healthz/ready`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${url}/healthz/ready`)).status, 200);
    await new Promise<void>((r) => app.close(() => r()));
    const without = await (await fetch(`${url}/stats/prometheus`)).text();
    assert.match(without, /^# TYPE envoy_server_live gauge\nenvoy_server_live 1\n# application metrics unavailable: /);
  } finally {
    merged.close();
    merged.closeAllConnections();
    app.close();
  }
});
