// Micro-benchmark of the compiled route table's match (src/dataplane/router/route-table.ts), the
// per-request routing cost of issue 7's scaling item, with 10 / 1 000 / 10 000 entries:
// - hosts: N virtual hosts (one domain and one route each, as a gateway or a sidecar's port has
//   one virtual host per service); requests spread over all of them. Must stay flat.
// - routes, first / last: one virtual host with N prefix routes, the request matching the first
//   or the last one (Envoy also tries routes in order; the last is the worst case).
// Run as a process (pinned by the caller): `node --import tsx bench/micro/route-table.ts 10,1000`;
// prints one `ROUTES_RESULT {json}` line.

import type { RouteConfiguration } from '../../src/xds/resources.js';
import { compileRouteConfiguration } from '../../src/dataplane/router/route-table.js';
import type { RouteTable } from '../../src/dataplane/router/route-table.js';

export interface RouteCase {
  case: 'hosts' | 'routes, first matches' | 'routes, last matches';
  size: number;
  nsPerMatch: number;
  /** min–max of the batches. */
  nsMin: number;
  nsMax: number;
  compileMs: number;
}

const noHeader = () => undefined;
const BATCH_MS = 40;
const BATCHES = 9;

function time(table: RouteTable, requests: readonly [string, string][]): { median: number; min: number; max: number } {
  let sink = 0;
  const loop = (count: number): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const [host, path] = requests[i % requests.length]!;
      if (table.match(host, path, path, '', noHeader)) sink++;
    }
    return Number(process.hrtime.bigint() - t0);
  };
  // Calibrate (and warm up the JIT): grow the batch until it takes BATCH_MS.
  let batch = 64;
  while (loop(batch) < BATCH_MS * 1e6 && batch < 1 << 22) batch *= 2;
  sink = 0;
  const per: number[] = [];
  for (let b = 0; b < BATCHES; b++) per.push(loop(batch) / batch);
  if (sink !== batch * BATCHES) throw new Error(`only ${sink} of ${batch * BATCHES} requests matched a route`);
  per.sort((a, b) => a - b);
  return { median: per[Math.floor(per.length / 2)]!, min: per[0]!, max: per[per.length - 1]! };
}

function compile(rc: RouteConfiguration): { table: RouteTable; ms: number } {
  const t0 = process.hrtime.bigint();
  const table = compileRouteConfiguration(rc);
  return { table, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

export function run(sizes: readonly number[]): RouteCase[] {
  const out: RouteCase[] = [];
  for (const n of sizes) {
    const hosts = compile({
      name: 'hosts',
      virtualHosts: Array.from({ length: n }, (_, i) => ({ name: `svc-${i}`, domains: [`svc-${i}.bench.svc.cluster.local`], routes: [{ match: { prefix: '/' }, route: { cluster: `c${i}` } }] })),
    });
    // 1024 requests spread over the hosts (a stride that visits hosts all over the table).
    const reqs: [string, string][] = Array.from({ length: 1024 }, (_, i) => [`svc-${(i * 7919) % n}.bench.svc.cluster.local`, '/api/items']);
    const h = time(hosts.table, reqs);
    out.push({ case: 'hosts', size: n, nsPerMatch: h.median, nsMin: h.min, nsMax: h.max, compileMs: hosts.ms });
    const routes = compile({
      name: 'routes',
      virtualHosts: [{ name: 'all', domains: ['*'], routes: Array.from({ length: n }, (_, i) => ({ match: { prefix: `/svc-${i}/` }, route: { cluster: `c${i}` } })) }],
    });
    for (const [label, idx] of [['routes, first matches', 0], ['routes, last matches', n - 1]] as const) {
      const r = time(routes.table, [['bench.local', `/svc-${idx}/items`]]);
      out.push({ case: label, size: n, nsPerMatch: r.median, nsMin: r.min, nsMax: r.max, compileMs: routes.ms });
    }
  }
  return out;
}

const sizes = (process.argv[2] ?? '10,1000,10000').split(',').map(Number);
process.stdout.write(`ROUTES_RESULT ${JSON.stringify(run(sizes))}\n`);
