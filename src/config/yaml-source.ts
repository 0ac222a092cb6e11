// Maps a field path inside a parsed YAML document back to file:line:col. The loader keeps each
// `yaml` Document (and its LineCounter) alive in the closure of a ResourceSource, so validation,
// the analyzers and later stages can all point at the exact field they complain about without
// re-reading the file.

import { isAlias, isCollection, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair } from 'yaml';
import type { FieldPath, ResourceSource, SourcePosition } from './types.js';

/** A ResourceSource that can also point at a field's key (used for unknown-field errors). */
export interface LocatedSource extends ResourceSource {
  /** Position of the key of the field at `path` (for list items: the item itself). */
  keyAt(path: FieldPath): SourcePosition;
}

interface Found {
  /** The deepest node reached (the value at the path, if the whole path exists). */
  readonly node: Node | null;
  /** The key that led to `node`, when it was reached through a map entry. */
  readonly key: Node | null;
}

function rangeStart(node: Node | null): number | undefined {
  if (!node?.range) return undefined;
  // An empty value (`key:` with nothing after it) has an empty source; its offset would point at
  // the end of the line, which reads worse than pointing at the key.
  if (isScalar(node) && node.source === '' && node.value === null) return undefined;
  return node.range[0];
}

// yaml types pair keys and values as `unknown`; every one reached from a parsed Document is a
// Node (or null), hence the casts below.
function findPair(map: Node, seg: string, doc: Document): Pair<unknown, unknown> | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    const k = isScalar(pair.key) ? pair.key.value : pair.key;
    if (k !== null && typeof k !== 'symbol' && String(k) === seg) return pair;
  }
  // Merge keys (`<<: *base`): the field lives in the merged map.
  for (const pair of map.items) {
    // With `merge: true` the parser gives the key a Symbol value, but its source is always `<<`.
    if (isScalar(pair.key) && pair.key.source === '<<') {
      let v = pair.value as Node | null;
      if (isAlias(v)) v = (v.resolve(doc) ?? null) as Node | null;
      const sources = isSeq(v) ? v.items.map((i) => (isAlias(i) ? i.resolve(doc) : i)) : [v];
      for (const s of sources) {
        const found = s ? findPair(s as Node, seg, doc) : undefined;
        if (found) return found;
      }
    }
  }
  return undefined;
}

function lookup(doc: Document, path: FieldPath): Found {
  let node = (doc.contents ?? null) as Node | null;
  let key: Node | null = null;
  for (const seg of path) {
    if (isAlias(node)) node = (node.resolve(doc) ?? null) as Node | null;
    if (!node) break;
    if (typeof seg === 'string') {
      const pair = findPair(node, seg, doc);
      if (!pair) break;
      key = isScalar(pair.key) ? pair.key : null;
      node = (pair.value ?? null) as Node | null;
      if (!node) break;
    } else {
      if (!isSeq(node) || seg < 0 || seg >= node.items.length) break;
      node = node.items[seg] as Node;
      key = null;
    }
  }
  return { node, key };
}

/** Builds the ResourceSource of the resource found at `base` inside document `docIndex`. */
export function makeSource(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  docIndex: number,
  base: FieldPath,
  /** The file's text, for blockAt (embedded YAML); without it blockAt finds nothing. */
  text?: string,
): LocatedSource {
  const pos = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const root = lookup(doc, base).node;
  const rootPos = pos(rangeStart(root) ?? 0);

  // For a collection the useful place is its key (`selector:`), for a scalar it is the value.
  const at = (path: FieldPath): SourcePosition => {
    const { node, key } = lookup(doc, [...base, ...path]);
    const preferKey = node === null || isCollection(node) || rangeStart(node) === undefined;
    const offset = (preferKey ? rangeStart(key) : undefined) ?? rangeStart(node) ?? rangeStart(key);
    return offset === undefined ? rootPos : pos(offset);
  };
  const keyAt = (path: FieldPath): SourcePosition => {
    const { node, key } = lookup(doc, [...base, ...path]);
    const offset = rangeStart(key) ?? rangeStart(node);
    return offset === undefined ? rootPos : pos(offset);
  };
  const blockAt = (path: FieldPath): { line: number; indent: number } | undefined => {
    const { node } = lookup(doc, [...base, ...path]);
    if (text === undefined || !isScalar(node) || node.type !== 'BLOCK_LITERAL' || !node.range) return undefined;
    // The header (`|`, `|-`, `|2`) ends its line; the content starts on the next one. Its
    // indentation is that of the first line that is not blank.
    const headerLine = lineCounter.linePos(node.range[0]).line;
    const contentStart = text.indexOf('\n', node.range[0]) + 1;
    if (contentStart === 0) return undefined;
    const firstLine = /^(?:[ \t]*\r?\n)*( *)/.exec(text.slice(contentStart, node.range[2]));
    return { line: headerLine + 1, indent: firstLine?.[1].length ?? 0 };
  };
  return { ...rootPos, docIndex, at, keyAt, blockAt };
}
