// A raw HTTP/1.1 client for tests that must send bytes exactly as written (request targets with
// `..`, `%2F`, `\`, `#`, absolute-form, duplicate headers): Node's http client would normalise or
// refuse some of them. One request per connection (`Connection: close`); the response is read to
// the end of the connection and split into status, headers and body.

import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The connection closed without an HTTP response (e.g. a refused connection). */
  readonly closedWithoutResponse: boolean;
}

/** Sends `GET <target>` (or the given method) with `Host` and any extra header lines, verbatim. */
export function rawGet(port: number, target: string, opts: { method?: string; host?: string; headers?: readonly string[] } = {}): Promise<RawResponse> {
  const lines = [`${opts.method ?? 'GET'} ${target} HTTP/1.1`, ...(opts.host === '' ? [] : [`Host: ${opts.host ?? 'app.test'}`]), ...(opts.headers ?? []), 'Connection: close', '', ''];
  return rawExchange(port, Buffer.from(lines.join('\r\n'), 'latin1'));
}

/** Writes `bytes` to 127.0.0.1:`port` and parses what comes back before the connection closes. */
export function rawExchange(port: number, bytes: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') return;
      reject(e);
    });
    socket.on('close', () => resolve(parse(Buffer.concat(chunks).toString('latin1'))));
    socket.write(bytes);
  });
}

function parse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (!text.startsWith('HTTP/1.') || end < 0) return { status: 0, headers: {}, body: text, closedWithoutResponse: true };
  const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(statusLine!.split(' ')[1]), headers, body, closedWithoutResponse: false };
}

function dechunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', i);
    if (eol < 0) return out;
    const size = parseInt(s.slice(i, eol), 16);
    if (!(size > 0)) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}
