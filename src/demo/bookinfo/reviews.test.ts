// Bookinfo reviews per version: v1 no ratings (and no call), v2 black stars, v3 red; ratings
// failures and timeouts give "Ratings service is currently unavailable"; headers propagate.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { closeForTest, listenForTest, requestForTest } from '../../echo/test-support.js';
import { createRatingsServer } from './ratings.js';
import { createReviewsServer, RATINGS_UNAVAILABLE, type ReviewsOptions } from './reviews.js';
import { answerForTest, fakeSidecarForTest, hangForTest } from './test-support.js';

const ratings = createRatingsServer();
const ratingsUrl = await listenForTest(ratings);
const sidecar = await fakeSidecarForTest({ 'ratings:9080': ratingsUrl });
const servers: http.Server[] = [ratings];
after(async () => {
  for (const s of servers) await closeForTest(s);
  await sidecar.close();
});

async function reviews(opts: Partial<ReviewsOptions> & Pick<ReviewsOptions, 'version'>): Promise<string> {
  const s = createReviewsServer({ ratingsBase: new URL('http://ratings:9080'), proxy: sidecar.url, podName: `reviews-${opts.version}-abc-0`, ...opts });
  servers.push(s);
  return listenForTest(s);
}

const v1 = await reviews({ version: 'v1' });
const v2 = await reviews({ version: 'v2' });
const v3 = await reviews({ version: 'v3' });

test('v1: two reviews without ratings, and ratings is never called', async () => {
  const before = sidecar.calls.length;
  const r = await requestForTest(`${v1}/reviews/0`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, {
    id: '0', version: 'v1', podname: 'reviews-v1-abc-0', clustername: 'null',
    reviews: [
      { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
      { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
    ],
  });
  assert.equal(sidecar.calls.length, before);
});

test('v2: black stars from ratings; v3: red stars', async () => {
  const two = (await requestForTest(`${v2}/reviews/0`)).json;
  assert.equal(two.version, 'v2');
  assert.deepEqual(two.reviews.map((r: { rating: unknown }) => r.rating), [{ stars: 5, color: 'black' }, { stars: 4, color: 'black' }]);
  const three = (await requestForTest(`${v3}/reviews/0`)).json;
  assert.equal(three.version, 'v3');
  assert.deepEqual(three.reviews.map((r: { rating: unknown }) => r.rating), [{ stars: 5, color: 'red' }, { stars: 4, color: 'red' }]);
});

test('the ratings call goes through the sidecar to ratings:9080 and carries end-user and the trace headers', async () => {
  const before = sidecar.calls.length;
  await requestForTest(`${v2}/reviews/0`, {
    headers: {
      'end-user': 'jason', 'x-request-id': 'rq-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7', 'x-b3-spanid': 'e457b5a2e4d86bd1', 'x-b3-sampled': '1',
      'user-agent': 'test-agent', authorization: 'Bearer t', jwt: 'j', 'x-not-propagated': 'no',
    },
  });
  const call = sidecar.calls.slice(before).find((c) => c.authority === 'ratings:9080')!;
  assert.equal(call.path, '/ratings/0');
  assert.equal(call.headers.host, 'ratings:9080');
  for (const [k, v] of Object.entries({ 'end-user': 'jason', 'x-request-id': 'rq-1', 'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7', 'x-b3-sampled': '1', 'user-agent': 'test-agent', authorization: 'Bearer t', jwt: 'j' })) {
    assert.equal(call.headers[k], v, k);
  }
  assert.match(String(call.headers.traceparent), /^00-0af7/);
  assert.equal(call.headers['x-not-propagated'], undefined);
});

test('ratings failing (5xx, refused, bad body) or too slow: "Ratings service is currently unavailable", still 200', async () => {
  const unavailable = [{ error: RATINGS_UNAVAILABLE }, { error: RATINGS_UNAVAILABLE }];
  const ratingsOf = async (url: string) => (await requestForTest(url)).json.reviews.map((r: { rating: unknown }) => r.rating);
  try {
    sidecar.routes.set('ratings:9080', answerForTest(500, { error: 'fault' }));
    assert.deepEqual(await ratingsOf(`${v2}/reviews/0`), unavailable);
    sidecar.routes.set('ratings:9080', 'http://127.0.0.1:1');
    assert.deepEqual(await ratingsOf(`${v3}/reviews/0`), unavailable);
    sidecar.routes.set('ratings:9080', answerForTest(200, { id: 0, ratings: { Reviewer1: 'five', Reviewer2: 3 } }));
    assert.deepEqual(await ratingsOf(`${v2}/reviews/0`), [{ error: RATINGS_UNAVAILABLE }, { stars: 3, color: 'black' }]);

    sidecar.routes.set('ratings:9080', hangForTest());
    const impatient = await reviews({ version: 'v3', ratingsTimeoutMs: 100 });
    const r = await requestForTest(`${impatient}/reviews/0`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.reviews.map((x: { rating: unknown }) => x.rating), unavailable);
  } finally {
    sidecar.routes.set('ratings:9080', ratingsUrl);
  }
});

test('bad input: non-numeric id 400, unknown path 404, POST 405; /health 200', async () => {
  assert.equal((await requestForTest(`${v2}/reviews/x`)).status, 400);
  assert.equal((await requestForTest(`${v2}/reviews`)).status, 404);
  assert.equal((await requestForTest(`${v2}/reviews/0`, { method: 'POST', body: '{}' })).status, 405);
  const h = await requestForTest(`${v2}/health`);
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'Reviews is healthy' });
});
