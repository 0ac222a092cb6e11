// Listeners and routes of a sidecar. Without iptables, a workload reaches the mesh through its
// sidecar as an HTTP proxy (HTTP_PROXY): one outbound listener (`virtualOutbound`, port 15001)
// routes by the request's authority over a single route configuration that holds a virtual host
// per service port, with port-qualified domains (a bare name means port 80). Inbound, the sidecar
// holds the pod's address on every port the pod serves (what interception achieves in Istio)
// and forwards to the workload on the pod-local address (127.0.0.1 inside the pod).

import type { VirtualServiceResource } from '../../config/types.js';
import { isHttpProtocol, resolveTargetPort } from '../../registry/registry.js';
import type { MeshService } from '../../registry/registry.js';
import type { Listener, RouteConfiguration, VirtualHost } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { httpFilterChain, socketAddress } from './common.js';
import { translateHttpRules } from './http-routes.js';
import { inboundClusterName, inboundListenerName, OUTBOUND_PORT, outboundClusterName, PASSTHROUGH_CLUSTER, PROXY_PORTS, VIRTUAL_OUTBOUND } from './names.js';

/** The ports this sidecar serves inbound: service target ports and declared container ports. */
export function inboundPorts(snapshot: MeshSnapshot, proxy: ProxyNode): { port: number; service?: MeshService }[] {
  const w = snapshot.workloadsByName.get(`${proxy.namespace}/${proxy.podName}`);
  if (!w) return [];
  const ports = new Map<number, MeshService | undefined>();
  // By hostname, so which Service names a shared port does not depend on manifest order.
  const services = [...snapshot.servicesOf(w)].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  for (const s of services) {
    for (const sp of s.ports) {
      if (!isHttpProtocol(sp.protocol)) continue;
      const p = resolveTargetPort(sp, w);
      if (p !== undefined && !PROXY_PORTS.has(p) && !ports.has(p)) ports.set(p, s);
    }
  }
  // The proxy's own ports (§2.13) are never inbound ports: 15001 would clash with virtualOutbound.
  for (const cp of w.ports) if (!PROXY_PORTS.has(cp.port) && !ports.has(cp.port)) ports.set(cp.port, undefined);
  return [...ports].sort(([a], [b]) => a - b).map(([port, service]) => ({ port, service }));
}

export function sidecarListeners(snapshot: MeshSnapshot, proxy: ProxyNode): Listener[] {
  const listeners: Listener[] = [
    {
      name: VIRTUAL_OUTBOUND,
      address: socketAddress('0.0.0.0', OUTBOUND_PORT),
      trafficDirection: 'OUTBOUND',
      filterChains: [httpFilterChain({ statPrefix: `outbound_0.0.0.0_${OUTBOUND_PORT}`, rds: VIRTUAL_OUTBOUND, useRemoteAddress: false, serverHeaderTransformation: 'PASS_THROUGH' })],
    },
  ];
  for (const { port, service } of inboundPorts(snapshot, proxy)) {
    const routeConfig: RouteConfiguration = {
      name: inboundClusterName(port),
      validateClusters: false,
      virtualHosts: [
        {
          name: `inbound|http|${port}`,
          domains: ['*'],
          routes: [
            {
              name: 'default',
              match: { prefix: '/' },
              route: { cluster: inboundClusterName(port), timeout: '0s' },
              decorator: { operation: service ? `${service.hostname}:${port}/*` : `${proxy.podName}:${port}/*` },
            },
          ],
        },
      ],
    };
    listeners.push({
      name: inboundListenerName(port),
      address: socketAddress('0.0.0.0', port),
      trafficDirection: 'INBOUND',
      filterChains: [httpFilterChain({ statPrefix: inboundListenerName(port), routeConfig, useRemoteAddress: false, serverName: 'envoy' })],
    });
  }
  return listeners;
}

/** Domains a service port answers to from this proxy's namespace (bare names only on port 80). */
export function serviceDomains(s: MeshService, port: number, proxyNamespace: string): string[] {
  const names = [s.hostname, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`];
  if (s.namespace === proxyNamespace) names.push(s.name);
  const out: string[] = [];
  for (const n of names) {
    if (port === 80) out.push(n);
    out.push(`${n}:${port}`);
  }
  return out;
}

export function sidecarRoutes(snapshot: MeshSnapshot, proxy: ProxyNode): RouteConfiguration[] {
  const vhosts: VirtualHost[] = [];
  const byHost = new Map<string, VirtualServiceResource>();
  // Sidecars apply only the first VirtualService for a host (Istio does not merge them there).
  for (const vs of snapshot.meshVirtualServices) {
    if (vs.spec.exportTo && !vs.spec.exportTo.some((e) => e === '*' || (e === '.' ? vs.metadata.namespace : e) === proxy.namespace)) continue;
    for (const h of vs.spec.hosts) {
      const fqdn = snapshot.resolveHost(h, vs.metadata.namespace);
      if (!byHost.has(fqdn)) byHost.set(fqdn, vs);
    }
  }
  const services = [...snapshot.registry.services].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  for (const s of services) {
    for (const sp of s.ports) {
      if (!isHttpProtocol(sp.protocol)) continue;
      const vs = byHost.get(s.hostname);
      const routes = vs
        ? translateHttpRules(snapshot, vs, { proxy, port: sp.port })
        : [
            {
              name: 'default',
              match: { prefix: '/' },
              route: { cluster: outboundClusterName(sp.port, '', s.hostname), timeout: '0s' },
              decorator: { operation: `${s.hostname}:${sp.port}/*` },
            },
          ];
      vhosts.push({ name: `${s.hostname}:${sp.port}`, domains: serviceDomains(s, sp.port, proxy.namespace), routes });
    }
  }
  // Hosts named by VirtualServices but backed by no Service (external names): any port.
  for (const [host, vs] of byHost) {
    if (snapshot.servicesByHost.has(host) || host.includes('*')) continue;
    vhosts.push({ name: `${host}:*`, domains: [host, `${host}:*`], routes: translateHttpRules(snapshot, vs, { proxy, port: 80 }) });
  }
  // Outbound traffic policy ALLOW_ANY (Istio's default): unknown hosts pass through.
  vhosts.push({ name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: PASSTHROUGH_CLUSTER, timeout: '0s' } }] });
  return [{ name: VIRTUAL_OUTBOUND, virtualHosts: vhosts, validateClusters: false }];
}
