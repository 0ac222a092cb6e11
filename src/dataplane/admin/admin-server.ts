// The proxy's admin endpoint, after Envoy's: /ready, /server_info, /config_dump, /stats,
// /stats/prometheus, /clusters, /listeners, /certs, and POST /quitquitquit; plus /tap (a live
// NDJSON stream of completed requests, tap-stream.ts), which Envoy does not have. It binds its own
// address (pod-local in a mesh) and never shares a socket with traffic listeners.

import { sameMachine } from '../../common/same-machine.js';
import http from 'node:http';
import type { IdentityAgent } from '../identity/identity-agent.js';
import type { Proxy } from '../proxy.js';
import { certsView } from './certs.js';
import { serveTap } from './tap-stream.js';
import { shortType } from '../proxy.js';
import { TYPE_URL } from '../../xds/resources.js';

const DUMP_TYPES = {
  bootstrap: 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
  clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
  listeners: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
  routes: 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
  endpoints: 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
};

export function configDump(proxy: Proxy): unknown {
  const r = proxy.current();
  const v = (t: string) => proxy.typeState.get(t as never)?.version ?? '';
  const err = (t: string) => proxy.typeState.get(t as never)?.rejected ?? undefined;
  const bound = new Map(proxy.listeners.list().map((l) => [l.name, l]));
  return {
    configs: [
      { '@type': DUMP_TYPES.bootstrap, bootstrap: proxy.opts.bootstrap },
      {
        '@type': DUMP_TYPES.listeners,
        versionInfo: v(TYPE_URL.listener),
        errorState: err(TYPE_URL.listener),
        dynamicListeners: [...r.listeners.values()].map((l) => ({
          name: l.name,
          activeState: { versionInfo: v(TYPE_URL.listener), listener: l },
          boundAddress: bound.has(l.name) ? `${bound.get(l.name)!.host}:${bound.get(l.name)!.port}` : undefined,
        })),
      },
      {
        '@type': DUMP_TYPES.routes,
        errorState: err(TYPE_URL.route),
        dynamicRouteConfigs: [...r.routes.values()].map((rc) => ({ versionInfo: v(TYPE_URL.route), routeConfig: rc })),
      },
      {
        '@type': DUMP_TYPES.clusters,
        versionInfo: v(TYPE_URL.cluster),
        errorState: err(TYPE_URL.cluster),
        dynamicActiveClusters: [...r.clusters.values()].map((c) => ({ versionInfo: v(TYPE_URL.cluster), cluster: c })),
      },
      {
        '@type': DUMP_TYPES.endpoints,
        errorState: err(TYPE_URL.endpoint),
        dynamicEndpointConfigs: [...r.endpoints.values()].map((e) => ({ versionInfo: v(TYPE_URL.endpoint), endpointConfig: e })),
      },
    ],
  };
}

/** What the admin endpoint shows besides the proxy itself. */
export interface AdminExtras {
  /** The identity agent, when the proxy has one (its state shows in /server_info). */
  readonly identity?: IdentityAgent;
  /** Bind a socket of its own even in a cluster worker (a worker's private admin port). */
  readonly exclusive?: boolean;
}

export function serverInfo(proxy: Proxy, extras: AdminExtras = {}): unknown {
  const types: Record<string, unknown> = {};
  for (const [t, s] of proxy.typeState) types[shortType(t)] = s;
  return {
    state: proxy.ready() ? 'LIVE' : 'INITIALIZING',
    node: proxy.node,
    uptimeSeconds: proxy.uptimeSeconds(),
    xds: proxy.xdsStatus(),
    versions: types,
    listeners: proxy.listeners.list().map((l) => ({ name: l.name, address: `${l.host}:${l.port}` })),
    waitingFor: proxy.pendingReadinessGates(),
    identity: extras.identity?.status() ?? null,
  };
}

function clustersText(proxy: Proxy): string {
  const lines: string[] = [];
  for (const c of proxy.clusters.all()) {
    lines.push(`${c.name}::default_priority::max_connections::${c.resource.circuitBreakers?.thresholds?.[0]?.maxConnections ?? 4294967295}`);
    for (const h of c.hosts()) {
      lines.push(`${c.name}::${h.key}::rq_active::${h.activeRequests}`);
      // Envoy's flags: `healthy`, or `/failed_eds_health` and `/failed_outlier_check` joined.
      const flags = (h.edsHealth !== 'HEALTHY' ? '/failed_eds_health' : '') + (h.ejected ? '/failed_outlier_check' : '');
      lines.push(`${c.name}::${h.key}::health_flags::${flags || 'healthy'}`);
    }
  }
  return lines.join('\n') + '\n';
}

export function startAdminServer(proxy: Proxy, host: string, port: number, onQuit: () => void, extras: AdminExtras = {}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
      res.end(body);
    };
    const json = (v: unknown) => send(200, JSON.stringify(v, null, 2) + '\n', 'application/json');
    switch (url.pathname) {
      case '/ready':
      case '/healthz/ready':
        return proxy.ready() ? send(200, 'LIVE\n') : send(503, 'PRE_INITIALIZING\n');
      case '/server_info':
        return json(serverInfo(proxy, extras));
      case '/certs':
        return json(certsView(proxy.current().secrets, proxy.opts.clock.now()));
      case '/config_dump':
        return json(configDump(proxy));
      case '/stats':
        return url.searchParams.get('format') === 'prometheus' ? send(200, proxy.stats.prometheusText(), 'text/plain; version=0.0.4') : send(200, proxy.stats.envoyText());
      case '/stats/prometheus':
        return send(200, proxy.stats.prometheusText(), 'text/plain; version=0.0.4; charset=utf-8');
      case '/clusters':
        return send(200, clustersText(proxy));
      case '/tap':
        return serveTap(proxy.tap, proxy.opts.clock, url, req, res);
      case '/listeners':
        return json(proxy.listeners.list().map((l) => ({ name: l.name, address: `${l.host}:${l.port}` })));
      case '/quitquitquit':
        if (req.method !== 'POST') return send(405, 'use POST\n');
        // Stopping the proxy is for the runner and the operator, not for a web page.
        if (!sameMachine(req)) return send(403, 'refused: not a request made on this machine (Host or Origin)\n');
        send(200, 'OK\n');
        onQuit();
        return;
      case '/':
        return send(200, ['/ready', '/server_info', '/config_dump', '/stats', '/stats/prometheus', '/clusters', '/listeners', '/certs', '/tap', '/quitquitquit (POST)'].join('\n') + '\n');
      default:
        return send(404, `no admin handler for ${url.pathname}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: extras.exclusive === true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
