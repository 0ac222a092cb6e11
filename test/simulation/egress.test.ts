// Simulation of a sidecar's egress (SE-01, SC-02, TASK-10): a ServiceEntry host routes to its
// own cluster through the workload's sidecar (HTTP on virtualOutbound, HTTPS as a TLS tunnel
// chosen by SNI and port), unknown hosts pass through under ALLOW_ANY and get a 502 that says why
// under REGISTRY_ONLY, from the mesh config or a Sidecar resource; a VirtualService timeout
// applies to the external host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Listener, TcpProxy } from '../../src/xds/resources.js';
import { pod, resourcesFor, yaml } from './mesh.js';
import { simulate } from './simulate.js';

const SLEEP = pod('sleep-0', 'default', '127.0.0.9', { labels: { app: 'sleep' } });

const ENTRIES = yaml`
  apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: { name: httpbin-ext, namespace: default }
  spec:
    hosts: [httpbin.org]
    ports: [{ number: 80, name: http, protocol: HTTP }]
    resolution: DNS
    location: MESH_EXTERNAL
  ---
  apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: { name: google, namespace: default }
  spec:
    hosts: [www.google.com]
    ports: [{ number: 443, name: https, protocol: HTTPS }]
    resolution: DNS
    location: MESH_EXTERNAL
`;

const REGISTRY_ONLY = yaml`
  ---
  apiVersion: v1
  kind: ConfigMap
  metadata: { name: istio, namespace: istio-system }
  data:
    mesh: |-
      outboundTrafficPolicy:
        mode: REGISTRY_ONLY
`;

const sidecar = (manifests: string) => resourcesFor({ manifests, pods: [SLEEP] }, SLEEP);
const call = (manifests: string, authority: string, path = '/headers') => simulate(sidecar(manifests), { port: 15001, authority, path });

function tlsChainFor(listeners: readonly Listener[], sni: string, port: number): string | undefined {
  const l = listeners.find((x) => x.name === 'virtualOutbound')!;
  const exact = l.filterChains.find((c) => c.filterChainMatch?.transportProtocol === 'tls' && c.filterChainMatch.destinationPort === port && c.filterChainMatch.serverNames?.includes(sni));
  const chain = exact ?? l.filterChains.find((c) => c.filterChainMatch?.transportProtocol === 'tls' && !c.filterChainMatch.serverNames?.length && c.filterChainMatch.destinationPort === undefined);
  const tcp = chain?.filters.at(-1)?.typedConfig as unknown as TcpProxy | undefined;
  return tcp?.cluster ?? tcp?.weightedClusters?.clusters[0]?.name;
}

test('SE-01 a ServiceEntry host routes through the sidecar to its own cluster (the route config compiles once)', () => {
  const r = call(ENTRIES, 'httpbin.org');
  assert.equal(r.error, undefined, JSON.stringify(r));
  assert.equal(r.cluster, 'outbound|80||httpbin.org');
  assert.equal(r.clusterExists, true);
  assert.equal(call(ENTRIES, 'httpbin.org:80').cluster, 'outbound|80||httpbin.org');
  // A ServiceEntry host has no Kubernetes DNS aliases (httpbin.org.default.svc is not a name).
  const vh = sidecar(ENTRIES).routes[0]!.virtualHosts.find((v) => v.name === 'httpbin.org:80');
  assert.deepEqual(vh?.domains, ['httpbin.org', 'httpbin.org:80']);
});

test('ALLOW_ANY (default): an unknown host passes through to where the client asked', () => {
  const r = call(ENTRIES, 'example.net');
  assert.equal(r.cluster, 'PassthroughCluster');
  assert.equal(tlsChainFor(sidecar(ENTRIES).listeners, 'unknown.example', 443), 'PassthroughCluster');
});

test('TASK-10 REGISTRY_ONLY from the mesh config: unknown hosts get 502 flagged NR, ServiceEntry hosts still work', () => {
  const blocked = call(ENTRIES + REGISTRY_ONLY, 'example.net');
  assert.equal(blocked.directResponse, 502);
  assert.equal(call(ENTRIES + REGISTRY_ONLY, 'httpbin.org').cluster, 'outbound|80||httpbin.org');
  // HTTPS: the ServiceEntry's SNI on 443 is tunnelled to its cluster; anything else has no chain.
  const listeners = sidecar(ENTRIES + REGISTRY_ONLY).listeners;
  assert.equal(tlsChainFor(listeners, 'www.google.com', 443), 'outbound|443||www.google.com');
  assert.equal(tlsChainFor(listeners, 'unknown.example', 443), undefined);
});

test('SC-02 a Sidecar resource in the namespace overrides the mesh-wide outbound traffic policy', () => {
  const sc = yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: Sidecar
    metadata: { name: default, namespace: default }
    spec:
      outboundTrafficPolicy: { mode: REGISTRY_ONLY }
  `;
  assert.equal(call(ENTRIES + sc, 'example.net').directResponse, 502);
  assert.equal(call(ENTRIES, 'example.net').cluster, 'PassthroughCluster');
});

test('TASK-10 a VirtualService timeout applies to the external host', () => {
  const vs = yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: httpbin-ext, namespace: default }
    spec:
      hosts: [httpbin.org]
      http:
      - timeout: 3s
        route:
        - destination: { host: httpbin.org }
          weight: 100
  `;
  const res = sidecar(ENTRIES + vs);
  const r = simulate(res, { port: 15001, authority: 'httpbin.org', path: '/delay/5' });
  assert.equal(r.cluster, 'outbound|80||httpbin.org');
  const rc = res.routes.find((x) => x.name === r.routeConfig)!;
  const route = rc.virtualHosts.find((v) => v.name === r.virtualHost)!.routes[r.routeIndex!]!;
  assert.equal(route.route?.timeout, '3s');
});

test('VS-25 a mesh tcp route splits the connections a workload tunnels to a TCP service; the tunnel host picks the chain', () => {
  const manifests = yaml`
    apiVersion: v1
    kind: Service
    metadata: { name: tcp-echo, namespace: default }
    spec:
      selector: { app: tcp-echo }
      ports: [{ name: tcp, port: 9000 }]
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: { name: tcp-echo, namespace: default }
    spec:
      host: tcp-echo
      subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: tcp-echo, namespace: default }
    spec:
      hosts: [tcp-echo]
      tcp:
      - match: [{ port: 9000 }]
        route:
        - { destination: { host: tcp-echo, port: { number: 9000 }, subset: v1 }, weight: 80 }
        - { destination: { host: tcp-echo, port: { number: 9000 }, subset: v2 }, weight: 20 }
  `;
  const l = sidecar(manifests).listeners.find((x) => x.name === 'virtualOutbound')!;
  const chain = l.filterChains.find((c) => c.name === 'outbound_tcp_9000_tcp-echo.default.svc.cluster.local');
  assert.ok(chain, l.filterChains.map((c) => c.name).join(', '));
  assert.deepEqual(chain.filterChainMatch, {
    transportProtocol: 'raw_buffer',
    destinationPort: 9000,
    serverNames: ['tcp-echo.default.svc.cluster.local', 'tcp-echo.default.svc', 'tcp-echo.default', 'tcp-echo'],
  });
  const tcp = chain.filters.at(-1)!.typedConfig as unknown as TcpProxy;
  assert.deepEqual(
    tcp.weightedClusters?.clusters.map((c) => [c.name, c.weight]),
    [
      ['outbound|9000|v1|tcp-echo.default.svc.cluster.local', 80],
      ['outbound|9000|v2|tcp-echo.default.svc.cluster.local', 20],
    ],
  );
});

test('VS-26 a mesh tls route by SNI splits HTTPS egress to a ServiceEntry host', () => {
  const vs = yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: { name: google-alt, namespace: default }
    spec:
      hosts: [alt.google.com]
      ports: [{ number: 443, name: tls, protocol: TLS }]
      resolution: DNS
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: google, namespace: default }
    spec:
      hosts: [www.google.com]
      tls:
      - match: [{ port: 443, sniHosts: [www.google.com] }]
        route:
        - { destination: { host: www.google.com, port: { number: 443 } }, weight: 90 }
        - { destination: { host: alt.google.com, port: { number: 443 } }, weight: 10 }
  `;
  const l = sidecar(ENTRIES + vs).listeners.find((x) => x.name === 'virtualOutbound')!;
  const chain = l.filterChains.find((c) => c.name === 'outbound_tls_443_www.google.com')!;
  const tcp = chain.filters.at(-1)!.typedConfig as unknown as TcpProxy;
  assert.deepEqual(
    tcp.weightedClusters?.clusters.map((c) => [c.name, c.weight]),
    [
      ['outbound|443||www.google.com', 90],
      ['outbound|443||alt.google.com', 10],
    ],
  );
});
