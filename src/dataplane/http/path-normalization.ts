// Request-path normalisation of the HTTP connection manager, done once per request before the
// route is chosen and before any HTTP filter runs, so routing, RBAC and the upstream all see the
// same path (Envoy's ConnectionManagerUtility::maybeNormalizePath; Istio's meshConfig
// pathNormalization picks the switches, see docs/compat.md "AuthorizationPolicy"):
//
//   1. a `#fragment` is dropped (Istio's bootstrap turns Envoy's rejection of fragments off, so
//      Envoy strips them; Strait always behaves like Istio's Envoy here);
//   2. path_with_escaped_slashes_action: `%2F` `%2f` `%5C` `%5c` before the query are decoded
//      (UNESCAPE_AND_FORWARD / UNESCAPE_AND_REDIRECT) or the request is refused (REJECT_REQUEST);
//      KEEP_UNCHANGED leaves them;
//   3. normalize_path: RFC 3986 dot-segment removal as Envoy does it, which is Chromium's URL path
//      canonicaliser: `\` is a `/`, `%2e` is a dot, escapes of unreserved characters
//      (`A-Z a-z 0-9 - . _ ~`) are decoded, other escapes are kept exactly as written (hex case
//      included), characters that may not appear raw are escaped with upper-case hex, `%00`
//      makes the path invalid; first, parameters on dot segments (`/..;x/`, `/.;x/`) are dropped
//      so they collapse like plain dot segments (Envoy's fix for CVE-2026-73551; Strait also
//      for escaped dots, `/%2e%2e;x/`, which Envoy's fix misses);
//   4. merge_slashes: runs of `/` become one.
// Path parameters (`;x=1` on other segments) are left alone, as in Envoy: only a route
// configuration's ignore_path_parameters_in_path_matching makes routing and RBAC look past them
// (`removePathParameters`).
//
// Everything here reads the path once and allocates only when it changes something, so an
// ordinary path costs one scan per enabled step.

export type EscapedSlashesAction = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

/** The HttpConnectionManager's path switches, compiled. */
export interface PathNormalization {
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: EscapedSlashesAction;
}

/** What the connection manager does with the request: go on with `path`, redirect to it, or refuse. */
export type PathOutcome = { readonly kind: 'continue'; readonly path: string } | { readonly kind: 'redirect'; readonly path: string } | { readonly kind: 'reject' };

const REJECT: PathOutcome = { kind: 'reject' };

/**
 * Applies the connection manager's normalisation to `target` (an origin-form path with its
 * query). Returns the same string instance when nothing changed.
 */
export function normalizeRequestPath(cfg: PathNormalization, target: string): string | PathOutcome {
  let path = target;
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  let redirect = false;
  if (cfg.escapedSlashes !== 'KEEP_UNCHANGED') {
    const unescaped = unescapeSlashes(path);
    if (unescaped !== path) {
      if (cfg.escapedSlashes === 'REJECT_REQUEST') return REJECT;
      redirect = cfg.escapedSlashes === 'UNESCAPE_AND_REDIRECT';
      path = unescaped;
    }
  }
  if (cfg.normalizePath) {
    const canonical = canonicalPath(path);
    if (canonical === null) return REJECT;
    path = canonical;
  }
  if (cfg.mergeSlashes) path = mergeSlashes(path);
  return redirect ? { kind: 'redirect', path } : path;
}

/** The index of the query (`?`), or the length when there is none. */
function queryStart(s: string): number {
  const q = s.indexOf('?');
  return q < 0 ? s.length : q;
}

/** Envoy's PathUtil::unescapeSlashes: `%2F`/`%2f` → `/`, `%5C`/`%5c` → `\`, before the query. */
export function unescapeSlashes(full: string): string {
  const end = queryStart(full);
  const first = full.indexOf('%');
  if (first < 0 || first >= end) return full;
  let out = '';
  let copied = 0;
  for (let i = first; i + 2 < end; i++) {
    if (full.charCodeAt(i) !== 37 /* % */) continue;
    const a = full.charCodeAt(i + 1);
    const b = full.charCodeAt(i + 2) | 0x20;
    const slash = a === 50 /* 2 */ && b === 102; /* f */
    const backslash = a === 53 /* 5 */ && b === 99; /* c */
    if (!slash && !backslash) continue;
    out += full.slice(copied, i) + (slash ? '/' : '\\');
    copied = i + 3;
    i += 2;
  }
  return copied === 0 ? full : out + full.slice(copied);
}

/** Envoy's PathUtil::mergeSlashes: runs of `/` before the query become one `/`. */
export function mergeSlashes(full: string): string {
  const end = queryStart(full);
  const first = full.indexOf('//');
  if (first < 0 || first >= end) return full;
  let out = full.slice(0, first + 1);
  for (let i = first + 1; i < end; i++) {
    const c = full[i]!;
    if (c === '/' && out.charCodeAt(out.length - 1) === 47) continue;
    out += c;
  }
  return out + full.slice(end);
}

/**
 * Envoy's PathUtil::stripParametersFromDotSegments: a segment `..;x` becomes `..` and `.;x`
 * becomes `.`, before the query and fragment, so that canonicalisation collapses them. Strait
 * does the same when the dots are escaped (`%2e%2e;x`, `.%2e;x`): Envoy only looks for literal
 * dots, so `/public/%2e%2e;/admin` reaches a servlet backend as `/admin` behind a rule that
 * allowed `/public/*`.
 */
export function stripDotSegmentParameters(full: string): string {
  // Most paths have no `;` at all: one native scan decides.
  const semi = full.indexOf(';');
  if (semi < 0) return full;
  let end = full.length;
  for (let i = 0; i < semi; i++) {
    const c = full.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  if (end < semi) return full;
  const q = full.indexOf('?', semi);
  const h = full.indexOf('#', semi);
  if (q >= 0) end = q;
  if (h >= 0 && h < end) end = h;
  const segments = full.slice(0, end).split('/');
  let changed = false;
  for (let k = 0; k < segments.length; k++) {
    const s = segments[k]!;
    const dots = leadingDots(s);
    if (dots > 0 && s.charCodeAt(dots) === 59) {
      segments[k] = s.slice(0, dots);
      changed = true;
    }
  }
  return changed ? segments.join('/') + full.slice(end) : full;
}

/** Length of one or two leading dots (`.` or `%2e`) of a segment, else 0. */
function leadingDots(seg: string): number {
  const first = dotLength(seg, 0, seg.length);
  if (first === 0) return 0;
  return first + dotLength(seg, first, seg.length);
}

/**
 * Envoy's PathUtil::removePathParameters: every segment loses what follows its first `;` (RFC
 * 3986 §3.3 parameters), before the query and fragment; used where a route configuration sets
 * ignore_path_parameters_in_path_matching. Returns `full` itself when there is no `;`.
 */
export function removePathParameters(full: string): string {
  let end = full.length;
  let semi = -1;
  for (let i = 0; i < full.length; i++) {
    const c = full.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
    if (c === 59 /* ; */ && semi < 0) semi = i;
  }
  if (semi < 0) return full;
  let out = full.slice(0, semi);
  let inParameter = true;
  for (let i = semi + 1; i < end; i++) {
    const c = full[i]!;
    if (c === '/') {
      inParameter = false;
      out += c;
    } else if (c === ';') {
      inParameter = true;
    } else if (!inParameter) {
      out += c;
    }
  }
  return out + full.slice(end);
}

// ---- RFC 3986 canonicalisation (Chromium's CanonicalizePath, which Envoy uses) ------------------

/** How a byte is written in a canonical path. */
const enum Kind {
  /** Copied as is, raw or escaped. */
  Pass = 0,
  /** Written as `%XX` when raw; an escape of it is kept. */
  Escape = 1,
  /** An escape of it is decoded (RFC 3986 unreserved characters). */
  Unescape = 2,
  /** Makes the path invalid (NUL). */
  Invalid = 3,
}

const KINDS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  t.fill(Kind.Escape, 0x01, 0x20);
  t.fill(Kind.Escape, 0x7f, 0x100);
  t[0] = Kind.Invalid;
  for (const c of ' "#%<>?\\^`{|}') t[c.charCodeAt(0)] = Kind.Escape;
  for (let c = 0x30; c <= 0x39; c++) t[c] = Kind.Unescape;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = Kind.Unescape;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = Kind.Unescape;
  for (const c of '-._~') t[c.charCodeAt(0)] = Kind.Unescape;
  return t;
})();

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** The byte `%XY` at `i` stands for, or -1 when it is not a complete escape. */
function decodeEscape(s: string, i: number, end: number): number {
  if (i + 3 > end || s.charCodeAt(i) !== 37) return -1;
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** Length of the dot at `i`: 1 for `.`, 3 for `%2e`/`%2E`, else 0. */
function dotLength(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c === 46) return 1;
  if (c === 37 && i + 3 <= end && s.charCodeAt(i + 1) === 50 && (s.charCodeAt(i + 2) | 0x20) === 101) return 3;
  return 0;
}

function isSlash(c: number): boolean {
  return c === 47 || c === 92;
}

function escaped(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** Whether the path can change at all: a `%`, `\`, a byte to escape, or a dot after a slash. */
function needsWork(s: string, end: number): boolean {
  let prev = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return true;
    const k = KINDS[c]!;
    if (k === Kind.Escape || k === Kind.Invalid) return true;
    if (c === 46 && isSlash(prev)) return true;
    prev = c;
  }
  return false;
}

/**
 * normalize_path for one `:path` (query kept as is after the canonical path): the canonical
 * path, or null when it is invalid (`%00` or a raw NUL; the connection manager answers 400).
 * The fragment must already be gone.
 */
export function canonicalPath(full: string): string | null {
  const stripped = stripDotSegmentParameters(full);
  const end = queryStart(stripped);
  if (stripped.charCodeAt(0) === 47 && !needsWork(stripped, end)) return stripped;
  const path = canonicalize(stripped, end);
  if (path === null) return null;
  return end === stripped.length ? path : path + stripped.slice(end);
}

/** Chromium's DoPath/DoPartialPath over s[0, end). */
function canonicalize(s: string, end: number): string | null {
  let out = isSlash(s.charCodeAt(0)) ? '' : '/';
  let ok = true;
  // Where a `%` was written that did not start a valid escape: decoding right after it could
  // form a new escape out of the output ("%%30" → "%0"), which must not happen silently.
  let lastBadPercent = -10;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const dot = c === 46 || c === 37 ? dotLength(s, i, end) : 0;
    if (dot > 0) {
      if (out.charCodeAt(out.length - 1) !== 47) {
        out += '.';
        i += dot - 1;
        continue;
      }
      // A dot right after a slash: `.` or `..` as a whole segment is a directory reference.
      const after = i + dot;
      let consumed = 0;
      let kind: 'name' | 'current' | 'up' = 'name';
      if (after === end) kind = 'current';
      else if (isSlash(s.charCodeAt(after))) {
        kind = 'current';
        consumed = 1;
      } else {
        const second = dotLength(s, after, end);
        if (second > 0) {
          const after2 = after + second;
          if (after2 === end) {
            kind = 'up';
            consumed = second;
          } else if (isSlash(s.charCodeAt(after2))) {
            kind = 'up';
            consumed = second + 1;
          }
        }
      }
      if (kind === 'name') {
        out += '.';
        i += dot - 1;
      } else {
        if (kind === 'up') out = backUpToPreviousSlash(out);
        i += dot + consumed - 1;
      }
      continue;
    }
    if (c === 92 /* \ */) {
      out += '/';
      continue;
    }
    if (c === 37 /* % */) {
      const v = decodeEscape(s, i, end);
      if (v < 0) {
        lastBadPercent = out.length;
        out += '%';
        continue;
      }
      const k = KINDS[v]!;
      if (k === Kind.Unescape) {
        out += String.fromCharCode(v);
        if (lastBadPercent >= out.length - 3) out = checkNestedEscapes(s, i + 3, end, lastBadPercent, out);
      } else {
        // Kept exactly as written (hex case too): a server may care.
        out += s.slice(i, i + 3);
        if (k === Kind.Invalid) ok = false;
      }
      i += 2;
      continue;
    }
    if (c > 0xff) {
      for (const b of Buffer.from(s[i]!, 'utf8')) out += escaped(b);
      continue;
    }
    const k = KINDS[c]!;
    if (k === Kind.Invalid) {
      out += escaped(c);
      ok = false;
    } else if (k === Kind.Escape) {
      out += escaped(c);
    } else {
      out += s[i];
    }
  }
  return ok ? out : null;
}

/** Drops the last segment of `out` (which ends with `/`), never above the first slash. */
function backUpToPreviousSlash(out: string): string {
  let i = out.length - 1;
  if (i <= 0) return out;
  i--;
  while (i > 0 && out.charCodeAt(i) !== 47) i--;
  return out.slice(0, i + 1);
}

/**
 * Chromium's CheckForNestedEscapes: `out` ends with a `%` at `bad` followed by one or two
 * characters, the last just decoded. If those (plus the next input character) now read as an
 * escape, the `%` becomes `%25` so the output cannot be decoded into something else later.
 */
function checkNestedEscapes(s: string, next: number, end: number, bad: number, out: string): string {
  const length = out.length;
  const last = out[length - 1]!;
  const appendNext = bad === length - 2;
  let o = out;
  if (appendNext) {
    if (next === end || s.charCodeAt(next) >= 0x80) return out;
    o += s[next];
  }
  if (decodeEscape(o, bad, o.length) >= 0) {
    // "%XY" → "%25XY" (or "%Y" + next → "%25Y"; the next character is then read as usual).
    const tail = appendNext ? last : o.slice(bad + 1, bad + 3);
    return o.slice(0, bad) + '%25' + tail;
  }
  return out;
}
