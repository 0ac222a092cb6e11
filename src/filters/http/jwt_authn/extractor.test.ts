// Token locations (RA-05): defaults, prefixes, parameters, cookies, Envoy's order, removal of a
// token that is not forwarded, and removal of headers a client could forge.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFilterStream } from '../test-support.js';
import { Extractor, withoutParam } from './extractor.js';
import type { LocationSpec } from './extractor.js';

const spec = (over: Partial<LocationSpec> = {}): LocationSpec => ({ issuer: 'iss', fromHeaders: [], fromParams: [], fromCookies: [], outputHeaders: [], ...over });
const tokens = (x: Extractor, s: FakeFilterStream) => x.extract(s.request).map((l) => l.token);

test('default locations: Authorization: Bearer, then the access_token parameter', () => {
  const x = new Extractor([spec()]);
  assert.deepEqual(tokens(x, new FakeFilterStream({ headers: { authorization: 'Bearer a.b.c' } })), ['a.b.c']);
  assert.deepEqual(tokens(x, new FakeFilterStream({ path: '/p?x=1&access_token=q.r.s' })), ['q.r.s']);
  assert.deepEqual(tokens(x, new FakeFilterStream({ path: '/p?access_token=q.r.s', headers: { authorization: 'Bearer a.b.c' } })), ['a.b.c', 'q.r.s']);
  assert.deepEqual(tokens(x, new FakeFilterStream()), []);
});

test('a header without the prefix holds no token (bearer, Basic): the request is anonymous', () => {
  const x = new Extractor([spec()]);
  for (const v of ['bearer a.b.c', 'Basic dXNlcjpwdw==', 'a.b.c', 'Bearer']) {
    assert.deepEqual(tokens(x, new FakeFilterStream({ headers: { authorization: v } })), [], v);
  }
});

test("the prefix is found anywhere in the value and the token starts at the next base64url character (Envoy's extractJWT)", () => {
  const x = new Extractor([spec()]);
  assert.deepEqual(tokens(x, new FakeFilterStream({ headers: { authorization: 'Bearer   a.b.c' } })), ['a.b.c']);
  assert.deepEqual(tokens(x, new FakeFilterStream({ headers: { authorization: 'xBearer a.b.c' } })), ['a.b.c']);
  assert.deepEqual(tokens(x, new FakeFilterStream({ headers: { authorization: 'Bearer "a.b.c"' } })), ['a.b.c"']);
  assert.deepEqual(tokens(x, new FakeFilterStream({ headers: { authorization: 'Bearer  ' } })), ['Bearer  '], 'no token character: the whole value, which then fails to parse');
});

test('custom headers and prefixes; an empty prefix takes the whole value; repeated headers give several tokens', () => {
  const x = new Extractor([spec({ fromHeaders: [{ name: 'X-Jwt', valuePrefix: '' }, { name: 'x-auth', valuePrefix: 'Istio ' }] })]);
  const s = new FakeFilterStream({ headers: { 'x-jwt': ['t.o.k', 'u.v.w'], 'x-auth': 'Istio i.j.k', authorization: 'Bearer a.b.c' } });
  assert.deepEqual(tokens(x, s), ['i.j.k', 't.o.k', 'u.v.w'], 'by header name + prefix order; defaults are off once a location is named');
});

test('parameters and cookies, each in name order; the first cookie of a name wins; quotes are dropped', () => {
  const x = new Extractor([spec({ fromParams: ['tok', 'jwt'], fromCookies: ['session', 'auth'] })]);
  const s = new FakeFilterStream({ path: '/?tok=1.2.3&jwt=4.5.6&tok=x', headers: { cookie: 'auth="7.8.9"; session=a.b.c; auth=z' } });
  assert.deepEqual(tokens(x, s), ['4.5.6', '1.2.3', '7.8.9', 'a.b.c']);
});

test("a location records which issuers may use it; an empty issuer allows any", () => {
  const x = new Extractor([spec({ issuer: 'a' }), spec({ issuer: 'b' }), spec({ issuer: 'c', fromParams: ['t'] })]);
  const [loc] = x.extract(new FakeFilterStream({ headers: { authorization: 'Bearer t.t.t' } }).request);
  assert.equal(loc!.isIssuerAllowed('a'), true);
  assert.equal(loc!.isIssuerAllowed('b'), true);
  assert.equal(loc!.isIssuerAllowed('c'), false);
  const any = new Extractor([spec({ issuer: '' })]).extract(new FakeFilterStream({ headers: { authorization: 'Bearer t.t.t' } }).request)[0]!;
  assert.equal(any.isIssuerAllowed('whoever'), true);
});

test('removing a token: a header goes entirely, a parameter leaves the other pairs untouched, a cookie stays (Envoy)', () => {
  const x = new Extractor([spec({ fromHeaders: [{ name: 'authorization', valuePrefix: 'Bearer ' }], fromParams: ['access_token'], fromCookies: ['c'] })]);
  const s = new FakeFilterStream({ path: '/p?a=%20b&access_token=t.t.t&z', headers: { authorization: 'Bearer a.b.c', cookie: 'c=1.2.3' } });
  for (const l of x.extract(s.request)) l.remove(s.request);
  assert.equal(s.request.headers.authorization, undefined);
  assert.equal(s.request.path, '/p?a=%20b&z');
  assert.equal(s.request.headers.cookie, 'c=1.2.3');
});

test('withoutParam: encoded names, last parameter, no query', () => {
  assert.equal(withoutParam('/p?access_token=x', 'access_token'), '/p');
  assert.equal(withoutParam('/p?access%5Ftoken=x&b=1', 'access_token'), '/p?b=1');
  assert.equal(withoutParam('/p', 'access_token'), '/p');
  assert.equal(withoutParam('/p?b=1&access_token=x&access_token=y', 'access_token'), '/p?b=1');
});

test('headers a provider writes are removed from the incoming request before verification', () => {
  const x = new Extractor([spec({ outputHeaders: ['x-jwt-payload', 'X-Sub'] })]);
  const s = new FakeFilterStream({ headers: { 'x-jwt-payload': 'forged', 'x-sub': 'admin', 'x-other': 'kept' } });
  x.sanitizeHeaders(s.request.headers);
  assert.equal(s.request.headers['x-jwt-payload'], undefined);
  assert.equal(s.request.headers['x-sub'], undefined);
  assert.equal(s.request.headers['x-other'], 'kept');
});
