import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStreamInfo } from '../../dataplane/http/stream-info.js';
import { compileJsonFormat, compileTextFormat, ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from './format.js';

function info() {
  const s = newStreamInfo(Date.parse('2026-11-26T01:02:03.456Z'), 1000);
  Object.assign(s, {
    endMono: 1012.6,
    method: 'GET',
    path: '/status/418',
    protocol: 'HTTP/1.1',
    authority: 'httpbin:8000',
    requestHeaders: { 'user-agent': 'curl/8', 'x-request-id': 'abc' },
    responseCode: 418,
    responseCodeDetails: 'via_upstream',
    bytesSent: 135,
    upstreamHost: '10.44.1.27:80',
    upstreamCluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
    upstreamLocalAddress: '10.44.1.23:37652',
    downstreamLocalAddress: '10.0.45.184:8000',
    downstreamRemoteAddress: '10.44.1.23:46520',
    upstreamServiceTime: 4.2,
    routeName: 'default',
  });
  return s;
}

test("Istio's text format renders like the access-log task's sample line", () => {
  const line = compileTextFormat(ISTIO_TEXT_FORMAT)(info());
  assert.equal(
    line,
    '[2026-11-26T01:02:03.456Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 13 4 "-" "curl/8" "abc" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default\n',
  );
});

test('flags join with commas; X?Y falls back; :N truncates; a missing newline is added', () => {
  const s = info();
  s.responseFlags.push('UF', 'URX');
  s.requestHeaders['x-envoy-original-path'] = '/original';
  assert.equal(compileTextFormat('%RESPONSE_FLAGS% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(USER-AGENT):4%')(s), 'UF,URX /original curl\n');
});

test('JSON format keeps numbers typed and empty values null', () => {
  const o = JSON.parse(compileJsonFormat(ISTIO_JSON_FORMAT)(info())) as Record<string, unknown>;
  assert.equal(o.response_code, 418);
  assert.equal(o.duration, 13);
  assert.equal(o.response_flags, '-');
  assert.equal(o.upstream_cluster, 'outbound|8000||httpbin.foo.svc.cluster.local');
  assert.equal(o.upstream_service_time, '4');
});

test('unknown commands are config errors', () => {
  assert.throws(() => compileTextFormat('%NOT_A_THING%'), /unknown access log command %NOT_A_THING%/);
  assert.throws(() => compileTextFormat('%REQ()%'), /needs a header name/);
});

test('omit_empty_values: text prints nothing for empty values, JSON leaves the keys out', () => {
  const s = info();
  assert.equal(compileTextFormat('%UPSTREAM_TRANSPORT_FAILURE_REASON%|%RESPONSE_CODE%|%RESPONSE_FLAGS%', { omitEmptyValues: true })(s), '|418|-\n');
  const o = JSON.parse(compileJsonFormat({ reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%', code: '%RESPONSE_CODE%' }, { omitEmptyValues: true })(s)) as Record<string, unknown>;
  assert.deepEqual(o, { code: 418 });
});

test('JSON formats nest objects and keep constants (Envoy json_format is a Struct)', () => {
  const o = JSON.parse(compileJsonFormat({ http: { code: '%RESPONSE_CODE%', line: '%REQ(:METHOD)% %REQ(:PATH)%' }, mesh: 'strait', version: 2, sampled: true })(info())) as Record<string, unknown>;
  assert.deepEqual(o, { http: { code: 418, line: 'GET /status/418' }, mesh: 'strait', version: 2, sampled: true });
  assert.throws(() => compileJsonFormat({ list: ['%RESPONSE_CODE%'] }), /not \["%RESPONSE_CODE%"\]/);
});
