// Regenerates the documentation that is derived from code: docs/config-fields.md.
import fs from 'node:fs';
import { renderFieldDocs } from '../src/config/kinds/field-docs.js';

fs.writeFileSync('docs/config-fields.md', renderFieldDocs());
console.log('wrote docs/config-fields.md');
