// `strait proxy --bootstrap FILE`: runs one data plane proxy process. The bootstrap (JSON or
// YAML, Envoy's shape) names the node, the admin address, static resources and/or the ADS
// server. Status lines go to stderr; stdout carries the access log.
//
// With a bootstrap token in $STRAIT_CA_TOKEN (the local runner sets it, for this proxy only), the
// proxy runs its identity agent: a key pair made here, a certificate for its pod's identity from
// the mesh CA (on the control plane's xDS port unless --ca-address or $CA_ADDR says otherwise),
// installed as the SDS secrets `default` and `ROOTCA` before the proxy reports ready.

import fs from 'node:fs';
import { systemClock } from '../../common/clock.js';
import { systemRandom } from '../../common/random.js';
import { startAdminServer } from '../../dataplane/admin/admin-server.js';
import { appScrapeFromEnv, startMergedMetricsServer } from '../../dataplane/admin/merged-metrics.js';
import { CA_TOKEN_ENV } from '../../dataplane/identity/ca-token.js';
import type { IdentityAgent } from '../../dataplane/identity/identity-agent.js';
import cluster from 'node:cluster';
import { Proxy } from '../../dataplane/proxy.js';
import { tuneV8ForProxy } from '../../dataplane/runtime-flags.js';
import type { WorkerReady } from './proxy-workers.js';
import type { Http1Codec } from '../../dataplane/http1/codec.js';
import type { Bootstrap } from '../../xds/resources.js';

export interface ProxyCliOptions {
  bootstrap: string;
  wildcardAddress: string;
  localhostAddress: string;
  accessLog: string;
  exitOnStdinClose?: boolean;
  caAddress?: string;
  /** Istio's :15020 merged metrics endpoint (the local runner asks for it); absent: none. */
  mergedMetricsPort?: number;
  /** HTTP/1.1 codec: lean (default) or node. */
  http1?: Http1Codec;
  /** Worker processes (node's cluster module); 1 or absent: this process serves. */
  workers?: number;
}

export async function runProxy(opts: ProxyCliOptions): Promise<number> {
  tuneV8ForProxy();
  const log = (line: string) => process.stderr.write(`strait proxy: ${line}\n`);
  let bootstrap: Bootstrap;
  try {
    const text = fs.readFileSync(opts.bootstrap, 'utf8');
    // yaml is loaded only for a YAML bootstrap (modules a proxy does not need cost it memory).
    bootstrap = (opts.bootstrap.endsWith('.json') ? JSON.parse(text) : (await import('yaml')).default.parse(text)) as Bootstrap;
    if (!bootstrap?.node?.id) throw new Error('bootstrap needs node.id');
  } catch (e) {
    log(`cannot read bootstrap ${opts.bootstrap}: ${(e as Error).message}`);
    return 1;
  }
  // Read once and dropped from the environment: nothing this process starts may inherit it
  // (but its own workers, which need it to get their certificates).
  const token = process.env[CA_TOKEN_ENV];
  delete process.env[CA_TOKEN_ENV];
  if (cluster.isPrimary && (opts.workers ?? 1) > 1) {
    const { runProxyWorkers } = await import('./proxy-workers.js');
    return runProxyWorkers({
      workers: opts.workers!,
      bootstrap,
      localhostAddress: opts.localhostAddress,
      wildcardAddress: opts.wildcardAddress,
      mergedMetricsPort: opts.mergedMetricsPort,
      exitOnStdinClose: opts.exitOnStdinClose,
      workerEnv: token ? { [CA_TOKEN_ENV]: token } : {},
      log,
    });
  }
  // A cluster worker: the primary serves admin, merged metrics and stdin (proxy-workers.ts).
  const worker = cluster.isWorker;
  const proxy = new Proxy({
    bootstrap,
    addresses: { wildcard: opts.wildcardAddress, localhost: opts.localhostAddress },
    accessLogTarget: opts.accessLog,
    clock: systemClock,
    random: systemRandom,
    log,
    ...(opts.http1 ? { http1Codec: opts.http1 } : {}),
  });

  let stopping: Promise<void> | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((r) => (stopped = r));
  const stop = (why: string) => {
    if (stopping) return stopping;
    log(`stopping (${why})`);
    stopping = (async () => {
      identity?.stop();
      await Promise.race([proxy.stop(), new Promise((r) => setTimeout(r, 3000).unref())]);
      admin?.close();
      admin?.closeAllConnections();
      merged?.close();
      merged?.closeAllConnections();
      stopped();
    })();
    return stopping;
  };

  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  let merged: Awaited<ReturnType<typeof startMergedMetricsServer>> | undefined;
  let identity: IdentityAgent | undefined;
  const caAddress = opts.caAddress ?? process.env.CA_ADDR ?? bootstrap.dynamicResources?.adsServer;
  if (token && caAddress) {
    // The CA client (gRPC) and certificate code load only for a proxy that has an identity.
    const { startProxyIdentity } = await import('../../dataplane/identity/proxy-identity.js');
    identity = startProxyIdentity(proxy, { caAddress, token, clock: systemClock, random: systemRandom, log });
  } else if (bootstrap.dynamicResources?.adsServer) {
    log(`no workload identity: ${token ? 'no CA address (--ca-address)' : `no bootstrap token in $${CA_TOKEN_ENV}`}; mesh mTLS listeners and clusters wait for secrets default and ROOTCA`);
  }
  try {
    const a = bootstrap.admin?.address?.socketAddress;
    if (worker) {
      // Private, on loopback: the primary relays and sums what it serves.
      admin = await startAdminServer(proxy, '127.0.0.1', 0, () => void stop('quitquitquit'), { identity, exclusive: true });
    } else if (a) {
      const host = a.address === '127.0.0.1' ? opts.localhostAddress : a.address === '0.0.0.0' ? opts.wildcardAddress : a.address;
      admin = await startAdminServer(proxy, host, a.portValue ?? 0, () => void stop('quitquitquit'), { identity });
      const addr = admin.address();
      log(`admin http://${host}:${typeof addr === 'object' && addr ? addr.port : a.portValue}`);
    }
    if (opts.mergedMetricsPort !== undefined && !worker) {
      // Not fatal: the proxy's own admin /stats/prometheus still serves its metrics.
      const app = appScrapeFromEnv(process.env.ISTIO_PROMETHEUS_ANNOTATIONS);
      merged = await startMergedMetricsServer({ proxyText: () => proxy.stats.prometheusText(), ready: () => proxy.ready() }, opts.localhostAddress, opts.mergedMetricsPort, app).catch((e: Error) => {
        log(`merged metrics endpoint not started: ${e.message}`);
        return undefined;
      });
      if (merged) log(`merged metrics http://${opts.localhostAddress}:${opts.mergedMetricsPort}/stats/prometheus${app ? ` (with the application's :${app.port}${app.path})` : ''}`);
    }
    await proxy.start();
  } catch (e) {
    log(`failed to start: ${(e as Error).message}`);
    identity?.stop();
    await proxy.stop();
    admin?.close();
    return 1;
  }
  for (const l of proxy.listeners.list()) log(`listener ${l.name} on ${l.host}:${l.port}`);
  if (worker) {
    const addr = admin?.address();
    process.send?.({ type: 'strait-worker-ready', adminPort: typeof addr === 'object' && addr ? addr.port : 0 } satisfies WorkerReady);
  }

  process.once('SIGTERM', () => void stop('SIGTERM'));
  // The primary handles Ctrl-C and stdin for the whole proxy and stops workers with SIGTERM.
  if (!worker) process.once('SIGINT', () => void stop('SIGINT'));
  if (opts.exitOnStdinClose && !worker) {
    // The local runner holds our stdin open; when it goes away, so do we.
    process.stdin.on('data', () => undefined);
    process.stdin.once('end', () => void stop('stdin closed'));
    process.stdin.once('error', () => void stop('stdin error'));
  }
  await done;
  return 0;
}
