// The CORS filter through a real proxy listener and a real upstream on loopback, configured as
// Istio configures it from a VirtualService corsPolicy (VS-22): an empty Cors in the HCM and a
// CorsPolicy on the route. Asserts what a browser would see, and the stats.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { Proxy } from '../../../dataplane/proxy.js';
import { HCM_TYPE, ROUTER_TYPE } from '../../../xds/resources.js';
import { request, startUpstream } from '../../../../test/helpers/http.js';
import type { TestUpstream } from '../../../../test/helpers/http.js';
import { CORS_FILTER_NAME, CORS_POLICY_TYPE_URL, CORS_TYPE_URL } from './config.js';

let upstream: TestUpstream;
let proxy: Proxy;
let base: string;

before(async () => {
  upstream = await startUpstream();
  const policy = {
    '@type': CORS_POLICY_TYPE_URL,
    allowOriginStringMatch: [{ exact: 'https://app.example.com' }],
    allowMethods: 'GET,POST',
    allowHeaders: 'content-type',
    exposeHeaders: 'x-upstream',
    maxAge: '86400',
    allowCredentials: true,
    filterEnabled: { defaultValue: { numerator: 100, denominator: 'HUNDRED' } },
  };
  proxy = new Proxy({
    bootstrap: {
      node: { id: 'cors-integration' },
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
                    name: 'api',
                    domains: ['*'],
                    routes: [
                      { name: 'strict', match: { prefix: '/strict' }, route: { cluster: 'api', timeout: '0s' }, typedPerFilterConfig: { [CORS_FILTER_NAME]: { ...policy, forwardNotMatchingPreflights: false } } },
                      { name: 'api', match: { prefix: '/' }, route: { cluster: 'api', timeout: '0s' }, typedPerFilterConfig: { [CORS_FILTER_NAME]: policy } },
                    ],
                  }],
                },
                httpFilters: [
                  { name: CORS_FILTER_NAME, typedConfig: { '@type': CORS_TYPE_URL } },
                  { name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } },
                ],
              },
            }],
          }],
        }],
        clusters: [{
          name: 'api',
          type: 'STATIC',
          connectTimeout: '1s',
          loadAssignment: { clusterName: 'api', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstream.port } } } }] }] },
        }],
      },
    },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(5),
    log: () => undefined,
  });
  await proxy.start();
  base = `http://127.0.0.1:${proxy.listeners.list()[0]!.port}`;
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

const stat = (name: string) => proxy.stats.valueOf(`envoy_http_cors_${name}`, { http_conn_manager_prefix: 'edge' });
const preflightHeaders = (origin: string) => ({ origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });

test('a preflight from an allowed origin is answered by the proxy: 200, no body, the Access-Control-Allow-* headers', async () => {
  const before = upstream.requests.length;
  const r = await request(`${base}/items`, { method: 'OPTIONS', headers: preflightHeaders('https://app.example.com') });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
  assert.equal(r.headers['access-control-allow-headers'], 'content-type');
  assert.equal(r.headers['access-control-max-age'], '86400');
  assert.equal(r.headers['x-strait-details'], 'cors_response');
  assert.equal(r.headers['x-strait-flags'], undefined);
  assert.equal(upstream.requests.length, before, 'the preflight never reaches the upstream');
});

test('an actual request from an allowed origin reaches the upstream; the response names the origin', async () => {
  const r = await request(`${base}/items`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json' }, body: '{}' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-expose-headers'], 'x-upstream');
});

test('another origin: its preflight is forwarded (FORWARD), or answered without Allow-Origin (IGNORE)', async () => {
  const before = upstream.requests.length;
  const forwarded = await request(`${base}/items`, { method: 'OPTIONS', headers: preflightHeaders('https://evil.example.net') });
  assert.equal(upstream.requests.length, before + 1);
  assert.equal(forwarded.headers['access-control-allow-origin'], undefined);
  const ignored = await request(`${base}/strict/items`, { method: 'OPTIONS', headers: preflightHeaders('https://evil.example.net') });
  assert.equal(upstream.requests.length, before + 1, 'IGNORE: not forwarded');
  assert.equal(ignored.status, 200);
  assert.equal(ignored.headers['access-control-allow-origin'], undefined);
});

test('stats: origin_valid and origin_invalid under http.edge.cors', () => {
  assert.equal(stat('origin_valid'), 2);
  assert.equal(stat('origin_invalid'), 2);
  assert.ok(proxy.stats.envoyText().includes('http.edge.cors.origin_valid: 2\n'));
});
