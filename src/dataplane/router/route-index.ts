// An index over one virtual host's routes, so that a host with thousands of routes does not
// try them one by one. Envoy tries a virtual host's routes in order (first match wins) and so
// does Strait; the index keeps that order and only skips routes that cannot match: every
// case-sensitive `prefix` and `pathSeparatedPrefix` route needs the request's :path to start
// with a literal string (its key), and a `path` route needs the path to equal it, so the
// routes to try are those whose prefix key starts the :path — one map lookup per distinct key
// length — and those whose exact key is the path, plus the routes without a key (regex,
// case-insensitive, catch-all), merged in route order.

/** Below this many routes the plain in-order scan is cheaper than any lookup. */
export const INDEX_MIN_ROUTES = 16;

export interface IndexedRoute {
  /** A literal the :path (with its query) must start with for the route to match, or null. */
  readonly pathKey: string | null;
  /** The key is the whole path (without the query) the route matches. */
  readonly exactPath: boolean;
}

const NONE: readonly number[] = [];

export class RouteIndex {
  private readonly byKey = new Map<string, number[]>();
  private readonly byPath = new Map<string, number[]>();
  /** Distinct key lengths, shortest first. */
  private readonly lengths: number[];
  /** Routes tried for every path (no literal key), in route order. */
  private readonly always: number[] = [];

  constructor(routes: readonly IndexedRoute[]) {
    const lengths = new Set<number>();
    routes.forEach((r, i) => {
      const k = r.pathKey;
      if (k === null || k === '') {
        this.always.push(i);
        return;
      }
      const map = r.exactPath ? this.byPath : this.byKey;
      let list = map.get(k);
      if (!list) map.set(k, (list = []));
      list.push(i);
      if (!r.exactPath) lengths.add(k.length);
    });
    this.lengths = [...lengths].sort((a, b) => a - b);
  }

  /**
   * Calls `tryRoute` with the index of every route that may match `fullPath`, in route order,
   * until it returns true; returns that index, or -1.
   */
  first(fullPath: string, path: string, tryRoute: (i: number) => boolean): number {
    // Keyed candidates: each key list is in route order; usually only one or two lists hit.
    let hits: readonly number[] = this.byPath.get(path) ?? NONE;
    let merged = false;
    for (const len of this.lengths) {
      if (len > fullPath.length) break;
      const list = this.byKey.get(len === fullPath.length ? fullPath : fullPath.slice(0, len));
      if (list === undefined) continue;
      if (hits.length === 0) hits = list;
      else {
        hits = merged ? mergeInto(hits as number[], list) : mergeInto([...hits], list);
        merged = true;
      }
    }
    // Walk keyed hits and the always-tried routes together, in route order.
    const always = this.always;
    let a = 0;
    let h = 0;
    while (a < always.length || h < hits.length) {
      const i = h >= hits.length || (a < always.length && always[a]! < hits[h]!) ? always[a++]! : hits[h++]!;
      if (tryRoute(i)) return i;
    }
    return -1;
  }
}

/** Merges sorted `b` into sorted `a` (a is owned by the caller). */
function mergeInto(a: number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

type PathMatch = { prefix?: string; path?: string; pathSeparatedPrefix?: string; caseSensitive?: boolean };

/** The literal a route's path match is keyed by (RouteMatch fields), or null. */
export function pathKeyOf(m: PathMatch): string | null {
  if (m.caseSensitive === false) return null;
  // `pathSeparatedPrefix` applies to the path without its query, itself a prefix of the full
  // :path, which `prefix` applies to: either literal must start the full :path.
  const k = m.path ?? m.prefix ?? m.pathSeparatedPrefix;
  return k === undefined || k === '' ? null : k;
}

export function isExactPath(m: PathMatch): boolean {
  return m.path !== undefined;
}
