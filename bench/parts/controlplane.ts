// The control-plane part of issue 7: runs bench/cp/cp-bench.ts pinned to the SUT CPU (its ADS
// clients on the load CPU) for config bytes per proxy versus mesh size and for the time from a
// config change to the ACK of 100 / 1000 connected proxies; tabulates both.

import { fileURLToPath } from 'node:url';
import { md } from '../lib/report.js';
import { spawnManaged, stopManaged } from '../lib/processes.js';
import { fmtFixed, fmtInt, median } from '../lib/stats.js';

const SCRIPT = fileURLToPath(new URL('../cp/cp-bench.ts', import.meta.url));

interface SizeResult {
  services: number;
  bytes: Record<string, number>;
  count: Record<string, number>;
  totalBytes: number;
  /** Total with a Sidecar resource limiting egress to one service. */
  scopedBytes?: number;
  generateMs: number;
  encodeMs: number;
}

interface PushResult {
  proxies: number;
  services: number;
  connectMs: number;
  controlPlaneRssBytes: number;
  changes: { change: number; p50: number; p90: number; p99: number; max: number; allAckedMs: number; acked: number }[];
}

export interface ControlPlaneResult {
  sizes: SizeResult[];
  push: PushResult[];
}

async function cpBench(args: string[], cpu: string | undefined, limitS: number): Promise<unknown> {
  const p = spawnManaged({ name: 'cp-bench', command: process.execPath, args: ['--import', 'tsx', SCRIPT, ...args], cpu, keepAllOutput: true });
  const limit = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), limitS * 1000).unref());
  const code = await Promise.race([p.exited, limit]);
  if (code === 'timeout') {
    await stopManaged(p);
    throw new Error(`cp-bench ${args.join(' ')} did not finish within ${limitS} s:\n${p.tail()}`);
  }
  await p.closed;
  const line = p.tail().split('\n').find((l) => l.startsWith('CP_RESULT '));
  if (code !== 0 || !line) throw new Error(`cp-bench ${args.join(' ')} failed (${code}):\n${p.tail()}`);
  return JSON.parse(line.slice('CP_RESULT '.length));
}

export async function controlPlanePart(o: { proxies: number[]; services: number[]; pushServices: number; changes: number; cpCpu: string | undefined; clientCpu: string | undefined; log: (l: string) => void }): Promise<ControlPlaneResult> {
  const sizes = (await cpBench(['sizes', o.services.join(',')], o.cpCpu, 600)) as SizeResult[];
  for (const s of sizes) o.log(`config for one sidecar, ${s.services} services: ${fmtInt(s.totalBytes)} bytes (${JSON.stringify(s.bytes)}), generated in ${fmtFixed(s.generateMs, 1)} ms`);
  const push: PushResult[] = [];
  for (const n of o.proxies) {
    const r = (await cpBench(['push', String(n), String(o.pushServices), String(o.changes), o.clientCpu ?? '-'], o.cpCpu, 900)) as PushResult;
    push.push(r);
    o.log(`${n} proxies: connected and synced in ${fmtInt(r.connectMs)} ms; change → ACK p90 ${r.changes.map((c) => fmtInt(c.p90)).join(', ')} ms`);
  }
  return { sizes, push };
}

export function controlPlaneTables(r: ControlPlaneResult): [string, string][] {
  const out: [string, string][] = [];
  if (r.push.length) {
    const rows = [['proxies', 'mesh services', 'changes', 'change → ACK p50 ms (median; min–max)', 'p90 ms (median; min–max)', 'max ms (median)', 'all ACKed, control plane view ms (median)', 'first connect + sync ms', 'control plane RSS MB']];
    for (const p of r.push) {
      const col = (f: (c: PushResult['changes'][number]) => number) => {
        const xs = p.changes.map(f);
        return `${fmtInt(median(xs))} (${fmtInt(Math.min(...xs))}–${fmtInt(Math.max(...xs))})`;
      };
      rows.push([String(p.proxies), String(p.services), String(p.changes.length), col((c) => c.p50), col((c) => c.p90), fmtInt(median(p.changes.map((c) => c.max))), fmtInt(median(p.changes.map((c) => c.allAckedMs))), fmtInt(p.connectMs), fmtFixed(p.controlPlaneRssBytes / 1048576, 0)]);
    }
    out.push(['Control plane: config change → ACK (real ControlPlane, simulated ADS clients over gRPC, debounce included)', md(rows)]);
  }
  if (r.sizes.length) {
    const types = ['LDS', 'RDS', 'CDS', 'EDS'];
    const rows = [['mesh services', 'total bytes per sidecar', ...types.map((t) => `${t} bytes (resources)`), 'generate ms', 'encode ms', 'total bytes with a Sidecar (egress: 1 service)']];
    for (const s of r.sizes) rows.push([String(s.services), fmtInt(s.totalBytes), ...types.map((t) => `${fmtInt(s.bytes[t] ?? 0)} (${s.count[t] ?? 0})`), fmtFixed(s.generateMs, 1), fmtFixed(s.encodeMs, 1), s.scopedBytes === undefined ? '–' : fmtInt(s.scopedBytes)]);
    out.push(['Config bytes per sidecar versus mesh size (every service visible, as without a Sidecar resource; last column: scoped by one)', md(rows)]);
  }
  return out;
}
