// `strait proxy --workers N`: one proxy as N worker processes (node's cluster module), so a
// gateway can use every core. The primary forks the workers and keeps them running; every
// worker runs the whole data plane from the same bootstrap, and their listening sockets are
// shared through the primary, which hands new connections to the workers in turn (cluster's
// round-robin; port 0 listeners get the same port in every worker). A worker that dies is
// replaced; the others, and the listening sockets the primary holds, carry on.
//
// Admin: the primary serves the bootstrap's admin address. /stats and /stats/prometheus (and
// the merged-metrics port) are the sum over workers, /ready is ready when every worker is,
// /quitquitquit stops the whole proxy, and every other page (config_dump, clusters, certs,
// listeners, tap, server_info) is relayed to the first worker's own admin, a private loopback
// port. Each worker keeps its own xDS stream (and, in a mesh, its own workload certificate).

import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import http from 'node:http';
import { sameMachine } from '../../common/same-machine.js';
import { mergeEnvoyText, mergePrometheusText } from '../../dataplane/admin/stats-merge.js';
import { appScrapeFromEnv, startMergedMetricsServer } from '../../dataplane/admin/merged-metrics.js';
import type { Bootstrap } from '../../xds/resources.js';
import { withProxyNodeFlags } from '../../dataplane/runtime-flags.js';

/** What a worker tells the primary once it serves: its private admin port. */
export interface WorkerReady {
  readonly type: 'strait-worker-ready';
  readonly adminPort: number;
}

interface Slot {
  readonly index: number;
  worker: Worker | null;
  adminPort: number;
  startedAt: number;
  restarts: number;
}

/** A worker that dies within this long of its start is restarted only after a pause. */
const CRASH_LOOP_MS = 2_000;
const RESTART_PAUSE_MS = 1_000;
const STOP_GRACE_MS = 5_000;

export interface WorkersOptions {
  readonly workers: number;
  readonly bootstrap: Bootstrap;
  readonly localhostAddress: string;
  readonly wildcardAddress: string;
  readonly mergedMetricsPort?: number;
  readonly exitOnStdinClose?: boolean;
  /** Environment only the workers get (the CA token, dropped from the primary's own). */
  readonly workerEnv: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

export async function runProxyWorkers(o: WorkersOptions): Promise<number> {
  const { log } = o;
  const slots: Slot[] = [];
  let stopping = false;
  let firstReady!: () => void;
  const allStarted = new Promise<void>((r) => (firstReady = r));

  // Workers run with the primary's node flags plus the proxy's heap flags (runtime-flags.ts).
  cluster.setupPrimary({ execArgv: withProxyNodeFlags(process.execArgv) });
  const fork = (slot: Slot) => {
    slot.startedAt = performance.now();
    slot.adminPort = 0;
    const w = cluster.fork({ ...o.workerEnv, STRAIT_WORKER_INDEX: String(slot.index) });
    slot.worker = w;
    w.on('message', (m: WorkerReady) => {
      if (m?.type !== 'strait-worker-ready') return;
      slot.adminPort = m.adminPort;
      if (slots.every((s) => s.adminPort > 0)) firstReady();
    });
  };
  cluster.on('exit', (w, code, signal) => {
    const slot = slots.find((s) => s.worker === w);
    if (!slot) return;
    slot.worker = null;
    slot.adminPort = 0;
    if (stopping) return;
    slot.restarts++;
    log(`worker ${slot.index} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}); starting a new one`);
    const quick = performance.now() - slot.startedAt < CRASH_LOOP_MS;
    if (quick) setTimeout(() => !stopping && fork(slot), RESTART_PAUSE_MS).unref();
    else fork(slot);
  });
  for (let i = 1; i <= o.workers; i++) {
    const slot: Slot = { index: i, worker: null, adminPort: 0, startedAt: 0, restarts: 0 };
    slots.push(slot);
    fork(slot);
  }
  await allStarted;
  log(`${o.workers} workers serving (pids ${slots.map((s) => s.worker?.process.pid).join(', ')})`);

  const live = () => slots.filter((s) => s.worker !== null && s.adminPort > 0);
  const fetchAll = (path: string) => Promise.all(live().map((s) => get(s.adminPort, path)));
  const prometheus = async () => mergePrometheusText((await fetchAll('/stats/prometheus')).filter((r) => r.status === 200).map((r) => r.body));
  const ready = async () => {
    const all = await fetchAll('/ready');
    return all.length === o.workers && all.every((r) => r.status === 200);
  };

  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping ${o.workers} workers (${why})`);
    for (const s of slots) s.worker?.process.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const s of slots) s.worker?.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    force.unref();
    const check = () => {
      if (slots.every((s) => s.worker === null)) {
        clearTimeout(force);
        admin?.close();
        admin?.closeAllConnections();
        merged?.close();
        merged?.closeAllConnections();
        done();
      } else setTimeout(check, 50).unref();
    };
    check();
  };

  let admin: http.Server | undefined;
  let merged: http.Server | undefined;
  const a = o.bootstrap.admin?.address?.socketAddress;
  if (a) {
    const host = a.address === '127.0.0.1' ? o.localhostAddress : a.address === '0.0.0.0' ? o.wildcardAddress : a.address;
    admin = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
        res.end(body);
      };
      const format = new URL(req.url ?? '/', 'http://admin').searchParams.get('format');
      if (path === '/stats/prometheus' || (path === '/stats' && format === 'prometheus')) {
        void prometheus().then((t) => send(200, t, 'text/plain; version=0.0.4; charset=utf-8'));
      } else if (path === '/stats') {
        void fetchAll('/stats').then((all) => send(200, mergeEnvoyText(all.filter((r) => r.status === 200).map((r) => r.body))));
      } else if (path === '/ready' || path === '/healthz/ready') {
        void ready().then((ok) => (ok ? send(200, 'LIVE\n') : send(503, 'PRE_INITIALIZING\n')));
      } else if (path === '/quitquitquit') {
        if (req.method !== 'POST') return send(405, 'use POST\n');
        if (!sameMachine(req)) return send(403, 'refused: not a request made on this machine (Host or Origin)\n');
        send(200, 'OK\n');
        stop('quitquitquit');
      } else {
        const first = live()[0];
        if (!first) return send(503, 'no worker is serving\n');
        relay(req, res, first.adminPort);
      }
    });
    await new Promise<void>((resolve, reject) => {
      admin!.once('error', reject);
      admin!.listen({ host, port: a.portValue ?? 0 }, () => resolve());
    });
    const addr = admin.address();
    log(`admin http://${host}:${typeof addr === 'object' && addr ? addr.port : a.portValue} (${o.workers} workers; stats summed over workers)`);
  }
  if (o.mergedMetricsPort !== undefined) {
    const app = appScrapeFromEnv(process.env.ISTIO_PROMETHEUS_ANNOTATIONS);
    merged = await startMergedMetricsServer({ proxyText: prometheus, ready }, o.localhostAddress, o.mergedMetricsPort, app).catch((e: Error) => {
      log(`merged metrics endpoint not started: ${e.message}`);
      return undefined;
    });
  }
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (o.exitOnStdinClose) {
    process.stdin.on('data', () => undefined);
    process.stdin.once('end', () => stop('stdin closed'));
    process.stdin.once('error', () => stop('stdin error'));
  }
  await finished;
  return 0;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** Passes one admin request to a worker's private admin and streams the answer back (tap too). */
function relay(req: http.IncomingMessage, res: http.ServerResponse, port: number): void {
  const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('the worker did not answer\n');
  });
  res.on('close', () => up.destroy());
  req.pipe(up);
}
