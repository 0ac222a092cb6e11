import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';

const tel = (spec: unknown, apiVersion = 'telemetry.istio.io/v1') => stringify({ apiVersion, kind: 'Telemetry', metadata: { name: 't', namespace: 'foo' }, ...(spec === undefined ? {} : { spec }) });
const codes = (spec: unknown) => loadText(tel(spec)).codes;

test('Telemetry: the three sections load typed, with defaults and paths (TEL-02..04), v1 and v1alpha1', () => {
  const { resource, diagnostics } = loadOne(
    'Telemetry',
    tel({
      selector: { matchLabels: { app: 'backend' } },
      metrics: [
        {
          providers: [{ name: 'prometheus' }],
          reportingInterval: '10s',
          overrides: [
            { match: { metric: 'REQUEST_COUNT', mode: 'SERVER' }, tagOverrides: { response_code: { operation: 'REMOVE' }, request_host: { value: 'request.host' } } },
            { disabled: true },
            { match: { customMetric: 'requests_total' }, disabled: false },
          ],
        },
      ],
      tracing: [{ match: { mode: 'CLIENT' }, providers: [{ name: 'zipkin' }], randomSamplingPercentage: 10.5, customTags: { env: { literal: { value: 'prod' } }, user: { header: { name: 'x-user', defaultValue: '-' } } } }],
      accessLogging: [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 400' } }, { match: { mode: 'SERVER' }, disabled: true }],
    }),
  );
  assert.deepEqual(diagnostics, []);
  const s = resource.spec;
  assert.deepEqual(s.selector, { matchLabels: { app: 'backend' } });
  assert.deepEqual(s.targetRefs, []);
  assert.equal(s.metrics[0]?.reportingInterval?.ms, 10_000);
  assert.deepEqual(s.metrics[0]?.providers, ['prometheus']);
  assert.deepEqual(s.metrics[0]?.overrides.map((o) => ({ match: o.match, disabled: o.disabled, tags: o.tagOverrides })), [
    {
      match: { metric: 'REQUEST_COUNT', mode: 'SERVER' },
      disabled: undefined,
      tags: {
        response_code: { operation: 'REMOVE', path: ['spec', 'metrics', 0, 'overrides', 0, 'tagOverrides', 'response_code'] },
        request_host: { operation: 'UPSERT', value: 'request.host', path: ['spec', 'metrics', 0, 'overrides', 0, 'tagOverrides', 'request_host'] },
      },
    },
    { match: { metric: 'ALL_METRICS', mode: 'CLIENT_AND_SERVER' }, disabled: true, tags: {} },
    { match: { customMetric: 'requests_total', mode: 'CLIENT_AND_SERVER' }, disabled: false, tags: {} },
  ]);
  assert.deepEqual(s.tracing, [
    {
      match: { mode: 'CLIENT' },
      providers: ['zipkin'],
      randomSamplingPercentage: 10.5,
      customTags: { env: { type: 'literal', value: 'prod' }, user: { type: 'header', name: 'x-user', defaultValue: '-' } },
      path: ['spec', 'tracing', 0],
    },
  ]);
  assert.deepEqual(s.accessLogging, [
    { match: { mode: 'CLIENT_AND_SERVER' }, providers: ['envoy'], filter: { expression: 'response.code >= 400', path: ['spec', 'accessLogging', 0, 'filter', 'expression'] }, path: ['spec', 'accessLogging', 0] },
    { match: { mode: 'SERVER' }, providers: [], disabled: true, path: ['spec', 'accessLogging', 1] },
  ]);
  // No spec and an empty spec are an empty namespace Telemetry; v1alpha1 serves the same schema.
  assert.deepEqual(loadOne('Telemetry', tel(undefined)).resource.spec, { targetRefs: [], metrics: [], tracing: [], accessLogging: [] });
  assert.equal(loadOne('Telemetry', tel({}, 'telemetry.istio.io/v1alpha1')).resource.apiVersion, 'telemetry.istio.io/v1alpha1');
});

test('Telemetry rules: positioned errors with fixes (Istio ValidateTelemetry and the CRD rules)', () => {
  const r = loadText(
    yaml(
      'apiVersion: telemetry.istio.io/v1', //                            1
      'kind: Telemetry', //                                              2
      'metadata: {name: bad, namespace: foo}', //                        3
      'spec:', //                                                        4
      '  metrics:', //                                                   5
      '  - overrides:', //                                               6
      '    - match: {metric: REQUEST_CNT}', //                           7
      '    - tagOverrides:', //                                          8
      '        response_code: {operation: REMOVE, value: x}', //         9
      '        request_host: {operation: UPSERT}', //                    10
      '  tracing:', //                                                   11
      '  - randomSamplingPercentage: 101', //                            12
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@7:23', 'error:invalid-value@9:44', 'error:missing-field@10:9', 'error:invalid-value@12:31']);
  assert.equal(r.diagnostics[0]?.fix, 'write REQUEST_COUNT');
  assert.deepEqual(r.resources, []);
  assert.deepEqual(codes({ metrics: [{ providers: [{ name: '' }] }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT', customMetric: 'x' } }] }] }), ['error:one-of']);
  assert.deepEqual(codes({ metrics: [{ overrides: [{ tagOverrides: { 'bad-label': { value: 'x' } } }] }] }), ['error:invalid-key']);
  assert.deepEqual(codes({ accessLogging: [{ filter: { expression: '' } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ tracing: [{ customTags: { a: { literal: { value: 'x' }, header: { name: 'y' } } } }] }), ['error:one-of']);
  // Warnings: two tracing rules for one direction, several providers, targetRefs (no Strait proxy), empty selector.
  assert.deepEqual(codes({ tracing: [{ randomSamplingPercentage: 1 }, { match: { mode: 'SERVER' } }] }), ['warning:multiple-tracing']);
  assert.deepEqual(codes({ tracing: [{ match: { mode: 'CLIENT' } }, { match: { mode: 'SERVER' } }] }), []);
  assert.deepEqual(codes({ tracing: [{ providers: [{ name: 'a' }, { name: 'b' }] }] }), ['warning:multiple-providers']);
  assert.deepEqual(codes({ targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }] }), ['warning:unsupported-field']);
  assert.deepEqual(codes({ selector: {} }), ['warning:empty-selector']);
});
