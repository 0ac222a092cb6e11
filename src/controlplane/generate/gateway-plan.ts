// What each bound port of a gateway proxy serves, from the Gateways that select it (and, on the
// ingress gateway, the Kubernetes Ingresses): plaintext HTTP (virtual hosts from bound
// VirtualService `http` rules, or an HTTPS redirect), TLS (filter chains by SNI that terminate
// with a credential — SIMPLE, MUTUAL, OPTIONAL_MUTUAL — and serve HTTP, or pass TLS through to
// VirtualService `tls` routes), or TCP (VirtualService `tcp` routes). gateway.ts renders a plan
// into listeners, route configurations and secrets.

import type { GatewayResource, GatewayServer, RouteDestination, VirtualServiceResource } from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { VirtualHost } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { boundHosts, gatewayBindPort, gatewayDomains, gatewaysForProxy, hostIntersection } from './gateway.js';
import type { RouteContext } from './http-routes.js';
import { translateHttpRules } from './http-routes.js';
import { ingressVirtualHosts, planIngress } from './ingress.js';
import { ROOT_CA_SECRET, WORKLOAD_CERT_SECRET } from './mesh-mtls.js';
import { outboundClusterName } from './names.js';

export interface WeightedTarget {
  readonly name: string;
  readonly weight: number;
}

/** One filter chain of a TLS port. */
export interface TlsChainPlan {
  /** SNI names; empty = any (the chain for clients without SNI or `*` hosts). */
  readonly serverNames: readonly string[];
  readonly mode: 'SIMPLE' | 'MUTUAL' | 'OPTIONAL_MUTUAL' | 'ISTIO_MUTUAL' | 'PASSTHROUGH';
  /** SDS name of the server certificate (terminating chains). */
  readonly certSecret?: string;
  /** SDS name of the client CA bundle (MUTUAL, OPTIONAL_MUTUAL). */
  readonly caSecret?: string;
  /** Terminating chains: their route configuration and its virtual hosts. */
  readonly routeName?: string;
  readonly vhosts?: Map<string, VirtualHost>;
  /** Passthrough chains: where the TCP stream goes. */
  readonly tcp?: readonly WeightedTarget[];
}

export type PortPlan =
  | { readonly kind: 'http'; readonly port: number; readonly vhosts: Map<string, VirtualHost> }
  | { readonly kind: 'tls'; readonly port: number; readonly chains: TlsChainPlan[] }
  | { readonly kind: 'tcp'; readonly port: number; readonly targets: WeightedTarget[] };

/** Istio's meshConfig.ingressSelector default: the gateway that serves Ingress resources. */
const INGRESS_SELECTOR = { istio: 'ingressgateway' };

interface BoundServer {
  readonly gateway: GatewayResource;
  readonly server: GatewayServer;
  readonly key: string;
  readonly bindPort: number;
}

function kindOf(s: GatewayServer): 'http' | 'tls' | 'tcp' | undefined {
  const p = s.port.protocol;
  if (p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB') return 'http';
  if (p === 'HTTPS' || p === 'TLS') return 'tls';
  if (p === 'TCP' || p === 'MONGO') return 'tcp';
  return undefined;
}

export function planGatewayPorts(snapshot: MeshSnapshot, proxy: ProxyNode, hashPolicy: RouteContext['hashPolicy']): Map<number, PortPlan> {
  const plans = new Map<number, PortPlan>();
  const servers: BoundServer[] = [];
  for (const gateway of gatewaysForProxy(snapshot, proxy)) {
    gateway.spec.servers.forEach((server) => {
      servers.push({ gateway, server, key: `${gateway.metadata.namespace}/${gateway.metadata.name}`, bindPort: gatewayBindPort(snapshot, proxy, server.port.number) });
    });
  }
  // Servers whose kind disagrees with the first server on a port are skipped (the port keeps one kind).
  for (const b of servers) {
    const kind = kindOf(b.server);
    if (!kind) continue;
    const cur = plans.get(b.bindPort);
    if (cur && cur.kind !== kind) continue;
    if (kind === 'http') addHttpServer(snapshot, proxy, plans, b, servers, hashPolicy);
    else if (kind === 'tls') addTlsServer(snapshot, proxy, plans, b, hashPolicy);
    else addTcpServer(snapshot, plans, b);
  }
  if (selects(INGRESS_SELECTOR, proxy.labels)) addIngress(snapshot, proxy, plans);
  return plans;
}

function httpPlan(plans: Map<number, PortPlan>, port: number): Extract<PortPlan, { kind: 'http' }> | undefined {
  let p = plans.get(port);
  if (!p) plans.set(port, (p = { kind: 'http', port, vhosts: new Map() }));
  return p.kind === 'http' ? p : undefined;
}

/** Adds the virtual hosts of the VirtualServices bound to `b` into `vhosts`, merging by host. */
function bindVirtualServices(snapshot: MeshSnapshot, proxy: ProxyNode, b: BoundServer, vhosts: Map<string, VirtualHost>, hashPolicy: RouteContext['hashPolicy'], merged: Map<string, Set<VirtualServiceResource>>): void {
  for (const vs of snapshot.virtualServicesByGateway.get(b.key) ?? []) {
    if (vs.spec.http.length === 0) continue;
    for (const vsHost of vs.spec.hosts) {
      for (const host of boundHosts(vsHost, vs.metadata.namespace, b.server, b.gateway.metadata.namespace)) {
        let vh = vhosts.get(host);
        if (!vh) vhosts.set(host, (vh = { name: `${host}:${b.server.port.number}`, domains: gatewayDomains(host, b.server.port.number, b.bindPort), routes: [] }));
        // Several VirtualServices for one host on one gateway are merged in load order (Istio);
        // one reaching the host through several servers or hosts is merged once.
        let seen = merged.get(host);
        if (!seen) merged.set(host, (seen = new Set()));
        if (seen.has(vs)) continue;
        seen.add(vs);
        vh.routes.push(...translateHttpRules(snapshot, vs, { proxy, gateway: b.key, port: b.server.port.number, hashPolicy }));
      }
    }
  }
}

function addHttpServer(snapshot: MeshSnapshot, proxy: ProxyNode, plans: Map<number, PortPlan>, b: BoundServer, all: readonly BoundServer[], hashPolicy: RouteContext['hashPolicy']): void {
  const p = httpPlan(plans, b.bindPort);
  if (!p) return;
  if (b.server.tls?.httpsRedirect) {
    // IG-04: every request to these hosts gets a 301 to https, on the port the gateway serves
    // HTTPS on (locally 8443 for 443), or the default port.
    const https = all.find((x) => x.gateway === b.gateway && kindOf(x.server) === 'tls');
    const port = https ? https.bindPort : 443;
    for (const raw of b.server.hosts) {
      const host = raw.includes('/') ? raw.slice(raw.indexOf('/') + 1) : raw;
      if (p.vhosts.has(host)) continue;
      p.vhosts.set(host, {
        name: `${host}:${b.server.port.number}`,
        domains: gatewayDomains(host, b.server.port.number, b.bindPort),
        routes: [{ name: 'https_redirect', match: { prefix: '/' }, redirect: { httpsRedirect: true, portRedirect: port, responseCode: 'MOVED_PERMANENTLY' } }],
      });
    }
    return;
  }
  bindVirtualServices(snapshot, proxy, b, p.vhosts, hashPolicy, new Map());
}

/** The client CA bundle for `credential` (its ca.crt/cacert, else Secret `<credential>-cacert`). */
export function clientCa(snapshot: MeshSnapshot, ns: string, credential: string): Buffer | undefined {
  const base = snapshot.store.get('Secret', ns, credential);
  const own = snapshot.store.get('Secret', ns, `${credential}-cacert`);
  return base?.data['ca.crt'] ?? base?.data.cacert ?? own?.data.cacert ?? own?.data['ca.crt'];
}

function sdsName(namespace: string, name: string): string {
  return `kubernetes://${namespace}/${name}`;
}

function addTlsServer(snapshot: MeshSnapshot, proxy: ProxyNode, plans: Map<number, PortPlan>, b: BoundServer, hashPolicy: RouteContext['hashPolicy']): void {
  let p = plans.get(b.bindPort);
  if (!p) plans.set(b.bindPort, (p = { kind: 'tls', port: b.bindPort, chains: [] }));
  if (p.kind !== 'tls') return;
  const tls = b.server.tls;
  const mode = tls?.mode ?? 'PASSTHROUGH';
  const names = b.server.hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h)).filter((h) => h !== '*');
  // credentialName Secrets live beside the gateway workload, not the Gateway resource (Istio).
  const ns = proxy.namespace;
  if (mode === 'PASSTHROUGH') {
    // SNI routing without termination: one chain per sniHost of the bound VirtualServices' tls routes.
    for (const vs of snapshot.virtualServicesByGateway.get(b.key) ?? []) {
      for (const rule of vs.spec.tls) {
        for (const m of rule.match) {
          if (m.port !== undefined && m.port !== b.server.port.number) continue;
          if (m.gateways?.length && !m.gateways.some((g) => (g.includes('/') ? g : `${vs.metadata.namespace}/${g}`) === b.key)) continue;
          for (const sni of m.sniHosts) {
            if (!b.server.hosts.some((h) => hostIntersection(sni, h.includes('/') ? h.slice(h.indexOf('/') + 1) : h))) continue;
            if (p.chains.some((c) => c.serverNames.includes(sni))) continue;
            p.chains.push({ serverNames: [sni], mode: 'PASSTHROUGH', tcp: tcpTargets(snapshot, vs, rule.route, b.server.port.number) });
          }
        }
      }
    }
    return;
  }
  if (mode === 'ISTIO_MUTUAL') {
    // The gateway's own workload certificate, clients from the mesh CA only (IG-07).
    if (!snapshot.mesh.meshMtls) return;
    const vhosts = new Map<string, VirtualHost>();
    bindVirtualServices(snapshot, proxy, b, vhosts, hashPolicy, new Map());
    const idx = p.chains.length;
    p.chains.push({
      serverNames: names,
      mode,
      certSecret: WORKLOAD_CERT_SECRET,
      caSecret: ROOT_CA_SECRET,
      routeName: `https.${b.server.port.number}.${b.server.name ?? b.server.port.name ?? idx}.${b.gateway.metadata.name}.${b.gateway.metadata.namespace}`,
      vhosts,
    });
    return;
  }
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL' && mode !== 'OPTIONAL_MUTUAL') return; // AUTO_PASSTHROUGH: multi-network only
  const credential = tls?.credentialName ?? tls?.credentialNames[0];
  if (!credential) return;
  const secret = snapshot.store.get('Secret', ns, credential);
  if (!secret || !(secret.data['tls.crt'] || secret.data.cert)) return; // the analyzer reports it
  // The client CA travels as the SDS secret `<credential>-cacert` (Istio's name): from the
  // credential's own ca.crt/cacert, else a Secret of that name (IG-06).
  const caSecret = mode === 'SIMPLE' ? undefined : sdsName(ns, `${credential}-cacert`);
  // Without a CA, MUTUAL cannot verify anyone: no chain, so handshakes for these hosts fail (the
  // analyzer names the missing ca.crt) while the rest of the gateway keeps serving.
  if (caSecret && !clientCa(snapshot, ns, credential)) return;
  const vhosts = new Map<string, VirtualHost>();
  bindVirtualServices(snapshot, proxy, b, vhosts, hashPolicy, new Map());
  const idx = p.chains.length;
  p.chains.push({
    serverNames: names,
    mode,
    certSecret: sdsName(ns, credential),
    caSecret,
    routeName: `https.${b.server.port.number}.${b.server.name ?? b.server.port.name ?? idx}.${b.gateway.metadata.name}.${ns}`,
    vhosts,
  });
}

export function tcpTargets(snapshot: MeshSnapshot, vs: VirtualServiceResource, route: readonly RouteDestination[], contextPort: number): WeightedTarget[] {
  return route.map((d) => {
    const fqdn = snapshot.resolveHost(d.destination.host, vs.metadata.namespace);
    const svc = snapshot.servicesByHost.get(fqdn);
    const port = d.destination.port?.number ?? (svc?.ports.length === 1 ? svc.ports[0]!.port : contextPort);
    return { name: outboundClusterName(port, d.destination.subset ?? '', fqdn), weight: d.weight ?? (route.length === 1 ? 100 : 0) };
  });
}

function addTcpServer(snapshot: MeshSnapshot, plans: Map<number, PortPlan>, b: BoundServer): void {
  if (plans.has(b.bindPort)) return; // one TCP server per port: the first wins
  for (const vs of snapshot.virtualServicesByGateway.get(b.key) ?? []) {
    for (const rule of vs.spec.tcp) {
      const applies = rule.match.length === 0 || rule.match.some((m) => (m.port === undefined || m.port === b.server.port.number) && (!m.gateways?.length || m.gateways.some((g) => (g.includes('/') ? g : `${vs.metadata.namespace}/${g}`) === b.key)));
      if (!applies) continue;
      plans.set(b.bindPort, { kind: 'tcp', port: b.bindPort, targets: tcpTargets(snapshot, vs, rule.route, b.server.port.number) });
      return;
    }
  }
}

function addIngress(snapshot: MeshSnapshot, proxy: ProxyNode, plans: Map<number, PortPlan>): void {
  const ingress = planIngress(snapshot);
  if (ingress.hosts.size === 0) return;
  const http = gatewayBindPort(snapshot, proxy, 80);
  const hp = httpPlan(plans, http);
  if (hp) mergeVhosts(hp.vhosts, ingressVirtualHosts(ingress, [80, http]));
  if (ingress.tls.length === 0) return;
  const httpsPort = gatewayBindPort(snapshot, proxy, 443);
  let tp = plans.get(httpsPort);
  if (!tp) plans.set(httpsPort, (tp = { kind: 'tls', port: httpsPort, chains: [] }));
  if (tp.kind !== 'tls') return;
  const vhosts = new Map<string, VirtualHost>();
  mergeVhosts(vhosts, ingressVirtualHosts(ingress, [443, httpsPort]));
  for (const t of ingress.tls) {
    if (tp.chains.some((c) => c.serverNames.some((n) => t.serverNames.includes(n)) || (c.serverNames.length === 0 && t.serverNames.length === 0))) continue;
    tp.chains.push({ serverNames: t.serverNames, mode: 'SIMPLE', certSecret: t.secret, routeName: `https.${httpsPort}`, vhosts });
  }
}

/** Ingress hosts join a port's virtual hosts, after a Gateway's routes for the same host. */
function mergeVhosts(into: Map<string, VirtualHost>, add: readonly VirtualHost[]): void {
  for (const vh of add) {
    const host = vh.name.slice('ingress:'.length);
    const existing = into.get(host);
    if (existing) existing.routes.push(...vh.routes);
    else into.set(host, vh);
  }
}
