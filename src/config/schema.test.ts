import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INVALID, WalkContext, field, formatPath, ignored, int, listOf, mapOf, obj, oneOf, required, str, unsupported, walk } from './schema.js';
import { didYouMean, editDistance } from './suggest.js';

const spec = obj({
  hosts: required(listOf(str())),
  port: field(int({ min: 1, max: 65535 })),
  target: field(oneOf(int(), str())),
  labels: field(mapOf(str())),
  retries: unsupported(obj({ attempts: field(int()) })),
  uid: ignored('server-written'),
  match: field(obj({ exact: field(str()), prefix: field(str()) }, { exactlyOne: [['exact', 'prefix']] })),
});

function run(value: unknown) {
  const ctx = new WalkContext('Thing');
  const out = walk(spec, value, ctx, 'Istio');
  return { ctx, out, codes: ctx.findings.map((f) => f.code) };
}

test('a valid value comes back typed, with ignored fields dropped and unsupported ones kept', () => {
  const { ctx, out } = run({ hosts: ['a'], port: 80, target: 'http', uid: 'x', retries: { attempts: 2 } });
  assert.notEqual(out, INVALID);
  assert.deepEqual(out, { hosts: ['a'], port: 80, target: 'http', retries: { attempts: 2 } });
  assert.deepEqual(ctx.findings.map((f) => [f.severity, f.code, formatPath(f.path)]), [['warning', 'unsupported-field', 'retries']]);
  assert.match(ctx.findings[0].message, /^field 'retries' is valid Istio but Strait does not implement it yet; it is ignored$/);
});

test('an unknown field is an error at its key, with a did-you-mean suggestion', () => {
  const { ctx, out } = run({ hostz: ['a'], hosts: ['b'] });
  assert.equal(out, INVALID);
  const [f] = ctx.findings;
  assert.equal(f.code, 'unknown-field');
  assert.equal(f.anchor, 'key');
  assert.deepEqual(f.path, ['hostz']);
  assert.match(f.message, /did you mean 'hosts'\?/);
  assert.equal(f.fix, "rename 'hostz' to 'hosts'");
});

test('an unknown field with no close match lists the allowed fields, but not the ignored ones', () => {
  const { ctx } = run({ hosts: [], zzzzzzzz: 1 });
  assert.equal(ctx.findings.length, 1);
  assert.doesNotMatch(ctx.findings[0].message, /did you mean/);
  assert.match(ctx.findings[0].fix, /hosts, port, target, labels, retries, match$/);
});

test('a wrong type says what was expected and what was found, with a fix for quoted numbers', () => {
  const { ctx } = run({ hosts: 'a', port: '80' });
  const byPath = new Map(ctx.findings.map((f) => [formatPath(f.path), f]));
  assert.equal(byPath.get('hosts')?.message, 'hosts: expected a list of strings, found a string ("a")');
  assert.equal(byPath.get('port')?.message, 'port: expected an integer, found a string ("80")');
  assert.equal(byPath.get('port')?.fix, 'remove the quotes: 80');
});

test('numbers out of range and non-integers are errors', () => {
  assert.deepEqual(run({ hosts: [], port: 70000 }).codes, ['invalid-value']);
  assert.deepEqual(run({ hosts: [], port: 1.5 }).codes, ['wrong-type']);
});

test('a missing required field is reported at the parent with the field name', () => {
  const { ctx } = run({ port: 80 });
  assert.equal(ctx.findings.length, 1);
  assert.equal(ctx.findings[0].code, 'missing-field');
  assert.deepEqual(ctx.findings[0].path, []);
  assert.match(ctx.findings[0].message, /required field 'hosts' is missing/);
});

test('null is treated as an absent field, as Kubernetes does', () => {
  assert.deepEqual(run({ hosts: ['a'], port: null, retries: null }).codes, []);
  assert.deepEqual(run({ hosts: null }).codes, ['missing-field']);
});

test('oneOf picks the alternative whose type fits, and reports both when none does', () => {
  assert.deepEqual(run({ hosts: [], target: 8080 }).codes, []);
  const { ctx } = run({ hosts: [], target: true });
  assert.equal(ctx.findings[0].message, 'target: expected an integer or a string, found a boolean (true)');
});

test('exactly-one groups reject none and several', () => {
  assert.deepEqual(run({ hosts: [], match: { exact: '/' } }).codes, []);
  assert.deepEqual(run({ hosts: [], match: {} }).codes, ['one-of']);
  const { ctx } = run({ hosts: [], match: { exact: '/', prefix: '/' } });
  assert.match(ctx.findings[0].message, /exactly one of exact, prefix must be set, found exact and prefix/);
});

test('map values are checked per key, with the key in the path', () => {
  const { ctx } = run({ hosts: [], labels: { ok: 'x', bad: true } });
  assert.deepEqual(ctx.findings.map((f) => formatPath(f.path)), ['labels.bad']);
  assert.equal(ctx.findings[0].fix, 'quote the value: "true"');
});

test('keys named like Object.prototype members are unknown fields, not schema lookups', () => {
  const { codes } = run({ hosts: [], constructor: 1, toString: 'x' });
  assert.deepEqual(codes, ['unknown-field', 'unknown-field']);
});

test('inside an unsupported field, typos are still errors but no second warning is given', () => {
  const { ctx } = run({ hosts: [], retries: { atempts: 3 } });
  assert.deepEqual(ctx.findings.map((f) => [f.code, formatPath(f.path)]), [
    ['unsupported-field', 'retries'],
    ['unknown-field', 'retries.atempts'],
  ]);
});

test('edit distance and suggestions ignore case, underscores and dashes', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(didYouMean('hostz', ['hosts', 'http']), 'hosts');
  assert.equal(didYouMean('export_to', ['exportTo', 'hosts']), 'exportTo');
  assert.equal(didYouMean('Hosts', ['hosts']), 'hosts');
  assert.equal(didYouMean('to', ['tcp']), undefined);
  assert.equal(didYouMean('completely', ['hosts']), undefined);
});

test('formerly: a field of an older API version is still unknown, with the fix that says how to write it now', () => {
  const s = obj({ service: field(str()) }, { formerly: { serviceName: 'write service: <name>' } });
  const ctx = new WalkContext('Ingress');
  assert.equal(walk(s, { serviceName: 'web' }, ctx, 'Kubernetes'), INVALID);
  assert.deepEqual(ctx.findings.map((f) => [f.code, f.message, f.fix, f.anchor]), [
    ['unknown-field', "unknown field 'serviceName' in Ingress: it belongs to an older API version", 'write service: <name>', 'key'],
  ]);
});

test('ownWarning: an unsupported field the kind reports itself is checked and kept, without the generic warning', () => {
  const s = obj({ resource: unsupported(obj({ kind: required(str()) }), 'note', { ownWarning: true }), other: unsupported(str()) });
  const ctx = new WalkContext('Ingress');
  assert.deepEqual(walk(s, { resource: { kind: 'Bucket' }, other: 'x' }, ctx, 'Kubernetes'), { resource: { kind: 'Bucket' }, other: 'x' });
  assert.deepEqual(ctx.findings.map((f) => formatPath(f.path)), ['other']);
  const bad = new WalkContext('Ingress');
  assert.equal(walk(s, { resource: {} }, bad, 'Kubernetes'), INVALID);
  assert.deepEqual(bad.findings.map((f) => f.code), ['missing-field']);
});
