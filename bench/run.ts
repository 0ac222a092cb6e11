// `npm run bench`: issue 7's benchmark in one command (performance.md §8). Every system under test
// (direct, nginx, HAProxy, http-proxy, @fastify/http-proxy, the Strait gateway, and the nginx,
// HAProxy and Strait sidecar pairs over TLS with client certificates) proxies to one origin
// (nginx, one process, `return 200` with 1 KiB) on loopback. Proxies run alone on CPU 0; load
// generators, the origin and this runner on CPU 1. Parts, selectable with --parts:
//   memory       RSS idle and per idle keep-alive connection
//   saturation   closed-loop ceiling (wrk), req/s and req per CPU-second
//   latency      open loop at 1000 rps × 16 connections, --runs times, interleaved round-robin
//   connections  connection sweep at 1000 rps;  rates  rate sweep up to the knee
//   crosscheck   the open-loop generator against `h2load --rps` at one point
//   controlplane config change → ACK on 100/1000 ADS clients; config bytes vs mesh size
//   routes       route-table match cost with 10 / 1 000 / 10 000 hosts and routes
//   workers      gateway throughput with `--workers N` (when the proxy has it)
// Results: Markdown tables on stdout and bench/results/<timestamp>.{json,md}. See docs/benchmarks.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuShares, perCpuTimes } from './lib/cpu.js';
import { machineInfo } from './lib/machine.js';
import { HOST, assertAnswers200, freePort } from './lib/net.js';
import { originConfig, startNginx } from './lib/nginx.js';
import { installCleanupHandlers, stopAll, stopManaged } from './lib/processes.js';
import { memoryTable, rateTables, saturationTable, summarizeRate, summarizeSaturation, sweepTable } from './lib/report.js';
import { startSystems, type SystemName } from './lib/systems.js';
import { runH2load } from './lib/load.js';
import { parseOptions, USAGE, type Options } from './options.js';
import { controlPlanePart, controlPlaneTables } from './parts/controlplane.js';
import { describe, ratePoint, rateSweep, type RateRecord } from './parts/fixed-rate.js';
import { idleConnections, type MemoryRecord } from './parts/memory.js';
import { routesPart, routesTable } from './parts/routes.js';
import { saturationRun, type SaturationRecord } from './parts/saturation.js';
import { workersPart, type WorkersRecord } from './parts/workers.js';
import { md } from './lib/report.js';
import { fmtFixed, fmtInt } from './lib/stats.js';

const SUT_CPU = '0';
const LOAD_CPU = '1';
const BODY = '0123456789abcdef'.repeat(64); // 1 KiB, no characters nginx would interpret
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function shout(line: string): void {
  const bar = '!'.repeat(Math.min(100, line.length + 8));
  process.stderr.write(`\n${bar}\n!!! ${line}\n${bar}\n\n`);
}

function loadavg(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').trim();
}

async function main(): Promise<number> {
  const o: Options | null = parseOptions(process.argv.slice(2));
  if (!o) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const machine = machineInfo();
  if (o.pin && machine.nproc < 2) {
    shout(`only ${machine.nproc} CPU available: running unpinned`);
    o.pin = false;
  }
  const sutCpu = o.pin ? SUT_CPU : undefined;
  const loadCpu = o.pin ? LOAD_CPU : undefined;
  if (o.pin) {
    const r = spawnSync('taskset', ['-a', '-cp', LOAD_CPU, String(process.pid)], { encoding: 'utf8' });
    if (r.status !== 0) log(`warning: could not pin the runner to CPU ${LOAD_CPU}: ${r.stderr.trim()}`);
  }
  log(`strait bench: parts ${o.parts.join(', ')}; systems ${o.systems.join(', ')}; ${o.runs} run(s)` + (o.pin ? `; SUT on CPU ${SUT_CPU}, load + origin on CPU ${LOAD_CPU}` : '; unpinned'));

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
  const sections: string[] = [];
  const raw: Record<string, unknown> = {};
  const loads: { part: string; before: string; after: string }[] = [];
  const part = async (name: Options['parts'][number], fn: () => Promise<void>) => {
    if (!o.parts.includes(name)) return;
    const before = loadavg();
    log(`\n== ${name} (loadavg ${before})`);
    await fn();
    loads.push({ part: name, before, after: loadavg() });
  };
  const add = (title: string, body: string) => {
    sections.push(`### ${title}\n\n${body}`);
    process.stdout.write(`\n### ${title}\n\n${body}\n`);
  };
  let errors = 0;
  try {
    const needSystems = o.parts.some((p) => ['memory', 'saturation', 'latency', 'connections', 'rates', 'crosscheck'].includes(p));
    const originPort = await freePort();
    const origin = await startNginx('origin', workDir, originConfig(workDir, originPort, BODY), originPort, loadCpu);
    await assertAnswers200('origin', `http://${HOST}:${originPort}/`, BODY.length);
    const suts = needSystems
      ? await startSystems(o.systems, { workDir, origin, originPort, bodyBytes: BODY.length, sutCpu, tracing: o.tracing, istioMetrics: o.istioMetrics, meshMetrics: o.meshMetrics, configServices: o.configServices }, log)
      : [];
    const idle = new Map(suts.map((s) => [s.name, s.idleRssBytes]));
    if (needSystems) {
      const c0 = perCpuTimes();
      await new Promise((r) => setTimeout(r, 2000));
      const bg = cpuShares(c0, perCpuTimes());
      raw.backgroundCpu = bg;
      log(`background load, our processes idle (2 s): ${bg.map((c, i) => `CPU${i} ${fmtInt(c.busy * 100)} %`).join(', ')}; loadavg ${loadavg()}`);
      if (bg.some((c) => c.busy > 0.1)) shout('other programs keep the CPUs busy: req/s and tail latency will be disturbed; CPU per request is the steadier figure');
    }
    const rateSettings = { durationS: o.rateDurationS, warmupS: o.rateWarmupS, bodyBytes: BODY.length, timing: o.timing, sutCpu, loadCpu };
    const rotate = <T>(xs: T[], round: number) => xs.map((_, i) => xs[(i + round - 1) % xs.length]!);
    const loadRss = new Map<SystemName, number>();

    await part('memory', async () => {
      const recs: MemoryRecord[] = [];
      for (const s of suts) {
        const r = await idleConnections(s, o.idleConnections);
        recs.push(r);
        log(`${s.name.padEnd(12)} ${r.opened}/${r.connections} more idle conns: RSS ${fmtFixed(r.rssBeforeBytes / 1048576, 1)} → ${fmtFixed(r.rssMidBytes / 1048576, 1)} (N open) → ${fmtFixed(r.rssAfterBytes / 1048576, 1)} MB (2N open), ${fmtFixed(r.perConnectionBytes / 1024, 2)} KB/conn`);
      }
      raw.memory = recs;
      raw.idleRss = Object.fromEntries(idle);
      // The table is added after the latency part, which supplies RSS under load.
      raw.memoryTable = () => memoryTable(recs, idle, loadRss);
    });

    await part('saturation', async () => {
      const recs: SaturationRecord[] = [];
      const s = { durationS: o.durationS, warmupS: o.warmupS, connections: o.connections, threads: o.threads, sutCpu, loadCpu, workDir };
      for (let round = 1; round <= o.runs; round++) {
        for (const sut of rotate(suts, round)) {
          const r = await saturationRun(sut, s, round);
          recs.push(r);
          errors += r.errorCount;
          log(`[saturation ${round}/${o.runs}] ${sut.name.padEnd(12)} ${fmtInt(r.rps).padStart(7)} req/s  ${fmtFixed(r.cpuPer1kReq, 3)} CPU s/1k req  ${fmtInt(r.cpuUtil * 100)} % of a core  errors ${r.errorCount}` + (r.sutCpuForeign !== null ? `  other on SUT CPU ${fmtInt(r.sutCpuForeign * 100)} %` : ''));
        }
      }
      raw.saturation = recs;
      add(`Saturation: wrk -t${o.threads} -c${o.connections} -d${o.durationS}s (closed loop) after ${o.warmupS} s warm-up, ${o.runs} runs`, saturationTable(summarizeSaturation(recs)));
    });

    await part('latency', async () => {
      const recs: RateRecord[] = [];
      for (let round = 1; round <= o.runs; round++) {
        for (const sut of rotate(suts, round)) {
          const r = await ratePoint(sut, o.rate, o.rateConnections, rateSettings, round);
          recs.push(r);
          errors += r.errorCount;
          log(`[latency ${round}/${o.runs}] ${describe(r)}`);
        }
      }
      raw.latency = recs.map((r) => ({ ...r }));
      const sums = summarizeRate(recs);
      for (const s of sums) loadRss.set(s.system, s.rssUnderLoadBytes.median);
      add(`Latency at a constant rate: ${o.rate} rps, ${o.rateConnections} connections, 1 KiB, open loop (from the scheduled send), ${o.rateDurationS} s after ${o.rateWarmupS} s warm-up, ${o.runs} runs`, rateTables(sums));
    });
    if (typeof raw.memoryTable === 'function') {
      add(`Memory: RSS idle, under load, and per idle keep-alive connection (slope from ${o.idleConnections} to ${2 * o.idleConnections} open connections)`, (raw.memoryTable as () => string)());
      delete raw.memoryTable;
    }

    const sweepSuts = suts.filter((s) => o.sweepSystems.includes(s.name));
    await part('connections', async () => {
      const recs: RateRecord[] = [];
      for (const c of o.sweepConnections) {
        for (const sut of sweepSuts) {
          const r = await ratePoint(sut, o.rate, c, rateSettings, 1);
          recs.push(r);
          log(`[connections] ${describe(r)}`);
        }
      }
      raw.connections = recs;
      add(`Connection sweep at ${o.rate} rps: p50 / p99 ms (open loop, one ${o.rateDurationS} s run per point)`, sweepTable(recs, 'connections'));
    });

    await part('rates', async () => {
      const recs: RateRecord[] = [];
      const knees = new Map<SystemName, number | null>();
      for (const sut of sweepSuts) {
        const { points, knee } = await rateSweep(sut, o.sweepRates, o.rateConnections, rateSettings, (r) => log(`[rates] ${describe(r)}`));
        recs.push(...points);
        knees.set(sut.name, knee);
      }
      raw.rates = recs;
      raw.knees = Object.fromEntries(knees);
      add(
        `Rate sweep, ${o.rateConnections} connections: p50 / p99 ms; a system stops at its first rate not served in full or with p99 above 2 × max(p99 at ${o.sweepRates[0]} rps, 0.5 ms); knee = the last rate before that`,
        sweepTable(recs, 'targetRps', knees),
      );
    });

    await part('crosscheck', async () => {
      const rows = [['system', 'tool', 'achieved rps', 'mean ms', 'max ms', 'p50 / p99 ms', 'errors']];
      const out: unknown[] = [];
      for (const sut of suts.filter((s) => ['direct', 'strait'].includes(s.name))) {
        const mine = await ratePoint(sut, o.rate, o.rateConnections, rateSettings, 1);
        const h = await runH2load(sut.url, o.rate, o.rateConnections, o.rateDurationS, o.rateWarmupS, loadCpu);
        out.push({ system: sut.name, openLoop: mine, h2load: { ...h, raw: undefined } });
        rows.push([sut.name, 'open-loop (from scheduled send)', fmtInt(mine.achievedRps), fmtFixed(mine.latencyMs.mean, 3), fmtFixed(mine.latencyMs.max, 3), `${fmtFixed(mine.latencyMs.p50, 3)} / ${fmtFixed(mine.latencyMs.p99, 3)}`, String(mine.errorCount)]);
        rows.push([sut.name, 'open-loop (from actual send)', fmtInt(mine.achievedRps), fmtFixed(mine.serviceMs.mean, 3), fmtFixed(mine.serviceMs.max, 3), `${fmtFixed(mine.serviceMs.p50, 3)} / ${fmtFixed(mine.serviceMs.p99, 3)}`, String(mine.errorCount)]);
        rows.push([sut.name, `h2load --h1 -c${o.rateConnections} --rps=${o.rate / o.rateConnections}`, fmtInt(h.rps), fmtFixed(h.meanMs, 3), fmtFixed(h.maxMs, 3), 'not reported', String(h.failed)]);
      }
      raw.crosscheck = out;
      add(`Cross-check of the open-loop generator with h2load at ${o.rate} rps, ${o.rateConnections} connections (${o.rateDurationS} s each)`, md(rows));
    });

    // The systems are no longer needed (their CPU is, for the parts below); the origin is.
    for (const s of suts) for (const p of s.procs) if (p !== origin) await stopManaged(p);

    await part('workers', async () => {
      const recs = await workersPart({ workDir, originPort, bodyBytes: BODY.length, durationS: o.durationS, warmupS: o.warmupS, connections: o.connections, counts: [1, 2] }).catch(async (e: Error): Promise<WorkersRecord[]> => [{ workers: 0, implemented: false, note: `failed: ${e.message}` }]);
      raw.workers = recs;
      add('Gateway with --workers N (closed loop, unpinned)', md([['workers', 'req/s', 'CPU s/1k req', 'errors', 'note'], ...recs.map((r) => [String(r.workers), r.rps === undefined ? 'not measured' : fmtInt(r.rps), r.cpuPer1kReq === undefined ? '–' : fmtFixed(r.cpuPer1kReq, 3), r.errors === undefined ? '–' : String(r.errors), r.note])]));
    });

    await stopAll();

    await part('controlplane', async () => {
      const r = await controlPlanePart({ proxies: o.cpProxies, services: o.cpServices, pushServices: o.cpPushServices, changes: o.cpChanges, cpCpu: sutCpu, clientCpu: loadCpu, log });
      raw.controlplane = r;
      for (const [title, body] of controlPlaneTables(r)) add(title, body);
    });

    await part('routes', async () => {
      const r = await routesPart({ sizes: o.routeSizes, cpu: sutCpu });
      raw.routes = r;
      add('Route-table match cost (ns per match, median of repeated batches, pinned to the SUT CPU)', routesTable(r));
    });
  } catch (e) {
    if (interrupted) return 130;
    keepWorkDir = true;
    shout(`benchmark failed: ${(e as Error).stack ?? (e as Error).message}`);
    log(`configs and logs kept in ${workDir}`);
    return 1;
  } finally {
    await stopAll();
    if (!keepWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
  }

  const header = [
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``.replace(/ -- `$/, '`'),
    `Date: ${new Date().toISOString()}, git ${machine.gitCommit.slice(0, 7)}${machine.gitDirty ? ' (dirty)' : ''}`,
    `Machine: ${machine.cpuModel}, ${machine.nproc} CPUs, ${machine.kernel}, node ${machine.node}, ${machine.nginx}, ${machine.haproxy}, ${machine.wrk}`,
    `Load average per part (before → after): ${loads.map((l) => `${l.part} ${l.before.split(' ').slice(0, 3).join(' ')} → ${l.after.split(' ').slice(0, 3).join(' ')}`).join('; ')}`,
  ].join('\n\n');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = path.join(RESULTS_DIR, stamp);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify({ tool: 'strait bench/run.ts', argv: process.argv.slice(2), options: o, machine, loadavg: loads, ...raw }, null, 1)}\n`);
  fs.writeFileSync(`${base}.md`, `${header}\n\n${sections.join('\n\n')}\n`);
  process.stdout.write(`\n${header}\n\nraw results: ${path.relative(process.cwd(), base)}.{json,md}\n`);
  if (errors) {
    shout(`${errors} errors during measured runs: see the tables`);
    return 1;
  }
  return 0;
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  return 2;
});
