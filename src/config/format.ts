// Turns Diagnostics into the one-line form that editors and CI logs understand
// (`file:line:col: error: message. fix: ...`) and counts them for summary lines. File paths under
// the current directory are shown relative to it, so the lines stay short and clickable.

import path from 'node:path';
import type { Diagnostic } from './types.js';

/** `file` relative to the current directory when it lies inside it, else as given. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  if (!path.isAbsolute(file)) return file;
  const rel = path.relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function sentence(s: string): string {
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** `test/a.yaml:12:7: error: unknown field 'spec.hostz' in VirtualService; did you mean 'hosts'? fix: ...` */
export function formatDiagnostic(d: Diagnostic, cwd?: string): string {
  const head = `${displayPath(d.file, cwd)}:${d.line}:${d.col}: ${d.severity}: `;
  const message = d.message.replace(/\s*\n\s*/g, ' ');
  return d.fix ? `${head}${sentence(message)} fix: ${sentence(d.fix.replace(/\s*\n\s*/g, ' '))}` : `${head}${message}`;
}

export interface Summary {
  readonly errors: number;
  readonly warnings: number;
  /** "2 errors, 1 warning", or "no problems". */
  readonly text: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function summarize(diags: readonly Diagnostic[]): Summary {
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.length - errors;
  const parts = [errors > 0 ? plural(errors, 'error') : '', warnings > 0 ? plural(warnings, 'warning') : ''].filter(Boolean);
  return { errors, warnings, text: parts.length > 0 ? parts.join(', ') : 'no problems' };
}

/** Orders diagnostics by file, then line, then column (stable for equal positions). */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col));
}
