// Saturation throughput (issue 7, performance.md §8 step 5): wrk, closed loop, after a discarded
// warm-up, one system at a time. The ceiling in requests/s, and the CPU each system's processes
// used per request at that ceiling (req per CPU-second), which stays meaningful when the load
// side is the limit or the machine is shared. wrk's latency here is queueing at saturation, not
// proxy overhead (no coordinated-omission correction): the fixed-rate part measures that.

import type { WrkErrors, WrkResult } from '../lib/wrk.js';
import { runWrk } from '../lib/wrk.js';
import { measured } from '../lib/load.js';
import type { SystemName, SystemUnderTest } from '../lib/systems.js';

export interface SaturationSettings {
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  sutCpu: string | undefined;
  loadCpu: string | undefined;
  workDir: string;
}

export interface SaturationRecord {
  system: SystemName;
  round: number;
  rps: number;
  requests: number;
  latencyMs: WrkResult['latencyMs'];
  errors: WrkErrors;
  errorCount: number;
  cpuSeconds: number;
  /** CPU seconds of the system's processes per 1000 requests. */
  cpuPer1kReq: number;
  /** Requests per CPU-second of the system's processes: its throughput per core when CPU-bound. */
  reqPerCpuSecond: number;
  /** Share of one core the system's processes used (a pair can exceed 1 only if unpinned). */
  cpuUtil: number;
  rssBytes: number;
  sutCpuForeign: number | null;
  loadCpuBusy: number | null;
}

export async function saturationRun(sut: SystemUnderTest, s: SaturationSettings, round: number): Promise<SaturationRecord> {
  const wrkOpts = { url: sut.url, threads: s.threads, connections: s.connections, cpu: s.loadCpu, workDir: s.workDir };
  if (s.warmupS > 0) await runWrk({ ...wrkOpts, durationS: s.warmupS });
  const { result: w, window } = await measured(sut.procs, () => runWrk({ ...wrkOpts, durationS: s.durationS }));
  const util = window.cpuSeconds / window.wallSeconds;
  const sutShare = s.sutCpu === undefined ? undefined : window.cpus[Number(s.sutCpu)];
  return {
    system: sut.name,
    round,
    rps: w.rps,
    requests: w.requests,
    latencyMs: w.latencyMs,
    errors: w.errors,
    errorCount: w.errorCount,
    cpuSeconds: window.cpuSeconds,
    cpuPer1kReq: w.requests > 0 ? window.cpuSeconds / (w.requests / 1000) : Number.NaN,
    reqPerCpuSecond: window.cpuSeconds > 0 ? w.requests / window.cpuSeconds : Number.NaN,
    cpuUtil: util,
    rssBytes: window.maxRssBytes,
    sutCpuForeign: sutShare ? Math.max(0, sutShare.busy - (sut.name === 'direct' ? 0 : util)) : null,
    loadCpuBusy: s.loadCpu === undefined ? null : (window.cpus[Number(s.loadCpu)]?.busy ?? null),
  };
}
