// Header handling shared by the request and response paths: hop-by-hop removal (RFC 9110 §7.6.1
// plus the names listed in Connection), lower-cased names as Envoy emits them, and repeated
// headers kept as repeated (rawHeaders, so nothing is silently merged or dropped).

/** Headers that describe one connection and must never be forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'trailer',
  'http2-settings',
  // The proxy answers `Expect: 100-continue` itself (Node does), as Envoy does.
  'expect',
]);

export type HeaderMap = Record<string, string | string[]>;

function connectionTokens(raw: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      const v = raw[i + 1]!;
      // `keep-alive` (nearly every HTTP/1.1 message) names a field that goes anyway: no set.
      if (v.length === 10 && v.toLowerCase() === 'keep-alive') continue;
      for (const t of v.split(',')) {
        const n = t.trim().toLowerCase();
        if (n && !HOP_BY_HOP.has(n)) (tokens ??= new Set()).add(n);
      }
    }
  }
  return tokens;
}

/**
 * Copies end-to-end headers from Node's rawHeaders into a map of lower-cased names; repeated
 * names become arrays. `skip` names are left out (the caller sets them itself).
 */
export function forwardableHeaders(raw: readonly string[], skip?: ReadonlySet<string>): HeaderMap {
  const out: HeaderMap = {};
  const listed = connectionTokens(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    // HTTP/2 pseudo-headers (:method, :path, ...) describe the request line, not headers.
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (HOP_BY_HOP.has(name) || (listed !== null && listed.has(name)) || (skip !== undefined && skip.has(name))) continue;
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  // HTTP/2 may split cookies over several fields; HTTP/1.1 needs one (RFC 9113 §8.2.3).
  const cookie = out.cookie;
  if (Array.isArray(cookie)) out.cookie = cookie.join('; ');
  return out;
}

/** Flat [name, value, ...] list for ServerResponse.writeHead, keeping repeats (Set-Cookie). */
export function forwardableResponseHeaders(raw: readonly string[], skip?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const listed = connectionTokens(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || (listed !== null && listed.has(name)) || (skip !== undefined && skip.has(name))) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** How many times a header appears (duplicate Host detection; RFC 9112 §3.2 says 400). */
export function countHeader(raw: readonly string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === lowerName.length && raw[i]!.toLowerCase() === lowerName) n++;
  return n;
}

export function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
