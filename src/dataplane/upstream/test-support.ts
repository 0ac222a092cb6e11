// Test helpers for the upstream folder (excluded from the build): clusters on a manual clock
// with a seeded random source, real servers on 127.0.0.1:0, requests through a cluster's pool,
// certificates with arbitrary SANs made by the openssl CLI, and waiting for I/O without timers.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManualClockForTest } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { StatsRegistry } from '../../telemetry/stats/stats.js';
import type { Cluster as ClusterResource, Secret } from '../../xds/resources.js';
import type { AddressMap } from '../config/compile.js';
import { Cluster } from './cluster.js';
import type { Resolver } from './dns/resolver.js';
import type { Host } from './host.js';
import type { SecureContextCache } from './tls/secure-context-cache.js';

export const LOCAL: AddressMap = { wildcard: '0.0.0.0', localhost: '127.0.0.1' };

export interface TestCluster {
  readonly cluster: Cluster;
  readonly clock: ManualClockForTest;
  readonly stats: StatsRegistry;
  /** Value of `envoy_cluster_<family>` for this cluster. */
  stat(family: string): number | undefined;
}

export function staticCluster(name: string, ports: readonly number[], extra: Partial<ClusterResource> = {}): ClusterResource {
  return {
    name,
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: ports.map((p) => ({ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } } })) }] },
    ...extra,
  };
}

export function makeCluster(
  resource: ClusterResource,
  opts: { clock?: ManualClockForTest; resolver?: Resolver; secrets?: ReadonlyMap<string, Secret>; tlsCache?: SecureContextCache; addresses?: AddressMap; seed?: number } = {},
): TestCluster {
  const clock = opts.clock ?? new ManualClockForTest();
  const stats = new StatsRegistry();
  const cluster = new Cluster(resource, stats, seededRandom(opts.seed ?? 1), opts.addresses ?? LOCAL, {
    clock,
    resolver: opts.resolver,
    secrets: opts.secrets,
    tlsCache: opts.tlsCache,
  });
  return { cluster, clock, stats, stat: (family) => stats.valueOf(`envoy_cluster_${family}`, { cluster_name: resource.name }) };
}

export async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export async function closeServer(server: http.Server | net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly reused: boolean;
}

/** One request through the cluster's pool for `host`; rejects with the pool's or socket's error. */
export function send(cluster: Cluster, host: Host, p = '/', headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...cluster.requestOptions(host), path: p, headers: { host: 'upstream.test', ...headers }, setHost: false });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Settles a promise into its value or its error, for tables of outcomes. */
export function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.then(
    (v) => v,
    (e: unknown) => e as Error,
  );
}

/** Lets I/O run until `cond` holds (no timers: a test that waits forever fails by the runner's timeout). */
export async function until(cond: () => boolean, what = 'the condition'): Promise<void> {
  // A bounded number of event-loop turns (seconds of real time), so a condition that never
  // holds fails the test instead of spinning the event loop forever.
  for (let turns = 0; !cond(); turns++) {
    if (turns > 500_000) throw new Error(`gave up waiting for ${what} after 500000 event-loop turns`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A server whose responses wait until the test releases them (no sleeping, no timing). */
export function heldServer(): { server: http.Server; seen: http.IncomingMessage[]; releaseAll(): void; release(n?: number): void } {
  const held: http.ServerResponse[] = [];
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    held.push(res);
  });
  return {
    server,
    seen,
    releaseAll: () => {
      for (const r of held.splice(0)) r.end('ok');
    },
    release: (n = 1) => {
      for (const r of held.splice(0, n)) r.end('ok');
    },
  };
}

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

/** A self-signed ECDSA P-256 certificate with the given SANs ("DNS:a", "URI:spiffe://..."). */
export function makeCertWithSans(commonName: string, sans: readonly string[]): Pem {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-upstream-cert-'));
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=${sans.join(',')}`, '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  const pem = { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  fs.rmSync(dir, { recursive: true, force: true });
  return pem;
}
