// `strait proxy --workers 2` as a user runs it (a real process tree, node's cluster module):
// connections are spread over both workers, the admin front sums their stats, a worker that
// is killed is replaced while the other keeps serving, and SIGTERM to the primary stops all.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '../helpers/http.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let origin: http.Server;
/** Upstream connections the origin saw, by the proxy side's port. */
const upstreamConnections = new Set<number>();
let primary: ChildProcess;
let output = '';
let listenPort = 0;
let adminBase = '';
let dir = '';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A new connection each time, so the primary hands each to the next worker in turn.
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function workerPids(): number[] {
  const m = [...output.matchAll(/workers serving \(pids ([\d, ]+)\)/g)].at(-1);
  return m ? m[1]!.split(', ').map(Number) : [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  origin = http.createServer((req, res) => {
    upstreamConnections.add(req.socket.remotePort ?? 0);
    res.end('ok');
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-workers-'));
  const bootstrap = {
    node: { id: 'router~127.0.0.1~workers.test~test.svc.cluster.local' },
    admin: { address: { socketAddress: { address: '127.0.0.1', portValue: 0 } } },
    staticResources: {
      listeners: [{
        name: 'edge',
        address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
        filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          statPrefix: 'edge',
          routeConfig: { name: 'r', virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'origin', timeout: '0s' } }] }] },
          httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
        } }] }],
      }],
      clusters: [{ name: 'origin', type: 'STATIC', connectTimeout: '1s', loadAssignment: { clusterName: 'origin', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: originPort } } } }] }] } }],
    },
  };
  const file = path.join(dir, 'bootstrap.json');
  fs.writeFileSync(file, JSON.stringify(bootstrap));
  primary = spawn(process.execPath, ['--import', 'tsx', MAIN, 'proxy', '--bootstrap', file, '--access-log', 'off', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  primary.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  primary.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await eventually(() => /admin http:\/\/[\d.]+:\d+/.test(output), `the primary's admin line in:\n${output}`, 60_000);
  listenPort = Number(/listener edge on 127\.0\.0\.1:(\d+)/.exec(output)![1]);
  adminBase = /admin (http:\/\/[\d.]+:\d+)/.exec(output)![1]!;
});

after(async () => {
  if (primary.exitCode === null) primary.kill('SIGKILL');
  for (const pid of workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await new Promise<void>((r) => origin.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('connections are spread over both workers, and the admin sums their stats', async () => {
  assert.equal(workerPids().length, 2, output);
  for (let i = 0; i < 10; i++) assert.equal((await get(`http://127.0.0.1:${listenPort}/`)).status, 200);
  // Each worker has its own upstream pool: two workers served, so two upstream connections.
  assert.equal(upstreamConnections.size, 2);
  const stats = (await get(`${adminBase}/stats`)).body;
  assert.match(stats, /^http\.edge\.downstream_rq_total: 10$/m);
  assert.match(stats, /^cluster\.origin\.upstream_cx_total: 2$/m);
  assert.match((await get(`${adminBase}/stats/prometheus`)).body, /^envoy_http_downstream_rq_total\{http_conn_manager_prefix="edge"\} 10$/m);
  assert.equal((await get(`${adminBase}/ready`)).status, 200);
  // Other pages come from a worker's own admin.
  assert.match((await get(`${adminBase}/listeners`)).body, new RegExp(`127\\.0\\.0\\.1:${listenPort}`));
});

test('a killed worker is replaced; the other keeps serving meanwhile', async () => {
  const [victim, survivor] = workerPids();
  process.kill(victim!, 'SIGKILL');
  await eventually(() => output.includes(`(pid ${victim}) exited`), 'the primary to notice the exit');
  // Meanwhile every request is answered (by the survivor, then by both).
  for (let i = 0; i < 6; i++) assert.equal((await get(`http://127.0.0.1:${listenPort}/`)).status, 200);
  assert.ok(alive(survivor!), 'the other worker is still running');
  await eventually(() => (output.match(/listener edge on/g) ?? []).length >= 3, 'the replacement worker to serve', 60_000);
  for (let i = 0; i < 6; i++) assert.equal((await get(`http://127.0.0.1:${listenPort}/`)).status, 200);
  await eventually(async () => (await get(`${adminBase}/ready`)).status === 200, 'both workers ready');
});

test('SIGTERM to the primary stops every worker', async () => {
  // The primary's live worker children (a reaped or exiting worker is not one).
  const children = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        // tsx may have started an esbuild service as a child too: only node workers count.
        const cmdline = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
        return Number(f[1]) === primary.pid && f[0] !== 'Z' && cmdline.includes(MAIN);
      } catch {
        return false;
      }
    })
    .map(Number);
  assert.equal(children.length, 2, `children of ${primary.pid}: ${children.join(', ')}\n${output}`);
  primary.kill('SIGTERM');
  await eventually(() => primary.exitCode !== null, `the primary to exit:\n${output}`, 30_000);
  await eventually(() => children.every((pid) => !alive(pid)), 'the workers to exit', 30_000);
});
