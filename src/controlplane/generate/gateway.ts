// Listeners and routes of a gateway proxy (Istio `router`): one listener per server port of the
// Gateways that select it, each with route configuration `http.<port>` whose virtual hosts are
// the hosts of the VirtualServices bound to those servers (IG-03 binding rules). The ingress
// gateway also serves Kubernetes Ingress (ingress.ts) on ports 80 and 443, merged into the same
// listeners; TLS on 443 is terminated with certificates sent over SDS.

import type { GatewayResource, GatewayServer, PathNormalizationType } from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { Filter, FilterChain, HttpFilter, Listener, RouteConfiguration, Secret } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { httpFilterChain, socketAddress, tcpProxyFilter, tlsTransportSocket } from './common.js';
import { hcmTracing } from './tracing.js';
import { accessLogsFor } from './telemetry/access-log.js';
import { outboundStatsFilter } from './telemetry/stats-filter.js';
import type { AccessLog, HcmTracing } from '../../xds/resources.js';
import { clientCa, planGatewayPorts } from './gateway-plan.js';
import type { PortPlan, TlsChainPlan } from './gateway-plan.js';
import type { RouteContext } from './http-routes.js';
import { gatewayListenerName, gatewayRouteName } from './names.js';
import { securityFilters } from './security/security-filters.js';
import type { SecurityFilters } from './security/security-filters.js';

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

function routeConfigName(p: PortPlan): string {
  return gatewayRouteName(p.port);
}

function tlsChain(p: PortPlan & { kind: 'tls' }, c: TlsChainPlan, security: SecurityFilters, pathNormalization: PathNormalizationType, xffNumTrustedHops: number, tracing: HcmTracing | undefined, statsFilter: HttpFilter | undefined, accessLog: readonly AccessLog[]): FilterChain {
  const match = c.serverNames.length ? { serverNames: [...c.serverNames] } : undefined;
  if (c.mode === 'PASSTHROUGH') {
    return {
      ...(match ? { filterChainMatch: { ...match, transportProtocol: 'tls' } } : { filterChainMatch: { transportProtocol: 'tls' } }),
      filters: [...security.tcp, tcpProxyFilter(`outbound_0.0.0.0_${p.port}`, c.tcp ?? [], accessLog)],
    };
  }
  return {
    ...(match ? { filterChainMatch: match } : {}),
    ...httpFilterChain({ statPrefix: `outbound_0.0.0.0_${p.port}`, rds: c.routeName, useRemoteAddress: true, xffNumTrustedHops, serverName: 'istio-envoy', securityFilters: security.http, forwardClientCert: 'SANITIZE_SET', pathNormalization, tracing, statsFilter, accessLog }),
    transportSocket: tlsTransportSocket(c.certSecret!, c.caSecret, c.mode === 'MUTUAL' || c.mode === 'ISTIO_MUTUAL'),
  };
}

export function gatewayListeners(snapshot: MeshSnapshot, proxy: ProxyNode, hashPolicy?: RouteContext['hashPolicy']): Listener[] {
  // AuthorizationPolicy and RequestAuthentication filters, the same on every server port.
  // Istio's standard metrics, reporter source (gateways report as clients, as in Istio): last
  // before the router on HTTP, after the security filters on TCP chains.
  const stats = outboundStatsFilter(snapshot, proxy);
  const statsFilter = stats as HttpFilter | undefined;
  const authz = securityFilters(snapshot, proxy);
  const security: SecurityFilters = stats ? { ...authz, tcp: [...authz.tcp, stats as Filter] } : authz;
  const tracing = hcmTracing(snapshot, proxy, 'gateway');
  // Istio logs gateway traffic as the client side (Telemetry match.mode CLIENT).
  const accessLog = accessLogsFor(snapshot, proxy, 'gateway');
  return [...planGatewayPorts(snapshot, proxy, hashPolicy).values()]
    .sort((a, b) => a.port - b.port)
    .flatMap((p): Listener[] => {
      let filterChains: FilterChain[];
      if (p.kind === 'http') {
        filterChains = [httpFilterChain({ statPrefix: `outbound_0.0.0.0_${p.port}`, rds: routeConfigName(p), useRemoteAddress: true, xffNumTrustedHops: snapshot.meshConfig.defaultConfig.gatewayTopology.numTrustedProxies, serverName: 'istio-envoy', securityFilters: security.http, forwardClientCert: 'SANITIZE_SET', pathNormalization: snapshot.meshConfig.pathNormalization.normalization, tracing, statsFilter, accessLog })];
      } else if (p.kind === 'tcp') {
        filterChains = [{ filters: [...security.tcp, tcpProxyFilter(`outbound_0.0.0.0_${p.port}`, p.targets, accessLog)] }];
      } else {
        filterChains = p.chains.map((c) => tlsChain(p, c, security, snapshot.meshConfig.pathNormalization.normalization, snapshot.meshConfig.defaultConfig.gatewayTopology.numTrustedProxies, tracing, statsFilter, accessLog));
      }
      if (filterChains.length === 0) return [];
      return [{ name: gatewayListenerName(p.port), address: socketAddress('0.0.0.0', p.port), trafficDirection: 'OUTBOUND', filterChains }];
    });
}

export function gatewayRoutes(snapshot: MeshSnapshot, proxy: ProxyNode, hashPolicy?: RouteContext['hashPolicy']): RouteConfiguration[] {
  const out = new Map<string, RouteConfiguration>();
  for (const p of [...planGatewayPorts(snapshot, proxy, hashPolicy).values()].sort((a, b) => a.port - b.port)) {
    if (p.kind === 'http') out.set(routeConfigName(p), { name: routeConfigName(p), virtualHosts: [...p.vhosts.values()], validateClusters: false });
    if (p.kind === 'tls') {
      for (const c of p.chains) if (c.routeName && c.vhosts && !out.has(c.routeName)) out.set(c.routeName, { name: c.routeName, virtualHosts: [...c.vhosts.values()], validateClusters: false });
    }
  }
  return [...out.values()];
}

/** SDS secrets the gateway's TLS listeners refer to: certificates and client CA bundles (IG-06). */
export function gatewaySecrets(snapshot: MeshSnapshot, proxy: ProxyNode): Secret[] {
  const names = new Set<string>();
  for (const p of planGatewayPorts(snapshot, proxy, undefined).values()) {
    if (p.kind !== 'tls') continue;
    for (const c of p.chains) {
      // The mesh identity (ISTIO_MUTUAL) comes from the proxy's own CA client, not from Secrets.
      if (c.mode === 'ISTIO_MUTUAL') continue;
      if (c.certSecret) names.add(c.certSecret);
      if (c.caSecret) names.add(c.caSecret);
    }
  }
  const out: Secret[] = [];
  for (const name of [...names].sort()) {
    const [ns, secretName] = name.slice('kubernetes://'.length).split('/') as [string, string];
    if (secretName.endsWith('-cacert')) {
      const ca = clientCa(snapshot, ns, secretName.slice(0, -'-cacert'.length));
      if (ca) out.push({ name, validationContext: { trustedCa: { inlineString: ca.toString('utf8') } } });
      continue;
    }
    const s = snapshot.store.get('Secret', ns, secretName);
    const crt = s?.data['tls.crt'] ?? s?.data.cert;
    const key = s?.data['tls.key'] ?? s?.data.key;
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
