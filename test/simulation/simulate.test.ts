// Tests of the simulator itself, on hand-written resources: how it finds the listener and route
// configuration, reports what the proxy would reject, answers pseudo-headers, and reads
// endpoints from EDS assignments and static clusters alike.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { HCM_FILTER_NAME, HCM_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE } from '../../src/xds/resources.js';
import type { Listener, RouteConfiguration } from '../../src/xds/resources.js';
import { simulate } from './simulate.js';

function listener(name: string, port: number, hcm: Record<string, unknown>): Listener {
  return {
    name,
    address: { socketAddress: { address: '0.0.0.0', portValue: port } },
    filterChains: [{ filters: [{ name: HCM_FILTER_NAME, typedConfig: { '@type': HCM_TYPE, statPrefix: name, httpFilters: [{ name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } }], ...hcm } }] }],
  };
}

const RDS = (name: string) => ({ rds: { routeConfigName: name, configSource: { ads: {} } } });

const PSEUDO: RouteConfiguration = {
  name: 'pseudo',
  virtualHosts: [
    {
      name: 'all',
      domains: ['*'],
      routes: [
        { name: 'https', match: { prefix: '/', headers: [{ name: ':scheme', stringMatch: { exact: 'https' } }] }, route: { cluster: 'secure' } },
        { name: 'put', match: { prefix: '/', headers: [{ name: ':method', stringMatch: { exact: 'PUT' } }] }, route: { cluster: 'static' } },
        { name: 'authority', match: { prefix: '/', headers: [{ name: ':authority', stringMatch: { suffix: ':9999' } }] }, route: { cluster: 'eds' } },
        { name: 'path', match: { prefix: '/', headers: [{ name: ':path', stringMatch: { contains: '?q=' } }] }, route: { cluster: 'eds' } },
        { name: 'host', match: { prefix: '/', headers: [{ name: 'host', stringMatch: { exact: 'by-host' } }] }, route: { cluster: 'eds' } },
        { name: 'query', match: { prefix: '/', queryParameters: [{ name: 'v', stringMatch: { exact: '2' } }] }, route: { weightedClusters: { clusters: [{ name: 'eds', weight: 3 }, { name: 'missing', weight: 1 }] } } },
        { name: 'teapot', match: { path: '/teapot' }, directResponse: { status: 418 } },
      ],
    },
  ],
};

const RESOURCES: ProxyResources = {
  listeners: [
    listener('rds', 1000, RDS('pseudo')),
    listener('inline', 1001, { routeConfig: { name: 'inline', virtualHosts: [{ name: 'only', domains: ['only.test'], routes: [{ match: { prefix: '/' }, route: { cluster: 'static' } }] }] } }),
    listener('dangling', 1002, RDS('nowhere')),
    listener('twin-a', 1003, RDS('pseudo')),
    listener('twin-b', 1003, RDS('pseudo')),
    { name: 'tcp', address: { socketAddress: { address: '0.0.0.0', portValue: 1004 } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy' } }] }] },
    listener('broken', 1005, RDS('broken')),
    {
      // A gateway port serving two TLS hosts (by SNI) and plaintext, like SIMPLE servers plus an
      // http server on one port; the chains route to different route configurations.
      name: 'sni',
      address: { socketAddress: { address: '0.0.0.0', portValue: 1006 } },
      filterChains: [
        { name: 'exact', filterChainMatch: { serverNames: ['a.test'] }, transportSocket: { name: 'tls' }, filters: listener('x', 0, RDS('pseudo')).filterChains[0]!.filters },
        { name: 'wild', filterChainMatch: { serverNames: ['*.test'] }, transportSocket: { name: 'tls' }, filters: listener('x', 0, RDS('broken')).filterChains[0]!.filters },
        { name: 'plain', filterChainMatch: { transportProtocol: 'raw_buffer' }, filters: listener('x', 0, RDS('nowhere')).filterChains[0]!.filters },
      ],
    } as Listener,
  ],
  routes: [PSEUDO, { name: 'broken', virtualHosts: [{ name: 'a', domains: ['x'], routes: [] }, { name: 'b', domains: ['x'], routes: [] }] }],
  clusters: [
    { name: 'eds', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: 'eds-assignment' } },
    { name: 'static', type: 'STATIC', loadAssignment: { clusterName: 'static', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 3000 } } } }] }] } },
  ],
  endpoints: [
    { clusterName: 'eds', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '10.0.0.9', portValue: 1 } } } }] }] },
    { clusterName: 'eds-assignment', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '10.0.0.1', portValue: 80 } } } }, { endpoint: { address: { socketAddress: { address: '10.0.0.2', portValue: 80 } } } }] }] },
  ],
  secrets: [],
};

const call = (port: number, rest: Partial<Parameters<typeof simulate>[1]> = {}) => simulate(RESOURCES, { port, authority: 'any.test', path: '/', ...rest });

test('no listener on the port: listener_not_found', () => {
  assert.equal(call(999).error, 'listener_not_found');
});

test('two listeners on one port: listener_conflict naming both', () => {
  const r = call(1003);
  assert.equal(r.error, 'listener_conflict');
  assert.match(r.detail ?? '', /twin-a, twin-b/);
});

test('a listener without an HttpConnectionManager: no_http_connection_manager', () => {
  const r = call(1004);
  assert.equal(r.listener, 'tcp');
  assert.equal(r.error, 'no_http_connection_manager');
  assert.match(r.detail ?? '', /not one HttpConnectionManager/);
});

test('filter chains are chosen as the data plane does: exact SNI, then wildcard SNI, plaintext apart', () => {
  assert.equal(call(1006, { scheme: 'https', authority: 'a.test' }).routeConfig, 'pseudo');
  assert.equal(call(1006, { scheme: 'https', authority: 'b.test:1006' }).routeConfig, 'broken');
  assert.equal(call(1006, { sni: 'A.TEST', authority: 'other' }).routeConfig, 'pseudo');
  assert.equal(call(1006, { authority: 'a.test' }).routeConfig, 'nowhere');
  const none = call(1006, { scheme: 'https', authority: 'elsewhere.example' });
  assert.equal(none.error, 'filter_chain_not_found');
  assert.match(none.detail ?? '', /SNI elsewhere\.example/);
});

test('an RDS name with no route configuration: route_config_not_found', () => {
  assert.deepEqual(call(1002), { listener: 'dangling', routeConfig: 'nowhere', error: 'route_config_not_found', clusterExists: false });
});

test('a route configuration the data plane rejects: invalid_route_config with its reason', () => {
  const r = call(1005);
  assert.equal(r.error, 'invalid_route_config');
  assert.match(r.detail ?? '', /domain "x" appears in two virtual hosts/);
});

test('an inline route configuration is used, and a host it lacks is NR without a virtual host', () => {
  assert.equal(call(1001, { authority: 'only.test' }).cluster, 'static');
  const nr = call(1001, { authority: 'other.test' });
  assert.equal(nr.error, 'NR');
  assert.equal(nr.virtualHost, undefined);
  assert.equal(nr.routeConfig, 'inline');
});

test(':scheme is answered (defaults to http)', () => {
  assert.equal(call(1000, { scheme: 'https' }).route, 'https');
  assert.equal(call(1000).route, undefined);
});

test(':method is answered (defaults to GET) and static clusters give their inline endpoints', () => {
  assert.deepEqual(call(1000, { method: 'PUT' }), { listener: 'rds', routeConfig: 'pseudo', virtualHost: 'all', route: 'put', routeIndex: 1, cluster: 'static', endpoints: ['127.0.0.1:3000'], clusterExists: true });
});

test(':authority is answered, and EDS endpoints come from the assignment named by serviceName', () => {
  const r = call(1000, { authority: 'svc:9999' });
  assert.equal(r.route, 'authority');
  assert.deepEqual(r.endpoints, ['10.0.0.1:80', '10.0.0.2:80']);
});

test(':path is answered with the query string; the host header is the authority', () => {
  assert.equal(call(1000, { path: '/x?q=1' }).route, 'path');
  assert.equal(call(1000, { authority: 'by-host' }).route, 'host');
});

test('query parameters are matched; weighted clusters are listed, and one missing cluster makes clusterExists false', () => {
  const r = call(1000, { path: '/search?v=2' });
  assert.equal(r.route, 'query');
  assert.deepEqual(r.weightedClusters, [{ name: 'eds', weight: 3 }, { name: 'missing', weight: 1 }]);
  assert.equal(r.clusterExists, false);
  assert.equal(r.cluster, undefined);
});

test('a direct response is reported with its status and no cluster', () => {
  const r = call(1000, { path: '/teapot' });
  assert.equal(r.directResponse, 418);
  assert.equal(r.clusterExists, false);
});

test('a path no route matches is NR inside the virtual host', () => {
  const r = simulate({ ...RESOURCES, routes: [{ name: 'pseudo', virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ match: { path: '/only' }, route: { cluster: 'eds' } }] }] }] }, { port: 1000, authority: 'a', path: '/other' });
  assert.equal(r.error, 'NR');
  assert.equal(r.virtualHost, 'v');
});
