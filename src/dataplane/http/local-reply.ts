// Replies the proxy writes itself (no route, no healthy upstream, connect failure, ...). Every
// one carries its Envoy response flag and a details string, in the access log and in the reply:
// `x-strait-flags` / `x-strait-details` headers and a one-line text body that says what happened
// and what to check, so a user never has to guess why a request failed.

import type { ServerResponse } from 'node:http';
import type { DownstreamResponse } from './downstream.js';

export interface LocalReply {
  readonly status: number;
  /** Envoy response flag, e.g. 'NR', 'UH', 'UF'. */
  readonly flag: string;
  /** Envoy response code details, e.g. 'route_not_found'. */
  readonly details: string;
  /** Human explanation for the body. */
  readonly message: string;
  /** Extra response headers (a CORS preflight, a gRPC status), lower-case names. */
  readonly headers?: readonly (readonly [string, string])[];
  /** Exact body instead of the explanation line (e.g. an empty preflight answer). */
  readonly body?: string;
}

export const REASONS: Readonly<Record<number, string>> = {
  307: 'Temporary Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function localReply(status: number, flag: string, details: string, message: string, extra?: { headers?: LocalReply['headers']; body?: string }): LocalReply {
  return { status, flag, details, message, ...extra };
}

/** The response head of a local reply as a flat [name, value, ...] list (filters may edit it). */
export function localReplyHead(reply: LocalReply, extraHeaders: Record<string, string>): { headers: string[]; body: string } {
  const body = reply.body ?? `${reply.status} ${REASONS[reply.status] ?? ''}: ${reply.message} (response flag ${reply.flag || '-'}, ${reply.details})\n`;
  const headers: string[] = [];
  for (const [k, v] of Object.entries(extraHeaders)) headers.push(k, v);
  if (body.length > 0 && reply.body === undefined) headers.push('content-type', 'text/plain; charset=utf-8');
  headers.push('content-length', String(Buffer.byteLength(body)), 'x-strait-details', reply.details);
  if (reply.flag) headers.push('x-strait-flags', reply.flag);
  const own = reply.headers;
  if (own?.length) {
    // The reply's own headers replace the defaults of the same name (an authorization service's
    // `server` or `content-type`), as Envoy's local-reply header callbacks do; they may repeat
    // among themselves (set-cookie).
    const names = new Set(own.map(([k]) => k));
    for (let i = headers.length - 2; i >= 0; i -= 2) {
      const k = headers[i]!;
      if (names.has(k) && k !== 'content-length' && !k.startsWith('x-strait-')) headers.splice(i, 2);
    }
    for (const [k, v] of own) headers.push(k, v);
  }
  return { headers, body };
}

/** Writes the reply; returns the number of body bytes sent. */
export function writeLocalReply(downstream: DownstreamResponse, status: number, head: { headers: string[]; body: string }, isHead: boolean): number {
  const res = downstream as ServerResponse;
  if ((isHead || head.body.length === 0) && (res as { stream?: unknown }).stream !== undefined) {
    // HTTP/2: headers set before end() leave in one HEADERS frame with END_STREAM, the
    // "trailers-only" form a gRPC client needs to read grpc-status from them.
    res.statusCode = status;
    const grouped = new Map<string, string[]>();
    for (let i = 0; i < head.headers.length; i += 2) {
      const k = head.headers[i]!.toLowerCase();
      const list = grouped.get(k);
      if (list) list.push(head.headers[i + 1]!);
      else grouped.set(k, [head.headers[i + 1]!]);
    }
    for (const [k, v] of grouped) res.setHeader(k, v.length === 1 ? v[0]! : v);
    res.end();
    return 0;
  }
  res.writeHead(status, head.headers);
  if (isHead || head.body.length === 0) {
    res.end();
    return 0;
  }
  res.end(head.body);
  return Buffer.byteLength(head.body);
}
