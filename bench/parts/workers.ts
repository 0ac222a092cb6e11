// Gateway throughput with `strait proxy --workers N` (issue 7: the gateway must be able to use
// every core). Runs only when the built CLI offers the option; otherwise it reports a row that
// says so, never a number. With N workers the gateway is given every CPU, and so is wrk: on a
// 2-CPU machine this measures whether a second worker adds throughput at all, not a ceiling.

import { spawnSync } from 'node:child_process';
import { assertAnswers200, HOST } from '../lib/net.js';
import { measured } from '../lib/load.js';
import { stopManaged } from '../lib/processes.js';
import { STRAIT_MAIN, startStrait } from '../lib/strait.js';
import { runWrk } from '../lib/wrk.js';

export interface WorkersRecord {
  workers: number;
  implemented: boolean;
  rps?: number;
  cpuPer1kReq?: number;
  errors?: number;
  note: string;
}

export function workersSupported(): boolean {
  const r = spawnSync(process.execPath, [STRAIT_MAIN, 'proxy', '--help'], { encoding: 'utf8' });
  return /--workers\b/.test(`${r.stdout}${r.stderr}`);
}

export async function workersPart(o: { workDir: string; originPort: number; bodyBytes: number; durationS: number; warmupS: number; connections: number; counts: readonly number[] }): Promise<WorkersRecord[]> {
  if (!workersSupported()) {
    return o.counts.map((n) => ({ workers: n, implemented: false, note: '`strait proxy --workers` not implemented yet (not in `strait proxy --help` of this build)' }));
  }
  const out: WorkersRecord[] = [];
  for (const n of o.counts) {
    // Unpinned: N workers need N CPUs; every process of the gateway (primary and workers) is measured.
    const s = await startStrait(o.workDir, o.originPort, undefined, undefined, false, ['--workers', String(n)]);
    try {
      const url = `http://${HOST}:${s.port}/`;
      await assertAnswers200(`strait --workers ${n}`, url, o.bodyBytes);
      const wrk = { url, threads: 1, connections: o.connections, cpu: undefined, workDir: o.workDir };
      if (o.warmupS) await runWrk({ ...wrk, durationS: o.warmupS });
      const children = () => spawnSync('pgrep', ['-P', String(s.proc.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      const pids = [s.proc.pid, ...children()];
      const procs = pids.map((pid) => ({ ...s.proc, pid, name: `strait-${pid}` }));
      const { result, window } = await measured(procs, () => runWrk({ ...wrk, durationS: o.durationS }));
      out.push({ workers: n, implemented: true, rps: result.rps, cpuPer1kReq: window.cpuSeconds / (result.requests / 1000), errors: result.errorCount, note: `unpinned, ${pids.length} process(es) measured` });
    } finally {
      await stopManaged(s.proc);
    }
  }
  return out;
}
