// A response written by the lean server: the part of node's ServerResponse the proxy uses
// (writeHead with a flat header list, write, end, addTrailers, destroy, 'drain', 'finish',
// 'close'), writing the bytes node would write (head-writer.ts): the head goes out with the
// first body bytes in one write (one buffer for a small first chunk, else a corked writev), a
// body without Content-Length is chunked, HEAD/204/304 carry none. 'close' follows 'finish'
// (the last byte handed to the kernel) or the connection's end, whichever comes first, as node
// emits it.

import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { responseHead } from './head-writer.js';
import type { DateCache } from './head-writer.js';

export interface ResponseOwner {
  readonly date: DateCache;
  /** The keep-alive timeout the server announces (node's server.keepAliveTimeout). */
  keepAliveTimeoutMs(): number;
  /** The last byte of the response was handed to the kernel. */
  responseFinished(res: LeanResponse, last: boolean): void;
}

const CRLF = '\r\n';
/** Body chunks up to this size are copied behind the head into one buffer (one plain write). */
const COALESCE_MAX = 16 * 1024;

function uncorkNT(res: LeanResponse): void {
  res.uncork();
}

export class LeanResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  private head: string | null = null;
  private chunked = false;
  private bodiless = false;
  private last = false;
  private corked = false;
  private closed = false;
  private trailer = '';
  private needDrain = false;

  constructor(
    readonly socket: Socket,
    private readonly owner: ResponseOwner,
    private readonly requestHasBody: boolean,
  ) {
    super();
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  writeHead(status: number, headers?: readonly string[]): this {
    if (this.head !== null) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    const h = responseHead(status, headers ?? [], { keepAlive: true, keepAliveTimeoutMs: this.owner.keepAliveTimeoutMs(), requestHasBody: this.requestHasBody }, this.owner.date);
    this.statusCode = status | 0;
    this.head = h.head;
    this.chunked = h.chunked;
    this.bodiless = h.bodiless;
    this.last = h.last;
    return this;
  }

  /** Node's ServerResponse.getHeaders(): only headers set with setHeader, which the proxy never uses on HTTP/1.1. */
  getHeaders(): OutgoingHttpHeaders {
    return Object.create(null) as OutgoingHttpHeaders;
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (this.head === null) this.writeHead(this.statusCode);
    if (this.bodiless) return true;
    const len = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (len === 0) return true;
    const socket = this.socket;
    let ok: boolean;
    if (!this.headersSent && !this.chunked && typeof chunk !== 'string' && len <= COALESCE_MAX) {
      // The head and a small first body chunk leave as one buffer in one plain write: no cork,
      // no uncork tick, no writev list (most responses are one such chunk).
      const head = this.head!;
      this.headersSent = true;
      const both = Buffer.allocUnsafe(head.length + len);
      both.write(head, 0, 'latin1');
      chunk.copy(both, head.length);
      ok = socket.write(both);
    } else {
      this.flushHead();
      if (this.chunked) {
        // Size line, data and CRLF leave in one write.
        const cork = !this.corked;
        if (cork) socket.cork();
        socket.write(`${len.toString(16)}${CRLF}`, 'latin1');
        socket.write(chunk);
        ok = socket.write(CRLF, 'latin1');
        if (cork) socket.uncork();
      } else {
        ok = socket.write(chunk);
      }
    }
    if (!ok && !this.needDrain) {
      this.needDrain = true;
      socket.once('drain', () => {
        this.needDrain = false;
        if (!this.writableEnded) this.emit('drain');
      });
    }
    return ok;
  }

  addTrailers(t: Record<string, string>): void {
    for (const name in t) this.trailer += `${name}: ${t[name]}${CRLF}`;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this;
    if (this.head === null) {
      // node's implicit head for end(data): the length is known.
      const n = chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      this.writeHead(this.statusCode, ['Content-Length', String(n)]);
    }
    if (chunk !== undefined) this.write(chunk);
    this.writableEnded = true;
    const socket = this.socket;
    this.flushHead();
    const done = () => this.onFinish();
    if (this.chunked) {
      socket.write(`0${CRLF}${this.trailer}${CRLF}`, 'latin1', done);
      this.uncork();
      return this;
    }
    // Everything of this response is written: send it now rather than on the next tick. When the
    // kernel took it all at once (the usual case) nothing is left queued and the response is
    // finished; otherwise an empty write's callback says when the queue has drained. (An empty
    // write inside the cork would cost a third buffer in every response's writev.)
    this.uncork();
    if (socket.writableLength > 0) socket.write('', 'latin1', done);
    else process.nextTick(done);
    return this;
  }

  /** Sends what the head's cork held (at the end, or on the tick after the first write). */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /** The head goes out with the first body bytes (or the end): one write for both. */
  private flushHead(): void {
    const head = this.head;
    if (head === null || this.headersSent) return;
    this.headersSent = true;
    const socket = this.socket;
    socket.cork();
    this.corked = true;
    process.nextTick(uncorkNT, this);
    socket.write(head, 'latin1');
  }

  private onFinish(): void {
    if (this.writableFinished || this.destroyed) return;
    this.writableFinished = true;
    this.emit('finish');
    this.owner.responseFinished(this, this.last);
    process.nextTick(() => this.emitClose());
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.socket.destroy();
    return this;
  }

  /** 'close', once: after 'finish', or when the connection closed first. */
  emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.destroyed = true;
    this.emit('close');
  }
}
