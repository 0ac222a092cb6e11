// Mesh mTLS as the generators write it (PA-01..04, DR-09, §2.11): the inbound chains each
// PeerAuthentication scope gives a workload port, and the client side of auto mTLS (endpoint
// labels, transport socket matches, secure naming), with DestinationRule overrides. The data
// plane's behaviour for these resources is covered by test/integration/mtls-inbound.test.ts and
// transport-socket-match.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MESH_CONFIG } from '../../src/controlplane/model/mesh-snapshot.js';
import type { MeshConfig } from '../../src/controlplane/model/mesh-snapshot.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import type { Workload } from '../../src/registry/registry.js';
import type { Cluster, HttpConnectionManager, Listener } from '../../src/xds/resources.js';
import { pod, resourcesFor, yaml } from './mesh.js';

const MTLS: MeshConfig = { ...DEFAULT_MESH_CONFIG, meshMtls: true };
const BACKEND = pod('backend-0', 'default', '127.0.0.2', { labels: { app: 'backend' }, serviceAccount: 'backend' });
const BACKEND_NO_SIDECAR: Workload = { ...pod('backend-1', 'default', '127.0.0.3', { labels: { app: 'backend' }, serviceAccount: 'legacy' }), hasSidecar: false };
const FRONTEND = pod('frontend-0', 'default', '127.0.0.4', { labels: { app: 'frontend' }, serviceAccount: 'frontend' });
const PODS = [BACKEND, BACKEND_NO_SIDECAR, FRONTEND];

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
`;

function pa(name: string, ns: string, spec: string): string {
  const body = spec.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n');
  return `---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: ${name}, namespace: ${ns} }\nspec:\n${body}\n`;
}

const generate = (extra: string, w: Workload = BACKEND, mesh = MTLS): ProxyResources => resourcesFor({ manifests: BASE + extra, pods: PODS, mesh }, w);

/** The transport protocols of an inbound listener's chains, and whether its TLS chain demands a client certificate. */
function inbound(r: ProxyResources, port: number): { chains: string[]; requireClientCert: boolean | undefined } {
  const l = r.listeners.find((x) => x.name === `inbound_0.0.0.0_${port}`) as Listener;
  assert.ok(l, r.listeners.map((x) => x.name).join(', '));
  const tls = l.filterChains.find((c) => c.transportSocket);
  return {
    chains: l.filterChains.map((c) => (c.transportSocket ? 'mtls' : 'plaintext')),
    requireClientCert: tls?.transportSocket?.typedConfig.requireClientCertificate,
  };
}

test('PA-01 without any PeerAuthentication a port is PERMISSIVE: mTLS (client certificate required) and plaintext side by side', () => {
  const r = generate('');
  assert.deepEqual(inbound(r, 8080), { chains: ['mtls', 'plaintext'], requireClientCert: true });
  assert.deepEqual(inbound(r, 5432), { chains: ['mtls', 'plaintext'], requireClientCert: true });
  const l = r.listeners.find((x) => x.name === 'inbound_0.0.0.0_8080')!;
  const tls = l.filterChains[0]!;
  assert.equal(tls.filterChainMatch?.transportProtocol, 'tls');
  assert.deepEqual(tls.transportSocket?.typedConfig.commonTlsContext?.tlsCertificateSdsSecretConfigs?.map((s) => s.name), ['default']);
  assert.equal(tls.transportSocket?.typedConfig.commonTlsContext?.validationContextSdsSecretConfig?.name, 'ROOTCA');
  const hcm = tls.filters[0]!.typedConfig as unknown as HttpConnectionManager;
  assert.equal(hcm.forwardClientCertDetails, 'APPEND_FORWARD');
  assert.deepEqual(hcm.setCurrentClientCertDetails, { subject: true, dns: true, uri: true });
});

test('PA-02 scopes: mesh STRICT, a namespace DISABLE over it, a workload policy over both; UNSET inherits', () => {
  const meshStrict = pa('default', 'istio-system', 'mtls: { mode: STRICT }');
  assert.deepEqual(inbound(generate(meshStrict), 8080).chains, ['mtls']);
  const nsDisable = pa('default', 'default', 'mtls: { mode: DISABLE }');
  assert.deepEqual(inbound(generate(meshStrict + nsDisable), 8080).chains, ['plaintext']);
  const workloadPermissive = pa('backend', 'default', 'selector: { matchLabels: { app: backend } }\nmtls: { mode: PERMISSIVE }');
  assert.deepEqual(inbound(generate(meshStrict + nsDisable + workloadPermissive), 8080).chains, ['mtls', 'plaintext']);
  // The workload policy applies only to the workloads it selects.
  assert.deepEqual(inbound(generate(meshStrict + nsDisable + workloadPermissive, FRONTEND), 9000).chains, ['plaintext']);
  const workloadUnset = pa('backend', 'default', 'selector: { matchLabels: { app: backend } }\nmtls: { mode: UNSET }');
  assert.deepEqual(inbound(generate(meshStrict + workloadUnset), 8080).chains, ['mtls']);
});

test('PA-03 portLevelMtls: one port plaintext, the others STRICT', () => {
  const p = pa('backend', 'default', 'selector: { matchLabels: { app: backend } }\nmtls: { mode: STRICT }\nportLevelMtls: { "5432": { mode: DISABLE } }');
  const r = generate(p);
  assert.deepEqual(inbound(r, 8080).chains, ['mtls']);
  assert.deepEqual(inbound(r, 5432).chains, ['plaintext']);
});

function cluster(r: ProxyResources, name: string): Cluster {
  const c = r.clusters.find((x) => x.name === name);
  assert.ok(c, `no cluster ${name}`);
  return c;
}

const OUT = 'outbound|8080||backend.default.svc.cluster.local';

test('auto mTLS: endpoints with sidecars are labelled tlsMode istio and get mTLS checked against their service accounts', () => {
  const r = generate('', FRONTEND);
  const c = cluster(r, OUT);
  assert.deepEqual(c.transportSocketMatches?.map((m) => [m.name, m.match]), [
    ['tlsMode-istio', { tlsMode: 'istio' }],
    ['tlsMode-disabled', {}],
  ]);
  const ctx = c.transportSocketMatches![0]!.transportSocket!.typedConfig.commonTlsContext!;
  assert.deepEqual(ctx.tlsCertificateSdsSecretConfigs?.map((s) => s.name), ['default']);
  assert.equal(ctx.validationContextSdsSecretConfig?.name, 'ROOTCA');
  // Secure naming: only the identity of a workload with a sidecar (the other speaks plaintext).
  assert.deepEqual(ctx.validationContext?.matchSubjectAltNames, [{ exact: 'spiffe://cluster.local/ns/default/sa/backend' }]);
  const cla = r.endpoints.find((e) => e.clusterName === OUT)!;
  const labels = cla.endpoints[0]!.lbEndpoints.map((e) => [e.endpoint.address.socketAddress.address, e.metadata?.filterMetadata?.['envoy.transport_socket_match']?.tlsMode ?? '-']);
  assert.deepEqual(labels.sort(), [
    ['127.0.0.2', 'istio'],
    ['127.0.0.3', '-'],
  ]);
});

test('auto mTLS respects the destination: a port whose PeerAuthentication is DISABLE is called in plaintext', () => {
  const p = pa('backend', 'default', 'selector: { matchLabels: { app: backend } }\nmtls: { mode: DISABLE }');
  const cla = generate(p, FRONTEND).endpoints.find((e) => e.clusterName === OUT)!;
  assert.ok(cla.endpoints[0]!.lbEndpoints.every((e) => e.metadata?.filterMetadata?.['envoy.transport_socket_match'] === undefined));
});

test('DR-09 DestinationRule tls: ISTIO_MUTUAL forces mTLS for every endpoint, DISABLE turns it off', () => {
  const dr = (mode: string) => `---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: backend, namespace: default }\nspec:\n  host: backend\n  trafficPolicy: { tls: { mode: ${mode} } }\n`;
  const forced = cluster(generate(dr('ISTIO_MUTUAL'), FRONTEND), OUT);
  assert.equal(forced.transportSocketMatches, undefined);
  assert.equal(forced.transportSocket?.typedConfig.commonTlsContext?.validationContextSdsSecretConfig?.name, 'ROOTCA');
  const off = cluster(generate(dr('DISABLE'), FRONTEND), OUT);
  assert.equal(off.transportSocket, undefined);
  assert.equal(off.transportSocketMatches, undefined);
});

test('without a mesh CA the mesh talks plaintext: no mTLS chains, no transport sockets', () => {
  const r = generate('', BACKEND, DEFAULT_MESH_CONFIG);
  assert.deepEqual(inbound(r, 8080).chains, ['plaintext']);
  const fr = generate('', FRONTEND, DEFAULT_MESH_CONFIG);
  assert.equal(cluster(fr, OUT).transportSocketMatches, undefined);
});

test('IG-07 a Gateway server with ISTIO_MUTUAL serves the gateway identity and requires mesh client certificates', () => {
  const gw = yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: { name: internal, namespace: default }
    spec:
      selector: { istio: ingressgateway }
      servers:
      - port: { number: 443, name: https, protocol: HTTPS }
        tls: { mode: ISTIO_MUTUAL }
        hosts: ['*']
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: internal, namespace: default }
    spec:
      hosts: ['backend.example.com']
      gateways: [internal]
      http: [{ route: [{ destination: { host: backend, port: { number: 8080 } } }] }]
  `;
  const r = resourcesFor({ manifests: BASE + gw, pods: PODS, mesh: MTLS });
  const l = r.listeners.find((x) => x.address.socketAddress.portValue === 8443)!;
  const ts = l.filterChains[0]!.transportSocket!.typedConfig;
  assert.deepEqual(ts.commonTlsContext?.tlsCertificateSdsSecretConfigs?.map((s) => s.name), ['default']);
  assert.equal(ts.commonTlsContext?.validationContextSdsSecretConfig?.name, 'ROOTCA');
  assert.equal(ts.requireClientCertificate, true);
  // The gateway's hop to the backend is mesh mTLS too (auto mTLS on its clusters).
  assert.ok(r.clusters.find((c) => c.name === OUT)?.transportSocketMatches);
  // Gateways set XFCC afresh for mTLS callers (Istio's SANITIZE_SET).
  const hcm = l.filterChains[0]!.filters[0]!.typedConfig as unknown as HttpConnectionManager;
  assert.equal(hcm.forwardClientCertDetails, 'SANITIZE_SET');
});
