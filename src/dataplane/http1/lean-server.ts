// The lean HTTP/1.1 server of one plaintext HTTP chain: it reads request heads straight off the
// socket (head-parser.ts) and gives the connection manager LeanRequest/LeanResponse objects
// instead of node's parser, IncomingMessage and ServerResponse. It serves only the plain,
// complete, keep-alive HTTP/1.1 requests that make up nearly all traffic; the moment a
// connection shows anything else — a head split over reads, a chunked or `Expect` request,
// an upgrade, HTTP/1.0, `Connection: close`, anything malformed — it is handed, between
// requests and with its unread bytes put back, to the chain's node server, which serves (or
// rejects: 400/431/408) it from then on exactly as it always did. One request at a time per
// connection; pipelined requests wait in the buffer until the previous response is done.

import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../../common/clock.js';
import type { HttpConnectionManager } from '../http/connection-manager.js';
import { writeClientError } from '../http/client-error.js';
import { INCOMPLETE, NOT_FAST, parseRequestHead } from './head-parser.js';
import { DateCache } from './head-writer.js';
import { LeanRequest } from './lean-request.js';
import type { BodyFlow } from './lean-request.js';
import { LeanResponse } from './lean-response.js';
import type { ResponseOwner } from './lean-response.js';

/** Heads larger than this go to node's server (which allows 16 KiB and answers 431 beyond). */
const MAX_FAST_HEAD = 8 * 1024;
/** node adds this to keepAliveTimeout for its own idle timer (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER). */
const KEEP_ALIVE_BUFFER_MS = 1000;
/** Pipelined bytes kept while a response is in progress before the connection stops reading. */
const MAX_BUFFERED = 64 * 1024;

/** Sockets node's server took over from the lean server (already counted as connections). */
const handedOver = new WeakSet<Socket>();

export function wasHandedOver(socket: Socket): boolean {
  return handedOver.has(socket);
}

export class LeanHttp1Server implements ResponseOwner {
  readonly date: DateCache;
  private readonly connections = new Set<LeanConnection>();

  constructor(
    readonly manager: HttpConnectionManager,
    /** The chain's node server, which takes every connection the lean path does not serve. */
    readonly fallback: http.Server,
    clock: Clock,
  ) {
    this.date = new DateCache(clock);
  }

  keepAliveTimeoutMs(): number {
    return this.manager.config.idleTimeoutMs;
  }

  responseFinished(res: LeanResponse, last: boolean): void {
    (res.socket as Socket & { [kConn]?: LeanConnection })[kConn]?.responseDone(last);
  }

  /** A new plaintext HTTP/1.1 connection (instead of `fallback.emit('connection')`). */
  accept(socket: Socket): void {
    this.manager.onConnection(socket);
    const c = new LeanConnection(this, socket);
    (socket as Socket & { [kConn]?: LeanConnection })[kConn] = c;
    this.connections.add(c);
  }

  forget(c: LeanConnection): void {
    this.connections.delete(c);
  }

  /** node's closeIdleConnections(): connections between requests close now. */
  closeIdleConnections(): void {
    for (const c of this.connections) if (c.idle) c.socket.destroy();
  }
}

const kConn = Symbol('strait.leanConnection');

class LeanConnection implements BodyFlow {
  private buf: Buffer | null = null;
  private req: LeanRequest | null = null;
  private res: LeanResponse | null = null;
  /** Request body bytes still to come for the current request. */
  private bodyLeft = 0;
  private readingPaused = false;
  private keepAliveArmed = false;
  private gone = false;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.end();
  private readonly onClose = () => this.close();
  private readonly onTimeout = () => this.socket.destroy();

  constructor(
    private readonly server: LeanHttp1Server,
    readonly socket: Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
  }

  get idle(): boolean {
    return this.req === null && this.res === null;
  }

  private data(chunk: Buffer): void {
    if (this.bodyLeft > 0) {
      const n = Math.min(this.bodyLeft, chunk.length);
      this.body(n === chunk.length ? chunk : chunk.subarray(0, n));
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.res !== null) {
      // Pipelined: wait for the response in progress (reading stops when too much queues up).
      if (this.buf.length > MAX_BUFFERED) this.pauseReading();
      return;
    }
    this.next();
  }

  /** Starts the next request in the buffer, or hands the connection to node's server. */
  private next(): void {
    const buf = this.buf;
    if (buf === null || this.gone) return;
    const head = parseRequestHead(buf, MAX_FAST_HEAD);
    if (head === INCOMPLETE || head === NOT_FAST) {
      this.handOver();
      return;
    }
    const rest = buf.length > head.headEnd ? buf.subarray(head.headEnd) : null;
    this.buf = null;
    if (this.keepAliveArmed) {
      // A request arrived: the keep-alive timer stops (node's resetSocketTimeout).
      this.keepAliveArmed = false;
      this.socket.setTimeout(0);
    }
    const socket = this.socket;
    const req = new LeanRequest(head.method, head.target, head.raw, socket, this);
    const res = new LeanResponse(socket, this.server, head.method !== 'HEAD');
    this.req = req;
    this.res = res;
    this.bodyLeft = head.contentLength > 0 ? head.contentLength : 0;
    if (this.bodyLeft === 0) req.finish();
    this.server.manager.handle(req, res);
    if (rest !== null) this.data(rest);
  }

  private body(chunk: Buffer): void {
    this.bodyLeft -= chunk.length;
    const req = this.req!;
    // After the response finished, the rest of the body is read and dropped (node's _dump).
    if (this.res !== null) req.push(chunk);
    if (this.bodyLeft === 0) {
      req.finish();
      if (this.res === null) this.requestDone();
    }
  }

  pauseBody(): void {
    this.pauseReading();
  }

  resumeBody(): void {
    if (this.readingPaused && (this.buf === null || this.buf.length <= MAX_BUFFERED)) {
      this.readingPaused = false;
      this.socket.resume();
    }
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  /** The response's last byte left (LeanResponse 'finish'). */
  responseDone(last: boolean): void {
    this.res = null;
    if (last) {
      this.gone = true;
      this.socket.destroySoon();
      return;
    }
    if (this.bodyLeft > 0) {
      // The body nobody read any more is dropped as it arrives; reading must go on for that.
      if (this.readingPaused) {
        this.readingPaused = false;
        this.socket.resume();
      }
      return;
    }
    this.requestDone();
  }

  /** Request and response both complete: on to the next request, or wait for one. */
  private requestDone(): void {
    this.req = null;
    if (this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
    if (this.buf !== null) {
      this.next();
      return;
    }
    const ms = this.server.keepAliveTimeoutMs();
    if (ms > 0 && !this.gone) {
      this.keepAliveArmed = true;
      this.socket.setTimeout(ms + KEEP_ALIVE_BUFFER_MS);
    }
  }

  /**
   * Gives the socket, with the bytes not yet parsed, to node's server. Only between requests,
   * so node starts at a message boundary with nothing of ours in flight.
   */
  private handOver(): void {
    this.gone = true;
    this.detach();
    const socket = this.socket;
    socket.setTimeout(0);
    handedOver.add(socket);
    if (this.buf !== null) socket.unshift(this.buf);
    this.buf = null;
    if (this.readingPaused || socket.isPaused()) socket.resume();
    this.server.fallback.emit('connection', socket);
  }

  private detach(): void {
    const s = this.socket;
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onClose);
    s.off('timeout', this.onTimeout);
    delete (s as Socket & { [kConn]?: LeanConnection })[kConn];
    this.server.forget(this);
  }

  /** The client finished sending (FIN). */
  private end(): void {
    if (this.bodyLeft > 0 && this.req !== null && !this.req.complete) {
      // A body cut short: node's parser fails at EOF and its clientError handler answers.
      const res = this.res;
      this.req.abort();
      this.gone = true;
      writeClientError(this.server.manager, Object.assign(new Error('Parse Error: Invalid EOF state'), { code: 'HPE_INVALID_EOF_STATE' }), this.socket, res?.headersSent ?? false);
      return;
    }
    // node's server (httpAllowHalfOpen off) ends its side at once, answered or not.
    this.gone = true;
    this.socket.end();
  }

  private close(): void {
    this.gone = true;
    this.detach();
    this.req?.abort();
    this.res?.emitClose();
  }
}
