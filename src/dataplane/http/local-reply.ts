// Replies the proxy writes itself (no route, no healthy upstream, connect failure, ...). Every
// one carries its Envoy response flag and a details string, in the access log and in the reply:
// `x-strait-flags` / `x-strait-details` headers and a one-line text body that says what happened
// and what to check, so a user never has to guess why a request failed.

import type { ServerResponse } from 'node:http';

export interface LocalReply {
  readonly status: number;
  /** Envoy response flag, e.g. 'NR', 'UH', 'UF'. */
  readonly flag: string;
  /** Envoy response code details, e.g. 'route_not_found'. */
  readonly details: string;
  /** Human explanation for the body. */
  readonly message: string;
}

export const REASONS: Readonly<Record<number, string>> = {
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

export function localReply(status: number, flag: string, details: string, message: string): LocalReply {
  return { status, flag, details, message };
}

/** Writes the reply; returns the number of body bytes sent. */
export function writeLocalReply(res: ServerResponse, reply: LocalReply, extraHeaders: Record<string, string>, isHead: boolean): number {
  const body = `${reply.status} ${REASONS[reply.status] ?? ''}: ${reply.message} (response flag ${reply.flag || '-'}, ${reply.details})\n`;
  const headers: Record<string, string | number> = {
    ...extraHeaders,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-strait-details': reply.details,
  };
  if (reply.flag) headers['x-strait-flags'] = reply.flag;
  res.writeHead(reply.status, headers);
  if (isHead) {
    res.end();
    return 0;
  }
  res.end(body);
  return Buffer.byteLength(body);
}
