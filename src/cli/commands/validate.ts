// `strait validate <paths...>`: loads manifests exactly as `strait up` would and reports every
// problem, one `file:line:col: severity: message. fix: ...` line each on stdout (or one JSON
// document with `-o json`), then a summary line on stderr. Exit status 1 when there is an error,
// so it can gate CI; warnings alone exit 0.

import { displayPath, formatDiagnostic, sortDiagnostics, summarize } from '../../config/format.js';
import { loadConfig } from '../../config/load-config.js';

export interface ValidateOptions {
  /** `text` (default) or `json`. */
  readonly output?: string;
}

/** Where output goes; tests pass their own to capture it. */
export interface ValidateIO {
  readonly out: { write(s: string): unknown };
  readonly err: { write(s: string): unknown };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function runValidate(
  paths: string[],
  opts: ValidateOptions,
  io: ValidateIO = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const format = opts.output ?? 'text';
  if (format !== 'text' && format !== 'json') {
    io.err.write(`strait validate: unknown output format "${format}" (use text or json)\n`);
    return 2;
  }
  const { store, diagnostics, files } = await loadConfig(paths);
  const sorted = sortDiagnostics(diagnostics.map((d) => ({ ...d, file: displayPath(d.file) })));
  const summary = summarize(sorted);

  if (format === 'json') {
    const doc = { valid: summary.errors === 0, errors: summary.errors, warnings: summary.warnings, diagnostics: sorted };
    io.out.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    for (const d of sorted) io.out.write(`${formatDiagnostic(d)}\n`);
    const where = `in ${plural(files.length, 'file')}`;
    io.err.write(
      summary.errors > 0
        ? `${summary.text} ${where}\n`
        : `ok: ${plural(store.size(), 'resource')} ${where}${summary.warnings > 0 ? `, ${plural(summary.warnings, 'warning')}` : ''}\n`,
    );
  }
  return summary.errors > 0 ? 1 : 0;
}
