// The CEL access-log filter: parsing the whole CEL syntax (and refusing what is not CEL, with
// the offset), evaluating Strait's subset over a StreamInfo with CEL's error semantics, and
// refusing valid CEL outside the subset (the filter then never logs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStreamInfo } from '../../../dataplane/http/stream-info.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { compileCelFilter } from './compile.js';
import { CelSyntaxError, parseCel } from './parse.js';
import { parseCelDuration, responseFlagBit } from './values.js';

function info(o: Partial<StreamInfo> = {}): StreamInfo {
  const s = newStreamInfo(0, 1000);
  Object.assign(s, {
    endMono: 1250,
    method: 'GET',
    path: '/status/418?x=1',
    authority: 'httpbin:8000',
    requestHeaders: { 'user-agent': 'curl/8', 'x-request-id': 'abc', 'x-log-me': 'true' },
    responseCode: 418,
    responseCodeDetails: 'via_upstream',
    upstreamHost: '10.0.0.7:80',
    upstreamCluster: 'outbound|8000||httpbin.default.svc.cluster.local',
    downstreamRemoteAddress: '10.0.0.2:45678',
    downstreamLocalAddress: '10.0.0.9:8000',
    routeName: 'default',
    ...o,
  });
  return s;
}

const http = { http: true };
const evalOn = (expr: string, s: StreamInfo = info()) => compileCelFilter(expr, http).test(s);

test('parses the whole CEL grammar: precedence, members, calls, literals, comments', () => {
  const e = parseCel('a || b && c == 1 + 2 * 3');
  assert.equal(e.kind, 'binary');
  assert.equal(e.kind === 'binary' && e.op, '||');
  for (const ok of [
    "request.headers['x'].startsWith('a') ? [1, 2u, 3.5, -4] : {'k': b'\\x00', 'j': r'\\d'}",
    "x.y.z{a: 1, b: 'two',} // a message\n",
    '.request.path in ["/a", "/b",]',
    '"""multi\nline""" == \'\'\'x\'\'\'',
    '!!true && -(-1) != 0x1F && 1e3 > 2.5e-1',
    "'\\u00e9\\U0001F600\\101' != ''",
  ]) {
    assert.doesNotThrow(() => parseCel(ok), ok);
  }
});

test('refuses what is not CEL, saying where', () => {
  const cases: [string, number, RegExp][] = [
    ['response.code >=', 16, /expected a value/],
    ['response.code => 400', 14, /unexpected character "="/],
    ["request.path == 'x", 16, /unterminated string/],
    ['a ? b', 5, /expected ":"/],
    ['(a', 2, /expected "\)"/],
    ['a = 1', 2, /unexpected character "="/],
    ['if == 1', 0, /reserved word/],
    ['1abc', 1, /after a number/],
    ["'\\q'", 1, /unknown escape/],
    ['', 0, /empty/],
    ['a b', 2, /expected an operator or the end/],
  ];
  for (const [src, offset, re] of cases) {
    assert.throws(
      () => parseCel(src),
      (e: unknown) => e instanceof CelSyntaxError && e.offset === offset && re.test(e.message),
      `${src} → ${re} at ${offset}`,
    );
  }
  assert.throws(() => parseCel('('.repeat(200) + '1' + ')'.repeat(200)), /nests deeper/);
  assert.throws(() => parseCel('a'.repeat(5000)), /longer than/);
});

test('comparisons on response.code, as in Istio\'s task (response.code >= 400)', () => {
  assert.equal(evalOn('response.code >= 400'), true);
  assert.equal(evalOn('response.code >= 400', info({ responseCode: 200 })), false);
  assert.equal(evalOn('response.code == 418 && request.method == "GET"'), true);
  assert.equal(evalOn('response.code != 418'), false);
  assert.equal(evalOn('response.code < 500 && response.code > 399'), true);
  // 400u and 400.0 compare by value with the int code (CEL's heterogeneous numbers).
  assert.equal(evalOn('response.code >= 400u && response.code <= 418.0'), true);
});

test('string attributes, methods and lists', () => {
  assert.equal(evalOn("request.path.startsWith('/status') && request.url_path.endsWith('418')"), true);
  assert.equal(evalOn("request.query == 'x=1' && request.host.contains('bin')"), true);
  assert.equal(evalOn("request.method in ['POST', 'PUT']"), false);
  assert.equal(evalOn("request.method in ['GET', 'HEAD']"), true);
  assert.equal(evalOn('response.code in [404, 418]'), true);
  assert.equal(evalOn("request.path.matches('^/status/[0-9]+')"), true);
  assert.equal(evalOn("size(request.path) == 15 && request.path.size() > 3"), true);
  assert.equal(evalOn("upstream.address == '10.0.0.7:80' && upstream.port == 80 && source.address.startsWith('10.0.0.2:') && source.port == 45678"), true);
  assert.equal(evalOn("xds.cluster_name.startsWith('outbound|8000|') && xds.route_name == 'default'"), true);
  assert.equal(evalOn("response.code_details == 'via_upstream'"), true);
});

test('headers: case-insensitive keys, `in` on the map, a missing header is an error', () => {
  assert.equal(evalOn("request.headers['X-Log-Me'] == 'true'"), true);
  assert.equal(evalOn("'x-log-me' in request.headers"), true);
  assert.equal(evalOn("'x-nope' in request.headers"), false);
  assert.equal(evalOn("request.headers['x-nope'] == 'a'"), false);
  // != on an error is an error too: nothing is logged, as in Envoy.
  assert.equal(evalOn("request.headers['x-nope'] != 'a'"), false);
  assert.equal(evalOn("request.headers[':authority'] == 'httpbin:8000' && request.id == 'abc' && request.useragent == 'curl/8'"), true);
  // A map's field selects its key; a computed key is looked up at run time.
  assert.equal(evalOn("request.headers.x_nope == 'a' || request.headers.accept == 'x'"), false);
  assert.equal(evalOn("request.headers[request.method == 'GET' ? 'x-log-me' : 'x'] == 'true'"), true);
  assert.equal(evalOn("size(request.headers) == 3"), true);
});

test("errors: && and || absorb them when the other side decides; ! and the result do not", () => {
  const noResponse = info({ responseCode: 0 });
  assert.equal(evalOn('response.code >= 400', noResponse), false);
  assert.equal(evalOn('response.code >= 400 || request.method == "GET"', noResponse), true);
  assert.equal(evalOn('request.method == "GET" || response.code >= 400', noResponse), true);
  assert.equal(evalOn('response.code >= 400 && request.method == "POST"', noResponse), false);
  assert.equal(evalOn('!(response.code >= 400)', noResponse), false);
  assert.equal(evalOn('!(response.code >= 400)'), false);
  assert.equal(evalOn('!(response.code >= 500)'), true);
  // Ordering across types is a CEL error (no overload): never logged.
  const c = compileCelFilter("response.code >= '400'", http);
  assert.equal(c.test(info()), false);
  assert.match(c.warnings[0]!.message, /cannot order a int and a string/);
  assert.equal(evalOn("response.code == '418'"), false);
  assert.equal(evalOn('true ? response.code == 418 : false'), true);
});

test('connection.mtls, response.flags as Envoy\'s bit vector, request.duration', () => {
  assert.equal(evalOn('connection.mtls'), false);
  const mtls = info({ peerCertificate: { uriSans: ['spiffe://cluster.local/ns/default/sa/sleep'], dnsSans: [], subject: '', sha256: 'ab', pem: () => '' } });
  assert.equal(evalOn("connection.mtls && connection.uri_san_peer_certificate.endsWith('/sa/sleep')", mtls), true);
  assert.equal(responseFlagBit('UF'), 32);
  assert.equal(evalOn('response.flags == 0'), true);
  assert.equal(evalOn('response.flags == 32', info({ responseFlags: ['UF'] })), true);
  assert.equal(evalOn('response.flags != 0', info({ responseFlags: ['UF', 'URX'] })), true);
  assert.equal(evalOn("request.duration > duration('200ms') && request.duration < duration('1s')"), true);
  assert.equal(evalOn("request.duration >= duration('1m')"), false);
  assert.equal(parseCelDuration('1h2m3.5s')!.ms, 3_723_500);
  assert.equal(parseCelDuration('-250us')!.ms, -0.25);
  assert.equal(parseCelDuration('1d'), undefined);
  assert.equal(parseCelDuration('s'), undefined);
});

test('TCP connections: request.* and response.code are absent, connection attributes present', () => {
  const tcp = { http: false };
  const s = info({ protocol: '' });
  const c = compileCelFilter('response.code >= 400', tcp);
  assert.equal(c.test(s), false);
  assert.match(c.warnings[0]!.message, /does not exist on TCP connections/);
  assert.equal(compileCelFilter('response.code >= 400 || upstream.port == 80', tcp).test(s), true);
  assert.equal(compileCelFilter("request.duration < duration('1s') && response.flags == 0", tcp).test(s), true);
});

test('valid CEL outside the subset is reported with its offset and never logs', () => {
  const cases: [string, number, RegExp][] = [
    ['response.code + 1 > 400', 0, /arithmetic \(\+\)/],
    ["request.time > timestamp('2024-01-01T00:00:00Z')", 0, /attribute request.time is not evaluated/],
    ['respones.code >= 400', 0, /unknown attribute respones.code/],
    ["{'a': 1}['a'] == 1", 0, /map literals/],
    ['response.code.exists(x, x > 1)', 14, /method exists\(\)/],
    ['has(request.headers.x)', 0, /function has\(\)/],
    ["request.path.matches(request.host)", 13, /matches\(\) is evaluated only with a quoted pattern/],
  ];
  for (const [src, offset, re] of cases) {
    const c = compileCelFilter(src, http);
    assert.equal(c.unsupported.length > 0, true, src);
    assert.equal(c.unsupported[0]!.offset, offset, src);
    assert.match(c.unsupported[0]!.message, re, src);
    assert.equal(c.test(info()), false, src);
  }
  assert.throws(() => compileCelFilter('response.code >=', http), CelSyntaxError);
});

test('a non-boolean result and impossible constants are warned about', () => {
  assert.match(compileCelFilter('response.code', http).warnings[0]!.message, /is a int, not a bool/);
  assert.match(compileCelFilter("request.duration > duration('1 day')", http).warnings[0]!.message, /is not a duration/);
  assert.match(compileCelFilter("request.path.matches('(')", http).warnings[0]!.message, /invalid regex/);
  assert.deepEqual(compileCelFilter('response.code >= 400', http).warnings, []);
});
