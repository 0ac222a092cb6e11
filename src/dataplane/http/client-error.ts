// Malformed or too slow downstream HTTP never reaches the router: Node's parser (llhttp, strict
// mode) rejects it and this module answers 400, 431 or 408, closes the connection and writes an
// access-log line with flag DPE, so a rejected request is visible like any other.

import type { Socket } from 'node:net';
import type { HttpConnectionManager } from './connection-manager.js';
import { REASONS } from './local-reply.js';
import { newStreamInfo } from './stream-info.js';
import type { StreamInfo } from './stream-info.js';
import { writeAccessLogs } from '../../telemetry/access-log/access-logs.js';

/**
 * `responseStarted`: whether a response is already under way on the socket; node's server
 * keeps that response as `socket._httpMessage`, the lean server says it.
 */
export function writeClientError(manager: HttpConnectionManager, err: NodeJS.ErrnoException, socket: Socket, responseStarted?: boolean): void {
  const code = err.code ?? '';
  socket.on('error', () => socket.destroy());
  if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  // A response already under way on this socket cannot be replaced by an error response.
  const started = responseStarted ?? (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  let status = 400;
  let details = `http1.codec_error{${code || 'unknown'}}`;
  let flag = 'DPE';
  if (code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    details = 'http1.headers_too_large';
  } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    details = 'request_header_timeout';
    flag = '';
  }
  const body = `${status} ${REASONS[status]}: the request was rejected before routing (${details})\n`;
  if (!started) {
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `x-strait-details: ${details}\r\n${flag ? `x-strait-flags: ${flag}\r\n` : ''}\r\n${body}`,
    );
  } else {
    socket.destroy();
  }
  const cfg = manager.config;
  const info = newStreamInfo(manager.clock.now(), manager.clock.monotonic());
  info.responseCode = started ? 0 : status;
  if (flag) info.responseFlags.push(flag);
  info.responseCodeDetails = details;
  info.downstreamLocalAddress = `${socket.localAddress}:${socket.localPort}`;
  info.downstreamRemoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
  info.method = '-';
  info.path = '-';
  writeAccessLogs(cfg.accessLogs, info);
}

/** CONNECT arrives on its own server event; Strait does not tunnel, so it answers 405 and logs. */
export function rejectConnect(manager: HttpConnectionManager, req: { url?: string; httpVersion: string; headers: Record<string, string | string[] | undefined> }, socket: Socket): void {
  // The socket left the HTTP server's care with this event: it needs its own error handler, or
  // a client reset would be an uncaught exception.
  socket.on('error', () => socket.destroy());
  const details = 'connect_not_supported';
  const body = `405 ${REASONS[405]}: CONNECT tunnels are not supported (${details})\n`;
  socket.end(
    `HTTP/1.1 405 ${REASONS[405]}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-strait-details: ${details}\r\n\r\n${body}`,
  );
  const info = newStreamInfo(manager.clock.now(), manager.clock.monotonic());
  info.method = 'CONNECT';
  info.path = req.url ?? '';
  info.authority = req.url ?? '';
  info.protocol = `HTTP/${req.httpVersion}`;
  info.requestHeaders = req.headers as StreamInfo['requestHeaders'];
  info.responseCode = 405;
  info.responseCodeDetails = details;
  info.bytesSent = Buffer.byteLength(body);
  info.downstreamLocalAddress = `${socket.localAddress}:${socket.localPort}`;
  info.downstreamRemoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
  writeAccessLogs(manager.config.accessLogs, info);
}
