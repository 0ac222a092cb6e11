// How httpbin describes a request in its JSON: headers with Title-Cased names (`X-B3-Traceid`,
// as the Python httpbin shows them), query `args` (a repeated key becomes a list), `origin` (the
// X-Forwarded-For chain, else the peer address), the full `url`, and the body as `data`, `form`
// and `json`. Objects are built from Maps so client-chosen keys like `__proto__` stay data.

import type http from 'node:http';

type Multi = string | string[];

/** Python's str.title() on a header name: a letter after a non-letter is upper-cased. */
export function titleCase(name: string): string {
  let out = '';
  let prevLetter = false;
  for (const ch of name) {
    const letter = /[a-z]/i.test(ch);
    out += letter ? (prevLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevLetter = letter;
  }
  return out;
}

/** Headers as received (rawHeaders keeps repeats), repeated values joined with a comma. */
export function httpbinHeaders(raw: readonly string[]): Record<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = titleCase(raw[i]!);
    const prev = map.get(name);
    map.set(name, prev === undefined ? raw[i + 1]! : `${prev},${raw[i + 1]}`);
  }
  return Object.fromEntries(map);
}

export function httpbinArgs(query: URLSearchParams): Record<string, Multi> {
  const map = new Map<string, Multi>();
  for (const [k, v] of query) {
    const prev = map.get(k);
    map.set(k, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return Object.fromEntries(map);
}

export function origin(req: http.IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  return typeof xff === 'string' && xff !== '' ? xff : req.socket.remoteAddress ?? '';
}

export function requestUrl(req: http.IncomingMessage, target: string): string {
  // An absolute-form target already is the URL.
  if (!target.startsWith('/') && URL.canParse(target)) return target;
  const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${proto}://${req.headers.host ?? 'localhost'}${target}`;
}

export interface BodyFields {
  data: string;
  form: Record<string, Multi>;
  files: Record<string, never>;
  json: unknown;
}

/**
 * The body as httpbin reports it: a urlencoded form goes to `form` (and `data` stays empty),
 * anything else to `data` (text, or a base64 data URL when it is not UTF-8); `json` is the body
 * parsed as JSON, or null. Multipart bodies are not split into files (they show as `data`).
 */
export function bodyFields(body: Buffer, contentType: string | undefined): BodyFields {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = utf8(body);
  if (mime === 'application/x-www-form-urlencoded' && text !== undefined) {
    return { data: '', form: httpbinArgs(new URLSearchParams(text)), files: {}, json: null };
  }
  let json: unknown = null;
  if (text !== undefined && text.trim() !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  const data = text ?? `data:application/octet-stream;base64,${body.toString('base64')}`;
  return { data, form: {}, files: {}, json };
}

function utf8(b: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}
