// FractionalPercent draws at their exact boundaries (a statistical test would not see an
// off-by-one of one part in a million), plus the 0%/100% shortcuts that draw nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Random } from '../../../common/random.js';
import { drawFraction, formatFraction, parseFractionalPercent } from './fractional-percent.js';

/** A Random that returns the given values in order, and counts how many were taken. */
function scripted(...values: number[]): Random & { taken: number } {
  const r = {
    taken: 0,
    next() {
      const v = values[r.taken++];
      if (v === undefined) throw new Error('unexpected draw');
      return v;
    },
  };
  return r;
}

test('a draw is true exactly for the first numerator slots of the denominator', () => {
  const cases: [Record<string, unknown>, number, number][] = [
    // [percentage, largest draw that injects, smallest draw that does not]
    [{ numerator: 25 }, 0.2499999, 0.25],
    [{ numerator: 1, denominator: 'TEN_THOUSAND' }, 0.0000999, 0.0001],
    [{ numerator: 125_000, denominator: 'MILLION' }, 0.124999, 0.125],
    [{ numerator: 1, denominator: 'MILLION' }, 0.0000009, 0.000001],
  ];
  for (const [p, yes, no] of cases) {
    const f = parseFractionalPercent(p, 'p');
    assert.equal(drawFraction(f, scripted(yes)), true, `${JSON.stringify(p)} at ${yes}`);
    assert.equal(drawFraction(f, scripted(no)), false, `${JSON.stringify(p)} at ${no}`);
    assert.equal(drawFraction(f, scripted(0)), true);
    assert.equal(drawFraction(f, scripted(0.9999999)), false);
  }
});

test('0% and 100% (or more, capped) decide without drawing', () => {
  const r = scripted();
  assert.equal(drawFraction(parseFractionalPercent({}, 'p'), r), false);
  assert.equal(drawFraction(parseFractionalPercent({ numerator: 100 }, 'p'), r), true);
  assert.equal(drawFraction(parseFractionalPercent({ numerator: 2_000_000, denominator: 'MILLION' }, 'p'), r), true);
  assert.equal(r.taken, 0);
});

test('formatFraction says the percentage a user configured', () => {
  assert.equal(formatFraction(parseFractionalPercent({ numerator: 125_000, denominator: 'MILLION' }, 'p')), '12.5%');
  assert.equal(formatFraction(parseFractionalPercent({ numerator: 1, denominator: 'TEN_THOUSAND' }, 'p')), '0.01%');
  assert.equal(formatFraction(parseFractionalPercent({ numerator: 300 }, 'p')), '100%');
});
