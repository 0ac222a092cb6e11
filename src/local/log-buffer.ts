// The last lines a container wrote, kept in memory for `strait logs` and the API (kubectl logs
// style), bounded so a chatty process cannot grow the runner without limit.

export interface LogLine {
  readonly seq: number;
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export class LogBuffer {
  private readonly lines: LogLine[] = [];
  private seq = 0;

  constructor(private readonly capacity = 2000) {}

  push(stream: 'stdout' | 'stderr', line: string, at: number): void {
    this.lines.push({ seq: ++this.seq, at, stream, line });
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** Lines after sequence number `after` (0 = all kept), at most the last `tail`. */
  read(after = 0, tail = this.capacity): LogLine[] {
    const out = this.lines.filter((l) => l.seq > after);
    return out.slice(Math.max(0, out.length - tail));
  }
}
