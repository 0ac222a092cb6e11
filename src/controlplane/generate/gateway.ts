// Listeners and routes of a gateway proxy (Istio `router`): one listener per server port of the
// Gateways that select it, each with route configuration `http.<port>` whose virtual hosts are
// the hosts of the VirtualServices bound to those servers (IG-03 binding rules).

import type { GatewayResource, GatewayServer } from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { Listener, RouteConfiguration, VirtualHost } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { httpFilterChain, socketAddress } from './common.js';
import { translateHttpRules } from './http-routes.js';
import { gatewayListenerName, gatewayRouteName } from './names.js';

interface BoundServer {
  readonly gateway: GatewayResource;
  readonly server: GatewayServer;
}

export function gatewaysForProxy(snapshot: MeshSnapshot, proxy: ProxyNode): GatewayResource[] {
  return snapshot.gateways.filter((g) => selects(g.spec.selector, proxy.labels));
}

/** The port a gateway server is bound on: the gateway Service's targetPort for it, else itself. */
export function gatewayBindPort(snapshot: MeshSnapshot, proxy: ProxyNode, serverPort: number): number {
  for (const s of snapshot.registry.services) {
    if (s.namespace !== proxy.namespace || !selects(s.selector, proxy.labels)) continue;
    const p = s.ports.find((x) => x.port === serverPort);
    if (p && typeof p.targetPort === 'number') return p.targetPort;
  }
  return serverPort;
}

/** Servers by bind port (HTTP only for now; TLS/TCP servers arrive with the full Gateway issue). */
function serversByPort(snapshot: MeshSnapshot, proxy: ProxyNode): Map<number, BoundServer[]> {
  const byPort = new Map<number, BoundServer[]>();
  for (const gateway of gatewaysForProxy(snapshot, proxy)) {
    for (const server of gateway.spec.servers) {
      if (server.port.protocol !== 'HTTP' && server.port.protocol !== 'HTTP2' && server.port.protocol !== 'GRPC') continue;
      const port = gatewayBindPort(snapshot, proxy, server.port.number);
      let list = byPort.get(port);
      if (!list) byPort.set(port, (list = []));
      list.push({ gateway, server });
    }
  }
  return byPort;
}

export function gatewayListeners(snapshot: MeshSnapshot, proxy: ProxyNode): Listener[] {
  return [...serversByPort(snapshot, proxy).keys()].sort((a, b) => a - b).map((port) => ({
    name: gatewayListenerName(port),
    address: socketAddress('0.0.0.0', port),
    trafficDirection: 'OUTBOUND',
    filterChains: [httpFilterChain({ statPrefix: `outbound_0.0.0.0_${port}`, rds: gatewayRouteName(port), useRemoteAddress: true, serverName: 'istio-envoy' })],
  }));
}

export function gatewayRoutes(snapshot: MeshSnapshot, proxy: ProxyNode): RouteConfiguration[] {
  const out: RouteConfiguration[] = [];
  for (const [port, servers] of [...serversByPort(snapshot, proxy)].sort(([a], [b]) => a - b)) {
    const vhosts = new Map<string, VirtualHost>();
    for (const { gateway, server } of servers) {
      const gwKey = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
      for (const vs of snapshot.virtualServicesByGateway.get(gwKey) ?? []) {
        for (const vsHost of vs.spec.hosts) {
          const host = boundHost(vsHost, vs.metadata.namespace, server, gateway.metadata.namespace);
          if (!host) continue;
          const name = `${host}:${server.port.number}`;
          let vh = vhosts.get(name);
          if (!vh) vhosts.set(name, (vh = { name, domains: host === '*' ? ['*'] : [host, `${host}:*`], routes: [] }));
          // Several VirtualServices for one host on one gateway are merged in load order (Istio).
          vh.routes.push(...translateHttpRules(snapshot, vs, { proxy, gateway: gwKey, port: server.port.number }));
        }
      }
    }
    out.push({ name: gatewayRouteName(port), virtualHosts: [...vhosts.values()], validateClusters: false });
  }
  return out;
}

/**
 * IG-03: a VirtualService host binds to a server host `[ns/]dnsName` when the namespaces agree
 * and the names intersect; the result is the more specific of the two names.
 */
export function boundHost(vsHost: string, vsNamespace: string, server: GatewayServer, gatewayNamespace: string): string | undefined {
  for (const raw of server.hosts) {
    const slash = raw.indexOf('/');
    const ns = slash >= 0 ? raw.slice(0, slash) : '*';
    const dns = slash >= 0 ? raw.slice(slash + 1) : raw;
    if (ns !== '*' && (ns === '.' ? gatewayNamespace : ns) !== vsNamespace) continue;
    const h = hostIntersection(vsHost.toLowerCase(), dns.toLowerCase());
    if (h) return h;
  }
  return undefined;
}

export function hostIntersection(a: string, b: string): string | undefined {
  if (a === b) return a;
  if (b === '*') return a;
  if (a === '*') return b;
  const aw = a.startsWith('*.');
  const bw = b.startsWith('*.');
  // `*.example.com` covers `dev.example.com` and `*.dev.example.com`, not `example.com`.
  if (bw && a.endsWith(b.slice(1))) return a;
  if (aw && b.endsWith(a.slice(1))) return b;
  return undefined;
}
