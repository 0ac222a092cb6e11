// The systems under test of issue 7, started side by side against one origin: direct (no proxy),
// nginx, HAProxy, the Node peers, the Strait gateway, and the mesh pairs (Strait, nginx, HAProxy
// sidecar pairs over TLS with client certificates). Every proxy process runs on the SUT CPU. A
// system is measured through all of its processes (both sidecars of a pair), and compared with
// nginx of the same shape: single proxies with `nginx`, pairs with `nginx-mesh`.

import { startHaproxy } from './haproxy.js';
import { makeMeshCerts, startHaproxyPair, startNginxPair, startStraitPair, type MeshCerts } from './mesh.js';
import { HOST, assertAnswers200, freePort } from './net.js';
import { proxyConfig, startNginx } from './nginx.js';
import { startNodePeer } from './node-peers.js';
import type { Managed } from './processes.js';
import { startStrait } from './strait.js';
import { processMemoryBytes, type MemoryField } from './cpu.js';

export const ALL_SYSTEMS = ['direct', 'nginx', 'haproxy', 'http-proxy', 'fastify', 'strait', 'nginx-mesh', 'haproxy-mesh', 'strait-mesh'] as const;
export type SystemName = (typeof ALL_SYSTEMS)[number];

export const PAIRS: readonly SystemName[] = ['nginx-mesh', 'haproxy-mesh', 'strait-mesh'];

/** The nginx system a system's ratios are taken against (same number of proxy hops). */
export function nginxPeerOf(s: SystemName): SystemName {
  return PAIRS.includes(s) ? 'nginx-mesh' : 'nginx';
}

export interface SystemUnderTest {
  name: SystemName;
  url: string;
  /** Processes whose CPU and memory are measured: the origin for direct, both sidecars of a pair. */
  procs: Managed[];
  /** The process that holds the client connections (the client sidecar of a pair). */
  front: Managed;
  /** Strait pair: the client sidecar's admin port (upstream connection reuse). */
  adminPort?: number;
  /** Summed VmRSS of procs right after start and the validity probes, before any load. */
  idleRssBytes: number;
}

export interface StartContext {
  workDir: string;
  origin: Managed;
  originPort: number;
  bodyBytes: number;
  sutCpu: string | undefined;
  tracing?: number;
  istioMetrics?: boolean;
  /** Strait's sidecars run istio.stats (Istio's sidecars record metrics). */
  meshMetrics: boolean;
  /** Extra services in Strait's configs (bench/lib/strait.ts withServices). */
  configServices: number;
}

/** Summed resident memory of the processes: all of it (VmRSS) or the private part (RssAnon). */
export function rssOf(procs: readonly Managed[], field: MemoryField = 'VmRSS'): number {
  return procs.reduce((a, p) => a + processMemoryBytes(p.pid, field), 0);
}

export async function startSystems(names: readonly SystemName[], ctx: StartContext, log: (line: string) => void): Promise<SystemUnderTest[]> {
  const originUrl = `http://${HOST}:${ctx.originPort}`;
  let certs: MeshCerts | undefined;
  const meshCerts = () => (certs ??= makeMeshCerts(ctx.workDir));
  const out: SystemUnderTest[] = [];
  for (const name of names) {
    let url: string;
    let procs: Managed[];
    let adminPort: number | undefined;
    switch (name) {
      case 'direct':
        url = `${originUrl}/`;
        procs = [ctx.origin];
        break;
      case 'nginx': {
        const port = await freePort();
        procs = [await startNginx('nginx-proxy', ctx.workDir, proxyConfig(ctx.workDir, port, ctx.originPort), port, ctx.sutCpu)];
        url = `http://${HOST}:${port}/`;
        break;
      }
      case 'haproxy': {
        const port = await freePort();
        procs = [await startHaproxy(ctx.workDir, port, ctx.originPort, ctx.sutCpu)];
        url = `http://${HOST}:${port}/`;
        break;
      }
      case 'http-proxy':
      case 'fastify': {
        const p = await startNodePeer(name, originUrl, ctx.sutCpu);
        procs = [p.proc];
        url = `http://${HOST}:${p.port}/`;
        break;
      }
      case 'strait': {
        const s = await startStrait(ctx.workDir, ctx.originPort, ctx.sutCpu, ctx.tracing, ctx.istioMetrics, [], ctx.configServices);
        procs = [s.proc];
        url = `http://${HOST}:${s.port}/`;
        break;
      }
      case 'strait-mesh':
      case 'nginx-mesh':
      case 'haproxy-mesh': {
        const start = name === 'strait-mesh' ? (d: string, c: MeshCerts, o: number, cpu: string | undefined) => startStraitPair(d, c, o, cpu, ctx.meshMetrics, ctx.configServices) : name === 'nginx-mesh' ? startNginxPair : startHaproxyPair;
        const pair = await start(ctx.workDir, meshCerts(), ctx.originPort, ctx.sutCpu);
        procs = [pair.client, pair.server];
        url = `http://${HOST}:${pair.port}/`;
        adminPort = pair.clientAdminPort;
        break;
      }
    }
    await assertAnswers200(name, url, ctx.bodyBytes);
    const idleRssBytes = rssOf(procs);
    log(`${name}: pid ${procs.map((p) => p.pid).join('+')} on ${url} answers 200 with ${ctx.bodyBytes} bytes; idle RSS ${(idleRssBytes / 1048576).toFixed(1)} MB`);
    out.push({ name, url, procs, front: procs[0]!, ...(adminPort !== undefined ? { adminPort } : {}), idleRssBytes });
  }
  return out;
}
