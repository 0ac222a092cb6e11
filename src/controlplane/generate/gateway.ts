// Listeners and routes of a gateway proxy (Istio `router`): one listener per server port of the
// Gateways that select it, each with route configuration `http.<port>` whose virtual hosts are
// the hosts of the VirtualServices bound to those servers (IG-03 binding rules).

import type { GatewayResource, GatewayServer, VirtualServiceResource } from '../../config/types.js';
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
  // IG-01: a Gateway without a selector applies to every gateway proxy (Istio).
  return snapshot.gateways.filter((g) => Object.keys(g.spec.selector).length === 0 || selects(g.spec.selector, proxy.labels));
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
    // One virtual host per host on this listener, whichever server port (80, 8080, ...) brought
    // it here: domains must be unique in a route configuration.
    const vhosts = new Map<string, { vh: VirtualHost; merged: Set<VirtualServiceResource> }>();
    for (const { gateway, server } of servers) {
      const gwKey = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
      for (const vs of snapshot.virtualServicesByGateway.get(gwKey) ?? []) {
        for (const vsHost of vs.spec.hosts) {
          for (const host of boundHosts(vsHost, vs.metadata.namespace, server, gateway.metadata.namespace)) {
            let entry = vhosts.get(host);
            if (!entry) vhosts.set(host, (entry = { vh: { name: `${host}:${server.port.number}`, domains: gatewayDomains(host, server.port.number, port), routes: [] }, merged: new Set() }));
            // Several VirtualServices for one host on one gateway are merged in load order (Istio);
            // one reaching the host through several servers or hosts is merged once.
            if (entry.merged.has(vs)) continue;
            entry.merged.add(vs);
            entry.vh.routes.push(...translateHttpRules(snapshot, vs, { proxy, gateway: gwKey, port: server.port.number }));
          }
        }
      }
    }
    out.push({ name: gatewayRouteName(port), virtualHosts: [...vhosts.values()].map((e) => e.vh), validateClusters: false });
  }
  return out;
}

/**
 * Domains of a gateway virtual host: the host, and the host with a port. `host:*` works for an
 * exact host (a prefix wildcard), but `*.example.com:*` would hold two wildcards and match
 * nothing, so a wildcard host lists the ports a client can write: the server port and the port
 * the gateway binds it on.
 */
export function gatewayDomains(host: string, serverPort: number, bindPort: number): string[] {
  if (host === '*') return ['*'];
  if (!host.startsWith('*')) return [host, `${host}:*`];
  return [host, ...new Set([`${host}:${serverPort}`, `${host}:${bindPort}`])];
}

/**
 * IG-03: a VirtualService host binds to a server host `[ns/]dnsName` when the namespaces agree
 * and the names intersect; each result is the more specific of the two names. A VirtualService
 * host `*` (or `*.example.com`) on a server with several hosts binds to each of them.
 */
export function boundHosts(vsHost: string, vsNamespace: string, server: GatewayServer, gatewayNamespace: string): string[] {
  const out = new Set<string>();
  for (const raw of server.hosts) {
    const slash = raw.indexOf('/');
    const ns = slash >= 0 ? raw.slice(0, slash) : '*';
    const dns = slash >= 0 ? raw.slice(slash + 1) : raw;
    if (ns !== '*' && (ns === '.' ? gatewayNamespace : ns) !== vsNamespace) continue;
    const h = hostIntersection(vsHost.toLowerCase(), dns.toLowerCase());
    if (h) out.add(h);
  }
  return [...out];
}

/** The first host of boundHosts, or undefined when the VirtualService host does not bind. */
export function boundHost(vsHost: string, vsNamespace: string, server: GatewayServer, gatewayNamespace: string): string | undefined {
  return boundHosts(vsHost, vsNamespace, server, gatewayNamespace)[0];
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
