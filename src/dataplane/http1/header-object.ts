// The `headers` object of a message read by the lean codec, built exactly as Node's
// IncomingMessage builds it (joinDuplicateHeaders off), so code that reads `req.headers` or a
// response's `headers` sees the same values whichever codec parsed the message: lower-cased
// names; for the fields Node keeps once, the first value wins; `set-cookie` is a list;
// `cookie` values are joined with "; " and every other repeated field with ", ".

import type { IncomingHttpHeaders } from 'node:http';

/** Fields whose first occurrence wins (node's _http_incoming.js matchKnownFields). */
const FIRST_WINS = new Set([
  'age',
  'host',
  'from',
  'etag',
  'server',
  'referer',
  'expires',
  'location',
  'user-agent',
  'retry-after',
  'content-type',
  'max-forwards',
  'authorization',
  'last-modified',
  'content-length',
  'if-modified-since',
  'proxy-authorization',
  'if-unmodified-since',
]);

export function nodeStyleHeaders(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) {
      out[name] = name === 'set-cookie' ? [value] : value;
    } else if (name === 'set-cookie') {
      (prev as string[]).push(value);
    } else if (!FIRST_WINS.has(name)) {
      out[name] = `${prev as string}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return out as IncomingHttpHeaders;
}
