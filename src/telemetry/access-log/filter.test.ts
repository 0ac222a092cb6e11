// Access-log filters and loggers as the proxy compiles them from xDS: the CEL extension filter
// (Istio's Telemetry filter.expression), response-flag, status-code and duration filters, and /
// or; what the proxy refuses (NACK); the filter deciding what reaches the sink; and the filter
// surviving the protobuf encoding of the gRPC ADS stream.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStreamInfo } from '../../dataplane/http/stream-info.js';
import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import { decodeResource, encodeResource } from '../../xds/codec.js';
import { CEL_ACCESS_LOG_FILTER, CEL_EXPRESSION_FILTER_TYPE, FILE_ACCESS_LOG_TYPE, TYPE_URL } from '../../xds/resources.js';
import type { AccessLog, AccessLogFilter, Listener } from '../../xds/resources.js';
import { AccessLogConfigError, compileAccessLogs, writeAccessLogs } from './access-logs.js';
import { compileAccessLogFilter } from './filter.js';
import { MemorySink } from './sink.js';

const cel = (expression: string): AccessLogFilter => ({ extensionFilter: { name: CEL_ACCESS_LOG_FILTER, typedConfig: { '@type': CEL_EXPRESSION_FILTER_TYPE, expression } } });

function info(code: number, flags: string[] = [], ms = 5): StreamInfo {
  const s = newStreamInfo(0, 100);
  Object.assign(s, { endMono: 100 + ms, method: 'GET', path: '/status/' + code, responseCode: code, responseFlags: flags, responseCodeDetails: 'via_upstream' });
  return s;
}

test('the CEL filter Istio writes logs only what the expression selects', () => {
  const p = compileAccessLogFilter(cel('response.code >= 400'), true);
  assert.equal(p(info(418)), true);
  assert.equal(p(info(200)), false);
  // Valid CEL outside Strait's subset: nothing is logged (an error is false in Envoy).
  assert.equal(compileAccessLogFilter(cel('response.code + 0 >= 400'), true)(info(500)), false);
  assert.throws(() => compileAccessLogFilter(cel('response.code >='), true), /cannot parse "response.code >=": expected a value/);
});

test('response-flag, status-code, duration, and/or filters', () => {
  const nr = compileAccessLogFilter({ responseFlagFilter: { flags: ['NR'] } }, true);
  assert.equal(nr(info(404, ['NR'])), true);
  assert.equal(nr(info(503, ['UF'])), false);
  assert.equal(compileAccessLogFilter({ responseFlagFilter: {} }, true)(info(503, ['UF'])), true);
  assert.equal(compileAccessLogFilter({ responseFlagFilter: {} }, true)(info(200)), false);
  const ge = compileAccessLogFilter({ statusCodeFilter: { comparison: { op: 'GE', value: { defaultValue: 500, runtimeKey: 'x' } } } }, true);
  assert.equal(ge(info(503)), true);
  assert.equal(ge(info(404)), false);
  const slow = compileAccessLogFilter({ durationFilter: { comparison: { op: 'GE', value: { defaultValue: 100, runtimeKey: 'x' } } } }, true);
  assert.equal(slow(info(200, [], 150)), true);
  assert.equal(slow(info(200, [], 5)), false);
  const and = compileAccessLogFilter({ andFilter: { filters: [{ responseFlagFilter: { flags: ['UF'] } }, cel('response.code == 503')] } }, true);
  assert.equal(and(info(503, ['UF'])), true);
  assert.equal(and(info(503, ['UO'])), false);
  const or = compileAccessLogFilter({ orFilter: { filters: [{ responseFlagFilter: { flags: ['UF'] } }, cel('response.code == 418')] } }, true);
  assert.equal(or(info(418)), true);
  assert.equal(or(info(200)), false);
});

test('filters Envoy would refuse are refused', () => {
  assert.throws(() => compileAccessLogFilter({ responseFlagFilter: { flags: ['XX'] } }, true), /unknown response flag "XX"/);
  assert.throws(() => compileAccessLogFilter({}, true), /exactly one filter, found none/);
  assert.throws(() => compileAccessLogFilter({ andFilter: { filters: [cel('true')] } }, true), /at least two/);
  assert.throws(() => compileAccessLogFilter({ extensionFilter: { name: 'other', typedConfig: { '@type': 'type.googleapis.com/x.Y' } } }, true), /not supported/);
  const log: AccessLog = { name: 'envoy.access_loggers.file', filter: cel('response.code >='), typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout' } };
  assert.throws(() => compileAccessLogs('listener x', [log]), (e: unknown) => e instanceof AccessLogConfigError && /^listener x: envoy.access_loggers.extension_filters.cel: cannot parse/.test((e as Error).message));
});

test('only requests the filter takes reach the sink, formatted once', () => {
  const [log] = compileAccessLogs('l', [{ name: 'envoy.access_loggers.file', filter: cel('response.code >= 400'), typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout', logFormat: { textFormatSource: { inlineString: '%RESPONSE_CODE% %REQ(:PATH)%\n' } } } }]);
  const sink = new MemorySink();
  log!.sink = sink;
  for (const code of [200, 404, 204, 503]) writeAccessLogs([log!], info(code));
  assert.deepEqual(sink.lines, ['404 /status/404\n', '503 /status/503\n']);
});

test('on a TCP proxy, HTTP attributes are absent: a response.code filter logs nothing', () => {
  const [log] = compileAccessLogs('tcp', [{ name: 'envoy.access_loggers.file', filter: cel('response.code >= 400 || response.flags != 0'), typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout' } }], false);
  assert.equal(log!.filter!(info(500)), false);
  assert.equal(log!.filter!(info(0, ['UF'])), true);
});

test('an access log with a CEL filter survives the ADS protobuf encoding', () => {
  const log: AccessLog = {
    name: 'envoy.access_loggers.file',
    filter: { andFilter: { filters: [{ responseFlagFilter: { flags: ['UF'] } }, cel("response.code >= 400 && request.headers['x'] == 'y'")] } },
    typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout', logFormat: { jsonFormat: { code: '%RESPONSE_CODE%', nested: { flags: '%RESPONSE_FLAGS%' } }, omitEmptyValues: true } },
  };
  const tcpProxy = { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', statPrefix: 's', cluster: 'c', accessLog: [log] };
  const l = { name: 'x', address: { socketAddress: { address: '0.0.0.0', portValue: 1 } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: tcpProxy }] }] } as unknown as Listener;
  const back = decodeResource<Listener>(encodeResource(TYPE_URL.listener, l));
  const got = (back.filterChains[0]!.filters[0]!.typedConfig as unknown as { accessLog: AccessLog[] }).accessLog[0]!;
  assert.deepEqual(got.filter, log.filter);
  assert.deepEqual(got.typedConfig, log.typedConfig);
});
