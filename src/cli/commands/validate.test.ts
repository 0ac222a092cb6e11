import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runValidate } from './validate.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/config');

async function run(paths: string[], output?: string) {
  let out = '';
  let err = '';
  const code = await runValidate(paths, output ? { output } : {}, { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const rel = (...p: string[]) => path.relative(process.cwd(), path.join(FIXTURES, ...p));

test('validate prints one sorted line per problem, a summary on stderr, and exits 1 on errors', async () => {
  const { code, out, err } = await run([path.join(FIXTURES, 'validate')]);
  assert.equal(code, 1);
  assert.deepEqual(out.trimEnd().split('\n'), [
    `${rel('validate', 'apps.yaml')}:25:9: warning: field 'spec.template.spec.containers[0].readinessProbe' is valid Kubernetes but Strait does not implement it yet; it is ignored. fix: remove it, or keep it knowing that Strait behaves as if it were absent (every running process receives traffic).`,
    `${rel('validate', 'routes.yaml')}:12:19: error: Service default/reviews has no port 9081 (it has 9080); declared at ${rel('validate', 'apps.yaml')}:1. fix: use one of the Service's ports: 9080.`,
  ]);
  assert.equal(err, '1 error, 1 warning in 2 files\n');
});

test('validate exits 0 on a clean tree and says how many resources it read', async () => {
  const { code, out, err } = await run([path.join(FIXTURES, 'tree')]);
  assert.equal(code, 0);
  assert.equal(out, '');
  assert.equal(err, 'ok: 4 resources in 4 files\n');
});

test('validate exits 0 with warnings only, and counts them', async () => {
  const { code, err } = await run([path.join(FIXTURES, 'validate', 'apps.yaml')]);
  assert.equal(code, 0);
  assert.equal(err, 'ok: 2 resources in 1 file, 1 warning\n');
});

test('validate -o json prints one document with valid, counts and diagnostics', async () => {
  const { code, out, err } = await run([path.join(FIXTURES, 'validate')], 'json');
  assert.equal(code, 1);
  assert.equal(err, '');
  const doc = JSON.parse(out) as { valid: boolean; errors: number; warnings: number; diagnostics: { code: string; line: number; col: number; file: string }[] };
  assert.equal(doc.valid, false);
  assert.equal(doc.errors, 1);
  assert.equal(doc.warnings, 1);
  assert.deepEqual(doc.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}:${d.code}`), [
    `${rel('validate', 'apps.yaml')}:25:9:unsupported-field`,
    `${rel('validate', 'routes.yaml')}:12:19:unknown-port`,
  ]);
});

test('validate reports a missing path as an error and rejects an unknown output format', async () => {
  const missing = await run(['no/such/dir']);
  assert.equal(missing.code, 1);
  assert.equal(missing.out, 'no/such/dir:1:1: error: no such file or directory: no/such/dir. fix: check the path.\n');
  const bad = await run([path.join(FIXTURES, 'tree')], 'yaml');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown output format "yaml"/);
});
