// The RBAC building blocks against Envoy's semantics, table by table: StringMatcher (ASCII
// ignore_case), HeaderMatcher (missing headers, invert, present, pseudo-headers, joined values),
// Metadata/ValueMatcher over the JWT payload shape Istio reads, URI templates, and permissions and
// principals over one request (IP sources, ports, SNI, peer certificate SAN order), including the
// TCP case where the request is null.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../api.js';
import type { FilterRequest } from '../api.js';
import type { PeerCertificate } from '../../../dataplane/http/stream-info.js';
import { FakeFilterStream } from '../test-support.js';
import { compileRbacEngine, engineAllows } from './engine.js';
import { compileHeaderMatcher } from './header-matcher.js';
import { compilePermission, compilePrincipal } from './matchers.js';
import { compileStringMatcher } from './string-matcher.js';
import { compileUriTemplate, uriTemplateRegex } from './uri-template.js';
import { compileMetadataMatcher } from './value-matcher.js';

function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

function stream(opts: ConstructorParameters<typeof FakeFilterStream>[0] = {}, info: Partial<FakeFilterStream['info']> = {}): FakeFilterStream {
  const s = new FakeFilterStream(opts);
  Object.assign(s.info, { downstreamLocalAddress: '10.0.0.5:8080', downstreamRemoteAddress: '10.0.0.9:41000' }, info);
  return s;
}

const cert = (uriSans: string[], dnsSans: string[] = [], subject = 'CN=x'): PeerCertificate => ({ uriSans, dnsSans, subject, sha256: '00', pem: () => '' });

test('StringMatcher: exact, prefix, suffix, contains, ASCII-only ignoreCase, full-match RE2', () => {
  const m = (o: Record<string, unknown>) => compileStringMatcher(o, 'm');
  assert.equal(m({ exact: '/admin' })('/admin'), true);
  assert.equal(m({ exact: '/admin' })('/Admin'), false);
  assert.equal(m({ exact: '/admin', ignoreCase: true })('/ADMIN'), true);
  assert.equal(m({ exact: '/admin', ignoreCase: true })('/ADMINS'), false);
  assert.equal(m({ exact: '' })(''), true);
  assert.equal(m({ prefix: '/Api/', ignoreCase: true })('/API/v1'), true);
  assert.equal(m({ suffix: '.COM', ignoreCase: true })('a.example.com'), true);
  assert.equal(m({ contains: 'Token', ignoreCase: true })('x-tOKEN-y'), true);
  assert.equal(m({ contains: 'Token', ignoreCase: true })('x-tok'), false);
  assert.equal(m({ exact: 'é', ignoreCase: true })('É'), false, 'Envoy folds ASCII only');
  assert.equal(m({ safeRegex: { regex: 'spiffe://.+/ns/foo/(.+/|)sa/bar(/.+)?' } })('spiffe://cluster.local/ns/foo/sa/bar'), true);
  assert.equal(m({ safeRegex: { regex: 'spiffe://.+/ns/foo/(.+/|)sa/bar(/.+)?' } })('spiffe://cluster.local/ns/foo/sa/barx'), false);
  assert.equal(m({ safeRegex: { googleRe2: {}, regex: 'a+' }, ignoreCase: true })('A'), false, 'ignoreCase does not apply to regexes');
  rejects(() => m({ prefix: '' }), /m\.prefix: must not be empty/);
  rejects(() => m({ exact: 'a', suffix: 'b' }), /set exactly one of exact, prefix, suffix, contains, safeRegex \(got exact and suffix\)/);
  rejects(() => m({ safeRegex: { regex: '(' } }), /m\.safeRegex\.regex: invalid regex/);
  rejects(() => m({ custom: {} }), /m\.custom: custom string matcher extensions are not supported/);
});

test('HeaderMatcher: a missing header never matches, even inverted; present_match flips with invert', () => {
  const req = stream({ method: 'POST', path: '/a?b=1', authority: 'Shop.example', headers: { 'x-token': 'admin', 'x-multi': ['a', 'b'] } }).request;
  const h = (o: Record<string, unknown>) => compileHeaderMatcher(o, 'h');
  assert.equal(h({ name: 'x-token', stringMatch: { exact: 'admin' } })(req), true);
  assert.equal(h({ name: 'X-Token', stringMatch: { exact: 'admin' } })(req), true, 'names are case-insensitive');
  assert.equal(h({ name: 'x-token', stringMatch: { exact: 'admin' }, invertMatch: true })(req), false);
  assert.equal(h({ name: 'x-none', stringMatch: { exact: 'admin' }, invertMatch: true })(req), false, 'missing + invert: no match');
  assert.equal(h({ name: 'x-none', stringMatch: { exact: '' }, treatMissingHeaderAsEmpty: true })(req), true);
  assert.equal(h({ name: 'x-none', presentMatch: true })(req), false);
  assert.equal(h({ name: 'x-none', presentMatch: true, invertMatch: true })(req), true);
  assert.equal(h({ name: 'x-token', presentMatch: false })(req), false);
  assert.equal(h({ name: 'x-token' })(req), true, 'no specifier: presence');
  assert.equal(h({ name: 'x-multi', exactMatch: 'a,b' })(req), true, 'values joined with ","');
  assert.equal(h({ name: ':method', stringMatch: { exact: 'POST' } })(req), true);
  assert.equal(h({ name: ':path', prefixMatch: '/a?b' })(req), true, ':path keeps the query');
  assert.equal(h({ name: ':authority', stringMatch: { exact: 'shop.example', ignoreCase: true } })(req), true);
  assert.equal(h({ name: ':scheme', exactMatch: 'http' })(req), true);
  assert.equal(h({ name: 'x-n', rangeMatch: { start: '0', end: '10' } })(stream({ headers: { 'x-n': '9' } }).request), true);
  assert.equal(h({ name: 'x-n', rangeMatch: { start: 0, end: 10 } })(stream({ headers: { 'x-n': '10' } }).request), false);
  assert.equal(h({ name: 'x-n', rangeMatch: { start: 0, end: 10 } })(stream({ headers: { 'x-n': '1e1' } }).request), false);
  assert.equal(h({ name: 'x-token', safeRegexMatch: { regex: 'ad.*' } })(req), true);
  assert.equal(h({ name: 'x-token', containsMatch: 'dmi' })(req), true);
  assert.equal(h({ name: 'x-token', presentMatch: true })(null), false, 'TCP: no headers');
  rejects(() => h({ name: '' }), /h\.name: expected a header name/);
  rejects(() => h({ name: 'a', exactMatch: 'x', prefixMatch: 'y' }), /set at most one of/);
  rejects(() => h({ name: 'a', prefixMatch: '' }), /h\.prefixMatch: must not be empty/);
});

test('Metadata matchers over the JWT payload as Istio reads it (request.auth.* → jwt_authn payload)', () => {
  const s = stream();
  s.info.dynamicMetadata['envoy.filters.http.jwt_authn'] = {
    payload: { iss: 'testing@secure.istio.io', sub: 'testing@secure.istio.io', aud: ['a1', 'a2'], azp: 'web', groups: ['group1', 'group2'], nested: { level: 'deep' }, n: 3, ok: true, nil: null },
  };
  const md = (path: string[], value: Record<string, unknown>, invert?: boolean) =>
    compileMetadataMatcher({ filter: 'envoy.filters.http.jwt_authn', path: path.map((key) => ({ key })), value, ...(invert === undefined ? {} : { invert }) }, 'm')(s.info);
  const strOrList = (v: string) => ({ orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch: { exact: v } } } }, { stringMatch: { exact: v } }] } });
  assert.equal(md(['payload', 'iss'], { stringMatch: { exact: 'testing@secure.istio.io' } }), true);
  assert.equal(md(['payload', 'groups'], strOrList('group1')), true, 'list claims match if any element matches (TASK-13)');
  assert.equal(md(['payload', 'groups'], strOrList('group3')), false);
  assert.equal(md(['payload', 'azp'], strOrList('web')), true, 'a string claim matches the plain string branch');
  assert.equal(md(['payload', 'nested', 'level'], { stringMatch: { exact: 'deep' } }), true);
  assert.equal(md(['payload', 'missing'], { presentMatch: true }), false);
  assert.equal(md(['payload', 'missing'], { presentMatch: true }, true), true, 'invert');
  assert.equal(md(['payload', 'iss', 'deeper'], { presentMatch: true }), false, 'a path through a string ends the walk');
  assert.equal(md(['payload', 'n'], { doubleMatch: { range: { start: 1, end: 3 } } }), false, 'ranges are half-open');
  assert.equal(md(['payload', 'n'], { doubleMatch: { exact: 3 } }), true);
  assert.equal(md(['payload', 'ok'], { boolMatch: true }), true);
  assert.equal(md(['payload', 'nil'], { nullMatch: {} }), true);
  assert.equal(md(['payload', 'iss'], { presentMatch: false }), false, 'present_match false matches nothing');
  assert.equal(compileMetadataMatcher({ filter: 'istio_authn', path: [{ key: 'request.auth.principal' }], value: { stringMatch: { exact: 'x' } } }, 'm')(s.info), false, 'another namespace: not set');
  rejects(() => compileMetadataMatcher({ filter: 'f', path: [], value: { presentMatch: true } }, 'm'), /m\.path: at least one segment/);
  rejects(() => compileMetadataMatcher({ filter: 'f', path: [{ key: 'a' }] }, 'm'), /m\.value: required/);
  rejects(() => compileMetadataMatcher({ filter: 'f', path: [{ key: 'a' }], value: { orMatch: { valueMatchers: [{ boolMatch: true }] } } }, 'm'), /valueMatchers: at least two/);
  rejects(() => compileMetadataMatcher({ filter: 'f', path: [{ key: 'a' }], value: { stringMatch: { exact: 'a' }, boolMatch: true } }, 'm'), /set exactly one of/);
});

test('URI templates compile as Envoy compiles them (Istio paths with {*} and {**})', () => {
  const t = (p: string) => compileUriTemplate(p, 't');
  assert.equal(t('/path/template/*')('/path/template/x'), true);
  assert.equal(t('/path/template/*')('/path/template/x/y'), false, '* is one segment');
  assert.equal(t('/path/template/*')('/path/template/'), false, '* is one or more characters');
  assert.equal(t('/path/template/**')('/path/template/x/y'), true);
  assert.equal(t('/**/path/template')('/a/b/path/template'), true);
  assert.equal(t('/**/path/template')('/path/template'), false, 'the literal / after ** stays');
  assert.equal(t('/**.mpd')('/content/123/manifest.mpd?x=1'), true, 'the query is ignored');
  assert.equal(t('/videos/{file}')('/videos/a.m4s'), true);
  assert.equal(t('/v/{rest=**}')('/v/a/b'), true);
  assert.equal(t('/a.b/*')('/axb/c'), false, 'literal dots are escaped');
  assert.equal(uriTemplateRegex('/x/*', 't'), "/x/[a-zA-Z0-9\\-._~%!$&'()+,;:@=]+");
  rejects(() => t('/**/*'), /no operator may follow \*\*/);
  rejects(() => t('//a'), /double slashes/);
  rejects(() => t('/a b'), /printable ASCII/);
  rejects(() => t('/{a}/{a}'), /repeated variable/);
  rejects(() => t('/a[b]'), /invalid literal "a\[b\]"/);
  rejects(() => t('no-slash'), /must start with \//);
});

test('permissions: paths without query, ports, destination IPs, SNI, and/or/not, on HTTP and TCP', () => {
  const s = stream({ path: '/admin/x?y=1' }, { requestedServerName: 'api.example.com' });
  const p = (o: Record<string, unknown>, req: FilterRequest | null = s.request) => compilePermission(o, 'p')(req, s.info);
  assert.equal(p({ urlPath: { path: { prefix: '/admin/' } } }), true);
  assert.equal(p({ urlPath: { path: { exact: '/admin/x' } } }), true, 'the query is not part of url_path');
  assert.equal(p({ urlPath: { path: { exact: '/admin/x' } } }, null), false, 'TCP: HTTP-only permissions never match');
  assert.equal(p({ destinationPort: 8080 }, null), true);
  assert.equal(p({ destinationPortRange: { start: 8000, end: 8080 } }), false, 'half-open');
  assert.equal(p({ destinationPortRange: { start: 8000, end: 8081 } }), true);
  assert.equal(p({ destinationIp: { addressPrefix: '10.0.0.0', prefixLen: 24 } }), true);
  assert.equal(p({ requestedServerName: { suffix: '.example.com' } }), true);
  assert.equal(p({ andRules: { rules: [{ destinationPort: 8080 }, { notRule: { urlPath: { path: { prefix: '/public' } } } }] } }), true);
  assert.equal(p({ orRules: { rules: [{ destinationPort: 1 }, { destinationPort: 2 }] } }), false);
  assert.equal(p({ any: true }), true);
  assert.equal(p({ uriTemplate: { name: 'uri-template', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig', pathTemplate: '/admin/*' } } }), true);
  assert.equal(p({ metadata: { filter: 'envoy.filters.a.b', path: [{ key: 'c' }], value: { stringMatch: { exact: 'v' } } } }), false);
  rejects(() => p({ any: false }), /p\.any: must be true/);
  rejects(() => p({ andRules: { rules: [] } }), /p\.andRules\.rules: at least one entry/);
  rejects(() => p({ destinationPortRange: { start: 80, end: 80 } }), /start 80 must be less than end 80/);
  rejects(() => p({ matcher: { name: 'x' } }), /p\.matcher: RBAC matcher extensions are not supported/);
  rejects(() => p({ destinationPort: 70000 }), /p\.destinationPort: expected an integer in \[0, 65535\]/);
  rejects(() => p({ methods: ['GET'] }), /unknown field "methods" in Permission/);
});

test('principals: SAN order (URI, then DNS, then subject), IP sources, and the unauthenticated peer', () => {
  const s = stream({ remoteAddress: '192.168.1.7' }, { downstreamRemoteAddress: '203.0.113.5:0', peerCertificate: cert(['spiffe://cluster.local/ns/default/sa/sleep'], ['sleep.default.svc'], 'CN=sleep,O=mesh') });
  const pr = (o: Record<string, unknown>, req: FilterRequest | null = s.request) => compilePrincipal(o, 'p')(req, s.info);
  const auth = (principalName: Record<string, unknown>) => pr({ authenticated: { principalName } });
  assert.equal(auth({ exact: 'spiffe://cluster.local/ns/default/sa/sleep' }), true);
  assert.equal(auth({ exact: 'sleep.default.svc' }), true, 'a DNS SAN is tried when no URI SAN matches');
  assert.equal(auth({ exact: 'CN=sleep,O=mesh' }), true, 'then the subject');
  assert.equal(auth({ prefix: 'spiffe://other/' }), false);
  assert.equal(pr({ authenticated: {} }), true, 'no principal_name: any authenticated peer');
  const anonymous = stream();
  assert.equal(compilePrincipal({ authenticated: {} }, 'p')(anonymous.request, anonymous.info), false, 'no verified peer certificate: not authenticated');
  assert.equal(pr({ directRemoteIp: { addressPrefix: '192.168.1.0', prefixLen: 24 } }), true, 'direct_remote_ip is the socket peer');
  assert.equal(pr({ sourceIp: { addressPrefix: '192.168.1.7', prefixLen: 32 } }), true);
  assert.equal(pr({ remoteIp: { addressPrefix: '203.0.113.0', prefixLen: 24 } }), true, 'remote_ip is the client address the HCM settled on');
  assert.equal(pr({ remoteIp: { addressPrefix: '192.168.1.0', prefixLen: 24 } }), false);
  assert.equal(pr({ directRemoteIp: { addressPrefix: '203.0.113.5', prefixLen: 32 } }, null), true, 'TCP: the peer comes from the connection');
  assert.equal(pr({ header: { name: 'x-a', presentMatch: true, invertMatch: true } }), true);
  assert.equal(pr({ notId: { any: true } }), false);
  rejects(() => pr({ filterState: { key: 'io.istio.peer_principal' } }), /p\.filterState: filter_state principals are not supported/);
});

test('engine: policies in name order, ALLOW / DENY / LOG, and no policies under ALLOW denies all', () => {
  const s = stream({ method: 'GET' });
  const policy = (method: string) => ({ permissions: [{ header: { name: ':method', stringMatch: { exact: method } } }], principals: [{ any: true }] });
  const e = compileRbacEngine({ action: 'DENY', policies: { 'z-get': policy('GET'), 'a-get': policy('GET'), 'm-post': policy('POST') } }, 'rules');
  assert.deepEqual(e.policyNames, ['a-get', 'm-post', 'z-get']);
  assert.equal(e.firstMatch(s.request, s.info), 0, 'the first matching name wins, as in Envoy');
  assert.equal(engineAllows(e, 0), false);
  const allowNothing = compileRbacEngine({}, 'rules');
  assert.equal(allowNothing.action, 'ALLOW');
  assert.equal(engineAllows(allowNothing, allowNothing.firstMatch(s.request, s.info)), false, 'AZ-03: spec {} allows nothing');
  const log = compileRbacEngine({ action: 'LOG', policies: { p: policy('POST') } }, 'rules');
  assert.equal(engineAllows(log, log.firstMatch(s.request, s.info)), true);
  rejects(() => compileRbacEngine({ action: 'AUDIT' }, 'rules'), /rules\.action: expected ALLOW, DENY or LOG/);
  rejects(() => compileRbacEngine({ policies: { p: { permissions: [{ any: true }], principals: [] } } }, 'rules'), /rules\.policies\["p"\]\.principals: at least one principal/);
  rejects(() => compileRbacEngine({ policies: { p: { permissions: [{ any: true }], principals: [{ any: true }], condition: {} } } }, 'rules'), /condition: CEL conditions are not supported/);
});
