import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { renderFieldDocs } from './field-docs.js';

test('docs/config-fields.md matches the schemas (run `npm run docs` after changing a kind)', () => {
  const committed = fs.readFileSync(new URL('../../../docs/config-fields.md', import.meta.url), 'utf8');
  assert.equal(committed, renderFieldDocs());
});

test('the field reference lists implemented, ignored and not-yet fields', () => {
  const doc = renderFieldDocs();
  assert.match(doc, /\| `spec\.http\[\]\.match\[\]\.uri\.prefix` \| works \|/);
  assert.match(doc, /\| `spec\.servers\[\]\.defaultEndpoint` \| warning: not yet \|/);
  assert.match(doc, /\| `spec\.template\.spec\.containers\[\]\.imagePullPolicy` \| accepted, no effect \|/);
});
