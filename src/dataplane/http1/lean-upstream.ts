// The lean HTTP/1.1 client: one attempt's request on one of the cluster's pooled connections,
// written and read directly on the socket instead of through node:http's ClientRequest and
// IncomingMessage (a parser, two streams and a dozen listeners per request). It keeps the
// pool's contract (onSocket / 'free', see http1-host-pool.ts) and node's wire behaviour: the
// same request bytes (head-writer.ts), responses parsed as strictly as llhttp
// (head-parser.ts, chunked-decoder.ts), the same error codes for a connection that closes
// before answering (ECONNRESET "socket hang up", which lets the router resend once on a
// stale kept-alive connection), and a connection is reused only after a complete response
// that allows it, with the request fully written and nothing unexpected left on the wire.

import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type net from 'node:net';
import type { UpstreamBody, UpstreamCall, UpstreamEvents, UpstreamHead, UpstreamRequest } from '../router/upstream-request.js';
import type { Http1HostPool, PendingRequest } from '../upstream/pool/http1-host-pool.js';
import { ChunkedDecoder } from './chunked-decoder.js';
import type { ChunkSink } from './chunked-decoder.js';
import { nodeStyleHeaders } from './header-object.js';
import { INCOMPLETE, parseResponseHead } from './head-parser.js';
import type { ParseError, ResponseHead } from './head-parser.js';
import { requestHead, requestLines } from './head-writer.js';
import type { RequestLines } from './head-writer.js';

/** node's default maxHeaderSize for responses. */
const MAX_RESPONSE_HEAD = 16 * 1024;
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

const kConnection = Symbol('strait.leanConnection');

/** Listeners installed once per pooled socket; they route its events to the request using it. */
class ClientConnection {
  current: LeanHttp1Upstream | null = null;
  local = '';

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      const r = this.current;
      if (r) r.onData(chunk);
      // Bytes on an idle connection (or one node's ClientRequest is using: it reads them itself).
      else if ((socket as { _httpMessage?: unknown })._httpMessage == null) socket.destroy();
    });
    socket.on('end', () => this.current?.onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => this.current?.onError(err));
    socket.on('close', () => this.current?.onClose());
  }

  localAddress(): string {
    if (this.local === '') this.local = `${this.socket.localAddress}:${this.socket.localPort}`;
    return this.local;
  }
}

function connectionOf(socket: net.Socket): ClientConnection {
  const s = socket as net.Socket & { [kConnection]?: ClientConnection };
  return (s[kConnection] ??= new ClientConnection(socket));
}

class LeanHead implements UpstreamHead {
  private parsed: IncomingHttpHeaders | null = null;

  constructor(
    readonly status: number,
    readonly raw: readonly string[],
  ) {}

  get headers(): IncomingHttpHeaders {
    return (this.parsed ??= nodeStyleHeaders(this.raw));
  }
}

/** The response body as the router reads it: 'data', 'end', 'close' (and 'aborted', 'error'). */
class LeanBody extends EventEmitter implements UpstreamBody {
  constructor(private readonly owner: LeanHttp1Upstream) {
    super();
  }

  pause(): this {
    this.owner.pauseBody();
    return this;
  }

  resume(): this {
    this.owner.resumeBody();
    return this;
  }
}

const enum Phase {
  Waiting,
  Head,
  Body,
  Done,
}

export class LeanHttp1Upstream implements UpstreamRequest, PendingRequest, ChunkSink {
  readonly protocol = 'http1';
  destroyed = false;
  reusedSocket = false;
  shouldKeepAlive = true;
  private socket: net.Socket | null = null;
  private conn: ClientConnection | null = null;
  private readonly lines: RequestLines;
  private started = false;
  private chunked = false;
  /** Body written before the request had a connection. */
  private queued: Buffer[] | null = null;
  private ended = false;
  private sent = false;
  private phase = Phase.Waiting;
  private partial: Buffer | null = null;
  private head: ResponseHead | null = null;
  private body: LeanBody | null = null;
  private left = 0;
  private decoder: ChunkedDecoder | null = null;
  private paused = false;
  private rest: Buffer | null = null;
  private failed = false;
  private gotResponse = false;
  private completeFlag = false;
  /** Bytes after the response: the connection cannot be trusted again. */
  private tainted = false;

  constructor(
    pool: Http1HostPool,
    call: UpstreamCall,
    private readonly ev: UpstreamEvents,
  ) {
    // Validated before the pool is asked for a connection: a bad header throws here, as
    // http.request throws, and holds no connection.
    this.lines = requestLines(call.method, call.path, call.headers);
    pool.addRequest(this);
  }

  get reusedConnection(): boolean {
    return this.reusedSocket;
  }

  get requestSent(): boolean {
    return this.sent;
  }

  trailers(): string[] {
    return this.decoder?.trailers ?? [];
  }

  complete(): boolean {
    return this.completeFlag;
  }

  // ---- the pool's side

  onSocket(socket: net.Socket | null, err?: Error): void {
    if (!socket || err) {
      // As node reports a refused request: asynchronously, so the caller has its handle first.
      process.nextTick(() => {
        if (!this.destroyed) this.fail((err ?? new Error('no connection')) as NodeJS.ErrnoException, true);
      });
      return;
    }
    if (this.destroyed) {
      // Abandoned while it waited: the connection goes straight back to the pool (node does so).
      process.nextTick(() => {
        if (!socket.destroyed) socket.emit('free');
      });
      return;
    }
    this.socket = socket;
    // The head goes out with the first write or end() (as node sends it), which also means a
    // connection handed over during construction reports to a caller that holds this request.
    if (this.ended || this.queued) this.start();
  }

  private start(): void {
    const socket = this.socket!;
    this.started = true;
    const conn = connectionOf(socket);
    this.conn = conn;
    conn.current = this;
    if (socket.isPaused()) socket.resume();
    if (socket.connecting) socket.once('connect', () => this.connected());
    else this.connected();
    const bodyless = this.ended && this.queued === null;
    const h = requestHead(this.lines, this.shouldKeepAlive, bodyless);
    this.chunked = h.chunked;
    const queued = this.queued;
    this.queued = null;
    if (queued === null && this.ended) {
      this.sent = true;
      socket.write(h.head, 'latin1');
      return;
    }
    socket.cork();
    socket.write(h.head, 'latin1');
    if (queued) for (const c of queued) this.writeChunk(c);
    if (this.ended) this.writeEnd();
    socket.uncork();
  }

  private connected(): void {
    if (!this.destroyed && this.conn) this.ev.connected(this.conn.localAddress());
  }

  // ---- the request body (BodySink)

  write(chunk: Buffer): boolean {
    if (this.ended || this.destroyed) return true;
    if (!this.started) {
      (this.queued ??= []).push(chunk);
      if (this.socket) this.start();
      return true;
    }
    return this.writeChunk(chunk);
  }

  end(): void {
    if (this.ended || this.destroyed) return;
    this.ended = true;
    if (!this.started) {
      if (this.socket) this.start();
      return;
    }
    this.writeEnd();
  }

  once(event: 'drain', fn: () => void): unknown {
    if (this.socket && this.started) return this.socket.once(event, fn);
    fn();
    return undefined;
  }

  private writeChunk(chunk: Buffer): boolean {
    const socket = this.socket!;
    if (chunk.length === 0) return true;
    if (!this.chunked) return socket.write(chunk);
    socket.write(`${chunk.length.toString(16)}${CRLF}`, 'latin1');
    socket.write(chunk);
    return socket.write(CRLF, 'latin1');
  }

  private writeEnd(): void {
    const done = () => {
      this.sent = true;
      this.maybeFree();
    };
    if (this.chunked) this.socket!.write(LAST_CHUNK, 'latin1', done);
    else if (this.socket!.writableLength === 0) done();
    else this.socket!.write(Buffer.alloc(0), done);
  }

  // ---- the response

  onData(chunk: Buffer): void {
    if (this.phase === Phase.Done) {
      this.tainted = true;
      return;
    }
    if (this.phase === Phase.Body) {
      if (this.paused) {
        this.rest = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
        return;
      }
      this.bodyData(chunk, 0);
      return;
    }
    this.phase = Phase.Head;
    let buf = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = null;
    for (;;) {
      const r = parseResponseHead(buf, MAX_RESPONSE_HEAD, this.lines.method === 'HEAD');
      if (r === INCOMPLETE) {
        this.partial = buf;
        return;
      }
      if (r instanceof Error) {
        this.protocolError(r);
        return;
      }
      if (r.status === 101) {
        // No upgrade was asked for on this path: node drops such a connection.
        this.fail(hangUp(), true);
        return;
      }
      if (r.status >= 100 && r.status < 200) {
        // Informational (100 Continue, 103 Early Hints): skipped, the final response follows.
        buf = buf.subarray(r.headEnd);
        if (buf.length === 0) return;
        continue;
      }
      this.startBody(r, buf);
      return;
    }
  }

  private startBody(r: ResponseHead, buf: Buffer): void {
    this.head = r;
    this.phase = Phase.Body;
    this.gotResponse = true;
    const body = new LeanBody(this);
    this.body = body;
    if (r.framing === 'length') this.left = r.contentLength;
    else if (r.framing === 'chunked') this.decoder = new ChunkedDecoder();
    this.ev.response(new LeanHead(r.status, r.raw), body);
    if (this.destroyed || this.phase !== Phase.Body) return;
    if (r.framing === 'none') {
      if (buf.length > r.headEnd) this.tainted = true;
      this.finishResponse();
      return;
    }
    if (buf.length > r.headEnd) {
      if (this.paused) this.rest = buf.subarray(r.headEnd);
      else this.bodyData(buf, r.headEnd);
    }
  }

  /** Delivers body bytes from `buf[start]` on, until done or paused. */
  private bodyData(buf: Buffer, start: number): void {
    const r = this.head!;
    if (r.framing === 'length') {
      const n = Math.min(this.left, buf.length - start);
      this.left -= n;
      if (start + n < buf.length) this.tainted = true;
      this.body!.emit('data', start === 0 && n === buf.length ? buf : buf.subarray(start, start + n));
      if (this.left === 0 && this.phase === Phase.Body) this.finishResponse();
      return;
    }
    if (r.framing === 'close') {
      this.body!.emit('data', start === 0 ? buf : buf.subarray(start));
      return;
    }
    const d = this.decoder!;
    const at = d.push(buf, start, this);
    if (typeof at !== 'number') {
      this.protocolError(at);
      return;
    }
    if (this.phase !== Phase.Body) return;
    if (d.done) {
      if (at < buf.length) this.tainted = true;
      this.finishResponse();
    } else if (at < buf.length) {
      this.rest = buf.subarray(at);
    }
  }

  /** ChunkSink: one piece of decoded chunk data. */
  data(chunk: Buffer): boolean {
    this.body!.emit('data', chunk);
    return !this.paused && this.phase === Phase.Body;
  }

  pauseBody(): void {
    if (this.paused || this.phase !== Phase.Body) return;
    this.paused = true;
    this.socket?.pause();
  }

  resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    const rest = this.rest;
    this.rest = null;
    if (rest && this.phase === Phase.Body) this.bodyData(rest, 0);
    if (!this.paused) this.socket?.resume();
  }

  private finishResponse(): void {
    this.phase = Phase.Done;
    this.completeFlag = true;
    const body = this.body!;
    body.emit('end');
    body.emit('close');
    this.maybeFree();
  }

  /** Hands the connection back once both directions are complete, or closes it. */
  private maybeFree(): void {
    if (this.phase !== Phase.Done || !this.sent || this.destroyed) return;
    this.destroyed = true;
    const socket = this.socket!;
    this.conn!.current = null;
    if (this.shouldKeepAlive && this.head!.keepAlive && !this.tainted && !socket.destroyed) {
      // An idle connection keeps reading, so an upstream close is noticed while it waits.
      if (socket.isPaused()) socket.resume();
      socket.emit('free');
    } else {
      socket.destroySoon();
    }
  }

  // ---- connection events while this request owns the socket

  onEnd(): void {
    if (this.phase === Phase.Body && this.head!.framing === 'close' && !this.destroyed) {
      this.finishResponse();
      return;
    }
    this.onClose();
  }

  onError(err: NodeJS.ErrnoException): void {
    this.fail(err, true);
  }

  onClose(): void {
    if (this.phase === Phase.Done || this.destroyed) return;
    this.fail(hangUp(), false);
  }

  private protocolError(err: ParseError): void {
    this.fail(err as NodeJS.ErrnoException, true);
  }

  /**
   * The request failed: an error before the response, an aborted body after it. As node's
   * client, a connection that merely closes mid-body aborts the body without a request error.
   */
  private fail(err: NodeJS.ErrnoException, asError: boolean): void {
    if (this.failed || this.phase === Phase.Done) return;
    this.failed = true;
    this.destroyed = true;
    if (this.conn && this.conn.current === this) this.conn.current = null;
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    if (asError || !this.gotResponse) this.ev.error(err);
    const body = this.body;
    if (body && this.gotResponse) {
      this.phase = Phase.Done;
      body.emit('aborted');
      if (body.listenerCount('error') > 0) body.emit('error', Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      body.emit('close');
    }
  }

  abort(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.failed = true;
    if (this.conn && this.conn.current === this) this.conn.current = null;
    if (this.started && this.socket && !this.socket.destroyed) this.socket.destroy();
    else if (this.socket && !this.started) process.nextTick(() => this.socket!.emit('free'));
  }
}

function hangUp(): NodeJS.ErrnoException {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}
