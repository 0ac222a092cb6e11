// Key sources against a real key-set server on 127.0.0.1:0, on a manual clock: caching for
// cache_duration, one shared fetch for concurrent requests, failures of every kind counted in
// jwks_fetch_failed, retries with back-off, the early re-fetch for an unknown kid (rate-limited),
// and async_fetch's refresh loop (which parks when nobody uses the keys).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClockForTest } from '../../../common/clock.js';
import { seededRandom } from '../../../common/random.js';
import { eventually } from '../../../../test/helpers/http.js';
import type { Jwks } from './jwks.js';
import { DEFAULT_CACHE_DURATION_MS, KID_REFETCH_COOLDOWN_MS, LocalKeySource, MAX_JWKS_BYTES, RemoteKeySource } from './key-source.js';
import type { RemoteSettings } from './key-source.js';
import { jwksOf, startJwksServer, testKey } from './test-support.js';
import type { JwksServer, TestKey } from './test-support.js';

let server: JwksServer;
let k1: TestKey;
let k2: TestKey;

before(async () => {
  k1 = await testKey('RS256', 'k1');
  k2 = await testKey('ES256', 'k2');
  server = await startJwksServer(jwksOf(k1));
});
after(() => server.close());

function source(over: Partial<RemoteSettings> = {}, clock = new ManualClockForTest()) {
  const stats = { jwks_fetch_success: { value: 0 }, jwks_fetch_failed: { value: 0 } };
  const s = new RemoteKeySource({ uri: server.url, timeoutMs: 5000, cacheDurationMs: DEFAULT_CACHE_DURATION_MS, asyncFetch: null, retry: null, ...over }, clock, seededRandom(1), stats as never);
  return { s, stats, clock };
}
const kids = (r: Jwks | string): string[] => (typeof r === 'string' ? [r] : r.keys.map((k) => k.kid));

test('nothing is fetched until asked; a fetched set is cached for cache_duration, then fetched again', async () => {
  server.respond(200, jwksOf(k1));
  const before = server.hits;
  const { s, stats, clock } = source({ cacheDurationMs: 60_000 });
  assert.equal(s.cached(), undefined);
  assert.equal(server.hits, before);
  assert.deepEqual(kids(await s.load()), ['k1']);
  assert.deepEqual(kids(s.cached()!), ['k1']);
  clock.advance(59_999);
  assert.ok(s.cached(), 'still fresh');
  clock.advance(1);
  assert.equal(s.cached(), undefined, 'expired after cache_duration');
  server.respond(200, jwksOf(k1, k2));
  assert.deepEqual(kids(await s.load()), ['k1', 'k2']);
  assert.equal(server.hits, before + 2);
  assert.equal(stats.jwks_fetch_success.value, 2);
});

test('concurrent loads share one fetch', async () => {
  server.respond(200, jwksOf(k1));
  const before = server.hits;
  const { s, stats } = source();
  server.hold();
  const all = Promise.all([s.load(), s.load(), s.load()]);
  await eventually(() => server.hits === before + 1, 'the fetch to arrive');
  server.release();
  const r = await all;
  assert.ok(r.every((x) => x === r[0]));
  assert.equal(server.hits, before + 1);
  assert.equal(stats.jwks_fetch_success.value, 1);
});

const failures: [string, () => void][] = [
  ['HTTP 500', () => server.respond(500, 'oops')],
  ['HTTP 404', () => server.respond(404, jwksOf(k1))],
  ['a redirect (not followed)', () => server.respond(302, '', { location: '/elsewhere' })],
  ['an empty body', () => server.respond(200, '')],
  ['a body that is not JSON', () => server.respond(200, '<html>')],
  ['a set without keys', () => server.respond(200, '{"keys":[]}')],
  ['a set whose only key has the wrong type for its alg', () => server.respond(200, jwksOf({ ...k2.jwk, alg: 'RS256' }))],
  ['a set of HMAC keys', () => server.respond(200, jwksOf({ kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' }))],
  ['a body over MAX_JWKS_BYTES', () => server.respond(200, JSON.stringify({ keys: [k1.jwk], pad: 'x'.repeat(MAX_JWKS_BYTES) }))],
];
for (const [what, arrange] of failures) {
  test(`${what} fails the fetch: JwksFetchFail, counted in jwks_fetch_failed, nothing cached`, async () => {
    arrange();
    const { s, stats } = source();
    assert.equal(await s.load(), 'JwksFetchFail');
    assert.equal(s.cached(), undefined);
    assert.equal(stats.jwks_fetch_failed.value, 1);
    assert.equal(stats.jwks_fetch_success.value, 0);
  });
}

test('a server that never answers fails the fetch when http_uri.timeout passes on the clock', async () => {
  server.respond(200, jwksOf(k1));
  const { s, stats, clock } = source({ timeoutMs: 2000 });
  const before = server.hits;
  server.hold();
  const p = s.load();
  await eventually(() => server.hits === before + 1, 'the fetch to arrive');
  clock.advance(2000);
  assert.equal(await p, 'JwksFetchFail');
  assert.equal(stats.jwks_fetch_failed.value, 1);
  server.release();
});

test('an unreachable key server fails the fetch', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const { s } = source({ uri: `http://127.0.0.1:${port}/jwks` });
  assert.equal(await s.load(), 'JwksFetchFail');
});

test('retry_policy: 5xx answers are retried after a back-off on the clock, up to num_retries', async () => {
  server.respond(503, 'busy');
  const before = server.hits;
  const { s, stats, clock } = source({ retry: { numRetries: 2, baseIntervalMs: 100, maxIntervalMs: 1000, on5xx: true, onGatewayError: true, onNetworkError: true } });
  const p = s.load();
  await eventually(() => server.hits === before + 1, 'the first attempt');
  clock.advance(100);
  await eventually(() => server.hits === before + 2, 'the first retry');
  server.respond(200, jwksOf(k1));
  clock.advance(200);
  assert.deepEqual(kids(await p), ['k1']);
  assert.equal(server.hits, before + 3);
  assert.equal(stats.jwks_fetch_success.value, 1, 'one fetch, however many attempts');
  assert.equal(stats.jwks_fetch_failed.value, 0);
});

test('an unknown kid re-fetches a cached set once, then not again within the cooldown', async () => {
  server.respond(200, jwksOf(k1));
  const { s, clock } = source();
  await s.load();
  assert.equal(s.refetchForUnknownKid(), undefined, 'just fetched: too soon');
  clock.advance(KID_REFETCH_COOLDOWN_MS);
  server.respond(200, jwksOf(k1, k2));
  const before = server.hits;
  assert.deepEqual(kids(await s.refetchForUnknownKid()!), ['k1', 'k2']);
  assert.equal(server.hits, before + 1);
  assert.equal(s.refetchForUnknownKid(), undefined, 'rate-limited');
});

test('async_fetch: fetched when configured, refreshed 5 s before expiry while used, parked when unused', async () => {
  server.respond(200, jwksOf(k1));
  const before = server.hits;
  const { s, stats, clock } = source({ cacheDurationMs: 60_000, asyncFetch: { failedRefetchMs: 1000 } });
  await eventually(() => stats.jwks_fetch_success.value === 1, 'the fetch at configuration');
  assert.ok(s.cached(), 'a request uses the keys');
  clock.advance(55_000);
  await eventually(() => stats.jwks_fetch_success.value === 2, 'the refresh 5 s before expiry');
  assert.equal(server.hits, before + 2);
  // Nobody reads the keys for a whole period: the loop parks instead of fetching forever.
  clock.advance(55_000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.hits, before + 2, 'parked');
  clock.advance(10_000);
  assert.equal(s.cached(), undefined, 'expired');
  await s.load();
  assert.equal(server.hits, before + 3, 'a request fetches on demand and restarts the loop');
});

test('async_fetch: after a failure, re-fetched after failed_refetch_duration', async () => {
  server.respond(500, 'down');
  const before = server.hits;
  const { s, stats, clock } = source({ asyncFetch: { failedRefetchMs: 1000 } });
  await eventually(() => stats.jwks_fetch_failed.value === 1, 'the failed fetch at configuration');
  s.cached();
  server.respond(200, jwksOf(k1));
  clock.advance(1000);
  await eventually(() => stats.jwks_fetch_success.value === 1, 'the re-fetch');
  assert.equal(server.hits, before + 2);
});

test('an inline key set is used as is; without a usable key the provider has none', async () => {
  const good = new LocalKeySource(jwksOf(k1));
  assert.deepEqual(kids(good.cached()!), ['k1']);
  assert.equal(good.problem, undefined);
  const bad = new LocalKeySource('{"keys":[]}');
  assert.equal(bad.cached(), undefined);
  assert.equal(bad.problem, 'JwksNoValidKeys');
  assert.equal(await bad.load(), 'JwksNoValidKeys');
  assert.equal(bad.refetchForUnknownKid(), undefined);
});
