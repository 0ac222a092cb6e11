// Strict parsing of HTTP/1.1 message heads for the lean codec (RFC 9112), in one pass over the
// head as a latin1 string. Two flavours:
//
// - parseRequestHead recognises only the plain, common subset of requests: a known method, an
//   origin-form target made of RFC 3986 path/query characters (or an absolute-form
//   `http://host[:port]/...` one, as HTTP_PROXY clients of a sidecar send), `HTTP/1.1`, token header names,
//   visible-ASCII values, at most one Content-Length and no Transfer-Encoding, Upgrade, Expect
//   or `Connection: close`. Anything else (including anything malformed) is NOT_FAST: the
//   connection is handed, bytes untouched, to Node's own server, whose strict llhttp parser
//   answers or rejects it exactly as before. So the lean path never accepts bytes Node would
//   refuse, and every hardening behaviour (400/431/408, smuggling defences) stays Node's.
// - parseResponseHead parses what an upstream answers, as strictly as llhttp does, and says
//   how the body is framed (RFC 9112 §6.3); a malformed head is an error, never forwarded.

/** The head is not complete yet. */
export const INCOMPLETE = 0;
/** Not in the lean subset (or malformed): Node's server must take this connection. */
export const NOT_FAST = 1;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

function table(chars: string, ranges: readonly (readonly [number, number])[] = []): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  for (const [a, b] of ranges) for (let c = a; c <= b; c++) t[c] = 1;
  return t;
}

const ALNUM: readonly (readonly [number, number])[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];
/** RFC 9110 §5.6.2 tchar. */
export const TCHAR = table("!#$%&'*+-.^_`|~", ALNUM);
/** RFC 3986 pchar plus `/` and `?` (percent signs stay as they are; the proxy normalises later). */
const TARGET = table("-._~!$&'()*+,;=:@/?%", ALNUM);
/** Host name characters of an absolute-form target's authority (no userinfo, no IPv6 literal). */
const AUTHORITY = table('-.:', ALNUM);
/** Field value bytes the lean request path takes: visible ASCII, SP, HTAB (no obs-text). */
const VALUE_STRICT = table('\t', [[0x20, 0x7e]]);
/** Field value bytes llhttp takes in a response: visible ASCII, SP, HTAB and obs-text. */
const VALUE_RESPONSE = table('\t', [
  [0x20, 0x7e],
  [0x80, 0xff],
]);

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']);
/** Above this many header lines a request goes to Node's server (its own cap is 2000). */
const MAX_FAST_HEADERS = 500;

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** Flat [name, value, ...] as received (names keep their case, values without OWS). */
  readonly raw: string[];
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** Offset of the first byte after the head in the buffer. */
  readonly headEnd: number;
}

/**
 * The request head at the start of `buf`, INCOMPLETE when its end has not arrived (and `buf`
 * is still under `maxHead`), or NOT_FAST when Node's server must take the connection.
 */
export function parseRequestHead(buf: Buffer, maxHead: number): RequestHead | typeof INCOMPLETE | typeof NOT_FAST {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) return buf.length >= maxHead ? NOT_FAST : INCOMPLETE;
  if (end + 4 > maxHead) return NOT_FAST;
  // Up to and including the last header line's CRLF.
  const s = buf.toString('latin1', 0, end + 2);
  let i = 0;
  while (i < 8 && s.charCodeAt(i) >= 0x41 && s.charCodeAt(i) <= 0x5a) i++;
  if (s.charCodeAt(i) !== 0x20) return NOT_FAST;
  const method = s.slice(0, i);
  if (!METHODS.has(method)) return NOT_FAST;
  const t0 = ++i;
  if (s.startsWith('http://', i)) {
    // Absolute form: a plain authority, then a path (an empty path stays Node's).
    i += 7;
    const a0 = i;
    while (i < s.length && AUTHORITY[s.charCodeAt(i)] === 1) i++;
    if (i === a0) return NOT_FAST;
  }
  if (s.charCodeAt(i) !== 0x2f /* / */) return NOT_FAST;
  while (i < s.length && TARGET[s.charCodeAt(i)] === 1) i++;
  if (s.charCodeAt(i) !== 0x20) return NOT_FAST;
  const target = s.slice(t0, i);
  if (!s.startsWith(' HTTP/1.1\r\n', i)) return NOT_FAST;
  i += 11;
  const raw: string[] = [];
  let contentLength = -1;
  while (i < s.length) {
    const line = parseField(s, i, VALUE_STRICT);
    if (line === null) return NOT_FAST;
    const { name, value } = line;
    i = line.next;
    switch (name.length) {
      case 6:
        if (name.toLowerCase() === 'expect') return NOT_FAST;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') return NOT_FAST;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          const v = value.toLowerCase();
          // Closing and upgrading connections are Node's (conservative: any such substring).
          if (v.includes('close') || v.includes('upgrade')) return NOT_FAST;
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (contentLength !== -1) return NOT_FAST;
          contentLength = digits(value);
          if (contentLength < 0) return NOT_FAST;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return NOT_FAST;
        break;
    }
    raw.push(name, value);
    if (raw.length > 2 * MAX_FAST_HEADERS) return NOT_FAST;
  }
  return { method, target, raw, contentLength, headEnd: end + 4 };
}

/** One `name: value CRLF` line at `i`, or null when it is not a well-formed field line. */
function parseField(s: string, i: number, valueChars: Uint8Array): { name: string; value: string; next: number } | null {
  const n0 = i;
  while (i < s.length && TCHAR[s.charCodeAt(i)] === 1) i++;
  // No whitespace before the colon, no empty name, no obs-fold (a line starting with SP/HTAB).
  if (i === n0 || s.charCodeAt(i) !== 0x3a /* : */) return null;
  const name = s.slice(n0, i);
  i++;
  while (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09) i++;
  const v0 = i;
  let c = s.charCodeAt(i);
  while (c !== 0x0d) {
    if (valueChars[c] !== 1) return null;
    c = s.charCodeAt(++i);
  }
  // A CR must start the line's CRLF (no bare CR, no bare LF anywhere).
  if (s.charCodeAt(i + 1) !== 0x0a) return null;
  let v1 = i;
  while (v1 > v0 && (s.charCodeAt(v1 - 1) === 0x20 || s.charCodeAt(v1 - 1) === 0x09)) v1--;
  return { name, value: s.slice(v0, v1), next: i + 2 };
}

/** 1*DIGIT as a safe integer (leading zeros allowed, as llhttp allows them), or -1. */
function digits(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** How a response body is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  readonly status: number;
  readonly raw: string[];
  readonly framing: BodyFraming;
  /** Body bytes when framing is 'length'. */
  readonly contentLength: number;
  /** The upstream lets the connection be reused after this response. */
  readonly keepAlive: boolean;
  readonly headEnd: number;
}

export type ParseError = Error & { code: string };

function parseError(code: string, message: string): ParseError {
  return Object.assign(new Error(`Parse Error: ${message}`), { code });
}

/**
 * The response head starting at `buf[0]`: INCOMPLETE until its end arrived, or the head with
 * its body framing, or a parse error (llhttp's codes). `bodiless`: the request was HEAD.
 */
export function parseResponseHead(buf: Buffer, maxHead: number, bodiless: boolean): ResponseHead | typeof INCOMPLETE | ParseError {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) return buf.length > maxHead ? parseError('HPE_HEADER_OVERFLOW', 'Header overflow') : INCOMPLETE;
  if (end + 4 > maxHead) return parseError('HPE_HEADER_OVERFLOW', 'Header overflow');
  const s = buf.toString('latin1', 0, end + 2);
  // llhttp takes HTTP/1.0, 1.1, 2.0 and 0.9 in a status line (the version decides keep-alive).
  const major = s.charCodeAt(5) - 0x30;
  const minor = s.charCodeAt(7) - 0x30;
  if (!s.startsWith('HTTP/') || s.charCodeAt(6) !== 0x2e) return parseError('HPE_INVALID_CONSTANT', 'Expected HTTP/');
  if (!((major === 1 && (minor === 0 || minor === 1)) || (major === 2 && minor === 0) || (major === 0 && minor === 9)) || s.charCodeAt(8) !== 0x20) {
    return parseError('HPE_INVALID_VERSION', 'Invalid HTTP version');
  }
  const d0 = s.charCodeAt(9) - 0x30;
  const d1 = s.charCodeAt(10) - 0x30;
  const d2 = s.charCodeAt(11) - 0x30;
  if (!(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) return parseError('HPE_INVALID_STATUS', 'Invalid status code');
  const status = d0 * 100 + d1 * 10 + d2;
  let i = 12;
  if (s.charCodeAt(i) === 0x20) {
    i++;
    let c = s.charCodeAt(i);
    while (c !== 0x0d) {
      if (VALUE_RESPONSE[c] !== 1) return parseError('HPE_INVALID_STATUS', 'Invalid response status');
      c = s.charCodeAt(++i);
    }
  }
  if (s.charCodeAt(i) !== 0x0d || s.charCodeAt(i + 1) !== 0x0a) return parseError('HPE_INVALID_STATUS', 'Invalid response status');
  i += 2;
  const raw: string[] = [];
  let contentLength = -1;
  let te: string | null = null;
  let connection = '';
  while (i < s.length) {
    const line = parseField(s, i, VALUE_RESPONSE);
    if (line === null) return parseError('HPE_INVALID_HEADER_TOKEN', 'Invalid header value char');
    const { name, value } = line;
    i = line.next;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (contentLength !== -1) return parseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length');
      contentLength = digits(value);
      if (contentLength < 0) return parseError('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length');
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      te = te === null ? value : `${te}, ${value}`;
    } else if (name.length === 10 && name.toLowerCase() === 'connection') {
      connection = connection ? `${connection},${value.toLowerCase()}` : value.toLowerCase();
    }
    raw.push(name, value);
  }
  if (te !== null && contentLength !== -1) return parseError('HPE_UNEXPECTED_CONTENT_LENGTH', "Content-Length can't be present with Transfer-Encoding");
  // llhttp_should_keep_alive: HTTP/1.1 rules when major and minor are both > 0, else 1.0's.
  let keepAlive = major > 0 && minor > 0 ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive');
  let framing: BodyFraming;
  if (bodiless || status < 200 || status === 204 || status === 304) framing = 'none';
  else if (te !== null) framing = lastToken(te) === 'chunked' ? 'chunked' : 'close';
  else if (contentLength >= 0) framing = contentLength === 0 ? 'none' : 'length';
  else framing = 'close';
  // A body that ends when the connection closes leaves nothing to reuse.
  if (framing === 'close') keepAlive = false;
  return { status, raw, framing, contentLength: contentLength < 0 ? 0 : contentLength, keepAlive, headEnd: end + 4 };
}

function hasToken(list: string, token: string): boolean {
  if (!list) return false;
  for (const t of list.split(',')) if (t.trim() === token) return true;
  return false;
}

function lastToken(list: string): string {
  const i = list.lastIndexOf(',');
  return (i < 0 ? list : list.slice(i + 1)).trim().toLowerCase();
}
