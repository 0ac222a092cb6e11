// The two load generators besides wrk, run as pinned child processes: the open-loop generator
// (open-loop.ts, through tsx) and h2load's fixed-rate mode (`--rps` per client), the cross-check of
// performance.md §8 step 4. Also the measurement window shared by every part: CPU time of the
// measured processes, per-CPU busy shares, and RSS sampled every second while the load runs.

import { fileURLToPath } from 'node:url';
import { cpuShares, perCpuTimes, processCpuSeconds, type CpuShare } from './cpu.js';
import type { OpenLoopResult, Timing } from './open-loop.js';
import { spawnManaged, stopManaged, type Managed } from './processes.js';
import { rssOf } from './systems.js';

const OPEN_LOOP = fileURLToPath(new URL('./open-loop.ts', import.meta.url));

export interface OpenLoopRun {
  url: string;
  rps: number;
  connections: number;
  durationS: number;
  warmupS: number;
  bodyBytes: number;
  timing: Timing;
  cpu: string | undefined;
}

async function runTool(name: string, command: string, args: string[], cpu: string | undefined, limitS: number): Promise<string> {
  const p = spawnManaged({ name, command, args, cpu, keepAllOutput: true });
  const limit = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), limitS * 1000).unref());
  const code = await Promise.race([p.exited, limit]);
  if (code === 'timeout') {
    await stopManaged(p);
    throw new Error(`${name} did not finish within ${limitS} s:\n${p.tail()}`);
  }
  await Promise.race([p.closed, new Promise((r) => setTimeout(r, 2000).unref())]);
  if (code !== 0) throw new Error(`${name} exited with code ${code}:\n${p.tail()}`);
  return p.tail();
}

export async function runOpenLoopProcess(o: OpenLoopRun): Promise<OpenLoopResult> {
  const out = await runTool(
    'open-loop',
    process.execPath,
    ['--import', 'tsx', OPEN_LOOP, '--url', o.url, '--rps', String(o.rps), '--connections', String(o.connections), '--duration', String(o.durationS), '--warmup', String(o.warmupS), '--body', String(o.bodyBytes), '--timing', o.timing],
    o.cpu,
    o.warmupS + o.durationS + 40,
  );
  const line = out.split('\n').find((l) => l.startsWith('OPEN_LOOP_RESULT '));
  if (!line) throw new Error(`open-loop printed no result:\n${out}`);
  return JSON.parse(line.slice('OPEN_LOOP_RESULT '.length)) as OpenLoopResult;
}

export interface H2loadResult {
  requests: number;
  succeeded: number;
  failed: number;
  rps: number;
  /** "time for request" min / mean / max / sd in ms (h2load prints no percentiles). */
  minMs: number;
  meanMs: number;
  maxMs: number;
  sdMs: number;
  raw: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

export function parseH2load(raw: string): H2loadResult {
  const fin = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(raw);
  const req = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(raw);
  const t = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(raw);
  if (!fin || !req || !t) throw new Error(`cannot read h2load output:\n${raw}`);
  const ms = (v: string, u: string) => Number(v) * UNIT_MS[u]!;
  return { requests: Number(req[1]), succeeded: Number(req[2]), failed: Number(req[3]), rps: Number(fin[1]), minMs: ms(t[1]!, t[2]!), maxMs: ms(t[3]!, t[4]!), meanMs: ms(t[5]!, t[6]!), sdMs: ms(t[7]!, t[8]!), raw };
}

/** h2load over HTTP/1.1 at a fixed total rate: C clients, each `--rps` = rate / C. */
export async function runH2load(url: string, rps: number, connections: number, durationS: number, warmupS: number, cpu: string | undefined): Promise<H2loadResult> {
  const out = await runTool('h2load', 'h2load', ['--h1', '-t1', `-c${connections}`, `--rps=${rps / connections}`, `-D${durationS}`, `--warm-up-time=${warmupS}`, url], cpu, durationS + warmupS + 30);
  return parseH2load(out);
}

export interface Window {
  /** CPU seconds (utime + stime) of the measured processes. */
  cpuSeconds: number;
  wallSeconds: number;
  cpus: CpuShare[];
  /** Largest summed VmRSS seen while the load ran (sampled every second and at the end). */
  maxRssBytes: number;
  /** Largest summed RssAnon (private memory, without the executable's shared file pages). */
  maxRssAnonBytes: number;
}

/** Runs `load` and measures the processes around it. */
export async function measured<T>(procs: readonly Managed[], load: () => Promise<T>): Promise<{ result: T; window: Window }> {
  for (const p of procs) p.assertAlive();
  const cpu0 = perCpuTimes();
  const c0 = procs.reduce((a, p) => a + processCpuSeconds(p.pid), 0);
  const t0 = process.hrtime.bigint();
  let maxRss = 0;
  let maxAnon = 0;
  const sample = () => {
    try {
      maxRss = Math.max(maxRss, rssOf(procs));
      maxAnon = Math.max(maxAnon, rssOf(procs, 'RssAnon'));
    } catch {
      /* a process that died is reported by assertAlive below */
    }
  };
  const timer = setInterval(sample, 1000);
  let result: T;
  try {
    result = await load();
  } finally {
    clearInterval(timer);
  }
  sample();
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuSeconds = procs.reduce((a, p) => a + processCpuSeconds(p.pid), 0) - c0;
  const cpus = cpuShares(cpu0, perCpuTimes());
  for (const p of procs) p.assertAlive();
  return { result, window: { cpuSeconds, wallSeconds, cpus, maxRssBytes: maxRss, maxRssAnonBytes: maxAnon } };
}
