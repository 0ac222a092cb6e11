import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { analyzeTelemetry } from './analyze-telemetry.js';
import { ConfigStore } from './config-store.js';
import { loadConfigText } from './load-config.js';

const deployment = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'strait/echo' }] } } },
});
const telemetry = (name: string, namespace: string, spec: unknown) => ({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name, namespace }, spec });

function codes(...docs: unknown[]): string[] {
  const { resources, diagnostics } = loadConfigText(docs.map((d) => stringify(d)).join('---\n'), 'a.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  return analyzeTelemetry(new ConfigStore(resources)).map((d) => `${d.code}@${d.line}`);
}

test('Telemetry analysis: unknown and non-Prometheus providers, unsupported tag expressions, custom metrics', () => {
  const t = telemetry('t', 'default', {
    metrics: [{ providers: [{ name: 'prometheus' }, { name: 'nope' }, { name: 'stackdriver' }], overrides: [{ match: { customMetric: 'my_metric' } }, { tagOverrides: { a: { value: "'lit'" }, b: { value: 'request.size > 3' }, c: { operation: 'REMOVE' } } }] }],
    accessLogging: [{ providers: [{ name: 'envoy' }] }],
    tracing: [{ providers: [{ name: 'zipkin' }] }],
  });
  const found = codes(t);
  assert.deepEqual(found.map((c) => c.split('@')[0]), ['unknown-telemetry-provider', 'unsupported-metrics-provider', 'unknown-telemetry-provider', 'unknown-custom-metric', 'unsupported-tag-expression']);
  // Access logs: the built-in envoy and envoyFileAccessLog providers log; other kinds do not.
  const mesh = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: stringify({ extensionProviders: [{ name: 'file', envoyFileAccessLog: { path: '/tmp/a.log' } }, { name: 'otel-logs', envoyOtelAls: { service: 'otel.x.svc.cluster.local', port: 4317 } }] }) },
  };
  const logs = telemetry('t', 'default', { accessLogging: [{ providers: [{ name: 'envoy' }, { name: 'file' }, { name: 'otel-logs' }, { name: 'prometheus' }] }] });
  assert.deepEqual(codes(mesh, logs).map((c) => c.split('@')[0]), ['unsupported-access-log-provider', 'unsupported-access-log-provider']);
  // Standard metric names are fine as customMetric, with or without the prefix.
  assert.deepEqual(codes(telemetry('t', 'default', { metrics: [{ overrides: [{ match: { customMetric: 'istio_requests_total' } }, { match: { customMetric: 'request_bytes' } }] }] })), []);
});

test('Telemetry analysis: one per scope (the first wins), selectors that select nothing', () => {
  const found = codes(
    deployment('backend', { app: 'backend' }),
    telemetry('a', 'default', {}),
    telemetry('b', 'default', {}),
    telemetry('w1', 'default', { selector: { matchLabels: { app: 'backend' } } }),
    telemetry('w2', 'default', { selector: { matchLabels: { app: 'backend' } } }),
    telemetry('none', 'default', { selector: { matchLabels: { app: 'nothing' } } }),
    telemetry('gw', 'istio-system', { selector: { matchLabels: { istio: 'ingressgateway' } } }),
  );
  assert.deepEqual(found.map((c) => c.split('@')[0]), ['duplicate-telemetry', 'duplicate-telemetry', 'selector-selects-nothing']);
});
