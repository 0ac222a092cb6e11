// Unit tests for the fault filter's request path, driven with a fake stream, a manual clock and a
// seeded Random: percentages over many draws, delays that wait exactly as long as configured,
// cancellation when the downstream leaves, the route's config over the filter's, maxActiveFaults,
// gRPC aborts and the header controls. Stats are the oracle, under their Envoy names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import type { Random } from '../../../common/random.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import type { FilterResult, HttpFilter } from '../api.js';
import { exchange, FakeFilterStream, settle } from '../test-support.js';
import type { FakeStreamOptions } from '../test-support.js';
import { FAULT_FILTER_NAME, FAULT_TYPE_URL, faultFilterFactory } from './config.js';

const PREFIX = 'inbound_0.0.0.0_9080';
const T = { '@type': FAULT_TYPE_URL };

interface Rig {
  filter: HttpFilter;
  clock: ManualClockForTest;
  stats: StatsRegistry;
  stat(name: string): number;
  /** A stream whose route carries `perRoute` as the fault filter's typed_per_filter_config. */
  stream(perRoute?: Record<string, unknown>, opts?: FakeStreamOptions): FakeFilterStream;
}

function rig(filterConfig: Record<string, unknown> = T, random: Random = seededRandom(1)): Rig {
  const clock = new ManualClockForTest();
  const stats = new StatsRegistry();
  const filter = faultFilterFactory.create(filterConfig, { clock, random, stats, statPrefix: PREFIX });
  return {
    filter,
    clock,
    stats,
    stat: (name) => stats.valueOf(`envoy_http_fault_${name}`, { http_conn_manager_prefix: PREFIX }) ?? NaN,
    stream(perRoute, opts = {}) {
      const s = new FakeFilterStream({ startTime: clock.now(), ...opts });
      if (perRoute) s.setPerRoute(FAULT_FILTER_NAME, faultFilterFactory.compilePerRoute!({ ...T, ...perRoute }));
      return s;
    },
  };
}

function isPromise(v: unknown): v is Promise<FilterResult> {
  return typeof (v as Promise<unknown> | undefined)?.then === 'function';
}

/** A Random that fails the test if the filter draws from it. */
const noDraws: Random = {
  next() {
    throw new Error('the filter drew a random number');
  },
};

const pct = (numerator: number, denominator = 'HUNDRED') => ({ numerator, denominator });

test("Istio's empty filter-level config and no route fault: the request passes synchronously and untouched", () => {
  const r = rig(T, noDraws);
  const s = r.stream();
  assert.equal(r.filter.onRequestHeaders!(s), undefined);
  assert.deepEqual(s.info.responseFlags, []);
  assert.equal(s.signalReads, 0, 'the downstream signal is not allocated for requests without a fault');
  for (const n of ['delays_injected', 'aborts_injected', 'faults_overflow', 'active_faults']) assert.equal(r.stat(n), 0, n);
});

test('VS-20: a 100% abort answers 503 with flag FI and details fault_filter_abort, without waiting', async () => {
  const r = rig(T, noDraws);
  const s = r.stream({ abort: { httpStatus: 503, percentage: pct(100) } });
  const result = r.filter.onRequestHeaders!(s);
  assert.ok(!isPromise(result), 'an abort without a delay is answered synchronously');
  const ex = await exchange(r.filter, r.stream({ abort: { httpStatus: 503, percentage: pct(100) } }));
  for (const reply of [result, ex.reply]) {
    assert.ok(reply);
    assert.equal(reply.status, 503);
    assert.equal(reply.flag, 'FI');
    assert.equal(reply.details, 'fault_filter_abort');
    assert.match(reply.message, /^fault filter abort: the route injects HTTP 503 into 100% of requests$/);
    assert.equal(reply.headers, undefined);
    assert.equal(reply.body, undefined, 'the usual explained text body');
  }
  assert.equal(ex.forwarded, false);
  assert.equal(r.stat('aborts_injected'), 2);
  assert.equal(r.stat('delays_injected'), 0);
  assert.equal(r.stat('active_faults'), 0, 'the fault ends with its reply');
});

test('VS-19: a 100% fixed delay waits exactly the configured time on the clock, sets DI, then continues', async () => {
  const r = rig(T, noDraws);
  const s = r.stream({ delay: { fixedDelay: '7s', percentage: pct(1_000_000, 'MILLION') } });
  const result = r.filter.onRequestHeaders!(s);
  assert.ok(isPromise(result), 'a delay returns a promise');
  let outcome: FilterResult | 'pending' = 'pending';
  void result.then((v) => (outcome = v));
  assert.deepEqual(s.info.responseFlags, ['DI'], 'DI is set when the delay starts');
  assert.equal(s.info.responseCodeDetails, '', 'details are left to the rest of the request');
  assert.equal(r.stat('delays_injected'), 1);
  assert.equal(r.stat('active_faults'), 1);
  r.clock.advance(6999);
  await settle();
  assert.equal(outcome, 'pending', 'still waiting 1 ms before the end of the delay');
  r.clock.advance(1);
  await settle();
  assert.equal(outcome, undefined, 'continues to the upstream after the delay');
  assert.equal(r.stat('active_faults'), 0, 'a delay-only fault ends with the delay');
  assert.equal(r.stat('aborts_injected'), 0);
});

test('delay then abort: the abort is decided after the delay and the access log gets DI and FI', async () => {
  const r = rig(T, noDraws);
  const s = r.stream({ delay: { fixedDelay: '0.250s', percentage: pct(100) }, abort: { httpStatus: 500, percentage: pct(100) } });
  const pending = exchange(r.filter, s);
  await settle();
  assert.equal(r.stat('aborts_injected'), 0, 'no abort before the delay has passed');
  assert.equal(r.stat('active_faults'), 1);
  r.clock.advance(250);
  const ex = await pending;
  assert.equal(ex.status, 500);
  assert.equal(ex.forwarded, false);
  assert.deepEqual(s.info.responseFlags, ['DI', 'FI']);
  assert.equal(s.info.responseCodeDetails, 'fault_filter_abort');
  assert.equal(r.stat('delays_injected'), 1);
  assert.equal(r.stat('aborts_injected'), 1);
  assert.equal(r.stat('active_faults'), 0);
});

test('a delay is cancelled when the downstream goes away: no abort, timer gone, active fault released', async () => {
  const r = rig(T, noDraws);
  const s = r.stream({ delay: { fixedDelay: '10s', percentage: pct(100) }, abort: { httpStatus: 503, percentage: pct(100) } });
  const result = r.filter.onRequestHeaders!(s);
  assert.ok(isPromise(result));
  let outcome: FilterResult | 'pending' = 'pending';
  void result.then((v) => (outcome = v));
  r.clock.advance(3000);
  await settle();
  assert.equal(outcome, 'pending');
  s.disconnect();
  await settle();
  assert.equal(outcome, undefined, 'resolves at once, without waiting for the clock');
  assert.equal(r.stat('active_faults'), 0);
  r.clock.advance(60_000);
  await settle();
  assert.equal(r.stat('aborts_injected'), 0, 'the cancelled timer never fires the abort');
  assert.deepEqual(s.info.responseFlags, ['DI']);
});

test('a downstream that is already gone gets no delay at all', () => {
  const r = rig(T, noDraws);
  const s = r.stream({ delay: { fixedDelay: '1s', percentage: pct(100) } });
  s.disconnect();
  assert.equal(r.filter.onRequestHeaders!(s), undefined);
  assert.equal(r.stat('delays_injected'), 0);
  assert.equal(r.stat('active_faults'), 0);
});

test("the route's fault replaces the filter-level fault wholesale", async () => {
  const r = rig({ ...T, abort: { httpStatus: 503, percentage: pct(100) } }, noDraws);
  // No route fault: the filter-level abort applies.
  assert.equal((await exchange(r.filter, r.stream())).status, 503);
  // A route fault with only a delay: the filter's abort does not apply.
  const s = r.stream({ delay: { fixedDelay: '1s', percentage: pct(100) } });
  const pending = exchange(r.filter, s);
  r.clock.advance(1000);
  const ex = await pending;
  assert.equal(ex.forwarded, true);
  assert.deepEqual(s.info.responseFlags, ['DI']);
  // A route fault with a different abort wins over the filter's.
  assert.equal((await exchange(r.filter, r.stream({ abort: { httpStatus: 429, percentage: pct(100) } }))).status, 429);
  // An empty route HTTPFault disables the filter-level fault for that route.
  assert.equal((await exchange(r.filter, r.stream({}))).forwarded, true);
  assert.equal(r.stat('aborts_injected'), 2);
});

test('abort percentages follow the configured fraction over many draws (HUNDRED, TEN_THOUSAND, MILLION)', () => {
  const cases = [
    { percentage: pct(25), n: 10_000, lo: 2300, hi: 2700 },
    { percentage: pct(1250, 'TEN_THOUSAND'), n: 10_000, lo: 1100, hi: 1400 },
    // Istio's value 0.1 → 1000/MILLION.
    { percentage: pct(1000, 'MILLION'), n: 100_000, lo: 60, hi: 140 },
    { percentage: pct(0), n: 1000, lo: 0, hi: 0 },
    // A numerator above the denominator is 100%.
    { percentage: pct(150), n: 1000, lo: 1000, hi: 1000 },
  ];
  for (const c of cases) {
    const r = rig(T, seededRandom(42));
    let aborted = 0;
    for (let i = 0; i < c.n; i++) if (r.filter.onRequestHeaders!(r.stream({ abort: { httpStatus: 503, percentage: c.percentage } }))) aborted++;
    assert.ok(aborted >= c.lo && aborted <= c.hi, `${JSON.stringify(c.percentage)}: ${aborted} of ${c.n} aborted, expected ${c.lo}..${c.hi}`);
    assert.equal(r.stat('aborts_injected'), aborted);
  }
});

test('delay and abort are drawn independently (VS-20): 50% delay and 50% abort give all four outcomes', async () => {
  const r = rig(T, seededRandom(7));
  const counts = { delayOnly: 0, abortOnly: 0, both: 0, neither: 0 };
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const s = r.stream({ delay: { fixedDelay: '0.001s', percentage: pct(50) }, abort: { httpStatus: 503, percentage: pct(50) } });
    const result = r.filter.onRequestHeaders!(s);
    let reply: FilterResult;
    if (isPromise(result)) {
      r.clock.advance(1);
      reply = await result;
    } else {
      reply = result;
    }
    const delayed = s.info.responseFlags.includes('DI');
    if (delayed && reply) counts.both++;
    else if (delayed) counts.delayOnly++;
    else if (reply) counts.abortOnly++;
    else counts.neither++;
  }
  for (const [k, v] of Object.entries(counts)) assert.ok(v > n * 0.21 && v < n * 0.29, `${k}: ${v} of ${n}, expected about a quarter`);
  assert.equal(r.stat('delays_injected'), counts.both + counts.delayOnly);
  assert.equal(r.stat('aborts_injected'), counts.both + counts.abortOnly);
  assert.equal(r.stat('active_faults'), 0);
});

test('maxActiveFaults: faults over the limit are skipped and counted in faults_overflow', async () => {
  const r = rig(T, noDraws);
  const fault = { delay: { fixedDelay: '1s', percentage: pct(100) }, maxActiveFaults: 2 };
  const a = r.filter.onRequestHeaders!(r.stream(fault));
  const b = r.filter.onRequestHeaders!(r.stream(fault));
  const third = r.stream(fault);
  assert.ok(isPromise(a) && isPromise(b));
  assert.equal(r.stat('active_faults'), 2);
  assert.equal(r.filter.onRequestHeaders!(third), undefined, 'the third request is not delayed');
  assert.deepEqual(third.info.responseFlags, []);
  assert.equal(r.stat('faults_overflow'), 1);
  assert.equal(r.stat('delays_injected'), 2);
  r.clock.advance(1000);
  await Promise.all([a, b]);
  assert.equal(r.stat('active_faults'), 0);
  assert.ok(isPromise(r.filter.onRequestHeaders!(r.stream(fault))), 'room again once the delays are over');
  assert.equal(r.stat('faults_overflow'), 1);
});

test('maxActiveFaults 0: neither the delay nor the abort is injected, and each attempt overflows (as in Envoy)', () => {
  const r = rig(T, noDraws);
  const s = r.stream({ delay: { fixedDelay: '1s', percentage: pct(100) }, abort: { httpStatus: 503, percentage: pct(100) }, maxActiveFaults: 0 });
  assert.equal(r.filter.onRequestHeaders!(s), undefined);
  assert.equal(r.stat('faults_overflow'), 2);
  assert.equal(r.stat('delays_injected'), 0);
  assert.equal(r.stat('aborts_injected'), 0);
  assert.equal(r.stat('active_faults'), 0);
});

test('a gRPC abort on a gRPC request is a trailers-only gRPC answer: HTTP 200, grpc-status, grpc-message', async () => {
  const r = rig(T, noDraws);
  for (const contentType of ['application/grpc', 'application/grpc+proto', 'application/grpc;charset=utf-8']) {
    const ex = await exchange(r.filter, r.stream({ abort: { grpcStatus: 14, percentage: pct(100) } }, { method: 'POST', headers: { 'content-type': contentType } }));
    assert.equal(ex.status, 200, contentType);
    assert.equal(ex.headers.get('content-type'), 'application/grpc');
    assert.equal(ex.headers.get('grpc-status'), '14');
    assert.equal(ex.headers.get('grpc-message'), 'fault filter abort');
    assert.equal(ex.body, '');
    assert.equal(ex.reply?.flag, 'FI');
    assert.equal(ex.reply?.details, 'fault_filter_abort');
  }
  // grpcStatus 0 (OK) is a real status.
  const ok = await exchange(r.filter, r.stream({ abort: { grpcStatus: 0, percentage: pct(100) } }, { headers: { 'content-type': 'application/grpc' } }));
  assert.equal(ok.headers.get('grpc-status'), '0');
});

test('an HTTP abort on a gRPC request maps the status the gRPC way; gRPC-Web is not gRPC', async () => {
  const r = rig(T, noDraws);
  const grpc = { 'content-type': 'application/grpc' };
  for (const [http, grpcStatus] of [[503, '14'], [404, '12'], [403, '7'], [401, '16'], [400, '13'], [429, '14'], [500, '2']] as const) {
    const ex = await exchange(r.filter, r.stream({ abort: { httpStatus: http, percentage: pct(100) } }, { headers: grpc }));
    assert.equal(ex.status, 200, `HTTP ${http}`);
    assert.equal(ex.headers.get('grpc-status'), grpcStatus, `HTTP ${http}`);
  }
  const web = await exchange(r.filter, r.stream({ abort: { httpStatus: 503, percentage: pct(100) } }, { headers: { 'content-type': 'application/grpc-web' } }));
  assert.equal(web.status, 503);
  assert.equal(web.headers.get('grpc-status'), undefined);
});

test('a gRPC abort on a plain HTTP request is an HTTP 200 with the text body, exactly as Envoy answers', async () => {
  const r = rig(T, noDraws);
  const ex = await exchange(r.filter, r.stream({ abort: { grpcStatus: 14, percentage: pct(100) } }, { headers: { 'content-type': 'application/json' } }));
  assert.equal(ex.status, 200);
  assert.equal(ex.headers.get('grpc-status'), undefined);
  assert.equal(ex.reply?.flag, 'FI');
  assert.match(ex.reply!.message, /gRPC status 14/);
});

test('header-controlled abort: x-envoy-fault-abort-request picks the status; nothing without a valid header', async () => {
  const r = rig({ ...T, abort: { headerAbort: {}, percentage: pct(100) } }, noDraws);
  const abortWith = async (headers: Record<string, string>) => (await exchange(r.filter, r.stream(undefined, { headers })));
  assert.equal((await abortWith({ 'x-envoy-fault-abort-request': '429' })).status, 429);
  assert.equal((await abortWith({})).forwarded, true);
  assert.equal((await abortWith({ 'x-envoy-fault-abort-request': '600' })).forwarded, true, 'outside [200, 600)');
  assert.equal((await abortWith({ 'x-envoy-fault-abort-request': 'five' })).forwarded, true);
  // The HTTP header wins over the gRPC one; the gRPC one alone answers HTTP 200.
  assert.equal((await abortWith({ 'x-envoy-fault-abort-request': '503', 'x-envoy-fault-abort-grpc-request': '5' })).status, 503);
  const g = await abortWith({ 'x-envoy-fault-abort-grpc-request': '5', 'content-type': 'application/grpc' });
  assert.equal(g.status, 200);
  assert.equal(g.headers.get('grpc-status'), '5');
  assert.equal(r.stat('aborts_injected'), 3);
});

test('header-controlled percentages are capped by the configured numerator and use its denominator', () => {
  const r = rig({ ...T, abort: { headerAbort: {}, percentage: pct(50) } }, seededRandom(3));
  const rate = (headers: Record<string, string>, n = 4000) => {
    let aborted = 0;
    for (let i = 0; i < n; i++) if (r.filter.onRequestHeaders!(r.stream(undefined, { headers: { 'x-envoy-fault-abort-request': '503', ...headers } }))) aborted++;
    return aborted / n;
  };
  const capped = rate({ 'x-envoy-fault-abort-request-percentage': '100' });
  assert.ok(capped > 0.46 && capped < 0.54, `asked 100%, configured 50%: got ${capped}`);
  const lower = rate({ 'x-envoy-fault-abort-request-percentage': '10' });
  assert.ok(lower > 0.08 && lower < 0.12, `asked 10%: got ${lower}`);
  assert.equal(rate({ 'x-envoy-fault-abort-request-percentage': '0' }, 500), 0);
  const malformed = rate({ 'x-envoy-fault-abort-request-percentage': 'lots' });
  assert.ok(malformed > 0.46 && malformed < 0.54, `malformed header means the configured 50%: got ${malformed}`);
});

test('header-controlled delay: x-envoy-fault-delay-request milliseconds; absent means no delay', async () => {
  const r = rig({ ...T, delay: { headerDelay: {}, percentage: pct(100) } }, noDraws);
  assert.equal(r.filter.onRequestHeaders!(r.stream()), undefined);
  assert.equal(r.filter.onRequestHeaders!(r.stream(undefined, { headers: { 'x-envoy-fault-delay-request': '0' } })), undefined);
  const s = r.stream(undefined, { headers: { 'x-envoy-fault-delay-request': '250' } });
  const result = r.filter.onRequestHeaders!(s);
  assert.ok(isPromise(result));
  let done = false;
  void result.then(() => (done = true));
  r.clock.advance(249);
  await settle();
  assert.equal(done, false);
  r.clock.advance(1);
  await settle();
  assert.equal(done, true);
  assert.deepEqual(s.info.responseFlags, ['DI']);
});

test('a huge header delay is capped at the longest timer instead of firing at once', async () => {
  const r = rig({ ...T, delay: { headerDelay: {}, percentage: pct(100) } }, noDraws);
  const result = r.filter.onRequestHeaders!(r.stream(undefined, { headers: { 'x-envoy-fault-delay-request': '5000000000' } }));
  assert.ok(isPromise(result));
  let done = false;
  void result.then(() => (done = true));
  r.clock.advance(2 ** 31 - 2);
  await settle();
  assert.equal(done, false);
  r.clock.advance(1);
  await settle();
  assert.equal(done, true);
});

test('downstreamNodes: only requests from a listed x-envoy-downstream-service-node get faults', async () => {
  const r = rig(T, noDraws);
  const fault = { abort: { httpStatus: 503, percentage: pct(100) }, downstreamNodes: ['productpage'] };
  assert.equal((await exchange(r.filter, r.stream(fault, { headers: { 'x-envoy-downstream-service-node': 'productpage' } }))).status, 503);
  assert.equal((await exchange(r.filter, r.stream(fault, { headers: { 'x-envoy-downstream-service-node': 'reviews' } }))).forwarded, true);
  assert.equal((await exchange(r.filter, r.stream(fault))).forwarded, true, 'no header, no fault');
});

test("stats carry Envoy's names: http.<statPrefix>.fault.* and envoy_http_fault_* with the HCM prefix label", async () => {
  const r = rig(T, noDraws);
  await exchange(r.filter, r.stream({ abort: { httpStatus: 503, percentage: pct(100) } }));
  const text = r.stats.envoyText();
  assert.match(text, new RegExp(`^http\\.${PREFIX.replace(/\./g, '\\.')}\\.fault\\.aborts_injected: 1$`, 'm'));
  for (const n of ['delays_injected: 0', 'faults_overflow: 0', 'active_faults: 0']) assert.ok(text.includes(`http.${PREFIX}.fault.${n}`), n);
  const prom = r.stats.prometheusText();
  assert.ok(prom.includes(`envoy_http_fault_aborts_injected{http_conn_manager_prefix="${PREFIX}"} 1`));
  assert.ok(prom.includes('# TYPE envoy_http_fault_active_faults gauge'));
});
