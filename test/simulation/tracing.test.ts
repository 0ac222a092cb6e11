// The HTTP connection managers' `tracing` as the generators write it (Istio's configureTracing,
// TEL-02, §2.12): MeshConfig alone (enableTracing, defaultConfig.tracing.sampling, Istio's
// bootstrap Zipkin), extensionProviders + defaultProviders.tracing, Telemetry tracing per
// direction (randomSamplingPercentage, customTags, disableSpanReporting, match.mode), Istio's
// span tags; and the result survives the protobuf encoding the gRPC ADS stream uses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeResource, encodeResource } from '../../src/xds/codec.js';
import { HCM_FILTER_NAME, TYPE_URL } from '../../src/xds/resources.js';
import type { HcmTracing, HttpConnectionManager, Listener } from '../../src/xds/resources.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { GATEWAY_POD, pod, resourcesFor, yaml } from './mesh.js';

const SERVICES = yaml`
  apiVersion: v1
  kind: Service
  metadata: { name: frontend, namespace: default }
  spec: { selector: { app: frontend }, ports: [{ name: http, port: 8080 }] }
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: otel-collector, namespace: observability }
  spec: { selector: { app: otel-collector }, ports: [{ name: http-otlp, port: 4318 }] }
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: zipkin, namespace: observability }
  spec: { selector: { app: zipkin }, ports: [{ name: http, port: 9411 }] }
  ---
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: gw, namespace: default }
  spec:
    selector: { istio: ingressgateway }
    servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
  ---
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: { name: frontend, namespace: default }
  spec:
    hosts: ["*"]
    gateways: [gw]
    http: [{ route: [{ destination: { host: frontend, port: { number: 8080 } } }] }]
  ---
`;

const FRONTEND = pod('frontend-0', 'default', '127.0.2.2', { labels: { app: 'frontend', version: 'v1' }, ports: [{ port: 8080, name: 'http' }] });

const meshConfig = (mesh: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |-
${mesh.split('\n').map((l) => `    ${l}`).join('\n')}
---
`;

const PROVIDERS = `extensionProviders:
- name: otel
  opentelemetry:
    service: otel-collector.observability.svc.cluster.local
    port: 4318
    http: { path: /v1/traces, timeout: 2s, headers: [{ name: x-tenant, value: strait }] }
- name: zipkin
  zipkin: { service: zipkin.observability.svc.cluster.local, port: 9411 }
- name: nowhere
  zipkin: { service: nowhere.example.com, port: 9411 }`;

function hcmOf(l: Listener | undefined): HttpConnectionManager {
  assert.ok(l, 'listener');
  const f = l.filterChains.flatMap((c) => c.filters).find((x) => x.name === HCM_FILTER_NAME);
  assert.ok(f, `an HTTP connection manager on ${l.name}`);
  return f.typedConfig as unknown as HttpConnectionManager;
}

function tracing(res: ProxyResources, side: 'inbound' | 'outbound' | 'gateway'): HcmTracing | undefined {
  const l = side === 'inbound' ? res.listeners.find((x) => x.trafficDirection === 'INBOUND') : side === 'outbound' ? res.listeners.find((x) => x.name === 'virtualOutbound') : res.listeners[0];
  return hcmOf(l).tracing;
}

const sidecar = (manifests: string) => resourcesFor({ manifests: SERVICES + manifests, pods: [FRONTEND] }, FRONTEND);
const gateway = (manifests: string) => resourcesFor({ manifests: SERVICES + manifests, pods: [FRONTEND] }, GATEWAY_POD);
const tags = (t: HcmTracing | undefined) => Object.fromEntries((t?.customTags ?? []).filter((c) => c.literal).map((c) => [c.tag, c.literal!.value]));

test('MeshConfig only: every HTTP listener traces at 1 % with Istio\'s tags and Istio\'s bootstrap Zipkin (zipkin.istio-system:9411)', () => {
  const res = sidecar('');
  for (const side of ['inbound', 'outbound'] as const) {
    const t = tracing(res, side)!;
    assert.deepEqual(t.randomSampling, { value: 1 }, side);
    assert.deepEqual(t.clientSampling, { value: 100 });
    assert.deepEqual(t.overallSampling, { value: 100 });
    assert.deepEqual(t.provider, {
      name: 'envoy.tracers.zipkin',
      typedConfig: { '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collectorCluster: 'outbound|9411||zipkin.istio-system.svc.cluster.local', collectorEndpoint: '/api/v2/spans', traceId128bit: true, sharedSpanContext: false, collectorEndpointVersion: 'HTTP_JSON', collectorHostname: 'zipkin.istio-system.svc.cluster.local' },
    });
    assert.deepEqual(tags(t), { 'istio.canonical_revision': 'v1', 'istio.canonical_service': 'frontend', 'istio.cluster_id': 'Kubernetes', 'istio.mesh_id': 'cluster.local', 'istio.namespace': 'default' });
    // Sorted by tag, the RBAC dry-run results among them (metadata tags).
    const names = t.customTags!.map((c) => c.tag);
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('istio.authorization.dry_run.allow_policy.name'));
  }
  const g = tracing(gateway(''), 'gateway')!;
  assert.equal(tags(g)['istio.canonical_service'], 'istio-ingressgateway');
  assert.equal(tags(g)['istio.namespace'], 'istio-system');
});

test('MeshConfig enableTracing: false turns tracing off; defaultConfig.tracing.sampling sets the rate', () => {
  assert.equal(tracing(sidecar(meshConfig('enableTracing: false')), 'outbound'), undefined);
  assert.deepEqual(tracing(sidecar(meshConfig('defaultConfig: { tracing: { sampling: 25 } }')), 'inbound')!.randomSampling, { value: 25 });
});

test('defaultProviders.tracing names an OpenTelemetry provider: OTLP/HTTP to its cluster, service.name <canonical>.<namespace>', () => {
  const res = sidecar(meshConfig(`${PROVIDERS}\ndefaultProviders: { tracing: [otel] }\ndefaultConfig: { tracing: { sampling: 100 } }`));
  const t = tracing(res, 'outbound')!;
  assert.deepEqual(t.randomSampling, { value: 100 });
  assert.deepEqual(t.provider, {
    name: 'envoy.tracers.opentelemetry',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
      httpService: { httpUri: { uri: 'otel-collector.observability.svc.cluster.local/v1/traces', cluster: 'outbound|4318||otel-collector.observability.svc.cluster.local', timeout: '2s' }, requestHeadersToAdd: [{ header: { key: 'x-tenant', value: 'strait' } }] },
      serviceName: 'frontend.default',
    },
  });
  assert.equal((tracing(gateway(meshConfig(`${PROVIDERS}\ndefaultProviders: { tracing: [otel] }`)), 'gateway')!.provider!.typedConfig as { serviceName: string }).serviceName, 'istio-ingressgateway.istio-system');
});

test('Telemetry tracing: provider, randomSamplingPercentage and customTags per direction (match.mode)', () => {
  const res = sidecar(
    meshConfig(PROVIDERS) +
      yaml`
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: { name: mesh-default, namespace: istio-system }
        spec:
          tracing:
          - providers: [{ name: zipkin }]
            randomSamplingPercentage: 10
        ---
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: { name: frontend, namespace: default }
        spec:
          selector: { matchLabels: { app: frontend } }
          tracing:
          - match: { mode: SERVER }
            randomSamplingPercentage: 50
            customTags:
              team: { literal: { value: checkout } }
              pod: { environment: { name: POD_NAME, defaultValue: unknown } }
              user: { header: { name: x-user, defaultValue: anonymous } }
      `,
  );
  const inbound = tracing(res, 'inbound')!;
  const outbound = tracing(res, 'outbound')!;
  assert.deepEqual(inbound.randomSampling, { value: 50 });
  assert.deepEqual(outbound.randomSampling, { value: 10 });
  assert.equal(inbound.provider?.name, 'envoy.tracers.zipkin');
  assert.equal((inbound.provider!.typedConfig as { collectorCluster: string }).collectorCluster, 'outbound|9411||zipkin.observability.svc.cluster.local');
  const custom = inbound.customTags!.filter((c) => !c.tag.startsWith('istio.'));
  assert.deepEqual(custom, [
    { tag: 'pod', environment: { name: 'POD_NAME', defaultValue: 'unknown' } },
    { tag: 'team', literal: { value: 'checkout' } },
    { tag: 'user', requestHeader: { name: 'x-user', defaultValue: 'anonymous' } },
  ]);
  assert.deepEqual(outbound.customTags!.filter((c) => !c.tag.startsWith('istio.')), []);
});

test('disableSpanReporting and an unknown collector service keep sampling and propagation, without a provider', () => {
  const off = sidecar(meshConfig(`${PROVIDERS}\ndefaultProviders: { tracing: [otel] }`) + yaml`
    apiVersion: telemetry.istio.io/v1
    kind: Telemetry
    metadata: { name: quiet, namespace: default }
    spec: { tracing: [{ disableSpanReporting: true }] }
  `);
  const t = tracing(off, 'outbound')!;
  assert.equal(t.provider, undefined);
  assert.deepEqual(t.randomSampling, { value: 1 });
  assert.equal(tracing(sidecar(meshConfig(`${PROVIDERS}\ndefaultProviders: { tracing: [nowhere] }`)), 'outbound')!.provider, undefined);
  // enableIstioTags: false leaves only the Telemetry's own tags (none here).
  assert.equal(tracing(sidecar(yaml`
    apiVersion: telemetry.istio.io/v1
    kind: Telemetry
    metadata: { name: bare, namespace: default }
    spec: { tracing: [{ enableIstioTags: false }] }
  `), 'outbound')!.customTags!.length, 0);
});

test('the generated tracing survives the protobuf encoding of the ADS stream (Zipkin and OpenTelemetry configs as Any)', () => {
  for (const provider of ['otel', 'zipkin']) {
    const res = sidecar(meshConfig(`${PROVIDERS}\ndefaultProviders: { tracing: [${provider}] }`));
    const l = res.listeners.find((x) => x.name === 'virtualOutbound')!;
    const back = decodeResource<Listener>(encodeResource(TYPE_URL.listener, l));
    assert.deepEqual(hcmOf(back).tracing, hcmOf(l).tracing, provider);
  }
});
