import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOne, loadText, yaml } from '../test-support.js';

const head = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: istio, namespace: istio-system}', 'data:', '  mesh: |-'];
/** The istio ConfigMap with the mesh config text from line 6 on (indented by 4 spaces). */
const meshMap = (...lines: string[]) => yaml(...head, ...lines.map((l) => `    ${l}`));
const codes = (...lines: string[]) => loadText(meshMap('extensionProviders:', ...lines)).codes;

test('extensionProviders: ext-authz HTTP and gRPC providers are typed with defaults; others kept by name (AZ-01)', () => {
  const { resource, diagnostics } = loadOne(
    'MeshConfig',
    meshMap(
      'extensionProviders:', //                                          6
      '- name: sample-ext-authz-http', //                               7
      '  envoyExtAuthzHttp:', //                                        8
      '    service: ext-authz.foo.svc.cluster.local', //                9
      '    port: 8000', //                                              10
      '    timeout: 2s', //                                             11
      '    pathPrefix: /check', //                                      12
      '    failOpen: true', //                                          13
      '    statusOnError: "503"', //                                    14
      '    includeRequestHeadersInCheck: ["x-ext-authz"]', //           15
      '    includeAdditionalHeadersInCheck: {x-from: strait}', //       16
      '    includeRequestBodyInCheck: {maxRequestBytes: 1024}', //      17
      '    headersToUpstreamOnAllow: ["x-user*"]', //                   18
      '    headersToDownstreamOnDeny: ["x-ext-authz-check-result"]', // 19
      '- name: sample-ext-authz-grpc', //                               20
      '  envoyExtAuthzGrpc:', //                                        21
      '    service: foo/ext-authz.foo.svc.cluster.local', //            22
      '    port: 9000', //                                              23
      '- name: otel', //                                                24
      '  opentelemetry: {service: otel.istio-system.svc.cluster.local, port: 4317}', // 25
    ),
  );
  assert.deepEqual(diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`), []);
  assert.deepEqual(resource.spec.extensionProviders, [
    {
      name: 'sample-ext-authz-http',
      type: 'envoyExtAuthzHttp',
      envoyExtAuthzHttp: {
        service: 'ext-authz.foo.svc.cluster.local',
        port: 8000,
        timeout: { ms: 2000, text: '2s' },
        failOpen: true,
        clearRouteCache: false,
        statusOnError: 503,
        includeRequestBodyInCheck: { maxRequestBytes: 1024, allowPartialMessage: false, packAsBytes: false },
        pathPrefix: '/check',
        includeRequestHeadersInCheck: ['x-ext-authz'],
        includeAdditionalHeadersInCheck: { 'x-from': 'strait' },
        headersToUpstreamOnAllow: ['x-user*'],
        headersToDownstreamOnDeny: ['x-ext-authz-check-result'],
        headersToDownstreamOnAllow: [],
      },
      path: ['extensionProviders', 0],
    },
    { name: 'sample-ext-authz-grpc', type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: { service: 'foo/ext-authz.foo.svc.cluster.local', port: 9000, failOpen: false, clearRouteCache: false }, path: ['extensionProviders', 1] },
    // A tracing provider, typed for the tracing generator: without `http`, OTLP/gRPC.
    { name: 'otel', type: 'other', kind: 'opentelemetry', path: ['extensionProviders', 2], tracing: { kind: 'opentelemetry', service: 'otel.istio-system.svc.cluster.local', port: 4317 } },
  ]);
  // Provider paths resolve inside the embedded mesh text.
  assert.deepEqual(resource.source.at(['extensionProviders', 1, 'name']).line, 20);
});

test('extensionProviders rules: positioned inside the mesh text (Istio validateExtensionProvider)', () => {
  const r = loadText(
    meshMap(
      'extensionProviders:', //                          6
      '- name: a', //                                    7
      '  envoyExtAuthzHttp:', //                         8
      '    service: "http://ext-authz:8000"', //         9
      '    port: 0', //                                  10
      '    statusOnError: "999"', //                     11
      '    pathPrefix: check', //                        12
      '- name: b', //                                    13
      '- name: c', //                                    14
      '  envoyExtAuthzGrpc: {port: 9000}', //            15
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@9:18', 'error:invalid-value@10:15', 'error:invalid-value@11:24', 'error:invalid-value@12:21', 'error:one-of@13:7', 'error:missing-field@15:7']);
  assert.match(r.diagnostics[0].message, /^mesh config: extensionProviders\[0\]\.envoyExtAuthzHttp\.service: "http:\/\/ext-authz:8000" is not valid/);
  assert.match(r.diagnostics[4].message, /exactly one of envoyExtAuthzHttp, envoyExtAuthzGrpc, zipkin, .* must be set, found none/);
  assert.deepEqual(r.resources, []);
});

test('extensionProviders: unique names, one kind per entry, deprecated includeHeadersInCheck folded, IP services', () => {
  const grpc = (name: string, service = 'ext.foo.svc.cluster.local') => `- {name: ${name}, envoyExtAuthzGrpc: {service: ${service}, port: 9000}}`;
  assert.deepEqual(codes(grpc('a'), grpc('a')), ['error:duplicate-value']);
  assert.deepEqual(codes(grpc('a', '10.0.0.5')), []);
  assert.deepEqual(codes('- {name: "", envoyExtAuthzGrpc: {service: ext.foo.svc.cluster.local, port: 9000}}'), ['error:invalid-value']);
  assert.deepEqual(codes('- {name: a, envoyExtAuthzGrpc: {service: x.svc.cluster.local, port: 1}, envoyExtAuthzHttp: {service: x.svc.cluster.local, port: 1}}'), ['error:one-of']);
  assert.deepEqual(codes('- {name: a, envoyExtAuthzGrpc: {service: x.svc.cluster.local, port: 1, statusOnError: 500}}'), ['error:wrong-type']);
  const legacy = loadOne('MeshConfig', meshMap('extensionProviders:', '- {name: a, envoyExtAuthzHttp: {service: x.svc.cluster.local, port: 1, includeHeadersInCheck: [x-a]}}'));
  assert.deepEqual(legacy.codes, ['warning:deprecated-field']);
  const p = legacy.resource.spec.extensionProviders[0];
  assert.deepEqual(p.type === 'envoyExtAuthzHttp' && p.envoyExtAuthzHttp.includeRequestHeadersInCheck, ['x-a']);
});
