// Access-log configuration as the loader reads it (TEL-04, §2.10): Telemetry filter expressions
// (not CEL: an error, as Istio's validation rejects it; CEL Strait does not evaluate: a warning
// at the expression), MeshConfig envoyFileAccessLog providers (path, text or JSON labels,
// omitEmptyValues) and accessLogFile/Encoding/Format, with Strait's default accessLogFile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MESH_CONFIG } from '../types.js';
import { loadOne, loadText, yaml } from '../test-support.js';

const head = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: istio, namespace: istio-system}', 'data:', '  mesh: |-'];
/** The istio ConfigMap with the mesh config text from line 6 on (indented by 4 spaces). */
const meshMap = (...lines: string[]) => yaml(...head, ...lines.map((l) => `    ${l}`));

test('a filter expression that is not CEL is an error at the expression; Istio rejects the Telemetry', () => {
  const r = loadText(
    yaml(
      'apiVersion: telemetry.istio.io/v1', //                  1
      'kind: Telemetry', //                                    2
      'metadata: {name: logs, namespace: istio-system}', //    3
      'spec:', //                                              4
      '  accessLogging:', //                                   5
      '  - providers: [{name: envoy}]', //                     6
      '    filter:', //                                        7
      '      expression: response.code >=', //                 8
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@8:19']);
  assert.match(r.diagnostics[0]!.message, /a valid CEL expression \(expected a value, found the end of the expression \(at character 17\)\)/);
  assert.deepEqual(r.resources, []);
});

test('valid CEL outside Strait\'s subset is a warning at the expression, saying which part and that nothing is logged', () => {
  const r = loadText(
    yaml(
      'apiVersion: telemetry.istio.io/v1', //                  1
      'kind: Telemetry', //                                    2
      'metadata: {name: logs, namespace: istio-system}', //    3
      'spec:', //                                              4
      '  accessLogging:', //                                   5
      '  - providers: [{name: envoy}]', //                     6
      '    filter:', //                                        7
      "      expression: \"response.code + 1 >= 400 || request.time > timestamp('2024-01-01T00:00:00Z')\"", // 8
      '  - providers: [{name: envoy}]', //                     9
      "    filter: {expression: \"response.code >= '400'\"}", // 10
    ),
  );
  assert.deepEqual(r.at, ['warning:unsupported-cel@8:19', 'warning:unsupported-cel@8:19', 'warning:unsupported-cel@8:19', 'warning:cel-never-true@10:26']);
  assert.match(r.diagnostics[0]!.message, /character 1 of the filter: arithmetic \(\+\) is not evaluated by Strait, so this access log writes nothing/);
  assert.match(r.diagnostics[1]!.message, /character 29 of the filter: attribute request.time is not evaluated by Strait/);
  assert.match(r.diagnostics[2]!.message, /character 44 of the filter: function timestamp\(\) is not evaluated by Strait/);
  assert.match(r.diagnostics[3]!.message, />= cannot order a int and a string: always an error, which Envoy counts as false/);
  // The resource still loads: Istio accepts valid CEL.
  assert.equal(r.resources.length, 1);
  assert.deepEqual(loadText(yaml('apiVersion: telemetry.istio.io/v1', 'kind: Telemetry', 'metadata: {name: a, namespace: b}', 'spec: {accessLogging: [{providers: [{name: envoy}], filter: {expression: "response.code >= 400"}}]}')).codes, []);
});

test('a filter in an entry without providers is warned about: Istio drops it', () => {
  const r = loadText(yaml('apiVersion: telemetry.istio.io/v1', 'kind: Telemetry', 'metadata: {name: a, namespace: b}', 'spec:', '  accessLogging:', '  - filter: {expression: "response.code >= 400"}'));
  assert.deepEqual(r.at, ['warning:filter-without-provider@6:5']);
});

test('envoyFileAccessLog providers are typed: path, text format or JSON labels, omitEmptyValues', () => {
  const { resource, diagnostics } = loadOne(
    'MeshConfig',
    meshMap(
      'extensionProviders:',
      '- name: file-text',
      '  envoyFileAccessLog:',
      '    path: /tmp/access.log',
      '    logFormat: {text: "%RESPONSE_CODE% %REQ(:PATH)%"}',
      '- name: json',
      '  envoyFileAccessLog:',
      '    logFormat:',
      '      labels: {code: "%RESPONSE_CODE%", nested: {flags: "%RESPONSE_FLAGS%"}, mesh: strait}',
      '    omitEmptyValues: true',
      '- name: plain',
      '  envoyFileAccessLog: {}',
    ),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec.extensionProviders.map((p) => (p.type === 'other' ? { name: p.name, kind: p.kind, accessLog: p.accessLog } : p.name)), [
    { name: 'file-text', kind: 'envoyFileAccessLog', accessLog: { path: '/tmp/access.log', logFormat: { text: '%RESPONSE_CODE% %REQ(:PATH)%' }, omitEmptyValues: false } },
    { name: 'json', kind: 'envoyFileAccessLog', accessLog: { path: '', logFormat: { labels: { code: '%RESPONSE_CODE%', nested: { flags: '%RESPONSE_FLAGS%' }, mesh: 'strait' } }, omitEmptyValues: true } },
    { name: 'plain', kind: 'envoyFileAccessLog', accessLog: { path: '', omitEmptyValues: false } },
  ]);
});

test('envoyFileAccessLog: text and labels together are an error; a format Strait cannot write is a warning', () => {
  const r = loadText(
    meshMap(
      'extensionProviders:', //                                       6
      '- name: both', //                                              7
      '  envoyFileAccessLog:', //                                     8
      '    logFormat: {text: "%RESPONSE_CODE%", labels: {a: b}}', //  9
    ),
  );
  assert.deepEqual(r.codes, ['error:one-of']);
  const w = loadText(
    meshMap(
      'extensionProviders:', //                                       6
      '- name: odd', //                                               7
      '  envoyFileAccessLog:', //                                     8
      '    logFormat: {text: "%UPSTREAM_PEER_URI_SAN% %CEL(x)%"}', // 9
    ),
  );
  assert.deepEqual(w.at, ['warning:unsupported-log-format@9:27']);
  assert.match(w.diagnostics[0]!.message, /unknown access log command %UPSTREAM_PEER_URI_SAN%: Strait's proxies cannot write this format, so this provider logs Istio's default text format instead/);
});

test('mesh config access log: Strait defaults to /dev/stdout (Istio\'s demo profile); \'\' turns it off; formats are checked', () => {
  assert.equal(DEFAULT_MESH_CONFIG.accessLogFile, '/dev/stdout');
  assert.equal(loadOne('MeshConfig', meshMap('accessLogFile: ""')).resource.spec.accessLogFile, '');
  assert.equal(loadOne('MeshConfig', meshMap('enableTracing: true')).resource.spec.accessLogFile, '/dev/stdout');
  const json = loadOne('MeshConfig', meshMap('accessLogEncoding: JSON', 'accessLogFormat: \'{"code": "%RESPONSE_CODE%"}\''));
  assert.deepEqual(json.diagnostics, []);
  assert.equal(json.resource.spec.accessLogEncoding, 'JSON');
  assert.deepEqual(loadText(meshMap('accessLogEncoding: JSON', 'accessLogFormat: "%RESPONSE_CODE%"')).at, ['warning:invalid-log-format@7:22']);
  assert.deepEqual(loadText(meshMap('accessLogEncoding: JSON', 'accessLogFormat: "[1]"')).codes, ['warning:invalid-log-format']);
  assert.deepEqual(loadText(meshMap('accessLogFormat: "%NOPE%"')).at, ['warning:unsupported-log-format@6:22']);
  assert.deepEqual(loadText(meshMap('accessLogFormat: "%RESPONSE_CODE% %REQ(:PATH)%"')).codes, []);
});
