// A downstream request read by the lean server: the part of node's IncomingMessage the
// connection manager and the router use (method, url, headers, rawHeaders, socket, the body
// as 'data'/'end' events with pause/resume), with node's stream rules where they matter: the
// body flows once a 'data' listener is added or resume() is called, unless pause() came
// first; bytes that arrive before anyone reads are kept; 'end' follows the last byte read.

import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { nodeStyleHeaders } from './header-object.js';

export interface BodyFlow {
  /** The consumer wants no more bytes for now (the connection stops reading). */
  pauseBody(): void;
  resumeBody(): void;
}

export class LeanRequest extends EventEmitter {
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  complete = false;
  aborted = false;
  readableEnded = false;
  private parsed: IncomingHttpHeaders | null = null;
  /** null until someone reads (node's readableFlowing), then true, or false once paused. */
  private flowing: boolean | null = null;
  private buffered: Buffer[] | null = null;
  private ended = false;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly rawHeaders: string[],
    readonly socket: Socket,
    private readonly flow: BodyFlow,
  ) {
    super();
  }

  get headers(): IncomingHttpHeaders {
    return (this.parsed ??= nodeStyleHeaders(this.rawHeaders));
  }

  override on(event: string | symbol, fn: (...args: never[]) => void): this {
    super.on(event, fn as (...args: unknown[]) => void);
    if (event === 'data' && this.flowing !== false) this.resume();
    return this;
  }

  pause(): this {
    if (this.flowing !== false) {
      this.flowing = false;
      if (!this.ended) this.flow.pauseBody();
    }
    return this;
  }

  resume(): this {
    if (this.flowing === true) return this;
    this.flowing = true;
    const queued = this.buffered;
    this.buffered = null;
    if (queued) {
      // A 'data' listener may pause again: what it did not take stays queued, in order.
      for (const c of queued) {
        if (this.flowing) this.emit('data', c);
        else (this.buffered ??= []).push(c);
      }
    }
    if (this.flowing) {
      if (this.ended && !this.buffered) this.emitEnd();
      else if (!this.ended) this.flow.resumeBody();
    }
    return this;
  }

  /** Body bytes from the connection. */
  push(chunk: Buffer): void {
    if (this.flowing === true && this.buffered === null) this.emit('data', chunk);
    else (this.buffered ??= []).push(chunk);
  }

  /** The whole body has arrived. */
  finish(): void {
    this.ended = true;
    this.complete = true;
    if (this.flowing === true && this.buffered === null) this.emitEnd();
  }

  private emitEnd(): void {
    if (this.readableEnded) return;
    this.readableEnded = true;
    this.emit('end');
  }

  /** The connection went away before the body was complete (node: 'aborted', then 'close'). */
  abort(): void {
    if (this.complete || this.aborted) return;
    this.aborted = true;
    this.emit('aborted');
    this.emit('close');
  }
}
