// What the connection manager and the router use of a downstream request and its response.
// node's IncomingMessage/ServerResponse (HTTP/1.1 and, through the compatibility API, HTTP/2)
// provide it, and so do the lean HTTP/1.1 server's LeanRequest/LeanResponse
// (src/dataplane/http1/); keeping to this surface is what lets either serve a request.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

export interface DownstreamIncoming {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: Socket;
  readonly readableEnded: boolean;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  once(event: 'end', fn: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

export interface DownstreamResponse {
  statusCode: number;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  /** A flat [name, value, ...] list, repeats kept. */
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: string): unknown;
  destroy(): unknown;
  getHeaders(): OutgoingHttpHeaders;
  /** Trailers after a chunked body (HTTP/1.1) or the DATA frames (HTTP/2). */
  addTrailers?(trailers: Record<string, string>): void;
  on(event: 'drain', fn: () => void): unknown;
  once(event: 'close', fn: () => void): unknown;
}
