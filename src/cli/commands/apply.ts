// `strait apply -f` and `strait delete -f`: change a running `strait up` the way kubectl changes
// a cluster, through its API. Each file is sent whole (so diagnostics keep their file:line:col);
// directories are read like `strait up` reads them. Prints kubectl's one line per resource.

import fs from 'node:fs/promises';
import path from 'node:path';
import { formatDiagnostic } from '../../config/format.js';
import type { Diagnostic } from '../../config/types.js';
import type { ChangeResult } from '../../local/runner.js';

const MANIFEST = /\.(ya?ml|json)$/;

async function manifestFiles(p: string): Promise<string[]> {
  const st = await fs.stat(p);
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  for (const e of (await fs.readdir(p, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(p, e.name);
    if (e.isDirectory()) out.push(...(await manifestFiles(full)));
    else if (MANIFEST.test(e.name)) out.push(full);
  }
  return out;
}

/** `VirtualService/default/reviews` → `virtualservice/reviews` (kubectl prints kind/name). */
function describe(key: string): string {
  const [kind, , name] = key.split('/');
  return `${kind!.toLowerCase()}/${name}`;
}

export async function runApply(mode: 'apply' | 'delete', opts: { filename: string[]; server: string }): Promise<number> {
  const server = opts.server.replace(/\/$/, '');
  let failed = false;
  for (const p of opts.filename) {
    let files: string[];
    try {
      files = await manifestFiles(p);
    } catch (e) {
      process.stderr.write(`strait ${mode}: ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}\n`);
      failed = true;
      continue;
    }
    for (const file of files) {
      const text = await fs.readFile(file, 'utf8');
      let result: ChangeResult;
      try {
        const res = await fetch(`${server}/api/${mode}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ file: path.resolve(file), text }) });
        result = (await res.json()) as ChangeResult;
        if (res.status === 400) throw new Error((result as unknown as { error: string }).error);
      } catch (e) {
        process.stderr.write(`strait ${mode}: cannot reach ${server} (${(e as Error).message}). Is \`strait up\` running? Use --server URL.\n`);
        return 1;
      }
      const own = (d: Diagnostic) => path.resolve(d.file) === path.resolve(file);
      for (const d of result.diagnostics.filter((x) => own(x) || (!result.ok && x.severity === 'error'))) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (!result.ok) {
        process.stderr.write(`strait ${mode}: ${file}: ${result.message}\n`);
        failed = true;
        continue;
      }
      for (const c of result.changes) process.stdout.write(`${describe(c.key)} ${c.action}\n`);
    }
  }
  return failed ? 1 : 0;
}
