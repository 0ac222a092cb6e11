import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headersFromRaw, MAX_DELAY_MS, parseControlPath, splitTarget } from './request-info.js';

test('headersFromRaw: lower-cased names, repeats kept in order as arrays, pseudo-headers left out', () => {
  const h = headersFromRaw([
    ':path', '/x', 'Host', 'a.example', 'User-Agent', 'one', 'user-agent', 'two',
    'X-Multi', '1', 'x-multi', '2', 'X-MULTI', '3', '__proto__', 'p',
  ]);
  assert.deepEqual(h, {
    host: 'a.example',
    'user-agent': ['one', 'two'],
    'x-multi': ['1', '2', '3'],
    ['__proto__']: 'p',
  });
  assert.equal(Object.getPrototypeOf(h), Object.prototype);
});

test('splitTarget: path without the query; repeated keys become arrays; absolute form keeps its path', () => {
  assert.deepEqual(splitTarget('/a/b?x=1&y=&x=2&z=a%20b&w=c+d&flag'), {
    path: '/a/b',
    query: { x: ['1', '2'], y: '', z: 'a b', w: 'c d', flag: '' },
  });
  assert.deepEqual(splitTarget('/plain'), { path: '/plain', query: {} });
  assert.deepEqual(splitTarget('http://backend:8080/p/q?k=v'), { path: '/p/q', query: { k: 'v' } });
  // Paths are reported as received: no normalisation (the mesh's own doing must stay visible).
  assert.equal(splitTarget('/a/../b//c%2F').path, '/a/../b//c%2F');
  assert.equal(splitTarget('*').path, '*');
});

test('parseControlPath: /status/<code>', () => {
  assert.deepEqual(parseControlPath('/status/503'), { status: 503 });
  assert.deepEqual(parseControlPath('/status/200'), { status: 200 });
  assert.deepEqual(parseControlPath('/status/599'), { status: 599 });
  for (const bad of ['/status/abc', '/status/', '/status/600', '/status/099', '/status/20', '/status/2000', '/status/503/x', '/status/-1']) {
    assert.ok('error' in parseControlPath(bad), bad);
  }
  // 1xx cannot be a final response; refused rather than desynchronising the connection.
  assert.match((parseControlPath('/status/100') as { error: string }).error, /1xx/);
});

test('parseControlPath: /delay/<ms> capped at one minute; other paths are plain echoes', () => {
  assert.deepEqual(parseControlPath('/delay/0'), { delayMs: 0 });
  assert.deepEqual(parseControlPath('/delay/250'), { delayMs: 250 });
  assert.deepEqual(parseControlPath('/delay/99999999999999999999'), { delayMs: MAX_DELAY_MS });
  for (const bad of ['/delay/x', '/delay/', '/delay/1.5', '/delay/-5', '/delay/10/extra']) {
    assert.ok('error' in parseControlPath(bad), bad);
  }
  assert.deepEqual(parseControlPath('/'), {});
  assert.deepEqual(parseControlPath('/statusx/500'), {});
  assert.deepEqual(parseControlPath('/status'), {});
});
