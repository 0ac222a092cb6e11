// Runs wrk (closed loop, saturation) and reads its report: requests, requests/s, the
// --latency percentiles, socket errors and non-2xx/3xx responses. A tiny Lua `done()` hook adds
// the exact microsecond percentiles from wrk's histogram; it defines no per-request callback, so
// wrk keeps its static request path and the script costs nothing while the load runs.

import fs from 'node:fs';
import path from 'node:path';
import { spawnManaged, stopManaged } from './processes.js';

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationS: number;
  /** CPU list for taskset; undefined runs unpinned. */
  cpu?: string;
  /** Directory where the Lua report script is written. */
  workDir: string;
}

export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  /** "Non-2xx or 3xx responses". */
  non2xx3xx: number;
}

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency percentiles in milliseconds (exact from the Lua hook when present, else the text). */
  latencyMs: { p50: number; p75: number; p90: number; p99: number; p999?: number; max?: number; mean?: number };
  errors: WrkErrors;
  /** Sum of all socket errors and non-2xx/3xx responses. */
  errorCount: number;
  raw: string;
}

const REPORT_LUA = `-- written by bench/lib/wrk.ts: one JSON line with wrk's exact summary
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('STRAIT_BENCH_WRK {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"minUs":%d,"meanUs":%.1f,"maxUs":%d,"p50Us":%d,"p75Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
`;

interface LuaReport {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  minUs: number;
  meanUs: number;
  maxUs: number;
  p50Us: number;
  p75Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
}

function writeScript(workDir: string): string {
  const p = path.join(workDir, 'wrk-report.lua');
  if (!fs.existsSync(p)) fs.writeFileSync(p, REPORT_LUA);
  return p;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function toMs(value: string, unit: string): number {
  const f = UNIT_MS[unit];
  if (f === undefined) throw new Error(`unknown wrk time unit ${unit}`);
  return Number(value) * f;
}

/** Parses wrk's text report (with --latency), preferring the Lua hook's exact numbers. */
export function parseWrkOutput(raw: string): WrkResult {
  const reqLine = raw.match(/(\d+) requests in ([\d.]+)(us|ms|s|m),/);
  const rpsLine = raw.match(/Requests\/sec:\s+([\d.]+)/);
  if (!reqLine || !rpsLine) throw new Error(`cannot read wrk output:\n${raw}`);
  const sock = raw.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non2xx = raw.match(/Non-2xx or 3xx responses: (\d+)/);
  const pct = (p: string): number => {
    const m = raw.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    if (!m) throw new Error(`no ${p}% line in wrk output (was --latency given?):\n${raw}`);
    return toMs(m[1]!, m[2]!);
  };
  const errors: WrkErrors = {
    connect: sock ? Number(sock[1]) : 0,
    read: sock ? Number(sock[2]) : 0,
    write: sock ? Number(sock[3]) : 0,
    timeout: sock ? Number(sock[4]) : 0,
    non2xx3xx: non2xx ? Number(non2xx[1]) : 0,
  };
  const result: WrkResult = {
    requests: Number(reqLine[1]),
    durationS: toMs(reqLine[2]!, reqLine[3]!) / 1000,
    rps: Number(rpsLine[1]),
    latencyMs: { p50: pct('50'), p75: pct('75'), p90: pct('90'), p99: pct('99') },
    errors,
    errorCount: 0,
    raw,
  };
  const lua = raw.match(/^STRAIT_BENCH_WRK (\{.*\})$/m);
  if (lua) {
    const r = JSON.parse(lua[1]!) as LuaReport;
    result.requests = r.requests;
    result.durationS = r.durationUs / 1e6;
    result.rps = r.requests / result.durationS;
    result.latencyMs = {
      p50: r.p50Us / 1000,
      p75: r.p75Us / 1000,
      p90: r.p90Us / 1000,
      p99: r.p99Us / 1000,
      p999: r.p999Us / 1000,
      max: r.maxUs / 1000,
      mean: r.meanUs / 1000,
    };
    result.errors = { connect: r.connect, read: r.read, write: r.write, timeout: r.timeout, non2xx3xx: r.status };
  }
  const e = result.errors;
  result.errorCount = e.connect + e.read + e.write + e.timeout + e.non2xx3xx;
  return result;
}

/** Runs one wrk pass and returns its parsed report. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const script = writeScript(o.workDir);
  const wrk = spawnManaged({
    name: 'wrk',
    command: 'wrk',
    args: [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', '-s', script, o.url],
    cpu: o.cpu,
    keepAllOutput: true,
  });
  const limit = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), (o.durationS + 30) * 1000).unref());
  const code = await Promise.race([wrk.exited, limit]);
  if (code === 'timeout') {
    await stopManaged(wrk);
    throw new Error(`wrk did not finish within ${o.durationS + 30} s:\n${wrk.tail()}`);
  }
  await Promise.race([wrk.closed, new Promise((r) => setTimeout(r, 2000).unref())]);
  if (code !== 0) throw new Error(`wrk exited with code ${code}:\n${wrk.tail()}`);
  return parseWrkOutput(wrk.tail());
}
