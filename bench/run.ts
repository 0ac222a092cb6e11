// `npm run bench`: saturation throughput of Strait side by side with nginx, HAProxy and no proxy,
// measured in one run on loopback (performance.md §8, scaled down for a quick figure). Every
// system under test runs alone on CPU 0; wrk and the origin (nginx, `return 200`, 1 KiB) share
// CPU 1. Each system gets a discarded warm-up, then `wrk -t1 -c16 -d10s --latency`, repeated
// --runs times with the systems interleaved round-robin. Prints a table (median and min–max
// requests/s, p50/p99, errors, CPU seconds per 1000 requests, RSS, ratios to nginx) and writes
// the raw results to bench/results/<timestamp>.json. See docs/benchmarks.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuShares, perCpuTimes, processCpu, processCpuSeconds, processRssBytes, type CpuShare } from './lib/cpu.js';
import { startHaproxy } from './lib/haproxy.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { HOST, assertAnswers200, freePort } from './lib/net.js';
import { originConfig, proxyConfig, startNginx } from './lib/nginx.js';
import { installCleanupHandlers, stopAll, type Managed } from './lib/processes.js';
import { fmtFixed, fmtInt, spread, table, type Spread } from './lib/stats.js';
import { startStrait } from './lib/strait.js';
import { runWrk, type WrkErrors, type WrkResult } from './lib/wrk.js';

const ALL_SYSTEMS = ['direct', 'nginx', 'haproxy', 'strait'] as const;
type SystemName = (typeof ALL_SYSTEMS)[number];

/** The system under test runs alone here; the load generator and the origin share the other CPU. */
const SUT_CPU = '0';
const LOAD_CPU = '1';
const BODY = '0123456789abcdef'.repeat(64); // 1 KiB, no characters nginx would interpret

/** Idle sample of /proc/stat before measuring, and the busy share above which we warn. */
const BACKGROUND_PROBE_MS = 2000;
const BACKGROUND_WARN = 0.1;

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

interface Options {
  runs: number;
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  systems: SystemName[];
  pin: boolean;
  /** Strait traces this percent of requests (absent: no tracing config, as before). */
  readonly tracing?: number;
  /** Strait's listener records Istio's standard metrics (istio.stats), as a gateway does. */
  readonly istioMetrics?: boolean;
}

const USAGE = `usage: npm run bench -- [options]
  --runs N          measured runs per system, interleaved round-robin (default 3)
  --duration S      seconds per measured run (default 10)
  --warmup S        seconds of discarded warm-up before each run (default 3)
  --connections C   wrk connections (default 16)
  --threads T       wrk threads (default 1)
  --systems LIST    comma-separated subset of ${ALL_SYSTEMS.join(',')} (default: all)
  --no-pin          do not pin processes to CPUs with taskset
  --tracing P       Strait's listener traces P percent of requests (Zipkin, spans sent to the origin)
  --istio-metrics   Strait's listener records Istio's standard metrics (istio.stats, reporter source)
  -h, --help        this text`;

function positiveInt(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}\n${USAGE}`);
  return n;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      systems: { type: 'string' },
      'no-pin': { type: 'boolean' },
      tracing: { type: 'string' },
      'istio-metrics': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return null;
  const systems = (values.systems ?? ALL_SYSTEMS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of systems) {
    if (!(ALL_SYSTEMS as readonly string[]).includes(s)) throw new Error(`unknown system ${JSON.stringify(s)}\n${USAGE}`);
  }
  const o: Options = {
    runs: positiveInt('runs', values.runs, 3),
    durationS: positiveInt('duration', values.duration, 10),
    warmupS: positiveInt('warmup', values.warmup, 3, 0),
    connections: positiveInt('connections', values.connections, 16),
    threads: positiveInt('threads', values.threads, 1),
    // Keep the canonical order whatever order was given.
    systems: ALL_SYSTEMS.filter((s) => systems.includes(s)),
    pin: !values['no-pin'],
    ...(values.tracing !== undefined ? { tracing: Number(values.tracing) } : {}),
    ...(values['istio-metrics'] ? { istioMetrics: true } : {}),
  };
  if (o.tracing !== undefined && !(o.tracing >= 0 && o.tracing <= 100)) throw new Error(`--tracing must be a percentage, got ${JSON.stringify(values.tracing)}\n${USAGE}`);
  if (o.threads > o.connections) throw new Error(`--threads (${o.threads}) cannot exceed --connections (${o.connections})`);
  return o;
}

interface SystemUnderTest {
  name: SystemName;
  url: string;
  /** The process whose CPU and RSS are measured (the origin itself for `direct`). */
  proc: Managed;
}

interface RunRecord {
  system: SystemName;
  round: number;
  /** Position of this system within its round (the order rotates every round). */
  position: number;
  startedAt: string;
  rps: number;
  requests: number;
  durationS: number;
  latencyMs: WrkResult['latencyMs'];
  errors: WrkErrors;
  errorCount: number;
  sutPid: number;
  sutCpuSeconds: number;
  /** Share of sutCpuSeconds spent in the kernel (system time). */
  sutSystemShare: number;
  /** CPU seconds of the measured process per 1000 requests (= vCPU per 1000 requests/s). */
  sutCpuPer1kReq: number;
  /** Requests served per CPU-second of the measured process: its throughput per core if CPU-bound. */
  sutReqPerCpuSecond: number;
  /** Share of one core the measured process used during the run (1 = saturated). */
  sutCpuUtil: number;
  sutRssBytes: number;
  originCpuPer1kReq: number;
  /** How every CPU spent the run (from /proc/stat), index = CPU number. */
  cpus: CpuShare[];
  /**
   * Busy share of the SUT's CPU not spent by the SUT process: other programs competing with it,
   * plus soft-interrupt time the kernel did not charge to the process (null when unpinned). On
   * this kernel loopback softirq work is charged to the process that runs it, so this stays near
   * 0 on a quiet machine.
   */
  sutCpuForeign: number | null;
  /** Busy share of the load CPU (wrk + origin + anything else); near 1 means the load side may limit. */
  loadCpuBusy: number | null;
  warmup: { rps: number; errorCount: number } | null;
  wrkOutput: string;
}

interface Summary {
  system: SystemName;
  runs: number;
  rps: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  errors: number;
  sutCpuPer1kReq: Spread;
  sutReqPerCpuSecond: Spread;
  sutCpuUtil: Spread;
  sutRssMaxBytes: number;
  sutCpuForeign: Spread | null;
  loadCpuBusy: Spread | null;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function shout(line: string): void {
  const bar = '!'.repeat(Math.min(100, line.length + 8));
  process.stderr.write(`\n${bar}\n!!! ${line}\n${bar}\n\n`);
}

/** Moves this runner (all its threads) onto the load CPU so it never competes with the SUT. */
function pinSelf(): void {
  const r = spawnSync('taskset', ['-a', '-cp', LOAD_CPU, String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) log(`warning: could not pin the runner to CPU ${LOAD_CPU}: ${r.stderr.trim()}`);
}

function pct(x: number): string {
  return `${fmtInt(x * 100)}%`;
}

/** Busy share of a CPU minus the measured process, floored at 0. */
function foreignShare(c: CpuShare | undefined, processShare: number): number | null {
  if (!c) return null;
  return Math.max(0, c.busy - processShare);
}

/** Above this share of a core a side counts as saturated. */
const SATURATED = 0.9;

/** Which side limited throughput: the SUT's CPU, the load CPU (wrk + origin), or both. */
function limitOf(s: Summary): string {
  if (s.system === 'direct' || !s.loadCpuBusy) return '–';
  const sut = s.sutCpuUtil.median > SATURATED;
  const load = s.loadCpuBusy.median > SATURATED;
  return sut && load ? 'both' : sut ? 'SUT' : load ? 'load' : 'neither';
}

function summarize(system: SystemName, runs: RunRecord[]): Summary {
  return {
    system,
    runs: runs.length,
    rps: spread(runs.map((r) => r.rps)),
    p50Ms: spread(runs.map((r) => r.latencyMs.p50)),
    p99Ms: spread(runs.map((r) => r.latencyMs.p99)),
    errors: runs.reduce((a, r) => a + r.errorCount, 0),
    sutCpuPer1kReq: spread(runs.map((r) => r.sutCpuPer1kReq)),
    sutReqPerCpuSecond: spread(runs.map((r) => r.sutReqPerCpuSecond)),
    sutCpuUtil: spread(runs.map((r) => r.sutCpuUtil)),
    sutRssMaxBytes: Math.max(...runs.map((r) => r.sutRssBytes)),
    sutCpuForeign: runs.every((r) => r.sutCpuForeign !== null) ? spread(runs.map((r) => r.sutCpuForeign!)) : null,
    loadCpuBusy: runs.every((r) => r.loadCpuBusy !== null) ? spread(runs.map((r) => r.loadCpuBusy!)) : null,
  };
}

function ratios(summaries: Summary[]): Record<string, number> {
  const by = new Map(summaries.map((s) => [s.system, s]));
  const nginx = by.get('nginx');
  const out: Record<string, number> = {};
  if (!nginx) return out;
  for (const s of summaries) {
    if (s.system === 'nginx') continue;
    out[`rps ${s.system}/nginx`] = s.rps.median / nginx.rps.median;
  }
  for (const s of summaries) {
    if (s.system === 'nginx' || s.system === 'direct') continue;
    out[`req per CPU-second ${s.system}/nginx`] = s.sutReqPerCpuSecond.median / nginx.sutReqPerCpuSecond.median;
  }
  return out;
}

function renderTable(summaries: Summary[], o: Options): string {
  const rows: string[][] = [
    [
      'system',
      'req/s median',
      'req/s min–max',
      'p50 ms',
      'p99 ms',
      'errors',
      'CPU s/1k req',
      'req/CPU-s',
      'CPU use',
      'RSS MB',
      ...(o.pin ? [`CPU${SUT_CPU} other`, `CPU${LOAD_CPU} busy`, 'limit'] : []),
    ],
  ];
  for (const s of summaries) {
    rows.push([
      s.system === 'direct' ? 'direct (origin)' : s.system,
      fmtInt(s.rps.median),
      `${fmtInt(s.rps.min)} – ${fmtInt(s.rps.max)}`,
      fmtFixed(s.p50Ms.median, 2),
      fmtFixed(s.p99Ms.median, 2),
      s.errors ? `${s.errors} !!` : '0',
      fmtFixed(s.sutCpuPer1kReq.median, 3),
      fmtInt(s.sutReqPerCpuSecond.median),
      pct(s.sutCpuUtil.median),
      fmtFixed(s.sutRssMaxBytes / 1048576, 1),
      ...(s.sutCpuForeign && s.loadCpuBusy ? [pct(s.sutCpuForeign.median), pct(s.loadCpuBusy.median), limitOf(s)] : []),
    ]);
  }
  return table(rows);
}

async function measure(
  sut: SystemUnderTest,
  origin: Managed,
  o: Options,
  workDir: string,
  round: number,
  position: number,
  sutCpu_: string | undefined,
  loadCpu: string | undefined,
): Promise<RunRecord> {
  sut.proc.assertAlive();
  origin.assertAlive();
  const wrkOpts = { url: sut.url, threads: o.threads, connections: o.connections, cpu: loadCpu, workDir };
  let warmup: RunRecord['warmup'] = null;
  if (o.warmupS > 0) {
    const w = await runWrk({ ...wrkOpts, durationS: o.warmupS });
    warmup = { rps: w.rps, errorCount: w.errorCount };
    if (w.errorCount) shout(`${sut.name}: ${w.errorCount} errors during warm-up (${JSON.stringify(w.errors)})`);
  }
  const startedAt = new Date().toISOString();
  const cpu0 = perCpuTimes();
  const sut0 = processCpu(sut.proc.pid);
  const origin0 = processCpuSeconds(origin.pid);
  const t0 = process.hrtime.bigint();
  const w = await runWrk({ ...wrkOpts, durationS: o.durationS });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const sut1 = processCpu(sut.proc.pid);
  const sutCpu = sut1.user + sut1.system - (sut0.user + sut0.system);
  const originCpu = processCpuSeconds(origin.pid) - origin0;
  const cpus = cpuShares(cpu0, perCpuTimes());
  const rss = processRssBytes(sut.proc.pid);
  sut.proc.assertAlive();
  const kreq = w.requests / 1000;
  return {
    system: sut.name,
    round,
    position,
    startedAt,
    rps: w.rps,
    requests: w.requests,
    durationS: w.durationS,
    latencyMs: w.latencyMs,
    errors: w.errors,
    errorCount: w.errorCount,
    sutPid: sut.proc.pid,
    sutCpuSeconds: sutCpu,
    sutSystemShare: sutCpu > 0 ? (sut1.system - sut0.system) / sutCpu : 0,
    sutCpuPer1kReq: kreq > 0 ? sutCpu / kreq : Number.NaN,
    sutReqPerCpuSecond: sutCpu > 0 ? w.requests / sutCpu : Number.NaN,
    sutCpuUtil: sutCpu / wallS,
    sutRssBytes: rss,
    originCpuPer1kReq: kreq > 0 ? originCpu / kreq : Number.NaN,
    cpus,
    sutCpuForeign: sutCpu_ === undefined ? null : foreignShare(cpus[Number(sutCpu_)], sut.name === 'direct' ? 0 : sutCpu / wallS),
    loadCpuBusy: loadCpu === undefined ? null : (cpus[Number(loadCpu)]?.busy ?? null),
    warmup,
    wrkOutput: w.raw,
  };
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (!o) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const machine: MachineInfo = machineInfo();
  let pin = o.pin;
  if (pin && machine.nproc < 2) {
    shout(`only ${machine.nproc} CPU available: running unpinned, figures are not comparable with pinned runs`);
    pin = false;
  }
  o.pin = pin;
  const sutCpu = pin ? SUT_CPU : undefined;
  const loadCpu = pin ? LOAD_CPU : undefined;
  if (pin) pinSelf();

  const perRun = o.warmupS + o.durationS;
  log(
    `strait bench: ${o.systems.join(', ')}; ${o.runs} run(s) each of ${o.warmupS}s warm-up + ${o.durationS}s wrk -t${o.threads} -c${o.connections}; ` +
      `about ${Math.ceil((o.runs * o.systems.length * perRun) / 60)} min` +
      (pin ? `; SUT on CPU ${SUT_CPU}, wrk and origin on CPU ${LOAD_CPU}` : '; unpinned'),
  );

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-bench-'));
  let keepWorkDir = false;
  let interrupted = false;
  installCleanupHandlers(
    (sig) => {
      interrupted = true;
      log(`\n${sig}: stopping every process started by the benchmark; no results written`);
    },
    () => fs.rmSync(workDir, { recursive: true, force: true }),
  );
  try {
    const originPort = await freePort();
    const origin = await startNginx('origin', workDir, originConfig(workDir, originPort, BODY), originPort, loadCpu);
    const originUrl = `http://${HOST}:${originPort}/`;
    await assertAnswers200('origin', originUrl, BODY.length);
    log(`origin: nginx pid ${origin.pid} on ${HOST}:${originPort}`);

    const suts: SystemUnderTest[] = [];
    for (const name of o.systems) {
      let sut: SystemUnderTest;
      if (name === 'direct') {
        sut = { name, url: originUrl, proc: origin };
      } else if (name === 'nginx') {
        const port = await freePort();
        const proc = await startNginx('nginx-proxy', workDir, proxyConfig(workDir, port, originPort), port, sutCpu);
        sut = { name, url: `http://${HOST}:${port}/`, proc };
      } else if (name === 'haproxy') {
        const port = await freePort();
        const proc = await startHaproxy(workDir, port, originPort, sutCpu);
        sut = { name, url: `http://${HOST}:${port}/`, proc };
      } else {
        const s = await startStrait(workDir, originPort, sutCpu, o.tracing, o.istioMetrics);
        sut = { name, url: `http://${HOST}:${s.port}/`, proc: s.proc };
      }
      await assertAnswers200(name, sut.url, BODY.length);
      log(`${name}: pid ${sut.proc.pid} on ${sut.url} answers 200 with ${BODY.length} bytes`);
      suts.push(sut);
    }

    // Everything is started and idle: whatever keeps the CPUs busy now belongs to someone else.
    const idle0 = perCpuTimes();
    await new Promise((r) => setTimeout(r, BACKGROUND_PROBE_MS));
    const background = cpuShares(idle0, perCpuTimes());
    log(`background load before measuring (${BACKGROUND_PROBE_MS / 1000} s, our processes idle): ${background.map((c, i) => `CPU${i} ${pct(c.busy)}`).join(', ')}`);
    if (background.some((c) => c.busy > BACKGROUND_WARN)) {
      shout(`other programs keep the CPUs busy (${background.map((c) => pct(c.busy)).join('/')}): req/s and latency will be low and noisy; CPU per 1k req is the steadier figure`);
    }

    const records: RunRecord[] = [];
    for (let round = 1; round <= o.runs; round++) {
      const shift = (round - 1) % suts.length;
      const order = [...suts.slice(shift), ...suts.slice(0, shift)];
      for (let i = 0; i < order.length; i++) {
        const sut = order[i]!;
        const r = await measure(sut, origin, o, workDir, round, i, sutCpu, loadCpu);
        records.push(r);
        log(
          `[run ${round}/${o.runs}] ${sut.name.padEnd(7)} ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmtFixed(r.latencyMs.p50, 2)} ms  ` +
            `p99 ${fmtFixed(r.latencyMs.p99, 2)} ms  cpu ${fmtFixed(r.sutCpuPer1kReq, 3)} s/1k req (${fmtInt(r.sutCpuUtil * 100)}% of a core)  ` +
            `sys ${pct(r.sutSystemShare)}  rss ${fmtFixed(r.sutRssBytes / 1048576, 1)} MB  ` +
            (r.sutCpuForeign === null ? '' : `other on CPU${SUT_CPU} ${pct(r.sutCpuForeign)}  CPU${LOAD_CPU} busy ${pct(r.loadCpuBusy ?? 0)}  `) +
            `errors ${r.errorCount}`,
        );
        if (r.sutCpuForeign !== null && r.sutCpuForeign > BACKGROUND_WARN) {
          log(`  warning: something else used ${pct(r.sutCpuForeign)} of CPU${SUT_CPU} during this run; its req/s is disturbed`);
        }
        if (r.errorCount) shout(`${sut.name}: ${r.errorCount} ERRORS in run ${round}: ${JSON.stringify(r.errors)} — these figures are not valid`);
      }
    }

    const summaries = o.systems.map((s) => summarize(s, records.filter((r) => r.system === s)));
    const ratio = ratios(summaries);
    const out: string[] = [];
    out.push('');
    out.push(
      `Saturation (closed loop, wrk -t${o.threads} -c${o.connections} -d${o.durationS}s --latency, ${o.warmupS}s warm-up), ${o.runs} run(s) per system, ` +
        `1 KiB responses, loopback${pin ? `; SUT on CPU ${SUT_CPU}, wrk + origin on CPU ${LOAD_CPU}` : ', unpinned'}`,
    );
    out.push(`${machine.cpuModel}, ${machine.nproc} CPUs, ${machine.kernel}, node ${machine.node}, ${machine.nginx}, ${machine.haproxy}, ${machine.wrk}`);
    out.push('');
    out.push(renderTable(summaries, o));
    out.push('');
    out.push(
      [
        'p50/p99: median over runs (closed loop at saturation: queueing, not proxy overhead; no coordinated-omission correction).',
        'CPU s/1k req (= vCPU per 1000 req/s), req/CPU-s, CPU use (share of one core) and RSS (max after a run): the proxy process, the origin for direct.',
        ...(pin
          ? [
              `CPU${SUT_CPU} other: busy share of the SUT's CPU not used by it (other programs; should be ~0). CPU${LOAD_CPU} busy: wrk + origin.`,
              `limit: which side was above ${pct(SATURATED)} of a core. Where it says load or both, that system's req/s is a lower bound: compare req/CPU-s.`,
            ]
          : []),
      ].join('\n'),
    );
    if (Object.keys(ratio).length) {
      out.push('');
      out.push('Ratios of medians (same run):');
      for (const [k, v] of Object.entries(ratio)) out.push(`  ${k.padEnd(34)} ${fmtFixed(v, 2)}×`);
    }
    process.stdout.write(`${out.join('\n')}\n`);

    const totalErrors = summaries.reduce((a, s) => a + s.errors, 0);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(RESULTS_DIR, `${stamp}.json`);
    const json = {
      tool: 'strait bench/run.ts',
      date: new Date().toISOString(),
      argv: process.argv.slice(2),
      options: o,
      protocol: {
        loop: 'closed (wrk), saturation; latency not corrected for coordinated omission',
        sutCpu: sutCpu ?? null,
        loadCpu: loadCpu ?? null,
        bodyBytes: BODY.length,
      },
      machine,
      backgroundCpuBeforeRuns: background,
      summaries,
      ratios: ratio,
      totalErrors,
      runs: records,
    };
    fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    process.stdout.write(`\nraw results: ${path.relative(process.cwd(), file)}\n`);
    if (totalErrors) {
      shout(`${totalErrors} errors (socket errors or non-2xx/3xx) during measured runs: see the table and ${file}`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (interrupted) return 130; // the signal handler stops everything and exits
    keepWorkDir = true;
    shout(`benchmark failed: ${(e as Error).message}`);
    log(`configs and logs kept in ${workDir}`);
    return 1;
  } finally {
    await stopAll();
    if (!keepWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((e: unknown) => {
  // Only option errors and machine-info failures get here; run failures are handled in main().
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  return 2;
});
