// The downstream request body, read once and delivered to every upstream attempt that needs it:
// the first attempt as it streams in, a retry or a mirror from the retained copy. The copy is
// kept only up to a limit (Envoy's default per-connection buffer, 1 MiB); past it the body can
// no longer be replayed, so retries and mirrors are skipped for that request (as in Envoy).

import type { DownstreamIncoming } from '../http/downstream.js';

export interface BodySink {
  write(chunk: Buffer): boolean;
  end(): void;
  once(event: 'drain', fn: () => void): unknown;
}

export const REPLAY_LIMIT = 1024 * 1024;

export class RequestBody {
  private readonly chunks: Buffer[] = [];
  private retained = 0;
  /** False once the body outgrew the replay limit. */
  replayable = true;
  ended = false;
  bytes = 0;
  private sinks: BodySink[] = [];
  private paused = 0;

  constructor(private readonly req: DownstreamIncoming, private readonly onBytes: (n: number, chunk: Buffer) => void) {
    req.on('data', (chunk: Buffer) => this.onData(chunk));
    req.once('end', () => {
      this.ended = true;
      for (const s of this.sinks) s.end();
    });
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.onBytes(chunk.length, chunk);
    if (this.replayable) {
      if (this.retained + chunk.length <= REPLAY_LIMIT) {
        this.chunks.push(chunk);
        this.retained += chunk.length;
      } else {
        this.replayable = false;
        this.chunks.length = 0;
        this.retained = 0;
      }
    }
    for (const s of this.sinks) {
      if (!s.write(chunk)) {
        // Backpressure from any live attempt pauses the downstream.
        this.paused++;
        this.req.pause();
        s.once('drain', () => {
          if (--this.paused === 0) this.req.resume();
        });
      }
    }
  }

  /** Sends what has arrived so far to `sink`, then the rest as it comes. False if not replayable. */
  attach(sink: BodySink, first: boolean): boolean {
    if (!first && !this.replayable) return false;
    for (const c of this.chunks) sink.write(c);
    if (this.ended) sink.end();
    else this.sinks.push(sink);
    return true;
  }

  detach(sink: BodySink): void {
    const i = this.sinks.indexOf(sink);
    if (i >= 0) this.sinks.splice(i, 1);
    if (this.paused > 0 && this.sinks.length === 0) {
      this.paused = 0;
      this.req.resume();
    }
  }
}
