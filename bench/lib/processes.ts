// Child processes of the benchmark: spawn (optionally pinned to a CPU with taskset, which execs
// the program so the PID we keep is the program's own), remember every PID, and stop them by
// that PID only (SIGTERM, then SIGKILL after a grace period), also on Ctrl-C or an error.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last lines written to stderr and stdout (all of them with keepAllOutput), in arrival order. */
  tail(): string;
  /** Resolves with the first stderr/stdout line matching `re`, rejects if the process exits first. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Rejects with a description if the process has exited. */
  assertAlive(): void;
  /** Resolves with the exit code (null when killed by a signal) as soon as the process exits. */
  readonly exited: Promise<number | null>;
  /** Resolves once the process exited and its stdout/stderr are fully read. */
  readonly closed: Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  /** CPU list for taskset -c (e.g. "0"); undefined runs unpinned. */
  cpu?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Keep every output line (for short-lived tools such as wrk), not only the last ones. */
  keepAllOutput?: boolean;
}

const TAIL_LINES = 40;
const running = new Map<number, Managed>();

export function spawnManaged(opts: SpawnOptions): Managed {
  const [file, argv] = opts.cpu === undefined ? [opts.command, opts.args] : ['taskset', ['-c', opts.cpu, opts.command, ...opts.args]];
  const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) {
    child.once('error', () => undefined); // reported by the throw below
    throw new Error(`cannot start ${opts.name} (${file}): not found or not executable`);
  }
  const pid = child.pid;
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let exitCode: number | null | undefined;
  let exitSignal: string | null = null;
  // STRAIT_BENCH_LOG_DIR keeps every process's whole output (e.g. of --trace-gc) in <name>-<pid>.log.
  const logDir = process.env.STRAIT_BENCH_LOG_DIR;
  const logFd = logDir ? fs.openSync(path.join(logDir, `${opts.name}-${pid}.log`), 'a') : null;
  const onText = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      if (logFd !== null && parts.length) fs.writeSync(logFd, parts.join('\n') + '\n');
      for (const line of parts) {
        lines.push(line);
        if (!opts.keepAllOutput && lines.length > TAIL_LINES) lines.shift();
        for (let i = waiters.length - 1; i >= 0; i--) {
          const m = line.match(waiters[i]!.re);
          if (m) waiters.splice(i, 1)[0]!.resolve(m);
        }
      }
    });
  };
  onText(child.stdout!);
  onText(child.stderr!);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      running.delete(pid);
      resolve(code);
    });
    child.once('error', (e) => {
      lines.push(`spawn error: ${e.message}`);
      exitCode = -1;
      running.delete(pid);
      resolve(-1);
    });
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => {
      if (logFd !== null) fs.closeSync(logFd);
      resolve();
    });
    child.once('error', () => resolve());
  });
  const describeExit = () => `${opts.name} (pid ${pid}) exited with ${exitSignal ?? `code ${exitCode}`}:\n${lines.join('\n')}`;
  const m: Managed = {
    name: opts.name,
    pid,
    child,
    exited,
    closed,
    tail: () => lines.join('\n'),
    assertAlive() {
      if (exitCode !== undefined) throw new Error(describeExit());
    },
    waitForLine(re, timeoutMs) {
      const seen = lines.map((l) => l.match(re)).find((x) => x);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${opts.name}: no line matching ${re} within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (x) => { clearTimeout(timer); resolve(x); } });
        void exited.then(() => { clearTimeout(timer); reject(new Error(describeExit())); });
      });
    },
  };
  running.set(pid, m);
  return m;
}

/** SIGTERM by PID, SIGKILL by PID after `graceMs` if it is still there. */
export async function stopManaged(m: Managed, graceMs = 3000): Promise<void> {
  if (!running.has(m.pid)) return;
  try {
    process.kill(m.pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([m.exited, timer])) === 'timeout' && running.has(m.pid)) {
    try {
      process.kill(m.pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    await m.exited;
  }
}

/** Stops every process still running, newest first (load generator, then proxies, then origin). */
export async function stopAll(): Promise<void> {
  const all = [...running.values()].reverse();
  await Promise.all(all.map((m) => stopManaged(m)));
}

/** Last resort on process exit: SIGKILL every PID still known (synchronous, no waiting). */
function killAllSync(): void {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Installs SIGINT/SIGTERM/SIGHUP handlers: `onSignal` runs first, then every child is stopped by
 * PID, then `afterStop` (e.g. remove the temp dir), then the process exits with 128 + signal.
 */
export function installCleanupHandlers(onSignal: (signal: NodeJS.Signals) => void, afterStop: () => void): void {
  let stopping = false;
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      onSignal(sig);
      void stopAll()
        .then(afterStop)
        .finally(() => process.exit(codes[sig]));
    });
  }
  process.on('exit', killAllSync);
}
