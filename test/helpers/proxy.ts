// A real data plane proxy for integration tests, from static resources (no control plane):
// loopback listeners on port 0, STATIC clusters to test upstreams, the system clock and a seeded
// random. Shared so each test file states only the routes and clusters it is about.

import { systemClock } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import { Proxy } from '../../src/dataplane/proxy.js';
import { HCM_FILTER_NAME, HCM_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE } from '../../src/xds/resources.js';
import type { Cluster, FilterChain, HttpConnectionManager, Listener, Route, Secret, TypedConfig } from '../../src/xds/resources.js';

/** A STATIC cluster with one endpoint per port on 127.0.0.1 (or `host`). */
export function staticCluster(name: string, ports: number | readonly number[], extra: Partial<Cluster> = {}, host = '127.0.0.1'): Cluster {
  const list = typeof ports === 'number' ? [ports] : ports;
  return {
    name,
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: list.map((p) => ({ endpoint: { address: { socketAddress: { address: host, portValue: p } } } })) }] },
    ...extra,
  };
}

/** A filter chain with an HttpConnectionManager whose one virtual host (`*`) holds `routes`. */
export function httpChain(statPrefix: string, routes: Route[], hcm: Partial<HttpConnectionManager> = {}, chain: Partial<FilterChain> = {}): FilterChain {
  return {
    ...chain,
    filters: [
      {
        name: HCM_FILTER_NAME,
        typedConfig: {
          '@type': HCM_TYPE,
          statPrefix,
          routeConfig: { name: statPrefix, virtualHosts: [{ name: 'all', domains: ['*'], routes }] },
          httpFilters: [{ name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } }],
          ...hcm,
        } as unknown as TypedConfig,
      },
    ],
  };
}

/** A listener on 127.0.0.1:0 with the given chains. */
export function loopbackListener(name: string, filterChains: FilterChain[]): Listener {
  return { name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains };
}

export interface RunningProxy {
  readonly proxy: Proxy;
  /** The port the first (or the named) listener was bound on. */
  port(listener?: string): number;
  /** `http://127.0.0.1:<port>` of the first listener. */
  readonly base: string;
  stop(): Promise<void>;
}

export async function startStaticProxy(listeners: Listener[], clusters: Cluster[], seed = 1, secrets: Secret[] = []): Promise<RunningProxy> {
  const proxy = new Proxy({
    bootstrap: { node: { id: 'test-proxy' }, staticResources: { listeners, clusters, secrets } },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(seed),
    log: () => undefined,
  });
  await proxy.start();
  const port = (name?: string) => {
    const all = proxy.listeners.list();
    const l = name === undefined ? all[0] : all.find((x) => x.name === name);
    if (!l) throw new Error(`no listener ${name ?? ''}`);
    return l.port;
  };
  return { proxy, port, base: `http://127.0.0.1:${port()}`, stop: () => proxy.stop() };
}
