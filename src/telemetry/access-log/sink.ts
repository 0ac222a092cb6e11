// Where access-log lines go. Lines are queued and written once per event-loop turn, so a burst
// of requests costs one write, and the request path never waits on the terminal or a file. If
// the destination stops draining, lines beyond a bound are dropped and counted, never buffered
// without limit.

import fs from 'node:fs';
import type { Writable } from 'node:stream';

export interface AccessLogSink {
  write(line: string): void;
  /** Lines dropped because the destination did not keep up. */
  readonly dropped: number;
  close(): Promise<void>;
}

const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class StreamSink implements AccessLogSink {
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private blocked = false;
  dropped = 0;

  constructor(private readonly out: Writable, private readonly ownsStream = false) {
    out.on('drain', () => {
      this.blocked = false;
      this.schedule();
    });
    // A closed terminal or pipe must not crash the proxy; logs are best effort.
    out.on('error', () => {
      this.blocked = true;
    });
  }

  write(line: string): void {
    if (this.pendingBytes + line.length > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.blocked || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.out.write(chunk)) this.blocked = true;
  }

  async close(): Promise<void> {
    this.flush();
    if (this.ownsStream) await new Promise<void>((resolve) => this.out.end(resolve));
  }
}

export class NullSink implements AccessLogSink {
  readonly dropped = 0;
  write(): void {}
  async close(): Promise<void> {}
}

/** Memory sink for tests and the runner's log buffer. */
export class MemorySink implements AccessLogSink {
  readonly lines: string[] = [];
  readonly dropped = 0;
  write(line: string): void {
    this.lines.push(line);
  }
  async close(): Promise<void> {}
}

/** `/dev/stdout` (Istio's default path) or `stdout` → process.stdout; `off` → nothing; else a file. */
export function openSink(target: string): AccessLogSink {
  if (target === 'off') return new NullSink();
  if (target === 'stdout' || target === '/dev/stdout') return new StreamSink(process.stdout);
  if (target === 'stderr' || target === '/dev/stderr') return new StreamSink(process.stderr);
  return new StreamSink(fs.createWriteStream(target, { flags: 'a' }), true);
}
