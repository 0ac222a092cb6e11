// Summaries and Markdown tables of the benchmark parts: median and min–max over runs
// (performance.md §8 step 3), latency added over direct, and each figure as a ratio to nginx of
// the same shape measured in the same run (single proxies to `nginx`, pairs to `nginx-mesh`).
// The tables are printed and saved beside the raw JSON, ready for docs/benchmarks.md.

import type { MemoryRecord } from '../parts/memory.js';
import type { RateRecord } from '../parts/fixed-rate.js';
import type { SaturationRecord } from '../parts/saturation.js';
import { fmtFixed, fmtInt, spread, type Spread } from './stats.js';
import { nginxPeerOf, type SystemName } from './systems.js';

export function md(rows: string[][]): string {
  const [head, ...body] = rows;
  if (!head) return '';
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...body.map(line)].join('\n');
}

const range = (s: Spread, f: (x: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const ms = (x: number) => fmtFixed(x, 3);
const mb = (x: number) => fmtFixed(x / 1048576, 1);
const ratio = (a: number, b: number | undefined) => (b === undefined || !Number.isFinite(a / b) ? '–' : `${fmtFixed(a / b, 2)}×`);
const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : `${fmtInt(x * 100)} %`);

function bySystem<T extends { system: SystemName }>(records: readonly T[]): Map<SystemName, T[]> {
  const m = new Map<SystemName, T[]>();
  for (const r of records) m.set(r.system, [...(m.get(r.system) ?? []), r]);
  return m;
}

export interface SaturationSummary {
  system: SystemName;
  runs: number;
  rps: Spread;
  reqPerCpuSecond: Spread;
  cpuPer1kReq: Spread;
  cpuUtil: Spread;
  rssMaxBytes: number;
  p99Ms: Spread;
  errors: number;
  sutCpuForeign: Spread | null;
  loadCpuBusy: Spread | null;
}

export function summarizeSaturation(records: readonly SaturationRecord[]): SaturationSummary[] {
  return [...bySystem(records)].map(([system, rs]) => ({
    system,
    runs: rs.length,
    rps: spread(rs.map((r) => r.rps)),
    reqPerCpuSecond: spread(rs.map((r) => r.reqPerCpuSecond)),
    cpuPer1kReq: spread(rs.map((r) => r.cpuPer1kReq)),
    cpuUtil: spread(rs.map((r) => r.cpuUtil)),
    rssMaxBytes: Math.max(...rs.map((r) => r.rssBytes)),
    p99Ms: spread(rs.map((r) => r.latencyMs.p99)),
    errors: rs.reduce((a, r) => a + r.errorCount, 0),
    sutCpuForeign: rs.every((r) => r.sutCpuForeign !== null) ? spread(rs.map((r) => r.sutCpuForeign!)) : null,
    loadCpuBusy: rs.every((r) => r.loadCpuBusy !== null) ? spread(rs.map((r) => r.loadCpuBusy!)) : null,
  }));
}

export function saturationTable(sums: readonly SaturationSummary[]): string {
  const by = new Map(sums.map((s) => [s.system, s]));
  const rows = [['system', 'req/s median (min–max)', 'rps × nginx', 'req/CPU-s', 'req/CPU-s × nginx', 'CPU s/1k req', 'CPU use', 'p99 ms (queueing)', 'RSS MB', 'errors', 'SUT CPU other', 'load CPU busy']];
  for (const s of sums) {
    const n = by.get(nginxPeerOf(s.system));
    rows.push([
      s.system,
      range(s.rps, fmtInt),
      ratio(s.rps.median, n?.rps.median),
      fmtInt(s.reqPerCpuSecond.median),
      s.system === 'direct' ? '–' : ratio(s.reqPerCpuSecond.median, n?.reqPerCpuSecond.median),
      fmtFixed(s.cpuPer1kReq.median, 3),
      pct(s.cpuUtil.median),
      fmtFixed(s.p99Ms.median, 2),
      mb(s.rssMaxBytes),
      s.errors ? `${s.errors} !!` : '0',
      pct(s.sutCpuForeign?.median ?? null),
      pct(s.loadCpuBusy?.median ?? null),
    ]);
  }
  return md(rows);
}

export interface RateSummary {
  system: SystemName;
  runs: number;
  achievedRps: Spread;
  errors: number;
  p50: Spread;
  p90: Spread;
  p99: Spread;
  p999: Spread;
  cpuPer1kReq: Spread;
  cpuPer1kReqPerProxy: Spread;
  rssUnderLoadBytes: Spread;
  rssPerProxyBytes: Spread;
  rssAnonPerProxyBytes: Spread;
  sendLagP99: Spread;
  sutCpuForeign: Spread | null;
  reuse: Spread | null;
}

export function summarizeRate(records: readonly RateRecord[]): RateSummary[] {
  return [...bySystem(records)].map(([system, rs]) => ({
    system,
    runs: rs.length,
    achievedRps: spread(rs.map((r) => r.achievedRps)),
    errors: rs.reduce((a, r) => a + r.errorCount, 0),
    p50: spread(rs.map((r) => r.latencyMs.p50)),
    p90: spread(rs.map((r) => r.latencyMs.p90)),
    p99: spread(rs.map((r) => r.latencyMs.p99)),
    p999: spread(rs.map((r) => r.latencyMs.p999)),
    cpuPer1kReq: spread(rs.map((r) => r.cpuPer1kReq)),
    cpuPer1kReqPerProxy: spread(rs.map((r) => r.cpuPer1kReqPerProxy)),
    rssUnderLoadBytes: spread(rs.map((r) => r.rssUnderLoadBytes)),
    rssPerProxyBytes: spread(rs.map((r) => r.rssPerProxyBytes)),
    rssAnonPerProxyBytes: spread(rs.map((r) => r.rssAnonPerProxyBytes)),
    sendLagP99: spread(rs.map((r) => r.sendLagMs.p99)),
    sutCpuForeign: rs.every((r) => r.sutCpuForeign !== null) ? spread(rs.map((r) => r.sutCpuForeign!)) : null,
    reuse: rs.every((r) => r.upstream) ? spread(rs.map((r) => r.upstream!.reuse)) : null,
  }));
}

export function rateTables(sums: readonly RateSummary[]): string {
  const by = new Map(sums.map((s) => [s.system, s]));
  const direct = by.get('direct');
  const lat = [['system', 'achieved rps', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'added p50 / p90 / p99 ms', 'p99 × nginx', 'gen. send lag p99 ms', 'SUT CPU other']];
  const res = [['system', 'CPU s/1k req (all procs)', 'per proxy', 'per proxy × nginx', 'RSS under load MB', 'RSS × nginx', 'per proxy: RSS / private MB', 'upstream reuse']];
  for (const s of sums) {
    const n = by.get(nginxPeerOf(s.system));
    const add = (x: Spread, d: Spread | undefined) => (d && s.system !== 'direct' ? ms(x.median - d.median) : '–');
    lat.push([
      s.system,
      fmtInt(s.achievedRps.median),
      s.errors ? `${s.errors} !!` : '0',
      range(s.p50, ms),
      range(s.p90, ms),
      range(s.p99, ms),
      range(s.p999, ms),
      `${add(s.p50, direct?.p50)} / ${add(s.p90, direct?.p90)} / ${add(s.p99, direct?.p99)}`,
      ratio(s.p99.median, n?.p99.median),
      ms(s.sendLagP99.median),
      pct(s.sutCpuForeign?.median ?? null),
    ]);
    res.push([
      s.system,
      range(s.cpuPer1kReq, (x) => fmtFixed(x, 3)),
      fmtFixed(s.cpuPer1kReqPerProxy.median, 3),
      s.system === 'direct' ? '–' : ratio(s.cpuPer1kReqPerProxy.median, n?.cpuPer1kReqPerProxy.median),
      range(s.rssUnderLoadBytes, mb),
      s.system === 'direct' ? '–' : ratio(s.rssUnderLoadBytes.median, n?.rssUnderLoadBytes.median),
      s.system === 'direct' ? '–' : `${mb(s.rssPerProxyBytes.median)} / ${mb(s.rssAnonPerProxyBytes.median)}`,
      s.reuse ? `${fmtFixed(s.reuse.min * 100, 2)} % (min)` : '–',
    ]);
  }
  return `${md(lat)}\n\n${md(res)}`;
}

/** One row per system, one column per sweep point: "p50 / p99" ms (and achieved rps when short). */
export function sweepTable(records: readonly RateRecord[], key: 'connections' | 'targetRps', knees?: Map<SystemName, number | null>): string {
  const points = [...new Set(records.map((r) => r[key]))].sort((a, b) => a - b);
  const rows = [['system', ...points.map((p) => (key === 'connections' ? `${p} conns` : `${p} rps`)), ...(knees ? ['knee (rps)'] : [])]];
  for (const [system, rs] of bySystem(records)) {
    rows.push([
      system,
      ...points.map((p) => {
        const r = rs.find((x) => x[key] === p);
        if (!r) return '–';
        const short = r.achievedRps < 0.95 * r.targetRps || r.errorCount ? ` (${fmtInt(r.achievedRps)} rps, ${r.errorCount} err)` : '';
        return `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)}${short}`;
      }),
      ...(knees ? [knees.get(system) === null || knees.get(system) === undefined ? 'below the first rate' : `≥ ${fmtInt(knees.get(system)!)}`] : []),
    ]);
  }
  return md(rows);
}

export function memoryTable(records: readonly MemoryRecord[], idle: Map<SystemName, number>, load: Map<SystemName, number>): string {
  const by = new Map(records.map((r) => [r.system, r]));
  const rows = [['system', 'RSS idle MB', 'idle × nginx', 'RSS under load MB (1000 rps)', 'idle conns opened', 'KB per idle keep-alive conn', 'per conn × nginx']];
  const systems = [...new Set([...idle.keys(), ...by.keys()])];
  for (const s of systems) {
    const n = nginxPeerOf(s);
    const r = by.get(s);
    const nr = by.get(n);
    rows.push([
      s,
      idle.has(s) ? mb(idle.get(s)!) : '–',
      s === 'direct' ? '–' : ratio(idle.get(s) ?? Number.NaN, idle.get(n)),
      load.has(s) ? mb(load.get(s)!) : '–',
      r ? `${r.opened}/${r.connections}` : '–',
      r ? fmtFixed(r.perConnectionBytes / 1024, 2) : '–',
      r && nr && s !== 'direct' ? ratio(Math.max(r.perConnectionBytes, 1), Math.max(nr.perConnectionBytes, 1)) : '–',
    ]);
  }
  return md(rows);
}
