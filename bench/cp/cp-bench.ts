// Control-plane benchmark process (issue 7), run pinned to the SUT CPU by bench/parts/controlplane.ts:
// - `sizes S1,S2,...`: config bytes per proxy versus mesh size. For each size a synthetic mesh
//   (mesh-model.ts), the generators run for one sidecar, and every resource is encoded as the ADS
//   server sends it (protobuf `Any` values); bytes per xDS type and generation/encoding time, and
//   the total when a Sidecar resource limits the sidecar's egress to one service.
// - `push PROXIES SERVICES CHANGES CLIENT_CPU`: the real ControlPlane serving PROXIES simulated
//   sidecars (ads-sim.ts processes of 250 clients each, pinned to CLIENT_CPU) over real gRPC. Each
//   change replaces the config (every VirtualService's timeout changes, so every sidecar's routes
//   change); the time from update() to each proxy's ACK is collected from the clients.
// Prints one `CP_RESULT {json}` line. Stops the processes it started by their PIDs.

import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/common/clock.js';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { generateProxyResources } from '../../src/controlplane/generate/generate.js';
import { DEFAULT_MESH_CONFIG, MeshSnapshot } from '../../src/controlplane/model/mesh-snapshot.js';
import { parseProxyNode, type ProxyNode } from '../../src/controlplane/model/proxy-node.js';
import { encodeResource } from '../../src/xds/codec.js';
import { TYPE_URL } from '../../src/xds/resources.js';
import { nodeOf, registry, store } from './mesh-model.js';

const SIM = fileURLToPath(new URL('./ads-sim.ts', import.meta.url));
const PER_PROCESS = 250;
const now = () => performance.timeOrigin + performance.now();

/** Encoded bytes and resource counts per xDS type, as the ADS server sends them. */
function encodedSizes(res: ReturnType<typeof generateProxyResources>): { bytes: Record<string, number>; count: Record<string, number> } {
  const bytes: Record<string, number> = {};
  const count: Record<string, number> = {};
  const encode = (type: string, url: string, list: readonly object[]) => {
    count[type] = list.length;
    bytes[type] = list.reduce((a, r) => a + encodeResource(url, r as Record<string, unknown>).value.length, 0);
  };
  encode('LDS', TYPE_URL.listener, res.listeners);
  encode('RDS', TYPE_URL.route, res.routes);
  encode('CDS', TYPE_URL.cluster, res.clusters);
  encode('EDS', TYPE_URL.endpoint, res.endpoints);
  encode('SDS', TYPE_URL.secret, res.secrets);
  return { bytes, count };
}

function sizes(list: number[]): unknown[] {
  const out: unknown[] = [];
  // The first size pays for loading the protos and JIT warm-up: measure a 1-service mesh first.
  for (const n of [1, ...list]) {
    const s = store(n);
    const snap = new MeshSnapshot(1, s, registry(s, n, n), DEFAULT_MESH_CONFIG);
    const proxy = parseProxyNode(nodeOf(0, n)) as ProxyNode;
    const t0 = performance.now();
    const res = generateProxyResources(snap, proxy);
    const t1 = performance.now();
    const { bytes, count } = encodedSizes(res);
    const t2 = performance.now();
    // The same mesh with a Sidecar resource limiting the sidecar's egress to one service.
    const scopedStore = store(n, 5, true);
    const scoped = encodedSizes(generateProxyResources(new MeshSnapshot(1, scopedStore, registry(scopedStore, n, n), DEFAULT_MESH_CONFIG), proxy));
    const scopedBytes = Object.values(scoped.bytes).reduce((a, b) => a + b, 0);
    if (n !== 1 || list.includes(1)) out.push({ services: n, bytes, count, totalBytes: Object.values(bytes).reduce((a, b) => a + b, 0), scopedBytes, generateMs: t1 - t0, encodeMs: t2 - t1 });
  }
  return out;
}

interface SimProc {
  child: ChildProcess;
  lines: AsyncIterator<string>;
}

const children: ChildProcess[] = [];
function stopChildren(): void {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
}
process.on('SIGTERM', () => {
  stopChildren();
  process.exit(143);
});

async function nextLine(p: SimProc, prefix: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = deadline - Date.now();
    if (t <= 0) throw new Error(`ads-sim: no ${prefix} line within ${timeoutMs} ms`);
    const r = await Promise.race([p.lines.next(), new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), t))]);
    if (r === 'timeout') throw new Error(`ads-sim: no ${prefix} line within ${timeoutMs} ms`);
    if (r.done) throw new Error(`ads-sim exited before ${prefix}`);
    if (r.value.startsWith(prefix)) return r.value;
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : Number.NaN;
};

async function push(proxies: number, services: number, changes: number, clientCpu: string | undefined): Promise<unknown> {
  const cp = new ControlPlane({ clock: systemClock, log: () => undefined });
  let s = store(services);
  const reg = registry(s, services, proxies);
  cp.update({ store: s, registry: reg });
  const port = await cp.listen('127.0.0.1', 0);
  const sims: SimProc[] = [];
  try {
    const tConnect = now();
    for (let first = 0; first < proxies; first += PER_PROCESS) {
      const args = ['--import', 'tsx', SIM, `127.0.0.1:${port}`, String(first), String(Math.min(PER_PROCESS, proxies - first)), String(services)];
      const [cmd, argv] = clientCpu === undefined ? [process.execPath, args] : ['taskset', ['-c', clientCpu, process.execPath, ...args]];
      const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      sims.push({ child, lines: readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]() });
    }
    for (const p of sims) await nextLine(p, 'READY', 120_000);
    await cp.waitForSync();
    const connectMs = now() - tConnect;
    const results: { change: number; p50: number; p90: number; p99: number; max: number; allAckedMs: number; acked: number }[] = [];
    for (let j = 1; j <= changes; j++) {
      s = store(services, 5 + j);
      const t0 = now();
      const v = cp.update({ store: s });
      await cp.waitForSync(v);
      const allAckedMs = now() - t0;
      const delays: number[] = [];
      for (const p of sims) {
        p.child.stdin!.write(`report ${t0}\n`);
        const line = await nextLine(p, 'REPORT ', 30_000);
        for (const d of JSON.parse(line.slice(7)) as (number | null)[]) if (d !== null) delays.push(d);
      }
      results.push({ change: j, p50: pct(delays, 50), p90: pct(delays, 90), p99: pct(delays, 99), max: Math.max(...delays), allAckedMs, acked: delays.length });
      // Let the machine settle between changes.
      await new Promise((r) => setTimeout(r, 500));
    }
    const rss = process.memoryUsage().rss;
    return { proxies, services, connectMs, controlPlaneRssBytes: rss, changes: results };
  } finally {
    for (const p of sims) p.child.stdin?.write('quit\n');
    await new Promise((r) => setTimeout(r, 500));
    stopChildren();
    await cp.close();
  }
}

const [mode, ...rest] = process.argv.slice(2);
let result: unknown;
try {
  if (mode === 'sizes') result = sizes(rest[0]!.split(',').map(Number));
  else if (mode === 'push') result = await push(Number(rest[0]), Number(rest[1]), Number(rest[2]), rest[3] === '-' ? undefined : rest[3]);
  else throw new Error('usage: cp-bench.ts sizes LIST | push PROXIES SERVICES CHANGES CLIENT_CPU|-');
  process.stdout.write(`CP_RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (e) {
  stopChildren();
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
}
