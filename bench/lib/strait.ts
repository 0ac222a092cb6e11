// The Strait gateway under test: a static bootstrap (one listener, one route `/` to a STATIC
// cluster holding the origin), started as `node dist/cli/main.js proxy --bootstrap <file>
// --access-log off`. The listener binds port 0; its port is read from the proxy's ready line.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bootstrap, HttpConnectionManager, HttpFilter } from '../../src/xds/resources.js';
import { workloadLabels } from '../../src/telemetry/metrics/labels.js';
import { statsFilter } from '../../src/telemetry/metrics/stats-config.js';
import { PROXY_NODE_FLAGS } from '../../src/dataplane/runtime-flags.js';
import { HOST, waitUntilAnswering } from './net.js';
import { spawnManaged, type Managed } from './processes.js';

/** The built CLI (`npm run bench` builds first). */
export const STRAIT_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/**
 * With `tracingPercent`, the listener traces that share of requests as Istio configures it
 * (Zipkin tracer, B3 propagation, Istio's tags) and sends the spans to the origin, which
 * answers 200 to anything: the cost of sampling, propagation, spans and export.
 */
export function straitBootstrap(originPort: number, tracingPercent?: number, istioMetrics = false): Bootstrap {
  const hcm: HttpConnectionManager = {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    statPrefix: 'bench',
    useRemoteAddress: true,
    routeConfig: {
      name: 'bench',
      virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'origin', timeout: '0s' } }] }],
    },
    httpFilters: [
      // With istioMetrics: Istio's standard metrics as a gateway records them (every request
      // labelled and counted in istio_requests_total and the three histograms).
      ...(istioMetrics ? [statsFilter({ reporter: 'source', local: workloadLabels({ name: 'bench-gw', namespace: 'default', labels: { app: 'bench-gw' } }, undefined) }) as unknown as HttpFilter] : []),
      { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
    ],
  };
  if (tracingPercent !== undefined) {
    hcm.tracing = {
      randomSampling: { value: tracingPercent },
      customTags: [{ tag: 'istio.canonical_service', literal: { value: 'bench-gw' } }, { tag: 'istio.namespace', literal: { value: 'default' } }],
      provider: {
        name: 'envoy.tracers.zipkin',
        typedConfig: { '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collectorCluster: 'origin', collectorEndpoint: '/api/v2/spans', traceId128bit: true, sharedSpanContext: false, collectorEndpointVersion: 'HTTP_JSON' },
      },
    };
  }
  return {
    node: { id: 'router~127.0.0.1~bench-gw.default~default.svc.cluster.local' },
    admin: { address: { socketAddress: { address: HOST, portValue: 0 } } },
    staticResources: {
      listeners: [
        {
          name: 'bench',
          address: { socketAddress: { address: HOST, portValue: 0 } },
          filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: { ...hcm } }] }],
        },
      ],
      clusters: [
        {
          name: 'origin',
          type: 'STATIC',
          connectTimeout: '1s',
          loadAssignment: {
            clusterName: 'origin',
            endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: HOST, portValue: originPort } } } }] }],
          },
        },
      ],
    },
  };
}

/**
 * Adds `n` services to a bootstrap, as a mesh of that size gives every proxy: a STATIC cluster
 * `outbound|80||svc-<i>.bench.svc.cluster.local` (at the origin) and a virtual host for its
 * name in the first HTTP connection manager's route table. Traffic keeps using the `*` host;
 * the extra services are there for memory and route-table size (the RSS target's 100-service
 * config).
 */
export function withServices(b: Bootstrap, n: number, originPort: number): Bootstrap {
  if (n === 0) return b;
  const hcm = b.staticResources!.listeners![0]!.filterChains[0]!.filters[0]!.typedConfig as unknown as HttpConnectionManager;
  const vhosts = hcm.routeConfig!.virtualHosts!;
  const clusters = b.staticResources!.clusters!;
  for (let i = 0; i < n; i++) {
    const host = `svc-${i}.bench.svc.cluster.local`;
    const name = `outbound|80||${host}`;
    vhosts.unshift({ name: `${host}:80`, domains: [host, `${host}:80`, `svc-${i}`, `svc-${i}:80`], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: name, timeout: '0s', retryPolicy: { retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', numRetries: 2 } } }] });
    clusters.push({ name, type: 'STATIC', connectTimeout: '10s', loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: HOST, portValue: originPort } } } }] }] } });
  }
  return b;
}

/**
 * Node flags of every Strait proxy the benchmark starts: the proxy's own (runtime-flags.ts) plus
 * any in STRAIT_BENCH_NODE_FLAGS (space-separated), for profiling a system under test as it is
 * measured, e.g. `STRAIT_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` or `--trace-gc`.
 */
export function straitNodeFlags(): string[] {
  const extra = (process.env.STRAIT_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  return [...PROXY_NODE_FLAGS, ...extra];
}

export interface StraitProcess {
  proc: Managed;
  port: number;
}

/** Writes the bootstrap, starts the proxy, waits for its listener line and a first answer. */
export async function startStrait(dir: string, originPort: number, cpu: string | undefined, tracingPercent?: number, istioMetrics = false, extraArgs: readonly string[] = [], services = 0): Promise<StraitProcess> {
  if (!fs.existsSync(STRAIT_MAIN)) throw new Error(`${STRAIT_MAIN} is missing: run \`npm run build\` (npm run bench does)`);
  const bootstrapPath = path.join(dir, 'strait-bootstrap.json');
  fs.writeFileSync(bootstrapPath, JSON.stringify(withServices(straitBootstrap(originPort, tracingPercent, istioMetrics), services, originPort), null, 2));
  const proc = spawnManaged({
    name: 'strait',
    command: process.execPath,
    // Started as the local runner starts proxies: with their heap flags (src/dataplane/runtime-flags.ts).
    args: [...straitNodeFlags(), STRAIT_MAIN, 'proxy', '--bootstrap', bootstrapPath, '--access-log', 'off', ...extraArgs],
    cpu,
  });
  const m = await proc.waitForLine(/strait proxy: listener bench on ([\d.]+):(\d+)/, 15_000);
  // With --workers, every worker must be serving before the first probe.
  const workers = Number(extraArgs[extraArgs.indexOf('--workers') + 1] ?? 1);
  if (extraArgs.includes('--workers') && workers > 1) await proc.waitForLine(/strait proxy: \d+ workers serving/, 30_000);
  const port = Number(m[2]);
  await waitUntilAnswering(`http://${HOST}:${port}/`, proc);
  return { proc, port };
}
