// Options of `npm run bench` (bench/run.ts): which parts and systems, how long, how often. The
// defaults follow issue 7 and performance.md §8 (5 runs, 1000 rps × 16 connections, 1 KiB) with
// short durations, so that the whole run takes about 25 minutes on a 2-CPU machine and each part
// alone a few; --quick runs every part once, briefly, to check the setup.

import { parseArgs } from 'node:util';
import { TIMINGS, type Timing } from './lib/open-loop.js';
import { ALL_SYSTEMS, type SystemName } from './lib/systems.js';

export const ALL_PARTS = ['memory', 'saturation', 'latency', 'connections', 'rates', 'crosscheck', 'workers', 'controlplane', 'routes'] as const;
export type PartName = (typeof ALL_PARTS)[number];

export interface Options {
  parts: PartName[];
  systems: SystemName[];
  sweepSystems: SystemName[];
  runs: number;
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  rate: number;
  rateConnections: number;
  rateDurationS: number;
  rateWarmupS: number;
  sweepConnections: number[];
  sweepRates: number[];
  idleConnections: number;
  timing: Timing;
  pin: boolean;
  tracing?: number;
  istioMetrics?: boolean;
  meshMetrics: boolean;
  /** Services in Strait's config (a cluster and a virtual host each) besides the measured route. */
  configServices: number;
  cpProxies: number[];
  cpServices: number[];
  cpPushServices: number;
  cpChanges: number;
  routeSizes: number[];
}

export const USAGE = `usage: npm run bench -- [options]
  --parts LIST            ${ALL_PARTS.join(',')} (default: all)
  --systems LIST          ${ALL_SYSTEMS.join(',')} (default: all)
  --sweep-systems LIST    systems of the connection and rate sweeps (default: direct,nginx,haproxy,strait,nginx-mesh,strait-mesh)
  --runs N                repetitions of saturation and latency, interleaved round-robin (default 5)
  --duration S            wrk seconds per saturation run (default 5); --warmup S before each (default 2)
  --connections C         wrk connections (default 16); --threads T wrk threads (default 1)
  --rate R                requests/s of the latency part and the connection sweep (default 1000)
  --rate-connections C    connections of the latency part and the rate sweep (default 16)
  --rate-duration S       seconds per open-loop run (default 8); --rate-warmup S before each (default 2)
  --sweep-connections L   default 2,4,8,16,32,64
  --sweep-rates L         default 500,1000,2000,4000,8000,16000 (each system stops at its knee)
  --idle-connections N    memory part: KB per idle keep-alive connection from N to 2N open (default 1000)
  --timing T              open-loop scheduling: ${TIMINGS.join('|')} (default worker; see bench/lib/open-loop.ts)
  --cp-proxies L          simulated ADS clients of the push test (default 100,1000)
  --cp-services L         mesh sizes of the config-size test (default 10,100,1000)
  --cp-push-services N    mesh size during the push test (default 10); --cp-changes N changes per size (default 5)
  --route-sizes L         route-table sizes (default 10,1000,10000)
  --tracing P             Strait's gateway traces P % of requests; --istio-metrics: its gateway runs istio.stats
  --no-mesh-metrics       Strait's sidecars without istio.stats (on by default, as Istio's sidecars)
  --config-services N     services in Strait's gateway and sidecar configs besides the measured one,
                          a cluster and a virtual host each (default 100: the target's config size)
  --no-pin                do not pin with taskset
  --quick                 1 run, short durations, small sweeps: checks the setup in a few minutes
  -h, --help              this text`;

function list<T extends string>(name: string, v: string | undefined, all: readonly T[], dflt: readonly T[]): T[] {
  const xs = v === undefined ? dflt : v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const x of xs) if (!(all as readonly string[]).includes(x)) throw new Error(`--${name}: unknown ${JSON.stringify(x)}\n${USAGE}`);
  return all.filter((a) => xs.includes(a));
}

function nums(name: string, v: string | undefined, dflt: number[]): number[] {
  if (v === undefined) return dflt;
  const xs = v.split(',').map(Number);
  if (xs.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`--${name} must be a list of positive numbers, got ${JSON.stringify(v)}`);
  return xs;
}

function num(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${JSON.stringify(v)}\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[]): Options | null {
  const str = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args: argv,
    options: {
      parts: str, systems: str, 'sweep-systems': str, runs: str, duration: str, warmup: str, connections: str, threads: str,
      rate: str, 'rate-connections': str, 'rate-duration': str, 'rate-warmup': str, 'sweep-connections': str, 'sweep-rates': str,
      'idle-connections': str, timing: str, 'cp-proxies': str, 'cp-services': str, 'cp-push-services': str, 'cp-changes': str, 'route-sizes': str, 'config-services': str,
      tracing: str, 'istio-metrics': { type: 'boolean' }, 'no-mesh-metrics': { type: 'boolean' }, 'no-pin': { type: 'boolean' }, quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) return null;
  const q = v.quick === true;
  if (v.timing !== undefined && !TIMINGS.includes(v.timing as Timing)) throw new Error(`--timing must be one of ${TIMINGS.join(', ')}`);
  const o: Options = {
    parts: list('parts', v.parts, ALL_PARTS, ALL_PARTS),
    systems: list('systems', v.systems, ALL_SYSTEMS, ALL_SYSTEMS),
    sweepSystems: list('sweep-systems', v['sweep-systems'], ALL_SYSTEMS, ['direct', 'nginx', 'haproxy', 'strait', 'nginx-mesh', 'strait-mesh']),
    runs: num('runs', v.runs, q ? 1 : 5),
    durationS: num('duration', v.duration, q ? 3 : 5),
    warmupS: num('warmup', v.warmup, q ? 1 : 2, 0),
    connections: num('connections', v.connections, 16),
    threads: num('threads', v.threads, 1),
    rate: num('rate', v.rate, 1000),
    rateConnections: num('rate-connections', v['rate-connections'], 16),
    rateDurationS: num('rate-duration', v['rate-duration'], q ? 3 : 8),
    rateWarmupS: num('rate-warmup', v['rate-warmup'], q ? 1 : 2, 0),
    sweepConnections: nums('sweep-connections', v['sweep-connections'], q ? [2, 64] : [2, 4, 8, 16, 32, 64]),
    sweepRates: nums('sweep-rates', v['sweep-rates'], q ? [1000, 4000] : [500, 1000, 2000, 4000, 8000, 16000]),
    idleConnections: num('idle-connections', v['idle-connections'], q ? 200 : 1000),
    timing: (v.timing as Timing | undefined) ?? 'worker',
    pin: !v['no-pin'],
    meshMetrics: !v['no-mesh-metrics'],
    configServices: num('config-services', v['config-services'], 100, 0),
    cpProxies: nums('cp-proxies', v['cp-proxies'], q ? [100] : [100, 1000]),
    cpServices: nums('cp-services', v['cp-services'], q ? [10, 100] : [10, 100, 1000]),
    cpPushServices: num('cp-push-services', v['cp-push-services'], 10),
    cpChanges: num('cp-changes', v['cp-changes'], q ? 2 : 5),
    routeSizes: nums('route-sizes', v['route-sizes'], [10, 1000, 10000]),
    ...(v.tracing !== undefined ? { tracing: num('tracing', v.tracing, 0, 0) } : {}),
    ...(v['istio-metrics'] ? { istioMetrics: true } : {}),
  };
  if (o.tracing !== undefined && o.tracing > 100) throw new Error('--tracing is a percentage');
  if (o.threads > o.connections) throw new Error(`--threads (${o.threads}) cannot exceed --connections (${o.connections})`);
  return o;
}
