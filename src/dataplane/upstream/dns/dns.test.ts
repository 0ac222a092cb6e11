// STRICT_DNS and LOGICAL_DNS with an injected resolver (no real DNS): every address becomes a
// host, refresh on the cluster clock, failures keep the last answer, lookup families, and a
// logical host resolved at connect time reaching a real server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { seededRandom } from '../../../common/random.js';
import { ManualClockForTest } from '../../../common/clock.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import type { Cluster as ClusterResource } from '../../../xds/resources.js';
import { ClusterManager } from '../cluster-manager.js';
import { upstreamFailure } from '../pool/errors.js';
import { closeServer, listen, LOCAL, makeCluster, send, settle } from '../test-support.js';
import { filterFamily } from './resolver.js';
import type { Resolver } from './resolver.js';

function tableResolver(table: Record<string, string[] | Error>) {
  const calls: string[] = [];
  const resolver: Resolver = async (name) => {
    calls.push(name);
    const v = table[name];
    if (v === undefined) throw Object.assign(new Error(`${name} not found`), { code: 'ENOTFOUND' });
    if (v instanceof Error) throw v;
    return v;
  };
  return { resolver, calls, table };
}

function dnsCluster(type: 'STRICT_DNS' | 'LOGICAL_DNS', names: [string, number][], extra: Partial<ClusterResource> = {}): ClusterResource {
  return {
    name: 'dns',
    type,
    connectTimeout: '1s',
    loadAssignment: { clusterName: 'dns', endpoints: [{ lbEndpoints: names.map(([address, portValue]) => ({ endpoint: { address: { socketAddress: { address, portValue } } } })) }] },
    ...extra,
  };
}

const keys = (hosts: readonly { key: string }[]) => hosts.map((h) => h.key).sort();

test('STRICT_DNS: every resolved address of every name becomes a host, once started', async () => {
  const dns = tableResolver({ 'a.test': ['10.0.0.1', '10.0.0.2'], 'b.test': ['10.0.0.3', 'fd00::1'] });
  const { cluster } = makeCluster(dnsCluster('STRICT_DNS', [['a.test', 80], ['b.test', 81]], { dnsLookupFamily: 'V4_ONLY' }), { resolver: dns.resolver });
  assert.deepEqual(cluster.hosts(), []);
  assert.deepEqual(dns.calls, []); // nothing resolves before the cluster is committed
  cluster.start();
  await cluster.dnsSettledForTest();
  assert.deepEqual(keys(cluster.hosts()), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:81']);
  assert.ok(cluster.chooseHost(''));
  cluster.close();
});

test('STRICT_DNS re-resolves every dnsRefreshRate; unchanged hosts keep their objects; failures keep the last answer', async () => {
  const dns = tableResolver({ 'a.test': ['10.0.0.1', '10.0.0.2'] });
  const { cluster, clock } = makeCluster(dnsCluster('STRICT_DNS', [['a.test', 80]], { dnsRefreshRate: '30s' }), { resolver: dns.resolver });
  cluster.start();
  await cluster.dnsSettledForTest();
  const first = cluster.hosts().find((h) => h.key === '10.0.0.1:80');
  dns.table['a.test'] = ['10.0.0.1', '10.0.0.9'];
  clock.advance(29_000);
  await cluster.dnsSettledForTest();
  assert.equal(dns.calls.length, 1);
  clock.advance(1_000);
  await cluster.dnsSettledForTest();
  assert.equal(dns.calls.length, 2);
  assert.deepEqual(keys(cluster.hosts()), ['10.0.0.1:80', '10.0.0.9:80']);
  assert.equal(cluster.hosts().find((h) => h.key === '10.0.0.1:80'), first);
  dns.table['a.test'] = Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
  clock.advance(30_000);
  await cluster.dnsSettledForTest();
  assert.equal(dns.calls.length, 3);
  assert.deepEqual(keys(cluster.hosts()), ['10.0.0.1:80', '10.0.0.9:80']);
  cluster.close();
});

test('a STRICT_DNS cluster that is prepared but never committed resolves nothing', () => {
  const dns = tableResolver({ 'a.test': ['10.0.0.1'] });
  const m = new ClusterManager(new StatsRegistry(), seededRandom(1), LOCAL, { clock: new ManualClockForTest(), resolver: dns.resolver });
  m.prepare([dnsCluster('STRICT_DNS', [['a.test', 80]])], new Map());
  assert.deepEqual(dns.calls, []);
  m.close();
});

test('lookup families follow Envoy: AUTO prefers IPv6, V4_PREFERRED IPv4, ALL keeps both', () => {
  const both = ['10.0.0.1', 'fd00::1', '10.0.0.2'];
  assert.deepEqual(filterFamily(both, 'V4_ONLY'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(filterFamily(both, 'V6_ONLY'), ['fd00::1']);
  assert.deepEqual(filterFamily(both, 'AUTO'), ['fd00::1']);
  assert.deepEqual(filterFamily(['10.0.0.1'], 'AUTO'), ['10.0.0.1']);
  assert.deepEqual(filterFamily(both, 'V4_PREFERRED'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(filterFamily(['fd00::1'], 'V4_PREFERRED'), ['fd00::1']);
  assert.deepEqual(filterFamily(both, 'ALL'), ['10.0.0.1', '10.0.0.2', 'fd00::1']);
});

test('LOGICAL_DNS: one logical host named by the endpoint, resolved at every new connection', async () => {
  const server = http.createServer((_req, res) => res.end('via name'));
  const port = await listen(server);
  const dns = tableResolver({ 'svc.test': ['127.0.0.1', '::1'] });
  const { cluster, stat } = makeCluster(dnsCluster('LOGICAL_DNS', [['svc.test', port]], { dnsLookupFamily: 'V4_ONLY', commonHttpProtocolOptions: { maxRequestsPerConnection: 1 } }), { resolver: dns.resolver });
  assert.deepEqual(keys(cluster.hosts()), [`svc.test:${port}`]);
  const host = cluster.chooseHost('')!;
  assert.equal((await send(cluster, host)).body, 'via name');
  assert.equal((await send(cluster, host)).status, 200);
  assert.deepEqual(dns.calls, ['svc.test', 'svc.test']);
  assert.equal(stat('upstream_cx_total'), 2);
  cluster.close();
  await closeServer(server);
});

test('LOGICAL_DNS: a name with no address of the family fails the request as a connect failure', async () => {
  const dns = tableResolver({ 'v6only.test': ['::1'] });
  const { cluster } = makeCluster(dnsCluster('LOGICAL_DNS', [['v6only.test', 80]], { dnsLookupFamily: 'V4_ONLY' }), { resolver: dns.resolver });
  const err = await settle(send(cluster, cluster.hosts()[0]!));
  assert.ok(err instanceof Error);
  assert.equal((err as NodeJS.ErrnoException).code, 'ENOTFOUND');
  assert.equal(upstreamFailure(err), 'connect_failure');
  cluster.close();
});
