// Latency at a constant rate (issue 7, performance.md §8 steps 3–5): the open-loop generator on
// the load CPU drives each system at R requests/s over C keep-alive connections. Three uses:
// the Istio point (1000 rps, 16 connections, repeated --runs times, interleaved round-robin),
// the connection sweep (2..64 at 1000 rps) and the rate sweep (doubling the rate until the knee).
// Per run: achieved rps, errors, latency from the scheduled send (p50/p90/p99/p99.9), CPU of the
// system's processes per 1000 requests, RSS under load, and for the Strait pair the upstream
// connection reuse of the client sidecar.

import { measured, runOpenLoopProcess } from '../lib/load.js';
import type { OpenLoopResult, Timing } from '../lib/open-loop.js';
import { straitUpstreamCounts } from '../lib/mesh.js';
import type { SystemName, SystemUnderTest } from '../lib/systems.js';
import type { CpuShare } from '../lib/cpu.js';

export interface RateSettings {
  durationS: number;
  warmupS: number;
  bodyBytes: number;
  timing: Timing;
  sutCpu: string | undefined;
  loadCpu: string | undefined;
}

/** One open-loop run of a system: the generator's figures (open-loop.ts) and the system's own. */
export interface RateRecord extends Pick<OpenLoopResult, 'targetRps' | 'connections' | 'achievedRps' | 'completed' | 'unsent' | 'errors' | 'errorCount' | 'latencyMs' | 'serviceMs' | 'sendLagMs' | 'generatorCpu'> {
  system: SystemName;
  round: number;
  /** CPU seconds of all the system's processes per 1000 requests (= vCPU per 1000 rps). */
  cpuPer1kReq: number;
  /** The same per proxy process (pairs: half). */
  cpuPer1kReqPerProxy: number;
  rssUnderLoadBytes: number;
  /** RSS and private memory (RssAnon) per proxy process (pairs: the mean of the two). */
  rssPerProxyBytes: number;
  rssAnonPerProxyBytes: number;
  /** Busy share of the SUT CPU not used by the system's processes (other programs). */
  sutCpuForeign: number | null;
  loadCpuBusy: number | null;
  /** Strait pair: upstream requests and new upstream connections of the client sidecar in the run. */
  upstream?: { requests: number; connections: number; reuse: number };
  histogram: unknown;
}

function share(cpus: CpuShare[], cpu: string | undefined): CpuShare | undefined {
  return cpu === undefined ? undefined : cpus[Number(cpu)];
}

/** One measured point: a warm-up run (discarded), then the measured run. */
export async function ratePoint(sut: SystemUnderTest, rps: number, connections: number, s: RateSettings, round: number): Promise<RateRecord> {
  const run = { url: sut.url, rps, connections, bodyBytes: s.bodyBytes, timing: s.timing, cpu: s.loadCpu };
  if (s.warmupS > 0) await runOpenLoopProcess({ ...run, durationS: s.warmupS, warmupS: 0 });
  const before = sut.adminPort !== undefined ? await straitUpstreamCounts(sut.adminPort) : undefined;
  // Without a warm-up inside the measured process, its CPU window holds only measured requests
  // (plus the generator's start-up, when the system is idle).
  const { result: r, window: w } = await measured(sut.procs, () => runOpenLoopProcess({ ...run, durationS: s.durationS, warmupS: 0 }));
  const after = sut.adminPort !== undefined ? await straitUpstreamCounts(sut.adminPort) : undefined;
  const kreq = r.completed / 1000;
  const sutShare = share(w.cpus, s.sutCpu);
  const procCpuShare = w.cpuSeconds / w.wallSeconds;
  const rec: RateRecord = {
    system: sut.name,
    round,
    targetRps: rps,
    connections,
    achievedRps: r.achievedRps,
    completed: r.completed,
    unsent: r.unsent,
    errors: r.errors,
    errorCount: r.errorCount + r.unsent,
    latencyMs: r.latencyMs,
    serviceMs: r.serviceMs,
    sendLagMs: r.sendLagMs,
    generatorCpu: r.generatorCpu,
    cpuPer1kReq: kreq > 0 ? w.cpuSeconds / kreq : Number.NaN,
    cpuPer1kReqPerProxy: kreq > 0 ? w.cpuSeconds / kreq / (sut.name === 'direct' ? 1 : sut.procs.length) : Number.NaN,
    rssUnderLoadBytes: w.maxRssBytes,
    rssPerProxyBytes: w.maxRssBytes / sut.procs.length,
    rssAnonPerProxyBytes: w.maxRssAnonBytes / sut.procs.length,
    // For direct the origin runs on the load CPU: nothing of ours is on the SUT CPU.
    sutCpuForeign: sutShare ? Math.max(0, sutShare.busy - (sut.name === 'direct' ? 0 : procCpuShare)) : null,
    loadCpuBusy: share(w.cpus, s.loadCpu)?.busy ?? null,
    histogram: r.histogram,
  };
  if (before && after) {
    const requests = after.requests - before.requests;
    const conns = after.connections - before.connections;
    rec.upstream = { requests, connections: conns, reuse: requests > 0 ? 1 - conns / requests : Number.NaN };
  }
  return rec;
}

export function describe(r: RateRecord): string {
  const l = r.latencyMs;
  return (
    `${r.system.padEnd(12)} ${String(r.targetRps).padStart(5)} rps × ${String(r.connections).padStart(2)} conns: achieved ${r.achievedRps.toFixed(0)}  ` +
    `p50 ${l.p50.toFixed(3)}  p90 ${l.p90.toFixed(3)}  p99 ${l.p99.toFixed(3)}  p99.9 ${l.p999.toFixed(3)} ms  ` +
    `cpu ${r.cpuPer1kReq.toFixed(3)} s/1k req  rss ${(r.rssUnderLoadBytes / 1048576).toFixed(1)} MB (per process ${(r.rssPerProxyBytes / 1048576).toFixed(1)}, private ${(r.rssAnonPerProxyBytes / 1048576).toFixed(1)})  ` +
    `send lag p99 ${r.sendLagMs.p99.toFixed(3)} ms  errors ${r.errorCount}` +
    (r.upstream ? `  upstream reuse ${(r.upstream.reuse * 100).toFixed(2)} % (${r.upstream.connections} new of ${r.upstream.requests})` : '') +
    (r.sutCpuForeign !== null ? `  other on SUT CPU ${(r.sutCpuForeign * 100).toFixed(0)} %` : '')
  );
}

/** Rate sweep for one system: doubles from `from` until the knee (or `max`). */
export async function rateSweep(
  sut: SystemUnderTest,
  rates: readonly number[],
  connections: number,
  s: RateSettings,
  onPoint: (r: RateRecord) => void,
): Promise<{ points: RateRecord[]; knee: number | null }> {
  const points: RateRecord[] = [];
  let knee: number | null = null;
  for (const rps of rates) {
    const r = await ratePoint(sut, rps, connections, s, 1);
    points.push(r);
    onPoint(r);
    const base = points[0]!.latencyMs.p99;
    // The knee: the last rate that was still served in full with p99 within 2× of the lowest rate's.
    const ok = r.achievedRps >= 0.95 * rps && r.errorCount === 0 && r.latencyMs.p99 <= 2 * Math.max(base, 0.5);
    if (ok) knee = rps;
    else break;
  }
  return { points, knee };
}
