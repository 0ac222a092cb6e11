// Config tests for the CORS filter: the empty filter-level Cors, and the CorsPolicy Istio writes
// from a VirtualService's corsPolicy (VS-22), accepted, surviving the xDS wire and compiled to the
// right matchers and defaults; malformed or unsupported policies rejected with the field named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../api.js';
import { filterByTypeUrl } from '../registry.js';
import '../index.js';
import { decodeResource, encodeResource } from '../../../xds/codec.js';
import { checkCorsConfig, compileCorsPolicy, CORS_FILTER_NAME, CORS_POLICY_TYPE_URL, CORS_TYPE_URL, corsFilterFactory } from './config.js';
import type { CompiledCorsPolicy } from './config.js';

const P = { '@type': CORS_POLICY_TYPE_URL };

function rejects(config: Record<string, unknown>, message: RegExp): void {
  assert.throws(() => compileCorsPolicy(config), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

/** What Istio generates for a typical corsPolicy (allowOrigins exact/prefix/regex, unmatchedPreflights IGNORE). */
const ISTIO_POLICY = {
  ...P,
  allowOriginStringMatch: [{ exact: 'https://example.com' }, { prefix: 'https://dev.' }, { safeRegex: { googleRe2: {}, regex: 'https://[a-z]+\\.example\\.org' } }],
  allowMethods: 'GET,POST',
  allowHeaders: 'X-Foo,Content-Type',
  exposeHeaders: 'X-Bar',
  maxAge: '86400',
  allowCredentials: false,
  filterEnabled: { defaultValue: { numerator: 100, denominator: 'HUNDRED' } },
  forwardNotMatchingPreflights: false,
};

test('both type URLs resolve to the CORS factory registered by src/filters/http/index.ts', () => {
  assert.equal(filterByTypeUrl(CORS_TYPE_URL), corsFilterFactory);
  assert.equal(filterByTypeUrl(CORS_POLICY_TYPE_URL), corsFilterFactory);
  assert.equal(corsFilterFactory.name, 'envoy.filters.http.cors');
  assert.equal(CORS_FILTER_NAME, corsFilterFactory.name);
  assert.equal(corsFilterFactory.perRouteTypeUrl, CORS_POLICY_TYPE_URL);
});

test('the filter-level Cors message is empty; anything in it is rejected with where the policy goes', () => {
  checkCorsConfig({ '@type': CORS_TYPE_URL });
  checkCorsConfig({});
  assert.throws(() => checkCorsConfig({ '@type': CORS_TYPE_URL, allowMethods: 'GET' }), /Cors: unknown field "allowMethods" \(the filter-level Cors message has no fields; put the policy on routes as a CorsPolicy in typedPerFilterConfig\["envoy.filters.http.cors"\]\)/);
  assert.throws(() => checkCorsConfig({ '@type': CORS_POLICY_TYPE_URL }), /Cors: @type is ".*CorsPolicy", expected .*\.Cors$/);
});

test("VS-22: Istio's policy compiles to matchers and header values", () => {
  const p = compileCorsPolicy(ISTIO_POLICY);
  assert.equal(p.allowOrigins.length, 3);
  assert.equal(p.allowAllOrigins, false);
  assert.equal(p.allowMethods, 'GET,POST');
  assert.equal(p.allowHeaders, 'X-Foo,Content-Type');
  assert.equal(p.exposeHeaders, 'X-Bar');
  assert.equal(p.maxAge, '86400');
  assert.equal(p.allowCredentials, false);
  assert.equal(p.forwardNotMatchingPreflights, false, 'unmatchedPreflights: IGNORE');
  assert.deepEqual(p.filterEnabled, { numerator: 100, denominator: 100 });
  assert.equal(p.shadowEnabled, null);
});

test("Envoy's defaults: forwardNotMatchingPreflights true, enabled for every request, no shadow, nothing allowed", () => {
  const p = compileCorsPolicy(P);
  assert.equal(p.forwardNotMatchingPreflights, true, 'unmatchedPreflights: FORWARD is the default');
  assert.equal(p.filterEnabled, null);
  assert.equal(p.shadowEnabled, null);
  assert.equal(p.allowCredentials, false);
  assert.equal(p.allowPrivateNetworkAccess, false);
  assert.deepEqual([p.allowMethods, p.allowHeaders, p.exposeHeaders, p.maxAge], ['', '', '', '']);
  assert.equal(p.allowOrigins.length, 0);
  assert.equal(p.allowAllOrigins, false);
});

test('a matcher that accepts the literal "*" allows every origin (Istio writes allowOrigins [{exact: "*"}])', () => {
  assert.equal(compileCorsPolicy({ allowOriginStringMatch: [{ exact: '*' }] }).allowAllOrigins, true);
  assert.equal(compileCorsPolicy({ allowOriginStringMatch: [{ safeRegex: { regex: '.*' } }] }).allowAllOrigins, true);
  assert.equal(compileCorsPolicy({ allowOriginStringMatch: [{ prefix: 'https://' }] }).allowAllOrigins, false);
});

test('StringMatcher kinds: exact, prefix, suffix, contains, full-match RE2 regex, ignoreCase', () => {
  const m = (matcher: Record<string, unknown>) => compileCorsPolicy({ allowOriginStringMatch: [matcher] }).allowOrigins[0]!;
  assert.equal(m({ exact: 'https://a.com' })('https://a.com'), true);
  assert.equal(m({ exact: 'https://a.com' })('https://A.com'), false);
  assert.equal(m({ exact: 'https://a.com', ignoreCase: true })('HTTPS://A.COM'), true);
  assert.equal(m({ prefix: 'https://dev.' })('https://dev.a.com'), true);
  assert.equal(m({ prefix: 'https://dev.' })('http://dev.a.com'), false);
  assert.equal(m({ suffix: '.example.com' })('https://x.example.com'), true);
  assert.equal(m({ suffix: '.example.com' })('https://x.example.com.evil.org'), false);
  assert.equal(m({ contains: 'example', ignoreCase: true })('https://EXAMPLE.org'), true);
  const re = m({ safeRegex: { regex: 'https://[a-z]+\\.example\\.com' } });
  assert.equal(re('https://app.example.com'), true);
  assert.equal(re('https://app.example.com.evil.org'), false, 'safe_regex must match the whole origin');
  assert.equal(re('xhttps://app.example.com'), false);
});

test('the policy Istio sends survives the xDS wire and compiles the same', () => {
  const { '@type': typeUrl, ...rest } = ISTIO_POLICY;
  const wire = decodeResource<Record<string, unknown>>(encodeResource(typeUrl, rest));
  const strip = (p: CompiledCorsPolicy) => ({ ...p, allowOrigins: p.allowOrigins.length });
  assert.deepEqual(strip(compileCorsPolicy(wire)), strip(compileCorsPolicy(ISTIO_POLICY)));
  const full = { allowOriginStringMatch: [{ suffix: '.a.com', ignoreCase: true }], allowPrivateNetworkAccess: true, shadowEnabled: { defaultValue: { numerator: 5, denominator: 'TEN_THOUSAND' }, runtimeKey: 'cors.shadow' } };
  assert.deepEqual(strip(compileCorsPolicy(decodeResource(encodeResource(CORS_POLICY_TYPE_URL, full)))), strip(compileCorsPolicy(full)));
  assert.deepEqual(decodeResource(encodeResource(CORS_TYPE_URL, {})), {});
});

test('rejects malformed origin matchers, naming the entry', () => {
  rejects({ allowOriginStringMatch: [{ exact: 'a' }, { safeRegex: { regex: 'https://(a' } }] }, /^CorsPolicy\.allowOriginStringMatch\[1\]\.safeRegex\.regex: invalid regex "https:\/\/\(a"/);
  rejects({ allowOriginStringMatch: [{ prefix: '' }] }, /CorsPolicy\.allowOriginStringMatch\[0\]\.prefix: must not be empty/);
  rejects({ allowOriginStringMatch: [{ exact: 'a', prefix: 'b' }] }, /allowOriginStringMatch\[0\]: set exactly one of exact, prefix, suffix, contains, safeRegex \(got exact and prefix\)/);
  rejects({ allowOriginStringMatch: [{ ignoreCase: true }] }, /allowOriginStringMatch\[0\]: set exactly one of/);
  rejects({ allowOriginStringMatch: [{ regex: 'a' }] }, /allowOriginStringMatch\[0\]: unknown field "regex" in StringMatcher/);
  rejects({ allowOriginStringMatch: [{ safeRegex: 'a.*' }] }, /allowOriginStringMatch\[0\]\.safeRegex: expected a RegexMatcher object/);
  rejects({ allowOriginStringMatch: [{ custom: { name: 'x' } }] }, /allowOriginStringMatch\[0\]\.custom: custom string matcher extensions are not supported/);
  rejects({ allowOriginStringMatch: [{ exact: 5 }] }, /allowOriginStringMatch\[0\]\.exact: expected a string, got 5/);
  rejects({ allowOriginStringMatch: { exact: 'a' } }, /CorsPolicy\.allowOriginStringMatch: expected a list of StringMatcher/);
  rejects({ allowOriginStringMatch: [{ exact: 'a', ignoreCase: 'yes' }] }, /allowOriginStringMatch\[0\]\.ignoreCase: expected true or false/);
});

test("rejects Istio's VirtualService shape and other fields Envoy's CorsPolicy does not have", () => {
  rejects({ allowOrigins: [{ exact: 'https://a.com' }] }, /^CorsPolicy: unknown field "allowOrigins"$/);
  rejects({ unmatchedPreflights: 'IGNORE' }, /CorsPolicy: unknown field "unmatchedPreflights"/);
  rejects({ allowMethods: ['GET', 'POST'] }, /CorsPolicy\.allowMethods: expected a string, got \["GET","POST"\]/);
  rejects({ maxAge: 86400 }, /CorsPolicy\.maxAge: expected a string, got 86400/);
  rejects({ allowCredentials: 'true' }, /CorsPolicy\.allowCredentials: expected true or false, got "true"/);
  rejects({ forwardNotMatchingPreflights: { value: false } }, /CorsPolicy\.forwardNotMatchingPreflights: expected true or false/);
  rejects({ '@type': CORS_TYPE_URL }, /CorsPolicy: @type is ".*\.Cors", expected .*CorsPolicy/);
});

test('rejects header values that could not be written, and malformed enable percentages', () => {
  rejects({ allowHeaders: 'X-Foo\r\nSet-Cookie: a=b' }, /CorsPolicy\.allowHeaders: .* cannot be sent as a header value/);
  rejects({ exposeHeaders: 'X-\u2028' }, /CorsPolicy\.exposeHeaders: .* cannot be sent as a header value/s);
  rejects({ filterEnabled: { runtimeKey: 'cors.enabled' } }, /CorsPolicy\.filterEnabled\.defaultValue: required/);
  rejects({ filterEnabled: { defaultValue: { numerator: 100, denominator: 'PERCENT' } } }, /CorsPolicy\.filterEnabled\.defaultValue\.denominator: expected HUNDRED, TEN_THOUSAND or MILLION/);
  rejects({ shadowEnabled: { defaultValue: { numerator: 1 }, fraction: 1 } }, /CorsPolicy\.shadowEnabled: unknown field "fraction" in RuntimeFractionalPercent/);
  rejects({ filterEnabled: { defaultValue: { numerator: 1 }, runtimeKey: 7 } }, /CorsPolicy\.filterEnabled\.runtimeKey: expected a string/);
});
