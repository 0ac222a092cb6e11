import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXfcc, xfccIdentity } from './xfcc.js';

test('parses the header an Istio sidecar sets', () => {
  const els = parseXfcc(
    'By=spiffe://cluster.local/ns/default/sa/httpbin;Hash=4a7b;Subject="";URI=spiffe://cluster.local/ns/default/sa/sleep',
  );
  assert.deepEqual(els, [{
    by: ['spiffe://cluster.local/ns/default/sa/httpbin'],
    hash: ['4a7b'],
    subject: [''],
    uri: ['spiffe://cluster.local/ns/default/sa/sleep'],
  }]);
  assert.equal(xfccIdentity(els), 'spiffe://cluster.local/ns/default/sa/sleep');
});

test('quoted values keep their commas, semicolons, equals signs and escaped quotes', () => {
  const els = parseXfcc('Subject="CN=a, O=b;c";URI=spiffe://x/ns/n/sa/s;Cert="-----BEGIN \\"q\\"-----"');
  assert.equal(els.length, 1);
  assert.deepEqual(els[0].subject, ['CN=a, O=b;c']);
  assert.deepEqual(els[0].cert, ['-----BEGIN "q"-----']);
  assert.deepEqual(els[0].uri, ['spiffe://x/ns/n/sa/s']);
});

test('several elements: the identity is the last one (the hop nearest the workload)', () => {
  const els = parseXfcc('By=spiffe://gw;URI=spiffe://far/client, By=spiffe://me;URI=spiffe://near/client');
  assert.equal(els.length, 2);
  assert.equal(xfccIdentity(els), 'spiffe://near/client');
  // An element without a URI means the direct peer had none, whatever earlier hops said.
  assert.equal(xfccIdentity(parseXfcc('URI=spiffe://far/client,By=spiffe://me;Hash=ab')), null);
});

test('repeated keys collect every value; keys are case-insensitive; spaces around pairs are padding', () => {
  const els = parseXfcc(' by = spiffe://me ; DNS=a.example ; dns= b.example ;uri="spiffe://x" ');
  assert.deepEqual(els, [{ by: ['spiffe://me'], dns: ['a.example', 'b.example'], uri: ['spiffe://x'] }]);
});

test('malformed input never throws and yields what can be read', () => {
  assert.deepEqual(parseXfcc(''), []);
  assert.deepEqual(parseXfcc(',;,'), []);
  assert.deepEqual(parseXfcc('novalue;URI=spiffe://x'), [{ novalue: [''], uri: ['spiffe://x'] }]);
  assert.deepEqual(parseXfcc('=orphan;URI=spiffe://x'), [{ uri: ['spiffe://x'] }]);
  // An unterminated quote runs to the end, swallowing what would have been separators.
  assert.deepEqual(parseXfcc('Subject="CN=a,URI=spiffe://x'), [{ subject: ['CN=a,URI=spiffe://x'] }]);
  // A key such as __proto__ is data, not a prototype change.
  const [el] = parseXfcc('__proto__=x;URI=spiffe://y');
  assert.deepEqual(el.__proto__, ['x']);
  assert.equal(xfccIdentity([el]), 'spiffe://y');
  assert.equal(xfccIdentity([]), null);
});
