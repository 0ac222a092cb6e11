// Istio's standard metrics as the generators configure them (MET-01..08, TEL-01, TEL-03): the
// istio.stats filter on every HTTP listener (last before the router) and TCP chain (before
// tcp_proxy), reporter source on sidecar outbound and gateways, destination inbound with the
// port's Service and the workload table, the endpoint metadata naming each destination, and the
// Telemetry API turning a direction off or rewriting labels. The proxy side is covered by
// src/telemetry/metrics/istio-metrics.test.ts, the whole flow by
// test/e2e/istio-observability-metrics.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MESH_CONFIG } from '../../src/controlplane/model/mesh-snapshot.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import type { StatsPluginConfig } from '../../src/telemetry/metrics/stats-config.js';
import type { Workload } from '../../src/registry/registry.js';
import type { FilterChain, HttpConnectionManager } from '../../src/xds/resources.js';
import { GATEWAY_POD, pod, resourcesFor, yaml } from './mesh.js';

const BACKEND = pod('backend-v2-abcdef1234-0', 'default', '127.0.0.2', { labels: { app: 'backend', version: 'v2' }, serviceAccount: 'backend' });
const FRONTEND = pod('frontend-abcdef1234-0', 'default', '127.0.0.4', { labels: { app: 'frontend', version: 'v1' }, serviceAccount: 'frontend' });
const PODS = [BACKEND, FRONTEND, GATEWAY_POD];
const TD = 'spiffe://cluster.local';

const BASE = yaml`
  apiVersion: v1
  kind: Service
  metadata: { name: backend, namespace: default }
  spec:
    selector: { app: backend }
    ports: [{ name: http, port: 8080 }, { name: tcp-db, port: 5432 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: frontend, namespace: default }
  spec:
    selector: { app: frontend }
    ports: [{ name: http, port: 9000 }]
  ---
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: gw, namespace: default }
  spec:
    selector: { istio: ingressgateway }
    servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ['*'] }]
`;

const generate = (extra: string, w: Workload, mtls = true): ProxyResources => resourcesFor({ manifests: BASE + extra, pods: PODS, mesh: { ...DEFAULT_MESH_CONFIG, meshMtls: mtls } }, w);

function hcmOf(chain: FilterChain): HttpConnectionManager {
  return chain.filters[0]!.typedConfig as unknown as HttpConnectionManager;
}

/** The istio.stats config of a listener's first chain (HTTP filter or network filter), if any. */
function statsOf(r: ProxyResources, listener: string): StatsPluginConfig | undefined {
  const chain = r.listeners.find((l) => l.name === listener)?.filterChains[0];
  assert.ok(chain, `listener ${listener}: ${r.listeners.map((l) => l.name).join(', ')}`);
  const filters = chain.filters[0]!.name === 'envoy.filters.network.http_connection_manager' ? hcmOf(chain).httpFilters : chain.filters;
  const f = filters.find((x) => x.name === 'istio.stats');
  if (!f) return undefined;
  assert.equal((f.typedConfig as Record<string, unknown>)['@type'], 'type.googleapis.com/xds.type.v3.TypedStruct');
  return (f.typedConfig as unknown as { value: StatsPluginConfig }).value;
}

test('MET-01 sidecar: inbound reports as destination (local labels, the port\'s Service; peers by IP on TCP ports only), outbound as source; last before the router', () => {
  const r = generate('', BACKEND);
  const inbound = statsOf(r, 'inbound_0.0.0.0_8080')!;
  assert.equal(inbound.reporter, 'destination');
  assert.deepEqual(inbound.local, { workload: 'backend-v2', namespace: 'default', principal: `${TD}/ns/default/sa/backend`, app: 'backend', version: 'v2', canonicalService: 'backend', canonicalRevision: 'v2', cluster: 'Kubernetes' });
  assert.deepEqual(inbound.service, { host: 'backend.default.svc.cluster.local', name: 'backend', namespace: 'default' });
  // HTTP callers name themselves (metadata exchange): no table of the mesh's pods.
  assert.equal(inbound.peers, undefined);
  assert.deepEqual(
    statsOf(r, 'inbound_0.0.0.0_5432')!.peers?.map((p) => [p.ip, p.workload, p.principal]),
    [
      ['127.0.0.2', 'backend-v2', `${TD}/ns/default/sa/backend`],
      ['127.0.0.4', 'frontend', `${TD}/ns/default/sa/frontend`],
      [GATEWAY_POD.ip, 'istio-ingressgateway', `${TD}/ns/istio-system/sa/${GATEWAY_POD.serviceAccount}`],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
  );
  const names = hcmOf(r.listeners.find((l) => l.name === 'inbound_0.0.0.0_8080')!.filterChains[0]!).httpFilters.map((f) => f.name);
  assert.deepEqual(names.slice(-2), ['istio.stats', 'envoy.filters.http.router']);
  // TCP port: the network filter, before tcp_proxy.
  const tcpChain = r.listeners.find((l) => l.name === 'inbound_0.0.0.0_5432')!.filterChains[0]!;
  assert.deepEqual(tcpChain.filters.map((f) => f.name).slice(-2), ['istio.stats', 'envoy.filters.network.tcp_proxy']);
  assert.equal(statsOf(r, 'inbound_0.0.0.0_5432')?.reporter, 'destination');
  const outbound = statsOf(r, 'virtualOutbound')!;
  assert.deepEqual([outbound.reporter, outbound.local.workload, outbound.service, outbound.peers], ['source', 'backend-v2', undefined, undefined]);
  // Without the mesh CA nobody has a principal.
  assert.equal(statsOf(generate('', BACKEND, false), 'inbound_0.0.0.0_8080')?.local.principal, 'unknown');
});

test('MET-01 gateway: reports as source on its HTTP listener', () => {
  const r = generate('', GATEWAY_POD);
  const s = statsOf(r, r.listeners[0]!.name);
  assert.equal(s?.reporter, 'source');
  assert.equal(s?.local.workload, 'istio-ingressgateway');
  assert.equal(s?.local.canonicalRevision, 'latest');
});

test('endpoint metadata names the workload behind each endpoint in Istio\'s format, with the principal where mTLS reaches it', () => {
  const r = generate('', FRONTEND);
  const cla = r.endpoints.find((e) => e.clusterName === 'outbound|8080||backend.default.svc.cluster.local')!;
  assert.deepEqual(cla.endpoints[0]!.lbEndpoints[0]!.metadata?.filterMetadata?.istio, { workload: 'backend-v2;default;backend;v2;Kubernetes' });
  assert.deepEqual(cla.endpoints[0]!.lbEndpoints[0]!.metadata?.filterMetadata?.strait, { peer: { app: 'backend', version: 'v2', principal: `${TD}/ns/default/sa/backend` } });
  // A DestinationRule turning TLS off: no principal (the source cannot know the peer's identity).
  const plain = generate(yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: { name: backend, namespace: default }
    spec: { host: backend, trafficPolicy: { tls: { mode: DISABLE } } }
  `, FRONTEND);
  const md = plain.endpoints.find((e) => e.clusterName === 'outbound|8080||backend.default.svc.cluster.local')!.endpoints[0]!.lbEndpoints[0]!.metadata?.filterMetadata;
  assert.deepEqual(md?.strait, { peer: { app: 'backend', version: 'v2' } });
});

test('TEL-03: a Telemetry disables the server side (no inbound filter) and rewrites labels of one metric on the client side', () => {
  const r = generate(yaml`
    ---
    apiVersion: telemetry.istio.io/v1
    kind: Telemetry
    metadata: { name: mesh-default, namespace: istio-system }
    spec:
      metrics:
      - overrides:
        - match: { metric: ALL_METRICS, mode: SERVER }
          disabled: true
        - match: { metric: REQUEST_COUNT, mode: CLIENT }
          tagOverrides:
            response_code: { operation: REMOVE }
            request_host: { value: request.host }
        - match: { metric: REQUEST_DURATION, mode: CLIENT }
          disabled: true
  `, BACKEND);
  assert.equal(statsOf(r, 'inbound_0.0.0.0_8080'), undefined);
  assert.equal(statsOf(r, 'inbound_0.0.0.0_5432'), undefined);
  assert.deepEqual(statsOf(r, 'virtualOutbound')?.metrics, [
    { name: 'requests_total', tagsToRemove: ['response_code'], dimensions: { request_host: 'request.host' } },
    { name: 'request_duration_milliseconds', drop: true },
  ]);
});
