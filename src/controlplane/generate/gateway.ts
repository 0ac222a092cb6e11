// Listeners and routes of a gateway proxy (Istio `router`): one listener per server port of the
// Gateways that select it, each with route configuration `http.<port>` whose virtual hosts are
// the hosts of the VirtualServices bound to those servers (IG-03 binding rules). The ingress
// gateway also serves Kubernetes Ingress (ingress.ts) on ports 80 and 443, merged into the same
// listeners; TLS on 443 is terminated with certificates sent over SDS.

import type { GatewayResource, GatewayServer, VirtualServiceResource } from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { Listener, RouteConfiguration, Secret, VirtualHost } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { httpFilterChain, socketAddress, tlsTransportSocket } from './common.js';
import { ingressVirtualHosts, planIngress } from './ingress.js';
import type { IngressPlan, IngressTlsChain } from './ingress.js';
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

/** What one bound port of the gateway serves, from Gateways and Ingresses together. */
interface PortPlan {
  readonly port: number;
  readonly tls: boolean;
  /** Virtual hosts by host; a host named by both a Gateway and an Ingress is one vhost. */
  readonly vhosts: Map<string, VirtualHost>;
  readonly chains: IngressTlsChain[];
}

/** Istio's meshConfig.ingressSelector default: the gateway that serves Ingress resources. */
const INGRESS_SELECTOR = { istio: 'ingressgateway' };

function planPorts(snapshot: MeshSnapshot, proxy: ProxyNode): Map<number, PortPlan> {
  const plans = new Map<number, PortPlan>();
  const plan = (port: number, tls: boolean): PortPlan | undefined => {
    let p = plans.get(port);
    if (!p) plans.set(port, (p = { port, tls, vhosts: new Map(), chains: [] }));
    return p.tls === tls ? p : undefined;
  };
  for (const [port, servers] of serversByPort(snapshot, proxy)) {
    const p = plan(port, false)!;
    const merged = new Map<string, Set<VirtualServiceResource>>();
    for (const { gateway, server } of servers) {
      const gwKey = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
      for (const vs of snapshot.virtualServicesByGateway.get(gwKey) ?? []) {
        for (const vsHost of vs.spec.hosts) {
          for (const host of boundHosts(vsHost, vs.metadata.namespace, server, gateway.metadata.namespace)) {
            let vh = p.vhosts.get(host);
            if (!vh) p.vhosts.set(host, (vh = { name: `${host}:${server.port.number}`, domains: gatewayDomains(host, server.port.number, port), routes: [] }));
            // Several VirtualServices for one host on one gateway are merged in load order
            // (Istio); one reaching the host through several servers or hosts is merged once.
            let seen = merged.get(host);
            if (!seen) merged.set(host, (seen = new Set()));
            if (seen.has(vs)) continue;
            seen.add(vs);
            vh.routes.push(...translateHttpRules(snapshot, vs, { proxy, gateway: gwKey, port: server.port.number }));
          }
        }
      }
    }
  }
  if (selects(INGRESS_SELECTOR, proxy.labels)) {
    const ingress = planIngress(snapshot);
    if (ingress.hosts.size > 0) {
      const http = gatewayBindPort(snapshot, proxy, 80);
      addIngressHosts(plan(http, false), ingress, [80, http]);
      if (ingress.tls.length > 0) {
        const https = gatewayBindPort(snapshot, proxy, 443);
        const p = plan(https, true);
        if (p) {
          addIngressHosts(p, ingress, [443, https]);
          p.chains.push(...ingress.tls);
        }
      }
    }
  }
  return plans;
}

/** Ingress hosts join the port's virtual hosts; after a Gateway's routes for the same host. */
function addIngressHosts(p: PortPlan | undefined, ingress: IngressPlan, ports: readonly number[]): void {
  if (!p) return;
  for (const vh of ingressVirtualHosts(ingress, ports)) {
    const host = vh.name.slice('ingress:'.length);
    const existing = p.vhosts.get(host);
    if (existing) existing.routes.push(...vh.routes);
    else p.vhosts.set(host, vh);
  }
}

function routeName(p: PortPlan): string {
  return p.tls ? `https.${p.port}` : gatewayRouteName(p.port);
}

export function gatewayListeners(snapshot: MeshSnapshot, proxy: ProxyNode): Listener[] {
  return [...planPorts(snapshot, proxy).values()].sort((a, b) => a.port - b.port).map((p) => {
    const chain = () => httpFilterChain({ statPrefix: `outbound_0.0.0.0_${p.port}`, rds: routeName(p), useRemoteAddress: true, serverName: 'istio-envoy' });
    return {
      name: gatewayListenerName(p.port),
      address: socketAddress('0.0.0.0', p.port),
      trafficDirection: 'OUTBOUND' as const,
      filterChains: p.tls ? p.chains.map((c) => ({ ...chain(), filterChainMatch: c.serverNames.length ? { serverNames: [...c.serverNames] } : undefined, transportSocket: tlsTransportSocket(c.secret) })) : [chain()],
    };
  });
}

export function gatewayRoutes(snapshot: MeshSnapshot, proxy: ProxyNode): RouteConfiguration[] {
  return [...planPorts(snapshot, proxy).values()]
    .sort((a, b) => a.port - b.port)
    .map((p) => ({ name: routeName(p), virtualHosts: [...p.vhosts.values()], validateClusters: false }));
}

/** SDS secrets the gateway's TLS listeners refer to, with their certificates. */
export function gatewaySecrets(snapshot: MeshSnapshot, proxy: ProxyNode): Secret[] {
  const names = new Set<string>();
  for (const p of planPorts(snapshot, proxy).values()) for (const c of p.chains) names.add(c.secret);
  const out: Secret[] = [];
  for (const name of [...names].sort()) {
    const [ns, secretName] = name.slice('kubernetes://'.length).split('/') as [string, string];
    const s = snapshot.store.get('Secret', ns, secretName);
    const crt = s?.data['tls.crt'];
    const key = s?.data['tls.key'];
    if (!crt || !key) continue;
    out.push({ name, tlsCertificate: { certificateChain: { inlineString: crt.toString('utf8') }, privateKey: { inlineString: key.toString('utf8') } } });
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
