import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramQuantile } from './histogram.js';

const b = (pairs: [number, number][]) => new Map(pairs);

test('linear interpolation inside the bucket holding the rank, as PromQL histogram_quantile', () => {
  // 100 requests: 50 at or under 10 ms, 90 under 100, 100 under 1000.
  const h = b([[10, 50], [100, 90], [1000, 100], [Infinity, 100]]);
  assert.equal(histogramQuantile(0.5, h), 10);
  assert.equal(histogramQuantile(0.25, h), 5); // first bucket interpolates from 0
  assert.equal(histogramQuantile(0.7, h), 10 + (90 * 20) / 40);
  assert.equal(histogramQuantile(0.99, h), 100 + (900 * 9) / 10);
});

test('the rank in the +Inf bucket answers the highest finite bound; empty histograms answer null', () => {
  assert.equal(histogramQuantile(0.99, b([[5, 1], [10, 1], [Infinity, 10]])), 10);
  assert.equal(histogramQuantile(0.5, b([[5, 0], [Infinity, 0]])), null);
  assert.equal(histogramQuantile(0.5, new Map()), null);
});

test('a dip in summed cumulative counts (a counter reset) is flattened, not a negative bucket', () => {
  assert.equal(histogramQuantile(0.75, b([[1, 4], [2, 3], [4, 8], [Infinity, 8]])), 2 + (2 * 2) / 4);
});
