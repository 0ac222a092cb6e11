// Helpers for the Istio task end-to-end tests (test/e2e/istio-tasks-*.test.ts): a watched
// manifest directory used the `kubectl apply` way, waiting until a change is applied and every
// proxy has acknowledged it, requests sent through a pod's sidecar (as `kubectl exec POD -- curl`
// would), access-log lines, timings and raw TCP exchanges.

import fs from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { MeshStatus, PodStatus } from '../../src/local/api-server.js';
import { eventually, request } from './http.js';
import type { TestResponse } from './http.js';
import { ROOT } from './strait-up.js';
import type { RunningMesh } from './strait-up.js';

/** The sidecar's outbound listener, where workloads send their HTTP_PROXY traffic. */
export const SIDECAR_OUTBOUND_PORT = 15001;

/**
 * A directory `strait up` watches, written like `kubectl apply`: every resource of an applied
 * file lands in its own file named by kind, namespace and name, so applying a file whose
 * VirtualService `reviews` replaces the one an earlier file defined (Istio's task files do
 * that), and deleting removes exactly the resources of a file. The documents are copied
 * verbatim, so the manifests are Istio's, unchanged.
 */
export class ManifestDir {
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `strait-${prefix}-`));
  }

  /** Applies files (paths relative to the repository root) in order. Returns the resource keys written. */
  apply(...files: string[]): string[] {
    return files.flatMap((f) => this.applyText(fs.readFileSync(path.join(ROOT, f), 'utf8'), f));
  }

  /** Applies YAML text (several documents allowed); `label` says where it came from. */
  applyText(text: string, label = 'inline'): string[] {
    const keys: string[] = [];
    for (const { key, doc } of split(text)) {
      // Written in place, as `cp` does (the way docs/examples.md applies task files); the
      // debounced reload of `strait up` reads it once the burst of writes is over.
      fs.writeFileSync(path.join(this.dir, `${key}.yaml`), `# applied from ${label}\n${doc}\n`);
      keys.push(key);
    }
    return keys;
  }

  /** `kubectl delete -f`: removes the resources the files define. */
  delete(...files: string[]): void {
    for (const f of files) this.deleteText(fs.readFileSync(path.join(ROOT, f), 'utf8'));
  }

  deleteText(text: string): void {
    for (const { key } of split(text)) fs.rmSync(path.join(this.dir, `${key}.yaml`), { force: true });
  }

  /** The resource keys present (`virtualservice.default.reviews`, ...). */
  keys(): string[] {
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function split(text: string): { key: string; doc: string }[] {
  const out: { key: string; doc: string }[] = [];
  for (const doc of text.split(/^---[ \t]*$/m)) {
    const v = parse(doc) as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
    if (!v || typeof v !== 'object') continue; // comments only
    if (!v.kind || !v.metadata?.name) throw new Error(`a document without kind or metadata.name:\n${doc}`);
    const key = `${v.kind}.${v.metadata.namespace ?? 'default'}.${v.metadata.name}`.toLowerCase();
    out.push({ key, doc: doc.replace(/^\n+/, '') });
  }
  return out;
}

/** True when every connected proxy of a live pod has acknowledged the current snapshot. */
export function allSynced(s: MeshStatus): boolean {
  return s.pods
    .filter((p) => p.phase !== 'Terminating' && p.proxy?.connected)
    .every((p) => p.proxy!.syncedSnapshot >= s.controlPlane.snapshot);
}

/** Proxies whose latest config of some type was rejected (NACK): `pod rejected RDS: reason`. */
export function rejections(s: MeshStatus): string[] {
  const out: string[] = [];
  for (const p of s.pods) {
    for (const [type, v] of Object.entries(p.proxy?.versions ?? {})) {
      if (v.nack !== null && v.sent !== v.acked) out.push(`${p.name} rejected ${type}: ${v.nack}`);
    }
  }
  return out;
}

/**
 * Makes a change to the watched files and waits until `strait up` has reloaded them (a new
 * configuration generation) and every proxy has acknowledged the resulting config. A reload
 * that fails fails the wait at once, with the mesh's error lines.
 */
export async function applyAndSync(mesh: RunningMesh, change: () => void, what: string, timeoutMs = 20_000): Promise<MeshStatus> {
  const before = (await mesh.status()).controlPlane.configGeneration;
  const since = Date.now();
  const outputBefore = mesh.output.length;
  change();
  // `eventually` retries on exceptions; failures that waiting cannot mend end the wait here.
  let fatal: string | undefined;
  let last: MeshStatus | undefined;
  try {
    const s = await eventually(async () => {
      const s = (last = await mesh.status());
      const r = s.controlPlane.lastReload;
      if (r && !r.ok && r.at >= since && s.controlPlane.configGeneration === before) {
        const errors = mesh.output.slice(outputBefore).filter((l) => /error/.test(l));
        fatal = `the reload failed: ${r.message}\n${errors.join('\n')}`;
        return s;
      }
      if (s.controlPlane.configGeneration <= before) return undefined;
      // A proxy that rejects the new config will never ack it: say so at once, with its reason.
      const nack = rejections(s);
      if (nack.length) {
        fatal = nack.join('; ');
        return s;
      }
      return allSynced(s) ? s : undefined;
    }, `${what} to be applied and acknowledged by every proxy`, timeoutMs);
    if (fatal === undefined) return s;
  } catch (e) {
    // Say which proxy lags: that is the product's problem to look at.
    const lag = last?.pods.map((p) => `${p.name} ${p.phase} connected=${p.proxy?.connected} synced=${p.proxy?.syncedSnapshot}`).join('; ');
    throw new Error(`${(e as Error).message} (generation ${before} -> ${last?.controlPlane.configGeneration}, snapshot ${last?.controlPlane.snapshot}: ${lag})`);
  }
  throw new Error(`${what}: ${fatal}`);
}

/** Waits until, for each prefix, a ready pod whose name starts with it exists; returns them in order. */
export async function readyPods(mesh: RunningMesh, prefixes: string[], timeoutMs = 30_000): Promise<PodStatus[]> {
  return eventually(async () => {
    const s = await mesh.status();
    const pods = prefixes.map((pre) => s.pods.find((p) => p.name.startsWith(pre) && p.ready && p.phase === 'Running'));
    return pods.every(Boolean) && allSynced(s) ? (pods as PodStatus[]) : undefined;
  }, `pods ${prefixes.join(', ')} to be ready`, timeoutMs);
}

/** The first pod whose name starts with `prefix` (ready or not: sleep has no port, so it never is). */
export async function podNamed(mesh: RunningMesh, prefix: string): Promise<PodStatus> {
  return eventually(async () => (await mesh.status()).pods.find((p) => p.name.startsWith(prefix) && p.phase !== 'Terminating' && p.proxy?.connected), `pod ${prefix}`);
}

/**
 * An HTTP request sent the way a workload's HTTP_PROXY client sends it: to the pod's sidecar
 * outbound listener, with the absolute URL as the request target (what `strait exec POD -- curl`
 * does).
 */
export function viaSidecar(pod: PodStatus, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {}): Promise<TestResponse> {
  const u = new URL(url);
  return request(`http://${pod.ip}:${SIDECAR_OUTBOUND_PORT}`, { ...opts, path: u.href, headers: { host: u.host, ...opts.headers } });
}

/** Runs `fn` and measures how long it took, in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Access-log lines of a pod's proxy matching every pattern, waiting for at least one. */
export async function accessLog(mesh: RunningMesh, pod: PodStatus, patterns: RegExp[], timeoutMs = 15_000): Promise<string[]> {
  return eventually(async () => {
    const lines = (await mesh.logs(pod.name, 'istio-proxy')).filter((l) => patterns.every((re) => re.test(l)));
    return lines.length > 0 ? lines : undefined;
  }, `an access-log line of ${pod.name} matching ${patterns.join(' and ')}`, timeoutMs);
}

/**
 * One TCP connection that sends `lines`. By default it behaves like the task's
 * `(date; sleep 1) | nc HOST PORT`: it keeps its side open until as many lines came back as it
 * sent (or the server closed), then closes. With `halfClose` it shuts its sending side right
 * after the lines (`echo ... | nc -N`) and reads until the server closes. Resolves with all
 * that was read.
 */
export function tcpExchange(host: string, port: number, lines: string[], opts: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    const got: Buffer[] = [];
    const text = () => Buffer.concat(got).toString();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms; read ${JSON.stringify(text())}`));
    }, timeoutMs);
    s.on('data', (c: Buffer) => {
      got.push(c);
      if (!opts.halfClose && text().split('\n').length > lines.length) s.end();
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text());
    });
    s.once('connect', () => {
      for (const l of lines) s.write(`${l}\n`);
      if (opts.halfClose) s.end();
    });
  });
}

/** Counts how often each value occurs. */
export function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
