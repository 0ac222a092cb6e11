// The routing part of issue 7's scaling item: runs bench/micro/route-table.ts pinned to the SUT
// CPU (a process of its own, so the runner's heap does not disturb it) and tabulates ns per match.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RouteCase } from '../micro/route-table.js';
import { md } from '../lib/report.js';
import { fmtFixed } from '../lib/stats.js';

const SCRIPT = fileURLToPath(new URL('../micro/route-table.ts', import.meta.url));

export async function routesPart(o: { sizes: readonly number[]; cpu: string | undefined }): Promise<RouteCase[]> {
  const args = ['--import', 'tsx', SCRIPT, o.sizes.join(',')];
  const [cmd, argv] = o.cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', o.cpu, process.execPath, ...args]];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 300_000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('ROUTES_RESULT '));
  if (!line) throw new Error(`route-table micro-benchmark failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return JSON.parse(line.slice('ROUTES_RESULT '.length)) as RouteCase[];
}

export function routesTable(cases: readonly RouteCase[]): string {
  const sizes = [...new Set(cases.map((c) => c.size))];
  const kinds = [...new Set(cases.map((c) => c.case))];
  const rows = [['table', ...sizes.map((s) => `${s} entries: ns/match (min–max)`), `ratio ${sizes[sizes.length - 1]} / ${sizes[0]}`, 'compile ms (largest)']];
  for (const k of kinds) {
    const cs = sizes.map((s) => cases.find((c) => c.case === k && c.size === s));
    const first = cs[0]?.nsPerMatch;
    const last = cs[cs.length - 1];
    rows.push([k, ...cs.map((c) => (c ? `${fmtFixed(c.nsPerMatch, 0)} (${fmtFixed(c.nsMin, 0)}–${fmtFixed(c.nsMax, 0)})` : '–')), first && last ? `${fmtFixed(last.nsPerMatch / first, 1)}×` : '–', last ? fmtFixed(last.compileMs, 1) : '–']);
  }
  return md(rows);
}
