// Path normalisation against the tables Envoy and Istio test themselves with: Envoy's
// path_utility_test (canonicalPath, mergeSlashes, unescapeSlashes, dot segments with parameters,
// removePathParameters) and Istio's tests/integration/security/normalization_test.go (what the
// upstream sees under each meshConfig.pathNormalization, including every `%01`..`%ff` escape).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalPath, mergeSlashes, normalizeRequestPath, removePathParameters, stripDotSegmentParameters, unescapeSlashes } from './path-normalization.js';
import type { PathNormalization } from './path-normalization.js';

test('canonicalPath: already normal paths come back as the same string', () => {
  for (const p of ['/xyz', '/x/y/z', '/index.html', '/a.b/c.d?x=/../y', '/a;b=c/d', '/~user/_x-y']) assert.equal(canonicalPath(p), p);
});

test('canonicalPath: invalid paths (NUL, raw or escaped) are refused', () => {
  for (const p of ['/xyz/.%00../abc', '/xyz/%00.%00./abc', '/xyz/AAAAA%%0000/abc', '/admin%00', '/a\u0000b']) assert.equal(canonicalPath(p), null, p);
});

test("canonicalPath: Envoy's NormalizeValidPaths and NormalizeCasePath", () => {
  const rows: [string, string][] = [
    ['/a/b/../c', '/a/c'],
    ['/a/b/./c', '/a/b/c'],
    ['a/b/../c', '/a/c'],
    ['/a/b/../../../../c', '/c'],
    ['/a/..\\c', '/c'],
    ['/%c0%af', '/%c0%af'],
    ['/%5c%25', '/%5c%25'],
    ['/a/b/%2E%2E/c', '/a/c'],
    ['/xyz/..;foo=bar/abc', '/abc'],
    ['/..;foo=bar/abc', '/abc'],
    ['/xyz/..;foo=bar', '/'],
    ['/xyz/.;foo=bar/abc', '/xyz/abc'],
    ['/.;foo=bar/abc', '/abc'],
    ['/xyz/.;foo=bar', '/xyz/'],
    ['/xyz/..;foo=bar/.;v1=2,v2=3/abc', '/abc'],
    ['/..;foo=bar/abc/.;mmm', '/abc/'],
    ['/.;aaa/..;foo=bar/abc/.;mmm', '/abc/'],
    ['/xyz/..;foo=bar/.;fff=zzz', '/'],
    ['/xyz/..;foo=bar/.;fff=zzz?blah=woops', '/?blah=woops'],
    ['/xyz/..;foo=bar/.;fff=zzz/remain;blah-bluh?query', '/remain;blah-bluh?query'],
    ['/public/%2e%2e;/admin', '/admin'],
    ['/A/B/C', '/A/B/C'],
    ['/a/b/%2e%2e/c', '/a/c'],
    ['/a/%2F%2f/c', '/a/%2F%2f/c'],
    // Characters that may not appear raw are escaped, upper-case hex; nested escapes are defused.
    ['/a"b<c>', '/a%22b%3Cc%3E'],
    ['/a{b}|c^d`e', '/a%7Bb%7D%7Cc%5Ed%60e'],
    ['/%%30%30', '/%2500'],
    ['/%zz/%4', '/%zz/%4'],
  ];
  for (const [input, want] of rows) assert.equal(canonicalPath(input), want, input);
});

test('mergeSlashes, unescapeSlashes, stripDotSegmentParameters, removePathParameters: Envoy rows', () => {
  const merge: [string, string][] = [
    ['', ''],
    ['a//b/c', 'a/b/c'],
    ['/a//b/c/', '/a/b/c/'],
    ['/a', '/a'],
    ['//a/b/c', '/a/b/c'],
    ['/a/b/c//', '/a/b/c/'],
    ['/a////b/c', '/a/b/c'],
    ['/a//b?a=///c', '/a/b?a=///c'],
    ['/a//b?', '/a/b?'],
    ['//a/?b', '/a/?b'],
  ];
  for (const [i, o] of merge) assert.equal(mergeSlashes(i), o, i);
  const unescape: [string, string][] = [
    ['%2f%2F', '//'],
    ['/a%2Fb%2fc/', '/a/b/c/'],
    ['%2b', '%2b'],
    ['/abc%2', '/abc%2'],
    ['foo%', 'foo%'],
    ['%%2fa/', '%/a/'],
    ['%2%2fa/', '%2/a/'],
    ['%5c%5C', '\\\\'],
    ['/x/%2E%2e/z%2f%2Fabc%5C../def', '/x/%2E%2e/z//abc\\../def'],
    ['%2fa%5Cb%2fc%5c?%2fabcd%5C%%2f%', '/a\\b/c\\?%2fabcd%5C%%2f%'],
  ];
  for (const [i, o] of unescape) assert.equal(unescapeSlashes(i), o, i);
  const dots: [string, string][] = [
    ['/xyz/..;foo=bar/abc', '/xyz/../abc'],
    ['/a/..;param1;param2/b', '/a/../b'],
    ['/xyz/...;foo', '/xyz/...;foo'],
    ['/xyz/remove/..;foo?param=/.;foo', '/xyz/remove/..?param=/.;foo'],
    ['/xyz/remove/..;foo#frag=/.;foo', '/xyz/remove/..#frag=/.;foo'],
    ['/xyz/.;', '/xyz/.'],
    ['/xyz/.foo', '/xyz/.foo'],
    // Strait: escaped dots too (Envoy leaves these, and a servlet backend resolves them).
    ['/public/%2e%2e;/admin', '/public/%2e%2e/admin'],
    ['/public/.%2E;x=1/admin', '/public/.%2E/admin'],
    ['/a/%2e;/b', '/a/%2e/b'],
    ['/a/%2e%2e%2e;/b', '/a/%2e%2e%2e;/b'],
  ];
  for (const [i, o] of dots) assert.equal(stripDotSegmentParameters(i), o, i);
  const params: [string, string][] = [
    ['/abc/def?param=1;2', '/abc/def?param=1;2'],
    ['/abc;param=1/def', '/abc/def'],
    ['/abc;p1=1/def;p2=2', '/abc/def'],
    ['/abc;;p=1/def', '/abc/def'],
    ['/abc/;p=1/def', '/abc//def'],
    ['/abc;p=1', '/abc'],
    ['/abc;p=1/def?q=1#f;2', '/abc/def?q=1#f;2'],
  ];
  for (const [i, o] of params) assert.equal(removePathParameters(i), o, i);
});

const BASE: PathNormalization = { normalizePath: true, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED' };
const MODES: Record<string, PathNormalization> = {
  NONE: { normalizePath: false, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED' },
  BASE,
  MERGE_SLASHES: { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' },
  DECODE_AND_MERGE_SLASHES: { normalizePath: true, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_FORWARD' },
};

function forwarded(cfg: PathNormalization, input: string): string {
  const r = normalizeRequestPath(cfg, input);
  if (typeof r === 'string') return r;
  return r.kind === 'reject' ? '400' : `307 ${r.path}`;
}

test("Istio's normalization table: what the upstream sees under each pathNormalization", () => {
  // istio/istio tests/integration/security/normalization_test.go, in, then NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES.
  const rows: [string, string, string, string, string][] = [
    ['/', '/', '/', '/', '/'],
    ['/app#foo', '/app', '/app', '/app', '/app'],
    ['/app/', '/app/', '/app/', '/app/', '/app/'],
    ['/app/../admin', '/app/../admin', '/admin', '/admin', '/admin'],
    ['/app//', '/app//', '/app//', '/app/', '/app/'],
    ['/app/%2f', '/app/%2f', '/app/%2f', '/app/%2f', '/app/'],
    ['/app%2f/', '/app%2f/', '/app%2f/', '/app%2f/', '/app/'],
    ['/xyz%30..//abc', '/xyz%30..//abc', '/xyz0..//abc', '/xyz0../abc', '/xyz0../abc'],
    ['/app/%2E./admin', '/app/%2E./admin', '/admin', '/admin', '/admin'],
    ['/app\\admin', '/app\\admin', '/app/admin', '/app/admin', '/app/admin'],
    ['/app/\\/\\/\\admin', '/app/\\/\\/\\admin', '/app//////admin', '/app/admin', '/app/admin'],
    ['/%2Fapp%5cadmin%5Cabc', '/%2Fapp%5cadmin%5Cabc', '/%2Fapp%5cadmin%5Cabc', '/%2Fapp%5cadmin%5Cabc', '/app/admin/abc'],
    ['/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc', '/%5Capp%2f%5c%2F..%2fadmin%5c/abc', '/%5Capp%2f%5c%2F..%2fadmin%5c/abc', '/app/admin/abc'],
    ['/app//../admin', '/app//../admin', '/app/admin', '/app/admin', '/app/admin'],
    ['/app//../../admin', '/app//../../admin', '/admin', '/admin', '/admin'],
  ];
  for (const [input, ...want] of rows) {
    assert.deepEqual(
      Object.values(MODES).map((m) => forwarded(m, input)),
      want,
      input,
    );
  }
  // DECODE_AND_MERGE_SLASHES extras and the "not normalized" group.
  const dms = MODES.DECODE_AND_MERGE_SLASHES!;
  assert.equal(forwarded(dms, '/%c0%2e%c0%2e/admin'), '/%c0.%c0./admin');
  assert.equal(forwarded(dms, '/%c0%2fadmin'), '/%c0/admin');
  for (const same of ['/0x2e0x2e/admin', '/%25c0%25ae%25c1%259cadmin', '/%252e%252e/admin', '/%252e%252e%252fadmin', '/%c1%9cadmin', '/%c0%ae%c0%ae/admin', '/.../admin', '/..../admin', '/;/admin', '/admin;a=b', '/admin;a=b/xyz', '/admin,a=b/xyz', '/Admin', '/ADMIN']) {
    assert.equal(forwarded(dms, same), same);
  }
  assert.equal(forwarded(dms, '/admin%00'), '400');
});

test("Istio's percent-encoded table: %01..%ff under DECODE_AND_MERGE_SLASHES", () => {
  const dms = MODES.DECODE_AND_MERGE_SLASHES!;
  for (let i = 1; i <= 0xff; i++) {
    const input = `/admin%${i.toString(16).padStart(2, '0')}`;
    const c = String.fromCharCode(i);
    let want = input;
    if (/[A-Za-z0-9\-._~]/.test(c)) want = `/admin${c}`;
    else if (c === '/' || c === '\\') want = '/admin/';
    assert.equal(forwarded(dms, input), want, input);
  }
});

test('escaped slashes: REJECT_REQUEST refuses, UNESCAPE_AND_REDIRECT redirects to the normalised path, the query is untouched', () => {
  const reject: PathNormalization = { ...BASE, escapedSlashes: 'REJECT_REQUEST' };
  assert.equal(forwarded(reject, '/admin%2Fx'), '400');
  assert.equal(forwarded(reject, '/admin?next=%2F'), '/admin?next=%2F');
  const redirect: PathNormalization = { ...BASE, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_REDIRECT' };
  assert.equal(forwarded(redirect, '/a/%2E%2E%2Fadmin//x?q=%2f'), '307 /admin/x?q=%2f');
  assert.equal(forwarded(redirect, '/plain'), '/plain');
});
