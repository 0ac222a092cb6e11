import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigStore } from '../config-store.js';
import { DEFAULT_MESH_CONFIG } from '../types.js';
import { loadOne, loadText, yaml } from '../test-support.js';

const head = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: istio, namespace: istio-system}', 'data:', '  mesh: |-'];

/** The istio ConfigMap with the mesh config text from line 6 on (indented by 4 spaces). */
const meshMap = (...lines: string[]) => yaml(...head, ...lines.map((l) => `    ${l}`));

test('mesh config: the implemented fields are typed, with Istio\'s defaults for the rest (TASK-10)', () => {
  const { resource, diagnostics } = loadOne(
    'MeshConfig',
    meshMap(
      'outboundTrafficPolicy:',
      '  mode: REGISTRY_ONLY',
      'accessLogFile: /dev/stdout',
      'accessLogEncoding: JSON',
      'defaultHttpRetryPolicy:',
      '  attempts: 3',
      '  retryOn: 5xx,connect-failure',
      'defaultConfig:',
      '  discoveryAddress: istiod.istio-system.svc:15012',
      '  tracing:',
      '    sampling: 10',
      '  gatewayTopology:',
      '    numTrustedProxies: 1',
      'connectTimeout: 5s',
      'defaultDestinationRuleExportTo: ["."]',
    ),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.metadata.name, 'istio');
  assert.deepEqual(resource.spec, {
    ...DEFAULT_MESH_CONFIG,
    outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
    accessLogFile: '/dev/stdout',
    accessLogEncoding: 'JSON',
    defaultHttpRetryPolicy: { attempts: 3, retryOn: '5xx,connect-failure', retryRemoteLocalities: false, retryIgnorePreviousHosts: true },
    defaultConfig: { tracing: { sampling: 10 }, gatewayTopology: { numTrustedProxies: 1 } },
    connectTimeout: { ms: 5000, text: '5s' },
    defaultDestinationRuleExportTo: ['.'],
  });
  // source.at takes paths inside the mesh text and points into the file.
  assert.deepEqual([resource.source.at(['outboundTrafficPolicy', 'mode']).line, resource.source.at(['outboundTrafficPolicy', 'mode']).col], [7, 13]);
  assert.equal(new ConfigStore([resource]).list('MeshConfig').length, 1);
});

test('mesh config: errors and warnings point inside the embedded YAML', () => {
  const r = loadText(
    meshMap(
      'enableTracing: true', // 6
      'outboundTrafficPolicy:', // 7
      '  mode: ALLOW_ALL', // 8
      'accessLogEncodng: JSON', // 9
      'enablePrometheusMerge: true', // 10
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@8:13', 'error:unknown-field@9:5', 'warning:unsupported-field@10:5']);
  assert.match(r.diagnostics[0].message, /^mesh config: outboundTrafficPolicy\.mode: "ALLOW_ALL" is not one of ALLOW_ANY, REGISTRY_ONLY/);
  assert.equal(r.diagnostics[0].fix, 'write ALLOW_ANY');
  assert.match(r.diagnostics[1].message, /did you mean 'accessLogEncoding'/);
  assert.deepEqual(r.resources, [], 'a mesh config with errors is not stored');
});

test('mesh config: YAML syntax errors inside the text are positioned; a quoted mesh value points at the key', () => {
  const bad = loadText(meshMap('outboundTrafficPolicy:', '  mode: [ALLOW_ANY')); // 6-7
  assert.deepEqual(bad.codes, ['error:yaml-syntax']);
  assert.ok(bad.diagnostics[0].line >= 7, `line ${bad.diagnostics[0].line}`);
  const quoted = loadText(yaml(...head.slice(0, 4), '  mesh: "rootNamespace: Bad_NS"'));
  assert.deepEqual(quoted.at, ['error:invalid-value@5:9']);
});

test('mesh config: other ConfigMaps are unused; the istio one without a mesh key says so once', () => {
  assert.deepEqual(loadText(yaml('apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: istio}', 'data: {mesh: "rootNamespace: x"}')).codes, ['warning:unused-kind']);
  const empty = loadText(yaml('apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: istio, namespace: istio-system}', 'data: {meshNetworks: "networks: {}"}'));
  assert.deepEqual(empty.codes, ['warning:no-mesh-config']);
  assert.deepEqual(empty.resources, []);
});

test('mesh config: range and exportTo rules', () => {
  assert.deepEqual(loadText(meshMap('defaultConfig:', '  tracing: {sampling: 150}')).codes, ['error:invalid-value']);
  assert.deepEqual(loadText(meshMap('defaultConfig:', '  gatewayTopology: {numTrustedProxies: -1}')).codes, ['error:invalid-value']);
  assert.deepEqual(loadText(meshMap('defaultConfig:', '  gatewayTopology: {numTrustedProxies: 1.5}')).codes, ['error:invalid-value']);
  assert.deepEqual(loadText(meshMap('defaultVirtualServiceExportTo: ["*", "a"]')).codes, ['error:conflict']);
  assert.deepEqual(loadText(meshMap('connectTimeout: 0s')).codes, ['error:invalid-value']);
  assert.deepEqual(loadText(meshMap('defaultHttpRetryPolicy: {attempts: 0, retryOn: 5xx}')).codes, ['error:conflict']);
});
