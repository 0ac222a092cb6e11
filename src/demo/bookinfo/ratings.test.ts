// Bookinfo ratings: the default stars, POSTed ones, and bad input answered, never thrown.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeForTest, listenForTest, requestForTest } from '../../echo/test-support.js';
import { createRatingsServer } from './ratings.js';

const server = createRatingsServer();
const base = await listenForTest(server);
after(() => closeForTest(server));

test('GET /ratings/0 answers both reviewers\' stars; /health is 200', async () => {
  const r = await requestForTest(`${base}/ratings/0`);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.deepEqual(r.json, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  assert.deepEqual((await requestForTest(`${base}/ratings/7`)).json, { id: 7, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  const h = await requestForTest(`${base}/health`);
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'Ratings is healthy' });
});

test('POST /ratings/<id> changes that product\'s stars only', async () => {
  const post = await requestForTest(`${base}/ratings/3`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Reviewer1":2}' });
  assert.equal(post.status, 200);
  assert.deepEqual(post.json, { id: 3, ratings: { Reviewer1: 2, Reviewer2: 4 } });
  assert.deepEqual((await requestForTest(`${base}/ratings/3`)).json.ratings, { Reviewer1: 2, Reviewer2: 4 });
  assert.deepEqual((await requestForTest(`${base}/ratings/0`)).json.ratings, { Reviewer1: 5, Reviewer2: 4 });
});

test('bad input: non-numeric id 400, bad bodies 400/413, unknown path 404, other methods 405', async () => {
  const bad = await requestForTest(`${base}/ratings/abc`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'please provide numeric product ID');
  for (const body of ['not json', '[1]', '{"Reviewer1": 9}', '{"Reviewer2": "5"}', '{"Reviewer1": 2.5}']) {
    const r = await requestForTest(`${base}/ratings/1`, { method: 'POST', body });
    assert.equal(r.status, 400, body);
  }
  const big = await requestForTest(`${base}/ratings/1`, { method: 'POST', body: 'x'.repeat(20_000) });
  assert.equal(big.status, 413);
  assert.equal((await requestForTest(`${base}/ratings`)).status, 404);
  assert.equal((await requestForTest(`${base}/ratings/0/x`)).status, 404);
  assert.equal((await requestForTest(`${base}/ratings/0`, { method: 'DELETE' })).status, 405);
  // Still serving.
  assert.equal((await requestForTest(`${base}/ratings/0`)).status, 200);
});
