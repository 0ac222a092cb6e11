import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allRouteConfigs, clusterRows, describeMatch, endpointRows, listenerRows, parseClusterName, parseClustersText, proxyStatusRows, renderTable, routeRows, secretRows, syncState,
} from './proxy-config-format.js';
import type { ConfigDump } from './proxy-config-format.js';
import type { Cluster, Listener } from '../xds/resources.js';

const HCM = 'envoy.filters.network.http_connection_manager';
const listeners: Listener[] = [
  {
    name: 'virtualOutbound',
    address: { socketAddress: { address: '0.0.0.0', portValue: 15001 } },
    filterChains: [
      { filterChainMatch: { transportProtocol: 'raw_buffer' }, filters: [{ name: HCM, typedConfig: { rds: { routeConfigName: 'virtualOutbound' } } as never }] },
      { filterChainMatch: { transportProtocol: 'tls', serverNames: ['a.example', 'b.example'] }, filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { cluster: 'PassthroughCluster' } as never }] },
    ],
  },
  {
    name: 'inbound_0.0.0.0_8080',
    address: { socketAddress: { address: '0.0.0.0', portValue: 8080 } },
    filterChains: [
      { filters: [{ name: HCM, typedConfig: { routeConfig: { name: 'inbound|8080||', virtualHosts: [{ name: 'inbound|http|8080', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|8080||' } }] }] } } as never }] },
      { filterChainMatch: { destinationPort: 9000 }, filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { cluster: 'outbound|9000||tcp.default.svc.cluster.local' } as never }] },
    ],
  },
];

const dump: ConfigDump = {
  configs: [
    { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', dynamicListeners: listeners.map((l) => ({ name: l.name, activeState: { listener: l } })) },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      dynamicRouteConfigs: [
        {
          routeConfig: {
            name: 'virtualOutbound',
            virtualHosts: [
              {
                name: 'reviews.default.svc.cluster.local:9080',
                domains: ['reviews.default.svc.cluster.local:9080', 'reviews:9080', 'reviews.default:9080'],
                routes: [
                  { match: { path: '/exact', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } } as never] }, route: { cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' }, metadata: { filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews' } } } },
                  { match: { safeRegex: { regex: '/r.*' } }, route: { cluster: 'x' } },
                ],
              },
            ],
          },
        },
      ],
    },
  ],
};

test('listeners: one row per filter chain, its match and where it sends traffic, by port', () => {
  assert.deepEqual(listenerRows(listeners), [
    ['0.0.0.0', '8080', 'ALL', 'Inline Route: inbound|8080||'],
    ['0.0.0.0', '8080', 'Port: 9000', 'Cluster: outbound|9000||tcp.default.svc.cluster.local'],
    ['0.0.0.0', '15001', 'Trans: raw_buffer', 'Route: virtualOutbound'],
    ['0.0.0.0', '15001', 'SNI: a.example,b.example; Trans: tls', 'PassthroughCluster'],
  ]);
  assert.deepEqual(listenerRows(listeners, { port: 8080 }).length, 2);
  assert.equal(describeMatch({ filters: [] }), 'ALL');
});

test('routes: RDS and inline route configurations, domains abbreviated, matches, the VirtualService', () => {
  const rows = routeRows(allRouteConfigs(dump));
  assert.deepEqual(rows, [
    ['virtualOutbound', 'reviews.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local:9080, reviews:9080 + 1 more...', '/exact (+1 header/query)', 'reviews.default'],
    ['virtualOutbound', 'reviews.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local:9080, reviews:9080 + 1 more...', '~/r.*', '-'],
    ['inbound|8080||', 'inbound|http|8080', '*', '/*', '-'],
  ]);
  assert.equal(routeRows(allRouteConfigs(dump), { name: 'inbound|8080||' }).length, 1);
});

test("clusters: Istio's names split into FQDN, port, subset, direction; the DestinationRule from metadata", () => {
  assert.deepEqual(parseClusterName('outbound|9080|v2|reviews.default.svc.cluster.local'), { direction: 'outbound', port: '9080', subset: 'v2', fqdn: 'reviews.default.svc.cluster.local' });
  assert.deepEqual(parseClusterName('BlackHoleCluster'), { direction: '', port: '', subset: '', fqdn: 'BlackHoleCluster' });
  const clusters = [
    { name: 'outbound|9080|v2|reviews.default.svc.cluster.local', type: 'EDS', metadata: { filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews' } } } },
    { name: 'inbound|8080||', type: 'STATIC' },
    { name: 'BlackHoleCluster', type: 'STATIC' },
    { name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'EDS' },
  ] as Cluster[];
  assert.deepEqual(clusterRows(clusters), [
    ['', '8080', '-', 'inbound', 'STATIC', '-'],
    ['BlackHoleCluster', '-', '-', '-', 'STATIC', '-'],
    ['reviews.default.svc.cluster.local', '9080', '-', 'outbound', 'EDS', '-'],
    ['reviews.default.svc.cluster.local', '9080', 'v2', 'outbound', 'EDS', 'reviews.default'],
  ]);
  assert.equal(clusterRows(clusters, { fqdn: 'reviews', subset: 'v2' }).length, 1);
  assert.equal(clusterRows(clusters, { direction: 'inbound' }).length, 1);
});

test("endpoints: hosts of Envoy's /clusters text with health and outlier state", () => {
  const text = [
    'outbound|80||b.default.svc.cluster.local::default_priority::max_connections::1024',
    'outbound|80||b.default.svc.cluster.local::10.0.0.2:80::rq_active::3',
    'outbound|80||b.default.svc.cluster.local::10.0.0.2:80::health_flags::healthy',
    'outbound|80||b.default.svc.cluster.local::10.0.0.1:80::health_flags::/failed_outlier_check',
    'outbound|80||b.default.svc.cluster.local::10.0.0.3:80::health_flags::/failed_eds_health',
  ].join('\n');
  const hosts = parseClustersText(text);
  assert.equal(hosts.find((h) => h.address === '10.0.0.2:80')!.rqActive, 3);
  assert.deepEqual(endpointRows(hosts), [
    ['10.0.0.1:80', 'HEALTHY', 'FAILED', 'outbound|80||b.default.svc.cluster.local'],
    ['10.0.0.2:80', 'HEALTHY', 'OK', 'outbound|80||b.default.svc.cluster.local'],
    ['10.0.0.3:80', 'UNHEALTHY', 'OK', 'outbound|80||b.default.svc.cluster.local'],
  ]);
  assert.deepEqual(endpointRows(hosts, { status: 'unhealthy' }).map((r) => r[0]), ['10.0.0.3:80']);
  assert.deepEqual(endpointRows(hosts, { address: '10.0.0.2', port: 80 }).map((r) => r[0]), ['10.0.0.2:80']);
});

test('secrets: the workload chain and the root, valid while now is inside their validity', () => {
  const cert = (serial: string, from: string, to: string) => ({ serial_number: serial, subject_alt_names: [], days_until_expiration: '0', valid_from: from, expiration_time: to });
  const certs = { certificates: [{ name: 'default', ca_cert: [], cert_chain: [cert('aa', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')] }, { name: 'ROOTCA', ca_cert: [cert('bb', '2025-01-01T00:00:00.000Z', '2035-01-01T00:00:00.000Z')], cert_chain: [] }] };
  assert.deepEqual(secretRows(certs, Date.parse('2026-01-01T12:00:00Z')), [
    ['default', 'Cert Chain', 'ACTIVE', 'true', 'aa', '2026-01-02T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['ROOTCA', 'CA', 'ACTIVE', 'true', 'bb', '2035-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  ]);
  assert.equal(secretRows(certs, Date.parse('2026-01-03T00:00:00Z'))[0]![3], 'false');
});

test("proxy-status: istioctl's SYNCED / STALE / NOT SENT, plus NACK and DISCONNECTED", () => {
  assert.equal(syncState(undefined), 'NOT SENT');
  assert.equal(syncState({ sent: '', acked: '', nack: null }), 'NOT SENT');
  assert.equal(syncState({ sent: 'a', acked: 'a', nack: null }), 'SYNCED');
  assert.equal(syncState({ sent: 'b', acked: 'a', nack: null }), 'STALE');
  assert.equal(syncState({ sent: 'b', acked: 'a', nack: 'bad route' }), 'NACK');
  const v = { sent: 'a', acked: 'a', nack: null };
  const rows = proxyStatusRows(
    [
      { name: 'web-1', namespace: 'default', connected: true, versions: { CDS: v, LDS: v, EDS: { sent: 'b', acked: 'a', nack: null }, RDS: v } },
      { name: 'gw', namespace: 'istio-system', connected: false, versions: {} },
    ],
    'strait@127.0.0.1:15010',
    '0.1.0',
  );
  assert.deepEqual(rows, [
    ['web-1.default', 'Local', 'SYNCED', 'SYNCED', 'STALE', 'SYNCED', 'NOT SENT', 'strait@127.0.0.1:15010', '0.1.0'],
    ['gw.istio-system', 'Local', 'DISCONNECTED', 'DISCONNECTED', 'DISCONNECTED', 'DISCONNECTED', 'DISCONNECTED', 'strait@127.0.0.1:15010', '0.1.0'],
  ]);
});

test('tables pad every column but the last to the widest cell', () => {
  assert.equal(renderTable(['A', 'BB', 'C'], [['xxx', 'y', 'z'], ['', 'yyyy', '']]), 'A      BB      C\nxxx    y       z\n       yyyy\n');
});
