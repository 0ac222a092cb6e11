// Runs node's test runner over every *.test.ts file under the given folders (default: src and
// test). Node 20's runner takes no globs, so the files are listed here; the runner's own output
// (and its closing `# pass N / # fail N` summary, which CI reads) is passed through unchanged.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const files = [];
function walk(p) {
  const st = fs.statSync(p);
  if (st.isFile()) {
    if (p.endsWith('.test.ts')) files.push(p);
    return;
  }
  for (const e of fs.readdirSync(p).sort()) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    walk(path.join(p, e));
  }
}
for (const r of roots.length ? roots : ['src', 'test']) walk(r);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
