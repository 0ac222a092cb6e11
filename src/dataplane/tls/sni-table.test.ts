import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SniTable } from './sni-table.js';

test('exact beats wildcard, longer wildcard beats shorter, no name falls back', () => {
  const t = new SniTable<string>();
  t.add(['foo.bar.com'], 'exact');
  t.add(['*.bar.com'], 'wild');
  t.add(['*.x.bar.com'], 'longer');
  t.add([], 'default');
  assert.equal(t.match('foo.bar.com'), 'exact');
  assert.equal(t.match('FOO.bar.com'), 'exact');
  assert.equal(t.match('a.bar.com'), 'wild');
  assert.equal(t.match('a.x.bar.com'), 'longer');
  assert.equal(t.match('bar.com'), 'default');
  assert.equal(t.match(undefined), 'default');
});

test('without a default chain an unknown name matches nothing; duplicates are refused', () => {
  const t = new SniTable<string>();
  t.add(['a.com'], 'a');
  assert.equal(t.match('b.com'), undefined);
  assert.throws(() => t.add(['A.com'], 'again'), /appears in two filter chains/);
});
