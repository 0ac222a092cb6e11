import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadText } from '../../config/test-support.js';
import { DEFAULT_MESH_CONFIG } from '../../config/types.js';
import type { MeshConfig, TelemetryResource } from '../../config/types.js';
import { applicableTelemetries, resolveTelemetry } from './telemetry-scope.js';

function telemetries(...docs: { name: string; namespace: string; spec: unknown }[]): TelemetryResource[] {
  const text = docs.map((d) => stringify({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: d.name, namespace: d.namespace }, spec: d.spec })).join('---\n');
  const r = loadText(text);
  assert.deepEqual(r.codes, []);
  return r.resources as TelemetryResource[];
}

const backend = { namespace: 'default', labels: { app: 'backend', version: 'v1' } };

test('TEL-01 scope: root < namespace < workload; selectors only in their namespace; targetRefs apply to no proxy', () => {
  const ts = telemetries(
    { name: 'mesh', namespace: 'istio-system', spec: {} },
    { name: 'mesh-2', namespace: 'istio-system', spec: {} },
    { name: 'ns', namespace: 'default', spec: {} },
    { name: 'other-ns', namespace: 'other', spec: {} },
    { name: 'wl', namespace: 'default', spec: { selector: { matchLabels: { app: 'backend' } } } },
    { name: 'wl-elsewhere', namespace: 'other', spec: { selector: { matchLabels: { app: 'backend' } } } },
  );
  const a = applicableTelemetries(ts, backend, 'istio-system');
  assert.deepEqual([a.root?.metadata.name, a.namespace?.metadata.name, a.workload?.metadata.name], ['mesh', 'ns', 'wl']);
  const frontend = applicableTelemetries(ts, { namespace: 'default', labels: { app: 'frontend' } }, 'istio-system');
  assert.equal(frontend.workload, undefined);
  // A root-namespace workload has no separate namespace scope.
  const gw = applicableTelemetries(ts, { namespace: 'istio-system', labels: { istio: 'ingressgateway' } }, 'istio-system');
  assert.deepEqual([gw.root?.metadata.name, gw.namespace], ['mesh', undefined]);
});

test('TEL-03 metrics: on by default (prometheus); ALL_METRICS disabled per mode; a child re-enables; tag overrides accumulate in order', () => {
  const none = resolveTelemetry([], DEFAULT_MESH_CONFIG, backend);
  assert.equal(none.metrics.client.enabled, true);
  assert.equal(none.metrics.server.enabled, true);
  assert.deepEqual(none.metrics.server.metrics.REQUEST_COUNT, { disabled: false, tagOverrides: [] });
  assert.equal(none.metrics.reportingIntervalMs, 5000);
  assert.equal(none.tracing, undefined);
  assert.equal(none.accessLogging, undefined);

  const ts = telemetries(
    { name: 'mesh', namespace: 'istio-system', spec: { metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ match: { metric: 'ALL_METRICS', mode: 'SERVER' }, disabled: true }, { tagOverrides: { request_host: { value: 'request.host' } } }] }] } },
    {
      name: 'wl',
      namespace: 'default',
      spec: {
        selector: { matchLabels: { app: 'backend' } },
        metrics: [{ reportingInterval: '2s', overrides: [{ match: { metric: 'REQUEST_COUNT' }, tagOverrides: { response_code: { operation: 'REMOVE' }, request_host: { value: "'fixed'" } } }, { match: { customMetric: 'istio_request_bytes', mode: 'CLIENT' }, disabled: true }, { match: { customMetric: 'my_metric' }, disabled: true }] }],
      },
    },
  );
  const other = resolveTelemetry(ts, DEFAULT_MESH_CONFIG, { namespace: 'default', labels: { app: 'frontend' } });
  // A later override that does not disable (here the tag override, for both modes) turns the
  // provider back on for its modes, as Istio's mergeMetrics does.
  assert.deepEqual([other.metrics.client.enabled, other.metrics.server.enabled], [true, true]);
  assert.deepEqual(other.metrics.client.metrics.REQUEST_DURATION.tagOverrides.map((t) => t.name), ['request_host']);

  const onlyDisable = resolveTelemetry(telemetries({ name: 'mesh', namespace: 'istio-system', spec: { metrics: [{ overrides: [{ match: { mode: 'SERVER' }, disabled: true }] }] } }), DEFAULT_MESH_CONFIG, backend);
  assert.deepEqual([onlyDisable.metrics.client.enabled, onlyDisable.metrics.server.enabled], [true, false]);

  const r = resolveTelemetry(ts, DEFAULT_MESH_CONFIG, backend);
  assert.equal(r.metrics.reportingIntervalMs, 2000);
  assert.deepEqual(r.metrics.server.metrics.REQUEST_COUNT.tagOverrides.map((t) => (t.operation === 'UPSERT' ? `${t.name}=${t.value}` : `-${t.name}`)), ["request_host='fixed'", '-response_code']);
  assert.equal(r.metrics.client.metrics.REQUEST_SIZE.disabled, true);
  assert.equal(r.metrics.server.metrics.REQUEST_SIZE.disabled, false);
  assert.deepEqual(r.metrics.unknownCustomMetrics, ['my_metric']);

  // Naming a provider that is not Prometheus turns the standard metrics off; defaultProviders: [] too.
  const sd = resolveTelemetry(telemetries({ name: 'ns', namespace: 'default', spec: { metrics: [{ providers: [{ name: 'stackdriver' }] }] } }), DEFAULT_MESH_CONFIG, backend);
  assert.equal(sd.metrics.client.enabled, false);
  const noDefault: MeshConfig = { ...DEFAULT_MESH_CONFIG, defaultProviders: { metrics: [], tracing: [], accessLogging: [] } };
  assert.equal(resolveTelemetry([], noDefault, backend).metrics.server.enabled, false);
});

test('TEL-02 tracing: fields inherit per direction, customTags replace, sampling falls back to the mesh config, no provider = disabled', () => {
  const mesh: MeshConfig = {
    ...DEFAULT_MESH_CONFIG,
    defaultConfig: { ...DEFAULT_MESH_CONFIG.defaultConfig, tracing: { sampling: 7 } },
    extensionProviders: [{ name: 'zipkin', type: 'other', kind: 'zipkin', path: [] }],
  };
  const ts = telemetries(
    { name: 'mesh', namespace: 'istio-system', spec: { tracing: [{ providers: [{ name: 'zipkin' }], customTags: { a: { literal: { value: '1' } } } }] } },
    { name: 'ns', namespace: 'default', spec: { tracing: [{ match: { mode: 'SERVER' }, randomSamplingPercentage: 50, customTags: { b: { environment: { name: 'POD' } } } }] } },
  );
  const r = resolveTelemetry(ts, mesh, backend);
  assert.equal(r.tracing?.client.provider?.name, 'zipkin');
  assert.equal(r.tracing?.client.randomSamplingPercentage, 7);
  assert.equal(r.tracing?.server.randomSamplingPercentage, 50);
  assert.deepEqual(Object.keys(r.tracing?.client.customTags ?? {}), ['a']);
  assert.deepEqual(Object.keys(r.tracing?.server.customTags ?? {}), ['b']);
  assert.equal(r.tracing?.server.disabled, false);
  assert.equal(r.tracing?.server.useRequestIdForTraceSampling, true);
  // A tracing entry without any provider anywhere: spans are off.
  const noProvider = resolveTelemetry(telemetries({ name: 'ns', namespace: 'default', spec: { tracing: [{ randomSamplingPercentage: 100 }] } }), mesh, backend);
  assert.equal(noProvider.tracing?.client.disabled, true);
  // The default tracing provider alone is enough for a resolved config.
  const byDefault = resolveTelemetry([], { ...mesh, defaultProviders: { ...mesh.defaultProviders, tracing: ['ZIPKIN'] } }, backend);
  assert.equal(byDefault.tracing?.server.provider?.name, 'zipkin');
});

test('TEL-04 access logging: providers from the most specific scope, disabled per mode, filters kept', () => {
  const ts = telemetries(
    { name: 'mesh', namespace: 'istio-system', spec: { accessLogging: [{ providers: [{ name: 'envoy' }] }] } },
    { name: 'wl', namespace: 'default', spec: { selector: { matchLabels: { app: 'backend' } }, accessLogging: [{ match: { mode: 'CLIENT' }, disabled: true }, { providers: [{ name: 'envoy' }], match: { mode: 'SERVER' }, filter: { expression: 'response.code >= 400' } }] } },
  );
  const front = resolveTelemetry(ts, DEFAULT_MESH_CONFIG, { namespace: 'default', labels: { app: 'frontend' } });
  assert.deepEqual(front.accessLogging?.client.map((l) => l.provider.name), ['envoy']);
  assert.equal(front.accessLogging?.client[0]?.filter, undefined);
  const back = resolveTelemetry(ts, DEFAULT_MESH_CONFIG, backend);
  assert.deepEqual(back.accessLogging?.client, []);
  assert.equal(back.accessLogging?.server[0]?.filter?.expression, 'response.code >= 400');
  assert.equal(back.accessLogging?.server[0]?.filter?.resource.metadata.name, 'wl');
  // Unknown provider names are dropped (Istio's fetchProvider).
  const unknown = resolveTelemetry(telemetries({ name: 'ns', namespace: 'default', spec: { accessLogging: [{ providers: [{ name: 'nope' }] }] } }), DEFAULT_MESH_CONFIG, backend);
  assert.deepEqual(unknown.accessLogging, { client: [], server: [] });
});
