// Serialises message heads for the lean codec byte for byte as Node's OutgoingMessage does
// (_http_outgoing.js _storeHeader), so an upstream or a client cannot tell which codec wrote
// them: the same header order and validation errors, the same `Connection`, `Keep-Alive`,
// `Date`, `Content-Length: 0` and `Transfer-Encoding: chunked` additions. Names and values are
// checked like Node checks them (a CR/LF in a value throws, never reaches the wire).

import { STATUS_CODES } from 'node:http';
import type { Clock } from '../../common/clock.js';
import type { HeaderMap } from '../http/headers.js';
import { TCHAR } from './head-parser.js';

type CodedError = TypeError & { code: string };

function coded(code: string, message: string): CodedError {
  return Object.assign(new TypeError(message), { code });
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** Node's checkInvalidHeaderChar: anything but HTAB, visible ASCII, SP and obs-text. */
function hasInvalidChar(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return true;
  }
  return false;
}

function checkField(name: string, value: unknown): string {
  if (!isToken(name)) throw coded('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
  if (value === undefined) throw coded('ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "undefined" for header "${name}"`);
  const v = String(value);
  if (hasInvalidChar(v)) throw coded('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  return v;
}

const CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;
const CONN_CLOSE = /(?:^|\W)close(?:$|\W)/i;
/** Methods whose requests Node frames as chunked by default (ClientRequest.useChunkedEncodingByDefault). */
const NO_DEFAULT_BODY = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/** What writing a head decided about the body that follows. */
interface Framing {
  connection: boolean;
  contentLength: boolean;
  te: boolean;
  chunked: boolean;
  date: boolean;
  keepAliveHeader: boolean;
  closeRequested: boolean;
}

function newFraming(): Framing {
  return { connection: false, contentLength: false, te: false, chunked: false, date: false, keepAliveHeader: false, closeRequested: false };
}

/** One field line, noting what node's matchHeader notes. */
function field(f: Framing, name: string, value: string): string {
  if (name.length >= 4 && name.length <= 17) {
    switch (name.toLowerCase()) {
      case 'connection':
        f.connection = true;
        if (CONN_CLOSE.test(value)) f.closeRequested = true;
        break;
      case 'transfer-encoding':
        f.te = true;
        if (CHUNKED.test(value)) f.chunked = true;
        break;
      case 'content-length':
        f.contentLength = true;
        break;
      case 'date':
        f.date = true;
        break;
      case 'keep-alive':
        f.keepAliveHeader = true;
        break;
    }
  }
  return `${name}: ${value}\r\n`;
}

/** A request's line and header fields, validated; what node adds depends on the connection. */
export interface RequestLines {
  readonly text: string;
  readonly method: string;
  readonly framing: Framing;
}

/** Validates and writes the request line and fields, throwing as http.request would. */
export function requestLines(method: string, path: string, headers: HeaderMap): RequestLines {
  if (!isToken(method)) throw coded('ERR_INVALID_HTTP_TOKEN', `Method must be a valid HTTP token ["${method}"]`);
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x21 || c > 0xff) throw coded('ERR_UNESCAPED_CHARACTERS', 'Request path contains unescaped characters');
  }
  const f = newFraming();
  let text = `${method} ${path} HTTP/1.1\r\n`;
  for (const name in headers) {
    const v = headers[name]!;
    if (Array.isArray(v)) {
      if (v.length >= 2 && name.length === 6 && name.toLowerCase() === 'cookie') {
        text += field(f, name, checkField(name, v.join('; ')));
      } else {
        for (const x of v) text += field(f, name, checkField(name, x));
      }
    } else {
      text += field(f, name, checkField(name, v));
    }
  }
  return { text, method, framing: f };
}

export interface RequestHead {
  readonly head: string;
  /** The body must be sent in chunked framing. */
  readonly chunked: boolean;
}

/**
 * The head node's ClientRequest (agent with keep-alive, setHost false) writes: the fields, then
 * `Connection`, then framing. `bodyless`: end() came before any body write (node then sends
 * Content-Length: 0 for methods that default to a body).
 */
export function requestHead(lines: RequestLines, keepAlive: boolean, bodyless: boolean): RequestHead {
  const f = lines.framing;
  let head = lines.text;
  if (!f.connection) head += keepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
  let chunked = f.chunked;
  if (!f.contentLength && !f.te && !NO_DEFAULT_BODY.has(lines.method)) {
    if (bodyless) head += 'Content-Length: 0\r\n';
    else {
      head += 'Transfer-Encoding: chunked\r\n';
      chunked = true;
    }
  }
  return { head: `${head}\r\n`, chunked };
}

export interface ResponseHeadOptions {
  /** The request allows keeping the connection (HTTP/1.1, no `Connection: close`). */
  readonly keepAlive: boolean;
  /** The server's keep-alive timeout (Keep-Alive: timeout=N), 0 for none. */
  readonly keepAliveTimeoutMs: number;
  /** False for HEAD requests. */
  readonly requestHasBody: boolean;
}

export interface ResponseHead {
  readonly head: string;
  readonly chunked: boolean;
  /** No body may follow (HEAD, 1xx, 204, 304). */
  readonly bodiless: boolean;
  /** The connection closes after this response. */
  readonly last: boolean;
}

/** The head ServerResponse.writeHead(status, flat) writes for an HTTP/1.1 request. */
export function responseHead(status: number, flat: readonly string[], o: ResponseHeadOptions, date: DateCache): ResponseHead {
  if (flat.length % 2 !== 0) throw coded('ERR_INVALID_ARG_VALUE', "The argument 'headers' is invalid");
  const code = status | 0;
  if (code < 100 || code > 999) throw coded('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${status}`);
  const f = newFraming();
  let head = `HTTP/1.1 ${code} ${STATUS_CODES[code] || 'unknown'}\r\n`;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    head += field(f, name, checkField(name, flat[i + 1]));
  }
  if (!f.date) head += `Date: ${date.get()}\r\n`;
  const bodiless = !o.requestHasBody || code === 204 || code === 304 || (code >= 100 && code <= 199);
  let keepAlive = o.keepAlive;
  let chunked = f.chunked;
  if (chunked && (code === 204 || code === 304)) {
    chunked = false;
    keepAlive = false;
  }
  let last = f.closeRequested;
  if (!f.connection) {
    // Node also asks for a length or chunked framing, which a ServerResponse always has.
    if (keepAlive) {
      head += 'Connection: keep-alive\r\n';
      if (o.keepAliveTimeoutMs && !f.keepAliveHeader) head += `Keep-Alive: timeout=${Math.floor(o.keepAliveTimeoutMs / 1000)}\r\n`;
    } else {
      last = true;
      head += 'Connection: close\r\n';
    }
  } else if (!keepAlive) {
    last = true;
  }
  if (!f.contentLength && !f.te) {
    if (bodiless) chunked = false;
    else {
      head += 'Transfer-Encoding: chunked\r\n';
      chunked = true;
    }
  }
  return { head: `${head}\r\n`, chunked: chunked && !bodiless, bodiless, last };
}

/** The `Date` header value, computed at most once per second of the injected clock. */
export class DateCache {
  private second = -1;
  private value = '';

  constructor(private readonly clock: Clock) {}

  get(): string {
    const now = this.clock.now();
    const s = Math.floor(now / 1000);
    if (s !== this.second) {
      this.second = s;
      this.value = new Date(s * 1000).toUTCString();
    }
    return this.value;
  }
}
