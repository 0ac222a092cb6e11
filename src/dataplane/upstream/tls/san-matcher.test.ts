import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSanMatchers, parseSubjectAltNames } from './san-matcher.js';

test('parses Node subjectaltname text, including JSON-quoted values and other SAN types', () => {
  assert.deepEqual(parseSubjectAltNames('DNS:a.test, URI:spiffe://td/ns/x/sa/y, IP Address:10.0.0.1, DNS:"b,c.test", email:x@y'), {
    dns: ['a.test', 'b,c.test'],
    uri: ['spiffe://td/ns/x/sa/y'],
  });
  assert.deepEqual(parseSubjectAltNames(undefined), { dns: [], uri: [] });
  assert.deepEqual(parseSubjectAltNames('DNS:only.test'), { dns: ['only.test'], uri: [] });
});

test('exact matchers accept a one-label wildcard SAN; other kinds match the SAN text as written', () => {
  const exact = compileSanMatchers('t', [{ exact: 'API.wild.test', ignoreCase: true }]);
  assert.equal(exact({ dns: ['*.wild.test'], uri: [] }), true);
  assert.equal(exact({ dns: ['*.other.test'], uri: [] }), false);
  const prefix = compileSanMatchers('t', [{ prefix: 'api.' }]);
  assert.equal(prefix({ dns: ['*.wild.test'], uri: [] }), false);
  assert.equal(prefix({ dns: [], uri: ['api.x'] }), true);
});
