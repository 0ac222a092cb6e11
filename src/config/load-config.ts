// Loads manifests from files and directories into a ConfigStore, with a Diagnostic (file:line:col
// plus a fix) for every problem. Steps: find the files; parse each one as multi-document YAML
// (JSON is read by the same parser) keeping node positions; expand `kind: List`; dispatch each
// resource on (apiVersion, kind) to its kind module, which checks it against its schema and
// converts it; drop resources with errors; detect duplicates; run the cross-resource analyzers.
// Nothing here throws for bad input: every failure becomes a diagnostic.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Document } from 'yaml';
import { analyze } from './analyze.js';
import { ConfigStore } from './config-store.js';
import { displayPath } from './format.js';
import { KINDS, lookupKind } from './kinds/index.js';
import { WalkContext, describeValue } from './schema.js';
import type { Finding } from './schema.js';
import { didYouMean } from './suggest.js';
import type { ConfigResource, Diagnostic, FieldPath, ResourceSource, Severity } from './types.js';
import { makeSource } from './yaml-source.js';
import type { LocatedSource } from './yaml-source.js';

export interface LoadResult {
  readonly store: ConfigStore;
  readonly diagnostics: Diagnostic[];
  /** The files read, in load order. */
  readonly files: string[];
}

/** Errors about certificate content, which the API server does not check either (non-blocking). */
const CONTENT_CODES = new Set(['invalid-certificate', 'invalid-private-key', 'key-mismatch']);

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** One resource found in a file, valid or not, for duplicate detection. */
interface Entry {
  /** `Kind/namespace/name`, when the document says that much. */
  readonly key?: string;
  readonly source: ResourceSource;
  resource?: ConfigResource;
}

interface FileResult {
  readonly entries: Entry[];
  readonly diagnostics: Diagnostic[];
}

function diag(severity: Severity, pos: { file: string; line: number; col: number }, code: string, message: string, fix: string): Diagnostic {
  return { severity, file: pos.file, line: pos.line, col: pos.col, code, message, fix };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const YAML_FIXES: Readonly<Record<string, string>> = {
  BAD_INDENT: 'indent this line like the other entries of the same map or list',
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  DUPLICATE_KEY: 'remove or rename one of the two keys; YAML maps cannot repeat a key',
  MISSING_CHAR: "add the missing character (a closing quote or bracket, or the '-' of a list item)",
  MULTILINE_IMPLICIT_KEY: 'check the indentation of this entry and of the one before it',
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": ", or put a nested map on its own indented lines',
  UNEXPECTED_TOKEN: 'check quotes, colons and brackets on this line',
};

// ---- one file ---------------------------------------------------------------------------------

function familyOf(apiVersion: string): string {
  if (apiVersion.includes('istio.io')) return 'Istio';
  if (apiVersion.startsWith('gateway.networking.k8s.io')) return 'Kubernetes Gateway API';
  return 'Kubernetes';
}

function loadResource(raw: unknown, source: LocatedSource, diagnostics: Diagnostic[]): Entry | undefined {
  const report = (f: Finding): void => {
    const pos = f.position ?? (f.anchor === 'key' ? source.keyAt(f.path) : source.at(f.path));
    diagnostics.push(diag(f.severity, pos, f.code, f.message, f.fix));
  };
  if (!isPlainObject(raw)) {
    diagnostics.push(
      diag('error', source, 'not-a-resource', `a manifest must be a map with apiVersion, kind and metadata, found ${describeValue(raw)}`, 'write the resource as a YAML map (key: value lines)'),
    );
    return undefined;
  }
  const { apiVersion, kind } = raw;
  for (const [name, value] of [['apiVersion', apiVersion], ['kind', kind]] as const) {
    if (typeof value !== 'string' || value === '') {
      const missing = value === undefined || value === null;
      diagnostics.push(
        diag(
          'error',
          missing ? source : source.at([name]),
          missing ? 'missing-field' : 'wrong-type',
          missing ? `required field '${name}' is missing` : `${name}: expected a string, found ${describeValue(value)}`,
          name === 'kind' ? 'add `kind:` (e.g. Deployment, Service, VirtualService)' : 'add `apiVersion:` (e.g. v1, apps/v1, networking.istio.io/v1)',
        ),
      );
      return undefined;
    }
  }
  const a = apiVersion as string;
  const k = kind as string;
  const found = lookupKind(a, k);
  switch (found.type) {
    case 'unknown': {
      const guess = didYouMean(k, found.candidates);
      diagnostics.push(
        diag(
          'error',
          source.at(['kind']),
          'unknown-kind',
          `unknown kind '${k}' (apiVersion ${a})${guess ? `; did you mean '${guess}'?` : ''}`,
          guess ? `write kind: ${guess}` : `remove this resource; Strait reads ${KINDS.map((d) => d.kind).join(', ')}`,
        ),
      );
      return undefined;
    }
    case 'wrong-version':
      diagnostics.push(
        diag(
          'error',
          source.at(['apiVersion']),
          'wrong-api-version',
          `${k} is not served at apiVersion ${a}; accepted: ${found.accepted.join(', ')}`,
          `change apiVersion to ${found.accepted[0]}`,
        ),
      );
      return undefined;
    case 'future':
      diagnostics.push(
        diag(
          'warning',
          source.at(['kind']),
          'unsupported-kind',
          `${k} (${a}) is valid ${familyOf(a)} but Strait does not implement it yet; this resource is ignored`,
          'remove it, or keep it knowing Strait behaves as if it were absent',
        ),
      );
      return undefined;
    case 'known': {
      const ctx = new WalkContext(k);
      const resource = found.def.load(raw, ctx, source);
      ctx.findings.forEach(report);
      const meta = isPlainObject(raw.metadata) ? raw.metadata : {};
      const name = typeof meta.name === 'string' ? meta.name : undefined;
      const namespace = found.def.clusterScoped ? '' : typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
      return { ...(name !== undefined ? { key: `${k}/${namespace}/${name}` } : {}), source, ...(resource ? { resource } : {}) };
    }
  }
}

function parseFile(text: string, file: string): FileResult {
  const entries: Entry[] = [];
  const diagnostics: Diagnostic[] = [];
  const lineCounter = new LineCounter();
  // Merge keys (`<<: *defaults`) are accepted because kubectl's YAML reader accepts them.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true });
  const docList: Document[] = Array.isArray(docs) ? docs : [];
  const at = (offset: number) => ({ file, ...lineCounter.linePos(offset) });

  docList.forEach((doc, docIndex) => {
    // Only the first syntax error of a document: the parser's later ones are mostly echoes of it.
    const [e] = doc.errors;
    if (e) diagnostics.push(diag('error', at(e.pos[0]), 'yaml-syntax', e.message, YAML_FIXES[e.code] ?? 'fix the YAML syntax here'));
    for (const w of doc.warnings) {
      diagnostics.push(diag('warning', at(w.pos[0]), 'yaml-warning', w.message, 'rewrite this YAML construct more plainly'));
    }
    // A document with syntax errors may parse into something half-right; checking it would only
    // produce confusing follow-up errors.
    if (doc.errors.length > 0) return;
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      diagnostics.push(diag('error', at(doc.contents?.range?.[0] ?? 0), 'yaml-syntax', (err as Error).message, 'simplify the anchors and aliases in this document'));
      return;
    }
    if (raw === null || raw === undefined) return; // empty document (`---` alone, or only comments)

    // `kind: List` (what `kubectl get -o yaml` prints), and typed lists such as ServiceList.
    if (isPlainObject(raw) && typeof raw.kind === 'string' && (raw.kind === 'List' || (raw.kind.endsWith('List') && Array.isArray(raw.items)))) {
      const listSource = makeSource(doc, lineCounter, file, docIndex, [], text);
      if (!Array.isArray(raw.items)) {
        diagnostics.push(diag('error', raw.items === undefined ? listSource : listSource.at(['items']), 'wrong-type', `items: expected a list of resources, found ${describeValue(raw.items)}`, 'put the resources under `items:` as a list'));
        return;
      }
      raw.items.forEach((item: unknown, i) => {
        const base: FieldPath = ['items', i];
        const entry = loadResource(item, makeSource(doc, lineCounter, file, docIndex, base, text), diagnostics);
        if (entry) entries.push(entry);
      });
      return;
    }
    const entry = loadResource(raw, makeSource(doc, lineCounter, file, docIndex, [], text), diagnostics);
    if (entry) entries.push(entry);
  });
  return { entries, diagnostics };
}

/** Reports every resource whose Kind/namespace/name was already seen, and drops it. */
function dedupe(entries: readonly Entry[]): Diagnostic[] {
  const first = new Map<string, Entry>();
  const out: Diagnostic[] = [];
  for (const e of entries) {
    if (e.key === undefined) continue;
    const prev = first.get(e.key);
    if (!prev) {
      first.set(e.key, e);
      continue;
    }
    const [kind, ns, name] = e.key.split('/');
    out.push(
      diag(
        'error',
        e.source.at(['metadata', 'name']),
        'duplicate-resource',
        `duplicate ${kind} ${ns ? `${ns}/${name}` : name}: already defined at ${displayPath(prev.source.file)}:${prev.source.line}`,
        'rename one of the two, or remove the duplicate',
      ),
    );
    e.resource = undefined;
  }
  return out;
}

/** Loads the resources of one file's text. Used by the loader, and by tests and editors directly. */
export function loadConfigText(text: string, file: string): { resources: ConfigResource[]; diagnostics: Diagnostic[] } {
  const { entries, diagnostics } = parseFile(text, file);
  diagnostics.push(...dedupe(entries));
  return { resources: entries.flatMap((e) => (e.resource ? [e.resource] : [])), diagnostics };
}

// ---- files and directories --------------------------------------------------------------------

async function walkDirectory(dir: string, out: string[], seen: Set<string>): Promise<void> {
  const real = await fs.realpath(dir);
  if (seen.has(real)) return; // a symlink loop
  seen.add(real);
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    // Hidden entries (.git, .github, editor swap files) are never manifests.
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const st = await fs.stat(full).catch(() => undefined);
      isDir = st?.isDirectory() ?? false;
      isFile = st?.isFile() ?? false;
    }
    if (isDir) await walkDirectory(full, out, seen);
    else if (isFile && MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) out.push(full);
  }
}

async function findFiles(paths: readonly string[], diagnostics: Diagnostic[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const st = await fs.stat(p).catch((err: NodeJS.ErrnoException) => err);
    if (st instanceof Error) {
      const missing = st.code === 'ENOENT' || st.code === 'ENOTDIR';
      diagnostics.push(
        diag('error', { file: p, line: 1, col: 1 }, missing ? 'missing-path' : 'read-error', missing ? `no such file or directory: ${p}` : `cannot read ${p}: ${st.message}`, missing ? 'check the path' : 'check the permissions of the path'),
      );
      continue;
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      await walkDirectory(p, found, new Set());
      if (found.length === 0) {
        diagnostics.push(diag('warning', { file: p, line: 1, col: 1 }, 'no-manifests', `no .yaml, .yml or .json files in ${p}`, 'check the directory'));
      }
      files.push(...found);
    } else {
      files.push(p);
    }
  }
  // A file named directly and also found in a named directory is read once.
  const unique = new Map<string, string>();
  for (const f of files) if (!unique.has(path.resolve(f))) unique.set(path.resolve(f), f);
  return [...unique.values()];
}

/**
 * A file applied to a running mesh (`strait apply`), on top of the watched files, the way
 * `kubectl apply` sets live objects: each of its resources replaces the resource of the same
 * kind, namespace and name. `hidden` are keys a later apply or delete took over.
 */
export interface AppliedFile {
  readonly file: string;
  readonly text: string;
  readonly hidden: ReadonlySet<string>;
}

export interface Overlay {
  /** In the order they were applied; a later file's resources win. */
  readonly applied: readonly AppliedFile[];
  /** Keys deleted with `strait delete`: hidden in the watched files too. */
  readonly deleted: ReadonlySet<string>;
}

/** `Kind/namespace/name` of every resource in a manifest text (what apply and delete act on). */
export function resourceKeys(text: string, file: string): string[] {
  return parseFile(text, file).entries.flatMap((e) => (e.key !== undefined ? [e.key] : []));
}

/** Loads every manifest under `paths` (files, or directories walked recursively in sorted order). */
export async function loadConfig(paths: string[], overlay?: Overlay): Promise<LoadResult> {
  const diagnostics: Diagnostic[] = [];
  const files = await findFiles(paths, diagnostics);
  const entries: Entry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      diagnostics.push(diag('error', { file, line: 1, col: 1 }, 'read-error', `cannot read ${file}: ${(err as Error).message}`, 'check the permissions of the file'));
      continue;
    }
    const result = parseFile(text, file);
    entries.push(...result.entries);
    diagnostics.push(...result.diagnostics);
  }
  if (overlay) {
    // Applied resources replace the files' ones with the same key; deleted keys disappear.
    const applied: Entry[] = [];
    for (const a of overlay.applied) {
      const result = parseFile(a.text, a.file);
      applied.push(...result.entries.filter((e) => e.key === undefined || !a.hidden.has(e.key)));
      diagnostics.push(...result.diagnostics);
    }
    const replaced = new Set(applied.flatMap((e) => (e.key !== undefined ? [e.key] : [])));
    const kept = entries.filter((e) => e.key === undefined || (!replaced.has(e.key) && !overlay.deleted.has(e.key)));
    entries.length = 0;
    entries.push(...kept, ...applied);
    files.push(...overlay.applied.map((a) => a.file));
  }
  diagnostics.push(...dedupe(entries));
  const store = new ConfigStore(entries.flatMap((e) => (e.resource ? [e.resource] : [])));
  // Cross-resource findings concern objects Kubernetes would accept: they never block a run.
  diagnostics.push(...analyze(store).map((d) => ({ ...d, blocking: false })));
  return { store, diagnostics: diagnostics.map((d) => (CONTENT_CODES.has(d.code) ? { ...d, blocking: false } : d)), files };
}
