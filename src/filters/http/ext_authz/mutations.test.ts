// Query-parameter changes an allowed gRPC check asks for (ok_response.query_parameters_to_set /
// _to_remove): order and encoding of the others kept, repeats of a set key collapsed, new keys
// appended, the path without a query left as it was when nothing changes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFilterStream } from '../test-support.js';
import { mutateQuery } from './mutations.js';

function rewrite(path: string, set: [string, string][], remove: string[]): string {
  const s = new FakeFilterStream({ path });
  mutateQuery(s.request, set, remove);
  return s.request.path;
}

const CASES: [string, string, [string, string][], string[], string][] = [
  ['nothing to do', '/a?x=1', [], [], '/a?x=1'],
  ['set an existing key, keep the others in order', '/a?x=1&y=2&z=3', [['y', 'new']], [], '/a?x=1&y=new&z=3'],
  ['set collapses repeats of the key', '/a?y=1&x=2&y=3', [['y', 'v']], [], '/a?y=v&x=2'],
  ['set a new key on a path without a query', '/a', [['k', 'a b&c']], [], '/a?k=a%20b%26c'],
  ['remove every occurrence, by decoded name', '/a?x=1&sp%20ace=2&x=3&keep', [], ['x', 'sp ace'], '/a?keep'],
  ['remove the last parameter drops the ?', '/a?x=1', [], ['x'], '/a'],
  ['remove then set', '/a?x=1&y=2', [['x', '9']], ['x'], '/a?y=2&x=9'],
];

for (const [what, path, set, remove, want] of CASES) {
  test(`query: ${what}`, () => {
    assert.equal(rewrite(path, set, remove), want);
  });
}
