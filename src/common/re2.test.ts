import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFullMatch, RegexError } from './re2.js';

test('full-match semantics, as Envoy safe_regex', () => {
  const m = compileFullMatch('\\d+');
  assert.equal(m('123'), true);
  assert.equal(m('a123'), false);
  assert.equal(m('123a'), false);
  assert.equal(compileFullMatch('(?i)^aaa$')('AAA'), true);
});

test('backreferences (not RE2) are rejected with the reason', () => {
  assert.throws(() => compileFullMatch('(a)\\1'), (e: Error) => e instanceof RegexError && /invalid regex "\(a\)\\1"/.test(e.message));
});

test('a pattern that backtracks exponentially in RegExp stays linear', () => {
  const m = compileFullMatch('(a+)+$');
  // With RegExp this input takes longer than the age of the universe; RE2 answers at once.
  assert.equal(m('a'.repeat(5000) + 'b'), false);
});
