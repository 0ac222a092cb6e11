// Config tests for the fault filter: the HTTPFault shapes Istio produces (VS-19, VS-20) and
// Envoy's own are accepted, survive the xDS wire, and compile to the right settings; everything
// Strait would not honour is rejected with a message naming the field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../api.js';
import { filterByTypeUrl } from '../registry.js';
import '../index.js';
import { decodeResource, encodeResource } from '../../../xds/codec.js';
import { compileFaultSettings, FAULT_FILTER_NAME, FAULT_TYPE_URL, faultFilterFactory } from './config.js';

const T = { '@type': FAULT_TYPE_URL };

function rejects(config: Record<string, unknown>, message: RegExp): void {
  assert.throws(() => compileFaultSettings(config), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

test('the factory is registered under its type URL by src/filters/http/index.ts', () => {
  assert.equal(filterByTypeUrl(FAULT_TYPE_URL), faultFilterFactory);
  assert.equal(faultFilterFactory.name, 'envoy.filters.http.fault');
  assert.equal(FAULT_FILTER_NAME, faultFilterFactory.name);
  assert.equal(faultFilterFactory.perRouteTypeUrl, undefined, 'per-route config is the same HTTPFault message');
});

test("Istio's empty filter-level HTTPFault compiles to settings that inject nothing", () => {
  for (const cfg of [T, {}]) {
    const s = compileFaultSettings(cfg);
    assert.equal(s.injects, false);
    assert.equal(s.delay, null);
    assert.equal(s.abort, null);
    assert.equal(s.maxActiveFaults, Infinity);
    assert.equal(s.downstreamNodes, null);
  }
});

test('VS-19: a fixed delay with a percentage (Istio writes value 100.0 as 1000000/MILLION)', () => {
  const s = compileFaultSettings({ ...T, delay: { fixedDelay: '7s', percentage: { numerator: 1_000_000, denominator: 'MILLION' } } });
  assert.deepEqual(s.delay, { kind: 'fixed', ms: 7000, percentage: { numerator: 1_000_000, denominator: 1_000_000 } });
  assert.equal(s.injects, true);
  assert.equal(s.abort, null);
});

test('delays keep whole milliseconds, as Envoy does', () => {
  assert.deepEqual(compileFaultSettings({ delay: { fixedDelay: '0.0015s' } }).delay, { kind: 'fixed', ms: 1, percentage: { numerator: 0, denominator: 100 } });
  assert.equal((compileFaultSettings({ delay: { fixedDelay: '1.2505s' } }).delay as { ms: number }).ms, 1250);
  // Sub-millisecond: accepted (the proto only asks for > 0) but never injected.
  assert.equal((compileFaultSettings({ delay: { fixedDelay: '0.0005s' } }).delay as { ms: number }).ms, 0);
  // Longer than a Node timer can wait: capped instead of firing at once.
  assert.equal((compileFaultSettings({ delay: { fixedDelay: '3000000s' } }).delay as { ms: number }).ms, 2 ** 31 - 1);
});

test('an unset percentage is 0%, and the denominator defaults to HUNDRED', () => {
  assert.deepEqual(compileFaultSettings({ abort: { httpStatus: 503 } }).abort, { kind: 'http', httpStatus: 503, percentage: { numerator: 0, denominator: 100 } });
  assert.deepEqual(compileFaultSettings({ abort: { httpStatus: 503, percentage: { numerator: 5 } } }).abort?.percentage, { numerator: 5, denominator: 100 });
  assert.deepEqual(compileFaultSettings({ abort: { httpStatus: 503, percentage: {} } }).abort?.percentage, { numerator: 0, denominator: 100 });
  // proto3 JSON also allows an enum's number.
  assert.deepEqual(compileFaultSettings({ abort: { httpStatus: 503, percentage: { numerator: 7, denominator: 1 } } }).abort?.percentage, { numerator: 7, denominator: 10_000 });
});

test('VS-20: abort by HTTP status, by gRPC status (0 is a value, not unset), or by header', () => {
  assert.deepEqual(compileFaultSettings({ abort: { httpStatus: 500, percentage: { numerator: 100 } } }).abort, { kind: 'http', httpStatus: 500, percentage: { numerator: 100, denominator: 100 } });
  assert.deepEqual(compileFaultSettings({ abort: { grpcStatus: 14, percentage: { numerator: 100 } } }).abort, { kind: 'grpc', grpcStatus: 14, percentage: { numerator: 100, denominator: 100 } });
  assert.deepEqual(compileFaultSettings({ abort: { grpcStatus: 0 } }).abort, { kind: 'grpc', grpcStatus: 0, percentage: { numerator: 0, denominator: 100 } });
  assert.deepEqual(compileFaultSettings({ abort: { headerAbort: {}, percentage: { numerator: 100 } } }).abort, { kind: 'header', percentage: { numerator: 100, denominator: 100 } });
  assert.deepEqual(compileFaultSettings({ delay: { headerDelay: {}, percentage: { numerator: 50 } } }).delay, { kind: 'header', percentage: { numerator: 50, denominator: 100 } });
});

test('maxActiveFaults, downstreamNodes, runtime keys and disableDownstreamClusterStats', () => {
  const s = compileFaultSettings({
    abort: { httpStatus: 503 },
    maxActiveFaults: 0,
    downstreamNodes: ['productpage', 'reviews'],
    abortPercentRuntime: 'fault.http.abort.abort_percent',
    delayDurationRuntime: 'x',
    disableDownstreamClusterStats: true,
  });
  assert.equal(s.maxActiveFaults, 0);
  assert.deepEqual([...s.downstreamNodes!], ['productpage', 'reviews']);
  assert.equal(compileFaultSettings({ downstreamNodes: [] }).downstreamNodes, null);
  // Present-but-default values of unsupported fields are what proto3 writers may emit.
  assert.equal(compileFaultSettings({ upstreamCluster: '', headers: [], filterMetadata: {} }).injects, false);
});

test('the shapes Istio sends survive the xDS wire and compile the same', () => {
  const configs: Record<string, unknown>[] = [
    { ...T },
    { ...T, delay: { fixedDelay: '7s', percentage: { numerator: 1_000_000, denominator: 'MILLION' } } },
    { ...T, abort: { httpStatus: 500, percentage: { numerator: 125_000, denominator: 'MILLION' } } },
    { ...T, abort: { grpcStatus: 0, percentage: { numerator: 100 } }, delay: { fixedDelay: '0.250s', percentage: { numerator: 10 } }, maxActiveFaults: 3 },
    { ...T, abort: { headerAbort: {}, percentage: { numerator: 100 } }, delay: { headerDelay: {}, percentage: { numerator: 100 } } },
  ];
  for (const c of configs) {
    const { '@type': typeUrl, ...rest } = c as { '@type': string };
    const wire = decodeResource<Record<string, unknown>>(encodeResource(typeUrl, rest));
    assert.deepEqual(compileFaultSettings(wire), compileFaultSettings(c), JSON.stringify(c));
  }
});

test('the per-route config compiles with the same rules', () => {
  const s = faultFilterFactory.compilePerRoute!({ ...T, abort: { httpStatus: 503, percentage: { numerator: 100 } } }) as ReturnType<typeof compileFaultSettings>;
  assert.equal(s.abort?.kind, 'http');
  assert.throws(() => faultFilterFactory.compilePerRoute!({ abort: { httpStatus: 99 } }), ConfigError);
});

test('rejects: abort type missing or ambiguous, and out-of-range statuses', () => {
  rejects({ abort: { percentage: { numerator: 100 } } }, /^HTTPFault\.abort: set exactly one of httpStatus, grpcStatus or headerAbort$/);
  rejects({ abort: { httpStatus: 503, grpcStatus: 14 } }, /HTTPFault\.abort: set exactly one of .* \(got httpStatus and grpcStatus\)/);
  rejects({ abort: { httpStatus: 600 } }, /HTTPFault\.abort\.httpStatus: expected an HTTP status in \[200, 600\), got 600/);
  rejects({ abort: { httpStatus: 199 } }, /httpStatus: .* got 199/);
  rejects({ abort: { httpStatus: 503.5 } }, /httpStatus: .* got 503\.5/);
  rejects({ abort: { httpStatus: '503' } }, /httpStatus: .* got "503"/);
  rejects({ abort: { grpcStatus: -1 } }, /HTTPFault\.abort\.grpcStatus: expected an integer/);
  rejects({ abort: { headerAbort: { x: 1 } } }, /HTTPFault\.abort\.headerAbort: unknown field "x"/);
});

test("rejects abort.http2Error, which Envoy's FaultAbort does not have", () => {
  rejects({ abort: { http2Error: 'INTERNAL_ERROR', percentage: { numerator: 100 } } }, /HTTPFault\.abort\.http2Error: Envoy's FaultAbort has no HTTP\/2 error abort/);
});

test('rejects: delay type missing or ambiguous, and bad durations', () => {
  rejects({ delay: { percentage: { numerator: 100 } } }, /^HTTPFault\.delay: set exactly one of fixedDelay or headerDelay$/);
  rejects({ delay: { fixedDelay: '1s', headerDelay: {} } }, /\(got fixedDelay and headerDelay\)/);
  rejects({ delay: { fixedDelay: '0s' } }, /HTTPFault\.delay\.fixedDelay: must be greater than 0, got "0s"/);
  rejects({ delay: { fixedDelay: '-1s' } }, /fixedDelay: must be greater than 0/);
  rejects({ delay: { fixedDelay: '7' } }, /HTTPFault\.delay\.fixedDelay: expected a duration such as "7s"/);
  rejects({ delay: { fixedDelay: 7 } }, /fixedDelay: expected a duration/);
  rejects({ delay: { fixedDelay: '7s', type: 'FIXED' } }, /HTTPFault\.delay: unknown field "type" in FaultDelay/);
  rejects({ delay: '7s' }, /HTTPFault\.delay: expected an object/);
});

test('rejects malformed percentages', () => {
  rejects({ abort: { httpStatus: 503, percentage: { numerator: -1 } } }, /HTTPFault\.abort\.percentage\.numerator: expected an integer in \[0, 4294967295\], got -1/);
  rejects({ abort: { httpStatus: 503, percentage: { numerator: 1.5 } } }, /numerator: .* got 1\.5/);
  rejects({ abort: { httpStatus: 503, percentage: { numerator: 2 ** 32 } } }, /numerator: .* got 4294967296/);
  rejects({ delay: { fixedDelay: '1s', percentage: { numerator: 1, denominator: 'THOUSAND' } } }, /HTTPFault\.delay\.percentage\.denominator: expected HUNDRED, TEN_THOUSAND or MILLION, got "THOUSAND"/);
  // Istio's VirtualService shape is not Envoy's: {value: 50} must have been translated.
  rejects({ delay: { fixedDelay: '1s', percentage: { value: 50 } } }, /HTTPFault\.delay\.percentage: unknown field "value" in FractionalPercent/);
  rejects({ delay: { fixedDelay: '1s', percentage: 50 } }, /percentage: expected a FractionalPercent object/);
});

test('rejects unknown and unsupported top-level fields, saying what to do instead', () => {
  rejects({ dely: {} }, /^HTTPFault: unknown field "dely"$/);
  rejects({ upstreamCluster: 'outbound|9080||ratings' }, /HTTPFault\.upstreamCluster: restricting faults to one upstream cluster is not supported/);
  rejects({ headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] }, /HTTPFault\.headers: header conditions on a fault are not supported; match the headers in the route/);
  rejects({ responseRateLimit: { fixedLimit: { limitKbps: 1 } } }, /HTTPFault\.responseRateLimit: response rate limiting is not supported/);
  rejects({ filterMetadata: { k: 'v' } }, /HTTPFault\.filterMetadata: dynamic metadata/);
  rejects({ maxActiveFaults: -1 }, /HTTPFault\.maxActiveFaults: expected an integer/);
  rejects({ maxActiveFaults: { value: 3 } }, /HTTPFault\.maxActiveFaults: expected an integer/);
  rejects({ downstreamNodes: 'productpage' }, /HTTPFault\.downstreamNodes: expected a list/);
  rejects({ downstreamNodes: [1] }, /HTTPFault\.downstreamNodes\[0\]: expected a string/);
  rejects({ abortPercentRuntime: 5 }, /HTTPFault\.abortPercentRuntime: expected a string/);
  rejects({ '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' }, /HTTPFault: @type is ".*Cors", expected .*HTTPFault/);
});
