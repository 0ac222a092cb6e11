// Unit tests for the CORS filter's request and response phases, driven with a fake stream and
// a seeded Random: preflights answered or forwarded, actual requests decorated, the literal "*"
// origin, private network access, shadow mode and filterEnabled fractions, with the
// origin_valid/origin_invalid stats as the oracle (VS-22).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../common/random.js';
import type { Random } from '../../../common/random.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import type { HttpFilter } from '../api.js';
import { exchange, FakeFilterStream } from '../test-support.js';
import type { FakeStreamOptions } from '../test-support.js';
import { CORS_FILTER_NAME, CORS_POLICY_TYPE_URL, CORS_TYPE_URL, corsFilterFactory } from './config.js';

const PREFIX = 'outbound_0.0.0.0_8080';

interface Rig {
  filter: HttpFilter;
  stats: StatsRegistry;
  stat(name: 'origin_valid' | 'origin_invalid'): number;
  /** A stream whose route carries `policy` as typed_per_filter_config["envoy.filters.http.cors"]. */
  stream(policy: Record<string, unknown> | null, opts?: FakeStreamOptions): FakeFilterStream;
}

const noDraws: Random = {
  next() {
    throw new Error('the filter drew a random number');
  },
};

function rig(random: Random = noDraws): Rig {
  const stats = new StatsRegistry();
  const filter = corsFilterFactory.create({ '@type': CORS_TYPE_URL }, { clock: { now: () => 0, monotonic: () => 0, setTimer: () => ({ cancel() {} }) }, random, stats, statPrefix: PREFIX });
  return {
    filter,
    stats,
    stat: (name) => stats.valueOf(`envoy_http_cors_${name}`, { http_conn_manager_prefix: PREFIX }) ?? NaN,
    stream(policy, opts = {}) {
      const s = new FakeFilterStream(opts);
      if (policy) s.setPerRoute(CORS_FILTER_NAME, corsFilterFactory.compilePerRoute!({ '@type': CORS_POLICY_TYPE_URL, ...policy }));
      return s;
    },
  };
}

const POLICY = {
  allowOriginStringMatch: [{ exact: 'https://app.example.com' }, { suffix: '.trusted.org' }],
  allowMethods: 'GET,POST,PUT',
  allowHeaders: 'content-type,x-token',
  exposeHeaders: 'x-request-id',
  maxAge: '600',
  allowCredentials: true,
};

function preflight(origin: string, extra: Record<string, string> = {}): FakeStreamOptions {
  return { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type', ...extra } };
}

const CORS_RESPONSE_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age', 'access-control-expose-headers', 'access-control-allow-private-network'];

function corsHeaders(ex: { headers: { get(n: string): string | undefined } }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of CORS_RESPONSE_HEADERS) {
    const v = ex.headers.get(n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

test('no policy on the route, or no Origin: the request passes untouched and nothing is counted', async () => {
  const r = rig();
  for (const s of [r.stream(null, { headers: { origin: 'https://app.example.com' } }), r.stream(POLICY), r.stream(POLICY, { headers: { origin: '' } })]) {
    const ex = await exchange(r.filter, s, { status: 200, headers: { 'content-type': 'text/html' } });
    assert.equal(ex.forwarded, true);
    assert.deepEqual(ex.headers.names(), ['content-type']);
  }
  assert.equal(r.stat('origin_valid'), 0);
  assert.equal(r.stat('origin_invalid'), 0);
});

test('a preflight from an allowed origin is answered here: 200, empty body, Access-Control-Allow-*, not forwarded', async () => {
  const r = rig();
  const s = r.stream(POLICY, preflight('https://app.example.com'));
  const ex = await exchange(r.filter, s);
  assert.equal(ex.forwarded, false);
  assert.equal(ex.status, 200);
  assert.equal(ex.body, '');
  assert.equal(ex.reply?.flag, '', 'a preflight answer is not a failure: no response flag');
  assert.equal(ex.reply?.details, 'cors_response');
  assert.deepEqual(s.info.responseFlags, []);
  assert.deepEqual(corsHeaders(ex), {
    'access-control-allow-origin': 'https://app.example.com',
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET,POST,PUT',
    'access-control-allow-headers': 'content-type,x-token',
    'access-control-max-age': '600',
    // Envoy's response phase runs for the filter's own answer too, adding the expose list.
    'access-control-expose-headers': 'x-request-id',
  });
  assert.equal(r.stat('origin_valid'), 1);
});

test('a preflight from another origin is forwarded by default (unmatchedPreflights FORWARD), without CORS headers', async () => {
  const r = rig();
  const ex = await exchange(r.filter, r.stream(POLICY, preflight('https://evil.example.net')), { status: 204, headers: { allow: 'GET' } });
  assert.equal(ex.forwarded, true);
  assert.equal(ex.status, 204);
  assert.deepEqual(corsHeaders(ex), {});
  assert.equal(r.stat('origin_invalid'), 1);
  assert.equal(r.stat('origin_valid'), 0);
});

test('with forwardNotMatchingPreflights false (IGNORE) it is answered here without Access-Control-Allow-Origin', async () => {
  const r = rig();
  const ex = await exchange(r.filter, r.stream({ ...POLICY, forwardNotMatchingPreflights: false }, preflight('https://evil.example.net')));
  assert.equal(ex.forwarded, false);
  assert.equal(ex.status, 200);
  assert.equal(ex.body, '');
  assert.equal(ex.reply?.details, 'cors_response');
  const h = corsHeaders(ex);
  assert.equal(h['access-control-allow-origin'], undefined, 'the browser refuses the cross-origin request');
  // Envoy still lists the policy's methods, headers, max-age and credentials.
  assert.equal(h['access-control-allow-methods'], 'GET,POST,PUT');
  assert.equal(h['access-control-expose-headers'], undefined);
  assert.equal(r.stat('origin_invalid'), 1);
});

test('an actual request from an allowed origin goes upstream and its response gets Allow-Origin, -Credentials, Expose-Headers', async () => {
  const r = rig();
  const ex = await exchange(r.filter, r.stream(POLICY, { method: 'POST', headers: { origin: 'https://shop.trusted.org' } }), {
    status: 201,
    headers: { 'access-control-allow-origin': '*', 'content-type': 'application/json' },
  });
  assert.equal(ex.forwarded, true);
  assert.deepEqual(corsHeaders(ex), {
    'access-control-allow-origin': 'https://shop.trusted.org',
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'x-request-id',
  });
  assert.deepEqual(ex.headers.getAll('access-control-allow-origin'), ['https://shop.trusted.org'], "the upstream's value is replaced, not repeated");
  assert.equal(ex.headers.get('content-type'), 'application/json');
  assert.equal(r.stat('origin_valid'), 1);
});

test('an actual request from another origin goes upstream and its response is left alone', async () => {
  const r = rig();
  const ex = await exchange(r.filter, r.stream(POLICY, { headers: { origin: 'https://trusted.org.evil.net' } }));
  assert.equal(ex.forwarded, true);
  assert.deepEqual(corsHeaders(ex), {});
  assert.equal(r.stat('origin_invalid'), 1);
});

test('OPTIONS without Access-Control-Request-Method is not a preflight: forwarded, decorated like any request', async () => {
  const r = rig();
  const ex = await exchange(r.filter, r.stream(POLICY, { method: 'OPTIONS', headers: { origin: 'https://app.example.com' } }));
  assert.equal(ex.forwarded, true);
  assert.equal(ex.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.equal(ex.headers.get('access-control-allow-methods'), undefined);
});

test('allowMethods and allowHeaders "*" echo what the preflight asks for', async () => {
  const r = rig();
  const ex = await exchange(r.filter, r.stream({ ...POLICY, allowMethods: '*', allowHeaders: '*' }, preflight('https://app.example.com', { 'access-control-request-headers': 'x-a,x-b' })));
  assert.equal(ex.headers.get('access-control-allow-methods'), 'PUT');
  assert.equal(ex.headers.get('access-control-allow-headers'), 'x-a,x-b');
});

test('credentials, expose headers and max-age are only sent when configured', async () => {
  const r = rig();
  const minimal = { allowOriginStringMatch: [{ exact: 'https://app.example.com' }] };
  const pre = await exchange(r.filter, r.stream(minimal, preflight('https://app.example.com')));
  assert.deepEqual(corsHeaders(pre), { 'access-control-allow-origin': 'https://app.example.com' });
  const actual = await exchange(r.filter, r.stream(minimal, { headers: { origin: 'https://app.example.com' } }));
  assert.deepEqual(corsHeaders(actual), { 'access-control-allow-origin': 'https://app.example.com' });
});

test('an origin matcher for "*" allows any origin, and the response names that origin', async () => {
  const r = rig();
  const ex = await exchange(r.filter, r.stream({ allowOriginStringMatch: [{ exact: '*' }] }, { headers: { origin: 'https://anything.example' } }));
  assert.equal(ex.headers.get('access-control-allow-origin'), 'https://anything.example');
  assert.equal(r.stat('origin_valid'), 1);
});

test('Private Network Access: allowed only when the policy allows it and the preflight asks for it', async () => {
  const r = rig();
  const ask = { 'access-control-request-private-network': 'true' };
  const on = await exchange(r.filter, r.stream({ ...POLICY, allowPrivateNetworkAccess: true }, preflight('https://app.example.com', ask)));
  assert.equal(on.headers.get('access-control-allow-private-network'), 'true');
  const notAsked = await exchange(r.filter, r.stream({ ...POLICY, allowPrivateNetworkAccess: true }, preflight('https://app.example.com')));
  assert.equal(notAsked.headers.get('access-control-allow-private-network'), undefined);
  const off = await exchange(r.filter, r.stream(POLICY, preflight('https://app.example.com', ask)));
  assert.equal(off.headers.get('access-control-allow-private-network'), undefined);
});

test('a local reply from a later filter (a fault abort) still gets the CORS headers, so the browser can read it', async () => {
  const r = rig();
  const s = r.stream(POLICY, { headers: { origin: 'https://app.example.com' } });
  assert.equal(r.filter.onRequestHeaders!(s), undefined);
  // The connection manager runs the response phase on whatever it writes, local replies included.
  const headers = new Map<string, string>();
  r.filter.onResponseHeaders!(s, 503, { get: (n) => headers.get(n), set: (n, v) => void headers.set(n, v), add: (n, v) => void headers.set(n, v), remove: (n) => void headers.delete(n) });
  assert.equal(headers.get('access-control-allow-origin'), 'https://app.example.com');
});

test('requests sharing the filter keep their own state: only the allowed one is decorated', async () => {
  const r = rig();
  const good = r.stream(POLICY, { headers: { origin: 'https://app.example.com' } });
  const bad = r.stream(POLICY, { headers: { origin: 'https://evil.example.net' } });
  r.filter.onRequestHeaders!(good);
  r.filter.onRequestHeaders!(bad);
  const exBad = await exchange(r.filter, bad);
  const exGood = await exchange(r.filter, good);
  assert.equal(exBad.headers.get('access-control-allow-origin'), undefined);
  assert.equal(exGood.headers.get('access-control-allow-origin'), 'https://app.example.com');
});

test('shadow mode (filterEnabled 0%, shadowEnabled 100%) counts origins but changes nothing', async () => {
  const r = rig();
  const shadow = { ...POLICY, filterEnabled: { defaultValue: { numerator: 0 } }, shadowEnabled: { defaultValue: { numerator: 100 } } };
  const pre = await exchange(r.filter, r.stream(shadow, preflight('https://app.example.com')));
  assert.equal(pre.forwarded, true, 'the preflight is not answered');
  assert.deepEqual(corsHeaders(pre), {});
  await exchange(r.filter, r.stream(shadow, { headers: { origin: 'https://evil.example.net' } }));
  assert.equal(r.stat('origin_valid'), 1);
  assert.equal(r.stat('origin_invalid'), 1);
  // Neither enabled nor shadowed: not even counted.
  await exchange(r.filter, r.stream({ ...POLICY, filterEnabled: { defaultValue: { numerator: 0 } } }, { headers: { origin: 'https://app.example.com' } }));
  assert.equal(r.stat('origin_valid'), 1);
});

test('filterEnabled 25% enforces the policy on about a quarter of requests (seeded draws)', async () => {
  const r = rig(seededRandom(11));
  const policy = { ...POLICY, filterEnabled: { defaultValue: { numerator: 2500, denominator: 'TEN_THOUSAND' } } };
  const n = 4000;
  let answered = 0;
  for (let i = 0; i < n; i++) if (r.filter.onRequestHeaders!(r.stream(policy, preflight('https://app.example.com')))) answered++;
  assert.ok(answered > n * 0.22 && answered < n * 0.28, `${answered} of ${n} preflights answered`);
  assert.equal(r.stat('origin_valid'), answered, 'requests the filter is off for are not counted');
});

test("stats carry Envoy's names: http.<statPrefix>.cors.* and envoy_http_cors_* with the HCM prefix label", async () => {
  const r = rig();
  await exchange(r.filter, r.stream(POLICY, { headers: { origin: 'https://app.example.com' } }));
  await exchange(r.filter, r.stream(POLICY, { headers: { origin: 'https://x.example.net' } }));
  const text = r.stats.envoyText();
  assert.ok(text.includes(`http.${PREFIX}.cors.origin_valid: 1\n`), text);
  assert.ok(text.includes(`http.${PREFIX}.cors.origin_invalid: 1\n`), text);
  assert.ok(r.stats.prometheusText().includes(`envoy_http_cors_origin_valid{http_conn_manager_prefix="${PREFIX}"} 1`));
});
