// Runs one container (or proxy) as a child process and keeps it running, as a kubelet would:
// its output is read line by line, a crash is reported and restarted with exponential backoff
// (1 s doubling to 30 s, reset after 10 s of healthy running), and stop() ends the whole process
// group (SIGTERM, then SIGKILL after a grace period) so grandchildren go too. Children get a
// stdin pipe; Strait's own children exit when it closes, so none outlives the runner even if the
// runner is killed outright.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface ProcessSpec {
  /** `pod/container`, used in messages. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface ProcessEvents {
  onLine(stream: 'stdout' | 'stderr', line: string): void;
  /** Crashes, restarts and spawn failures: always shown to the user. */
  onEvent(message: string): void;
}

const MAX_BACKOFF_MS = 30_000;
const HEALTHY_RUN_MS = 10_000;

export class SupervisedProcess {
  private child: ChildProcess | null = null;
  private stopping = false;
  private backoffMs = 1_000;
  private restartTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  restarts = 0;
  lastExit: { code: number | null; signal: string | null; at: number } | null = null;

  constructor(readonly spec: ProcessSpec, private readonly events: ProcessEvents) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.stopping) return;
    const { spec } = this;
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, env: spec.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      this.events.onEvent(`${spec.name}: cannot start ${spec.command}: ${(e as Error).message}`);
      this.scheduleRestart();
      return;
    }
    this.child = child;
    this.startedAt = Date.now();
    child.stdin?.on('error', () => undefined);
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = readline.createInterface({ input: child[stream]!, crlfDelay: Infinity });
      rl.on('line', (line) => this.events.onLine(stream, line));
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      this.events.onEvent(`${spec.name}: cannot start ${spec.command}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`);
    });
    child.once('exit', (code, signal) => {
      this.lastExit = { code, signal, at: Date.now() };
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      const ranMs = Date.now() - this.startedAt;
      if (ranMs > HEALTHY_RUN_MS) this.backoffMs = 1_000;
      this.events.onEvent(`${spec.name} exited (${signal ? `signal ${signal}` : `code ${code}`}) after ${(ranMs / 1000).toFixed(1)}s; restarting in ${this.backoffMs / 1000}s`);
      this.scheduleRestart();
    });
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarts++;
      this.start();
    }, delay);
  }

  /** Ends the process group: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || !this.running || child.pid === undefined) return;
    const pid = child.pid;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(pid, 'SIGTERM');
    child.stdin?.end();
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // The leader is gone; make sure nothing else of its group survives.
    signalGroup(pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
