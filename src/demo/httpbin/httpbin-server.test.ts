// The httpbin endpoints Istio's tasks use, with httpbin's JSON shapes, over real HTTP.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClockForTest, type Clock } from '../../common/clock.js';
import { closeForTest, listenForTest, requestForTest } from '../../echo/test-support.js';
import { createHttpbinServer, TEAPOT } from './httpbin-server.js';
import { titleCase } from './httpbin-request.js';

const manual = new ManualClockForTest();
const delays: number[] = [];
const clock: Clock = {
  now: () => manual.now(),
  monotonic: () => manual.monotonic(),
  setTimer: (ms, fn) => {
    delays.push(ms);
    return manual.setTimer(ms, fn);
  },
};
const server = createHttpbinServer({ clock, maxBodyBytes: 64 * 1024 });
const base = await listenForTest(server);
const port = new URL(base).port;
after(() => closeForTest(server));

test('titleCase follows Python\'s str.title(), as httpbin shows header names', () => {
  assert.equal(titleCase('x-b3-traceid'), 'X-B3-Traceid');
  assert.equal(titleCase('X-FORWARDED-CLIENT-CERT'), 'X-Forwarded-Client-Cert');
  assert.equal(titleCase('x-envoy-attempt-count'), 'X-Envoy-Attempt-Count');
  assert.equal(titleCase('content-md5'), 'Content-Md5');
  assert.equal(titleCase('x-2fa'), 'X-2Fa');
});

test('/get: args, Title-Cased headers, origin and url', async () => {
  const r = await requestForTest(`${base}/get?a=1&b=2&b=3`, { headers: { 'x-b3-traceid': 'abc', 'user-agent': 'curl/8', 'x-multi': ['1', '2'] } });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.deepEqual(r.json, {
    args: { a: '1', b: ['2', '3'] },
    headers: { 'X-B3-Traceid': 'abc', 'User-Agent': 'curl/8', 'X-Multi': '1,2', Host: `127.0.0.1:${port}`, Connection: 'close' },
    origin: '127.0.0.1',
    url: `http://127.0.0.1:${port}/get?a=1&b=2&b=3`,
  });
  assert.equal((await requestForTest(`${base}/get`, { method: 'POST', body: 'x' })).status, 405);
});

test('/headers, /ip (X-Forwarded-For first), /user-agent', async () => {
  const h = await requestForTest(`${base}/headers`, { headers: { 'x-forwarded-client-cert': 'By=spiffe://x', 'x-request-id': 'r1' } });
  assert.deepEqual(Object.keys(h.json), ['headers']);
  assert.equal(h.json.headers['X-Forwarded-Client-Cert'], 'By=spiffe://x');
  assert.equal(h.json.headers['X-Request-Id'], 'r1');
  assert.deepEqual((await requestForTest(`${base}/ip`)).json, { origin: '127.0.0.1' });
  assert.deepEqual((await requestForTest(`${base}/ip`, { headers: { 'x-forwarded-for': '10.0.0.1, 127.0.0.1' } })).json, { origin: '10.0.0.1, 127.0.0.1' });
  assert.deepEqual((await requestForTest(`${base}/user-agent`, { headers: { 'user-agent': 'fortio' } })).json, { 'user-agent': 'fortio' });
});

test('/status/<code>: that status; 418 the teapot; redirects and 401 get their headers; bad codes 400', async () => {
  for (const code of [200, 201, 404, 500, 503]) {
    const r = await requestForTest(`${base}/status/${code}`, { method: code === 201 ? 'POST' : 'GET' });
    assert.equal(r.status, code);
    assert.equal(r.text, '');
  }
  const t = await requestForTest(`${base}/status/418`);
  assert.equal(t.status, 418);
  assert.equal(t.text, TEAPOT);
  assert.match(t.text, /-=\[ teapot \]=-/);
  assert.equal(t.headers['x-more-info'], 'http://tools.ietf.org/html/rfc2324');
  assert.equal((await requestForTest(`${base}/status/302`)).headers.location, '/redirect/1');
  assert.match(String((await requestForTest(`${base}/status/401`)).headers['www-authenticate']), /^Basic/);
  assert.equal((await requestForTest(`${base}/status/204`)).text, '');
  for (const bad of ['abc', '99', '100', '600', '2000', '']) assert.equal((await requestForTest(`${base}/status/${bad}`)).status, 400, bad);
});

test('/delay/<seconds> waits on the clock, at most 10 s; non-numbers are 400', async () => {
  for (const [arg, ms] of [['2', 2000], ['0.5', 500], ['20', 10_000]] as const) {
    delays.length = 0;
    let done = false;
    const pending = requestForTest(`${base}/delay/${arg}?x=1`).then((r) => {
      done = true;
      return r;
    });
    while (delays.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(delays, [ms]);
    manual.advance(ms - 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, `answered before ${ms} ms`);
    manual.advance(1);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.args, { x: '1' });
    assert.ok('headers' in r.json && 'origin' in r.json && 'url' in r.json && 'data' in r.json);
  }
  for (const bad of ['x', '-1', '1e3', 'Infinity']) assert.equal((await requestForTest(`${base}/delay/${bad}`)).status, 400, bad);
});

test('/anything and /post: the body as data, json and form; method shown by /anything', async () => {
  const j = await requestForTest(`${base}/anything/deep/path?q=1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
  assert.equal(j.status, 200);
  assert.equal(j.json.method, 'PUT');
  assert.equal(j.json.data, '{"a":[1,2]}');
  assert.deepEqual(j.json.json, { a: [1, 2] });
  assert.deepEqual(j.json.form, {});
  assert.deepEqual(j.json.files, {});
  assert.deepEqual(j.json.args, { q: '1' });
  assert.match(j.json.url, /\/anything\/deep\/path\?q=1$/);

  const f = await requestForTest(`${base}/post`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'k=v&k=w&__proto__=x' });
  assert.equal(f.status, 200);
  assert.deepEqual(f.json.form, { k: ['v', 'w'], ['__proto__']: 'x' });
  assert.equal(f.json.data, '');
  assert.equal(f.json.json, null);
  assert.equal('method' in f.json, false);

  const bin = await requestForTest(`${base}/post`, { method: 'POST', body: Buffer.from([0xff, 0xfe, 0x00]) });
  assert.equal(bin.json.data, 'data:application/octet-stream;base64,//4A');
  assert.equal((await requestForTest(`${base}/post`)).status, 405);
  assert.equal((await requestForTest(`${base}/anything`, { method: 'POST', body: 'x'.repeat(70_000) })).status, 413);
});

test('unknown paths 404; the server keeps serving after odd input', async () => {
  assert.equal((await requestForTest(`${base}/nope`)).status, 404);
  assert.equal((await requestForTest(`${base}/get?%ZZ=%`)).status, 200);
  assert.equal((await requestForTest(`${base}/`)).status, 200);
  assert.equal((await requestForTest(`${base}/get`, { method: 'HEAD' })).text, '');
  assert.equal((await requestForTest(`${base}/get`)).status, 200);
});
