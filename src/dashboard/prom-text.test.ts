import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLine, parsePrometheusText } from './prom-text.js';

test('a sample line with labels, escapes and a timestamp', () => {
  assert.deepEqual(parseLine('istio_requests_total{reporter="source",path="a\\"b\\\\c\\nd",empty=""} 12 1700000000000'), {
    name: 'istio_requests_total',
    labels: { reporter: 'source', path: 'a"b\\c\nd', empty: '' },
    value: 12,
  });
  assert.deepEqual(parseLine('up 1'), { name: 'up', labels: {}, value: 1 });
  assert.equal(parseLine('x{le="+Inf"} +Inf')!.value, Infinity);
  assert.ok(Number.isNaN(parseLine('x NaN')!.value));
  assert.equal(parseLine('x{a="b} 1'), null);
  assert.equal(parseLine('x{a="b"}'), null);
});

test('only the families asked for are read; comments and blank lines are skipped', () => {
  const text = '# HELP a help\n# TYPE a counter\na{x="1"} 3\n\nb 4\nab 5\n';
  assert.deepEqual(parsePrometheusText(text, ['a{']).map((s) => s.value), [3]);
  assert.deepEqual(parsePrometheusText(text).map((s) => s.name), ['a', 'b', 'ab']);
});
