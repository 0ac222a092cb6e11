import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeResource, encodeResource, normalizeResource } from './codec.js';
import { formatDuration, parseDurationParts } from './protos.js';
import { HCM_TYPE, ROUTER_TYPE, TYPE_URL } from './resources.js';
import type { Cluster, Listener, RouteConfiguration } from './resources.js';

test('a listener with an inline HCM, durations, wrappers and Strait metadata survives the wire', () => {
  const listener: Listener = {
    name: '0.0.0.0_8080',
    address: { socketAddress: { address: '0.0.0.0', portValue: 8080 } },
    trafficDirection: 'OUTBOUND',
    filterChains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typedConfig: {
          '@type': HCM_TYPE,
          statPrefix: 'outbound_0.0.0.0_8080',
          rds: { routeConfigName: 'http.8080', configSource: { ads: {}, resourceApiVersion: 'V3' } },
          httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } }],
          useRemoteAddress: true,
          commonHttpProtocolOptions: { idleTimeout: '3600s', maxHeadersCount: 100 },
          streamIdleTimeout: '0.25s',
        },
      }],
    }],
    metadata: { filterMetadata: { strait: { gateway: 'istio-system/gw', ports: [80, 443], nested: { ok: true } } } },
  };
  const back = normalizeResource(TYPE_URL.listener, listener);
  assert.deepEqual(back, listener);
});

test('explicitly set zero values (STATIC, ROUND_ROBIN) survive the wire', () => {
  const cluster: Cluster = {
    name: 'outbound|8080||backend.default.svc.cluster.local',
    type: 'STATIC',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeout: '10s',
    loadAssignment: {
      clusterName: 'outbound|8080||backend.default.svc.cluster.local',
      endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.2', portValue: 8080 } } } }] }],
    },
  };
  const back = decodeResource<Cluster>(encodeResource(TYPE_URL.cluster, cluster));
  assert.equal(back.type, 'STATIC');
  assert.equal(back.lbPolicy, 'ROUND_ROBIN');
  assert.equal(back.connectTimeout, '10s');
  assert.equal(back.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.endpoint.address.socketAddress.portValue, 8080);
});

test('fields whose proto3 JSON name drops an underscore before a digit (consecutive_5xx) travel under that name', () => {
  const cluster: Cluster = {
    name: 'outbound|8000||httpbin.default.svc.cluster.local',
    type: 'EDS',
    outlierDetection: { consecutive5xx: 1, enforcingConsecutive5xx: 100, consecutiveGatewayFailure: 0, enforcingSuccessRate: 0, interval: '1s' },
  };
  assert.deepEqual(normalizeResource(TYPE_URL.cluster, cluster), cluster);
  assert.throws(() => encodeResource(TYPE_URL.cluster, { name: 'x', outlierDetection: { consecutive_5xx: 1 } }), /unknown field "consecutive_5xx"/);
});

test('route configurations keep matchers and weighted clusters', () => {
  const rc: RouteConfiguration = {
    name: 'http.8080',
    virtualHosts: [{
      name: 'example.com:80',
      domains: ['example.com', 'example.com:*'],
      routes: [{
        match: { prefix: '/api', caseSensitive: false, headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] },
        route: { weightedClusters: { clusters: [{ name: 'a', weight: 90 }, { name: 'b', weight: 10 }] }, timeout: '0s' },
      }],
    }],
  };
  assert.deepEqual(normalizeResource(TYPE_URL.route, rc), rc);
});

test('a wrongly shaped resource is rejected with the field named', () => {
  assert.throws(
    () => encodeResource(TYPE_URL.cluster, { name: 'x', connectTimeout: 'ten seconds' }),
    /invalid duration "ten seconds"/,
  );
});

test('durations format and parse as proto3 JSON', () => {
  assert.equal(formatDuration(1, 500_000_000), '1.5s');
  assert.equal(formatDuration(0, 0), '0s');
  assert.equal(formatDuration(3600, 0), '3600s');
  assert.deepEqual(parseDurationParts('0.250s'), { seconds: 0, nanos: 250_000_000 });
  assert.equal(parseDurationParts('1m'), undefined);
});

test('unknown fields and enum names are rejected, as a proto3 JSON parser does', () => {
  assert.throws(() => encodeResource(TYPE_URL.cluster, { name: 'x', lbPolicyy: 'RANDOM' }), /unknown field "lbPolicyy"/);
  assert.throws(() => encodeResource(TYPE_URL.cluster, { name: 'x', lbPolicy: 'FASTEST' }), /"FASTEST" is not one of/);
});
