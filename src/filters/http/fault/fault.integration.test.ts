// The fault filter through a real proxy listener and a real upstream on loopback, configured as
// Istio configures it (an empty HTTPFault in the HCM, the fault on each route; VS-19, VS-20,
// TASK-02). The proxy runs on a manual clock, so the delay is observed without sleeping; stats
// and the access log are the oracle.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { Proxy } from '../../../dataplane/proxy.js';
import { MemorySink } from '../../../telemetry/access-log/sink.js';
import { HCM_TYPE, ROUTER_TYPE } from '../../../xds/resources.js';
import type { Route } from '../../../xds/resources.js';
import { eventually, request, startUpstream } from '../../../../test/helpers/http.js';
import type { TestUpstream } from '../../../../test/helpers/http.js';
import { FAULT_FILTER_NAME, FAULT_TYPE_URL } from './config.js';

const clock = new ManualClockForTest();
const sink = new MemorySink();
let upstream: TestUpstream;
let proxy: Proxy;
let base: string;

const fault = (f: Record<string, unknown>) => ({ [FAULT_FILTER_NAME]: { '@type': FAULT_TYPE_URL, ...f } });
const all = { numerator: 1_000_000, denominator: 'MILLION' };

before(async () => {
  upstream = await startUpstream();
  const route = (name: string, prefix: string, perFilter?: Record<string, unknown>): Route => ({
    name,
    match: { prefix },
    route: { cluster: 'ratings', timeout: '0s' },
    ...(perFilter ? { typedPerFilterConfig: perFilter as Route['typedPerFilterConfig'] } : {}),
  });
  proxy = new Proxy({
    bootstrap: {
      node: { id: 'fault-integration' },
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
                routeConfig: {
                  name: 'r',
                  virtualHosts: [{
                    name: 'ratings',
                    domains: ['*'],
                    routes: [
                      route('abort', '/abort', fault({ abort: { httpStatus: 500, percentage: all } })),
                      route('delay', '/delay', fault({ delay: { fixedDelay: '7s', percentage: all } })),
                      route('grpc', '/grpc', fault({ abort: { grpcStatus: 14, percentage: all } })),
                      route('plain', '/'),
                    ],
                  }],
                },
                httpFilters: [
                  { name: FAULT_FILTER_NAME, typedConfig: { '@type': FAULT_TYPE_URL } },
                  { name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } },
                ],
                accessLog: [{ name: 'envoy.access_loggers.file', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: '/dev/stdout' } }],
              },
            }],
          }],
        }],
        clusters: [{
          name: 'ratings',
          type: 'STATIC',
          connectTimeout: '1s',
          loadAssignment: { clusterName: 'ratings', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstream.port } } } }] }] },
        }],
      },
    },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock,
    random: seededRandom(5),
    log: () => undefined,
  });
  await proxy.start();
  for (const l of proxy.listeners.list()) for (const a of l.manager!.config.accessLogs) a.sink = sink;
  base = `http://127.0.0.1:${proxy.listeners.list()[0]!.port}`;
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

const stat = (name: string) => proxy.stats.valueOf(`envoy_http_fault_${name}`, { http_conn_manager_prefix: 'edge' });
const lastLog = () => sink.lines[sink.lines.length - 1] ?? '';

test('a route abort answers 500 with flag FI and fault_filter_abort, never reaching the upstream', async () => {
  const before = upstream.requests.length;
  const r = await request(`${base}/abort`);
  assert.equal(r.status, 500);
  assert.equal(r.headers['x-strait-flags'], 'FI');
  assert.equal(r.headers['x-strait-details'], 'fault_filter_abort');
  assert.match(r.body, /fault filter abort/);
  assert.equal(upstream.requests.length, before);
  assert.equal(stat('aborts_injected'), 1);
  await eventually(() => / 500 FI fault_filter_abort /.test(lastLog()), 'the access log line');
});

test('a route delay holds the request until the clock has moved 7s, then forwards it with flag DI', async () => {
  const before = upstream.requests.length;
  const pending = request(`${base}/delay`);
  await eventually(() => stat('delays_injected') === 1, 'the delay to start');
  assert.equal(stat('active_faults'), 1);
  clock.advance(6999);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(upstream.requests.length, before, 'not forwarded before the delay is over');
  clock.advance(1);
  const r = await pending;
  assert.equal(r.status, 200);
  assert.equal(upstream.requests.length, before + 1);
  assert.equal(stat('active_faults'), 0);
  await eventually(() => / 200 DI via_upstream /.test(lastLog()), 'the access log line with DI');
});

test('a gRPC abort on a gRPC request is HTTP 200 with grpc-status and grpc-message', async () => {
  const r = await request(`${base}/grpc`, { method: 'POST', headers: { 'content-type': 'application/grpc' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/grpc');
  assert.equal(r.headers['grpc-status'], '14');
  assert.equal(r.headers['grpc-message'], 'fault filter abort');
  assert.equal(r.body, '');
});

test("routes without a fault are untouched by the HCM's empty HTTPFault", async () => {
  const r = await request(`${base}/other`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-strait-flags'], undefined);
  assert.equal(stat('aborts_injected'), 2);
  assert.equal(stat('delays_injected'), 1);
  assert.equal(stat('faults_overflow'), 0);
});
