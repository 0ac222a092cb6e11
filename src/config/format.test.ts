import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayPath, formatDiagnostic, sortDiagnostics, summarize } from './format.js';
import type { Diagnostic } from './types.js';

const d = (over: Partial<Diagnostic>): Diagnostic => ({ severity: 'error', file: 'a.yaml', line: 1, col: 1, code: 'x', message: 'm', ...over });

test('formatDiagnostic: file:line:col: severity: message. fix: ... on one line', () => {
  assert.equal(
    formatDiagnostic(d({ file: '/work/app/k8s/vs.yaml', line: 12, col: 7, message: "unknown field 'spec.hostz'; did you mean 'hosts'?", fix: "rename 'hostz' to 'hosts'" }), '/work/app'),
    "k8s/vs.yaml:12:7: error: unknown field 'spec.hostz'; did you mean 'hosts'? fix: rename 'hostz' to 'hosts'.",
  );
  assert.equal(formatDiagnostic(d({ severity: 'warning', message: 'two\nlines', fix: undefined })), 'a.yaml:1:1: warning: two lines');
});

test('displayPath: relative inside the current directory, unchanged outside it', () => {
  assert.equal(displayPath('/work/app/a.yaml', '/work/app'), 'a.yaml');
  assert.equal(displayPath('/etc/a.yaml', '/work/app'), '/etc/a.yaml');
  assert.equal(displayPath('/work/application/a.yaml', '/work/app'), '/work/application/a.yaml');
  assert.equal(displayPath('rel/a.yaml', '/work/app'), 'rel/a.yaml');
});

test('summarize counts errors and warnings with plurals', () => {
  assert.deepEqual(summarize([d({}), d({}), d({ severity: 'warning' })]), { errors: 2, warnings: 1, text: '2 errors, 1 warning' });
  assert.equal(summarize([]).text, 'no problems');
  assert.equal(summarize([d({ severity: 'warning' }), d({ severity: 'warning' })]).text, '2 warnings');
});

test('sortDiagnostics orders by file, line, column', () => {
  const sorted = sortDiagnostics([d({ file: 'b', line: 1 }), d({ file: 'a', line: 9, col: 2 }), d({ file: 'a', line: 9, col: 1 }), d({ file: 'a', line: 2 })]);
  assert.deepEqual(sorted.map((x) => `${x.file}:${x.line}:${x.col}`), ['a:2:1', 'a:9:1', 'a:9:2', 'b:1:1']);
});
