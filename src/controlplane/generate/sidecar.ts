// Listeners and routes of a sidecar. Without iptables, a workload reaches the mesh through its
// sidecar as an HTTP proxy (HTTP_PROXY): one outbound listener (`virtualOutbound`, port 15001)
// routes by the request's authority over a single route configuration that holds a virtual host
// per service port, with port-qualified domains (a bare name means port 80). Inbound, the sidecar
// holds the pod's address on every port the pod serves (what interception achieves in Istio)
// and forwards to the workload on the pod-local address (127.0.0.1 inside the pod).

import type { VirtualServiceResource } from '../../config/types.js';
import { isHttpProtocol, resolveTargetPort } from '../../registry/registry.js';
import type { MeshService } from '../../registry/registry.js';
import type { AccessLog, Filter, FilterChain, HttpFilter, Listener, Route, RouteConfiguration, VirtualHost } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { httpFilterChain, socketAddress, tcpProxyFilter } from './common.js';
import { translateHttpRules } from './http-routes.js';
import type { RouteContext } from './http-routes.js';
import { tcpTargets } from './gateway-plan.js';
import { convertRetries } from './retry.js';
import { outboundTrafficMode, servicesForProxy } from './sidecar-scope.js';
import { inboundClusterName, inboundListenerName, OUTBOUND_PORT, outboundClusterName, PASSTHROUGH_CLUSTER, PROXY_PORTS, VIRTUAL_OUTBOUND } from './names.js';
import { securityFilters } from './security/security-filters.js';
import { inboundChains, peerAuthenticationMode } from './mesh-mtls.js';
import { hcmTracing } from './tracing.js';
import { inboundStatsFilter, outboundStatsFilter } from './telemetry/stats-filter.js';
import { accessLogsFor } from './telemetry/access-log.js';

/** A port this sidecar serves inbound, and whether it speaks HTTP or is proxied as TCP. */
export interface InboundPort {
  readonly port: number;
  readonly service?: MeshService;
  readonly tcp: boolean;
}

/** The ports this sidecar serves inbound: service target ports and declared container ports. */
export function inboundPorts(snapshot: MeshSnapshot, proxy: ProxyNode): InboundPort[] {
  const w = snapshot.workloadsByName.get(`${proxy.namespace}/${proxy.podName}`);
  if (!w) return [];
  const ports = new Map<number, InboundPort>();
  // By hostname, so which Service names a shared port does not depend on manifest order.
  const services = [...snapshot.servicesOf(w)].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  for (const s of services) {
    for (const sp of s.ports) {
      const p = resolveTargetPort(sp, w);
      if (p !== undefined && !PROXY_PORTS.has(p) && !ports.has(p)) ports.set(p, { port: p, service: s, tcp: !isHttpProtocol(sp.protocol) });
    }
  }
  // The proxy's own ports (§2.13) are never inbound ports: 15001 would clash with virtualOutbound.
  for (const cp of w.ports) if (!PROXY_PORTS.has(cp.port) && !ports.has(cp.port)) ports.set(cp.port, { port: cp.port, tcp: false });
  return [...ports.values()].sort((a, b) => a.port - b.port);
}

/**
 * TLS a workload sends through its sidecar (CONNECT to host:443, as curl does for https URLs
 * behind HTTP_PROXY) is passed through untouched: to the ServiceEntry or Service for the SNI
 * and port, or, under ALLOW_ANY, to where the client asked (PassthroughCluster).
 */
function egressTlsChains(snapshot: MeshSnapshot, proxy: ProxyNode, allowAny: boolean, stats: readonly Filter[], accessLog: readonly AccessLog[]): FilterChain[] {
  const chains: FilterChain[] = [];
  const services = byHostname(servicesForProxy(snapshot, proxy));
  const vsByHost = meshVirtualServiceByHost(snapshot, proxy);
  for (const s of services) {
    for (const sp of s.ports) {
      if (sp.protocol !== 'HTTPS' && sp.protocol !== 'TLS') continue;
      // A mesh VirtualService `tls` rule for this SNI and port may send it elsewhere (VS-26).
      const vs = vsByHost.get(s.hostname);
      const rule = vs?.spec.tls.find((r) =>
        r.match.some(
          (m) =>
            (m.port === undefined || m.port === sp.port) &&
            m.sniHosts.some((h) => h === s.hostname || (h.startsWith('*.') && s.hostname.endsWith(h.slice(1)))) &&
            (!m.gateways?.length || m.gateways.includes('mesh')) &&
            (!m.sourceLabels || Object.entries(m.sourceLabels).every(([k, v]) => proxy.labels[k] === v)),
        ),
      );
      const targets = vs && rule ? tcpTargets(snapshot, vs, rule.route, sp.port) : [{ name: outboundClusterName(sp.port, '', s.hostname), weight: 1 }];
      chains.push({
        name: `outbound_tls_${sp.port}_${s.hostname}`,
        filterChainMatch: { transportProtocol: 'tls', destinationPort: sp.port, serverNames: [s.hostname] },
        filters: [...stats, tcpProxyFilter(`outbound|${sp.port}||${s.hostname}`, targets, accessLog)],
      });
    }
  }
  if (allowAny) chains.push({ name: 'passthrough_tls', filterChainMatch: { transportProtocol: 'tls' }, filters: [...stats, tcpProxyFilter('PassthroughCluster', [{ name: PASSTHROUGH_CLUSTER, weight: 1 }], accessLog)] });
  return chains;
}

/**
 * Plain TCP a workload sends through its sidecar: an HTTP_PROXY client can only send non-HTTP
 * bytes in a CONNECT tunnel, whose host (standing in for the destination IP Istio matches on)
 * and port choose the service; the first mesh VirtualService `tcp` rule for that port may split
 * connections by weight (VS-25), otherwise they go to the service's cluster.
 */
function egressTcpChains(snapshot: MeshSnapshot, proxy: ProxyNode, services: readonly MeshService[], stats: readonly Filter[], accessLog: readonly AccessLog[]): FilterChain[] {
  const vsByHost = meshVirtualServiceByHost(snapshot, proxy);
  const chains: FilterChain[] = [];
  for (const s of services) {
    for (const sp of s.ports) {
      if (isHttpProtocol(sp.protocol) || sp.protocol === 'HTTPS' || sp.protocol === 'TLS') continue;
      const vs = vsByHost.get(s.hostname);
      const rule = vs?.spec.tcp.find(
        (r) => r.match.length === 0 || r.match.some((m) => (m.port === undefined || m.port === sp.port) && (!m.gateways?.length || m.gateways.includes('mesh')) && (!m.sourceLabels || Object.entries(m.sourceLabels).every(([k, v]) => proxy.labels[k] === v))),
      );
      const targets = vs && rule ? tcpTargets(snapshot, vs, rule.route, sp.port) : [{ name: outboundClusterName(sp.port, '', s.hostname), weight: 1 }];
      chains.push({
        name: `outbound_tcp_${sp.port}_${s.hostname}`,
        filterChainMatch: { transportProtocol: 'raw_buffer', destinationPort: sp.port, serverNames: serviceNames(s, proxy.namespace) },
        filters: [...stats, tcpProxyFilter(`outbound|${sp.port}||${s.hostname}`, targets, accessLog)],
      });
    }
  }
  return chains;
}

export function sidecarListeners(snapshot: MeshSnapshot, proxy: ProxyNode): Listener[] {
  const allowAny = outboundTrafficMode(snapshot, proxy) === 'ALLOW_ANY';
  // Istio's standard metrics: reporter source on the outbound listener (HTTP and TCP chains).
  const outStats = outboundStatsFilter(snapshot, proxy);
  const outTcpStats = outStats ? [outStats as Filter] : [];
  // Access logs: outbound is the CLIENT side, inbound the SERVER side (Telemetry match.mode).
  const outLog = accessLogsFor(snapshot, proxy, 'sidecar-outbound');
  const inLog = accessLogsFor(snapshot, proxy, 'sidecar-inbound');
  const listeners: Listener[] = [
    {
      name: VIRTUAL_OUTBOUND,
      address: socketAddress('0.0.0.0', OUTBOUND_PORT),
      trafficDirection: 'OUTBOUND',
      filterChains: [
        {
          name: 'virtualOutbound-http',
          filterChainMatch: { transportProtocol: 'raw_buffer' },
          ...httpFilterChain({ statPrefix: `outbound_0.0.0.0_${OUTBOUND_PORT}`, rds: VIRTUAL_OUTBOUND, useRemoteAddress: false, serverHeaderTransformation: 'PASS_THROUGH', connect: true, pathNormalization: snapshot.meshConfig.pathNormalization.normalization, tracing: hcmTracing(snapshot, proxy, 'sidecar-outbound'), accessLog: outLog, ...(outStats ? { statsFilter: outStats as HttpFilter } : {}) }),
        },
        ...egressTcpChains(snapshot, proxy, byHostname(servicesForProxy(snapshot, proxy)), outTcpStats, outLog),
        ...egressTlsChains(snapshot, proxy, allowAny, outTcpStats, outLog),
      ],
    },
  ];
  // AuthorizationPolicy and RequestAuthentication filters, the same on every inbound port.
  const security = securityFilters(snapshot, proxy);
  const inboundTracing = hcmTracing(snapshot, proxy, 'sidecar-inbound');
  for (const { port, service, tcp } of inboundPorts(snapshot, proxy)) {
    // PeerAuthentication decides whether the port takes mTLS, plaintext, or both (mesh-mtls.ts).
    const mtls = snapshot.mesh.meshMtls ? peerAuthenticationMode(snapshot, proxy, port) : 'DISABLE';
    // Istio's standard metrics, reporter destination, with the port's Service.
    const inStats = inboundStatsFilter(snapshot, proxy, service, tcp);
    if (tcp) {
      listeners.push({
        name: inboundListenerName(port),
        address: socketAddress('0.0.0.0', port),
        trafficDirection: 'INBOUND',
        filterChains: inboundChains(mtls, () => ({ filters: [...security.tcp, ...(inStats ? [inStats as Filter] : []), tcpProxyFilter(inboundListenerName(port), [{ name: inboundClusterName(port), weight: 1 }], inLog)] })),
      });
      continue;
    }
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
              // Inbound routes retry only resets before the request reached the workload (VS-17).
              route: { cluster: inboundClusterName(port), timeout: '0s', retryPolicy: { retryOn: 'reset-before-request', numRetries: 2 } },
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
      filterChains: inboundChains(mtls, () =>
        httpFilterChain({ statPrefix: inboundListenerName(port), routeConfig, useRemoteAddress: false, serverName: 'envoy', securityFilters: security.http, forwardClientCert: 'APPEND_FORWARD', pathNormalization: snapshot.meshConfig.pathNormalization.normalization, tracing: inboundTracing, accessLog: inLog, ...(inStats ? { statsFilter: inStats as HttpFilter } : {}) }),
      ),
    });
  }
  return listeners;
}

/** Services sorted by hostname, so generated config does not depend on manifest order. */
function byHostname(services: readonly MeshService[]): MeshService[] {
  return [...services].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
}

/**
 * Domains a service port answers to from this proxy's namespace (bare names only on port 80).
 * A Kubernetes Service has its DNS aliases; a ServiceEntry host is only itself.
 */
export function serviceDomains(s: MeshService, port: number, proxyNamespace: string): string[] {
  const out: string[] = [];
  for (const n of serviceNames(s, proxyNamespace)) {
    if (port === 80) out.push(n);
    out.push(`${n}:${port}`);
  }
  return out;
}

/** The names a service answers to from a namespace, without ports (Kubernetes DNS search path). */
function serviceNames(s: MeshService, proxyNamespace: string): string[] {
  if (s.registry === 'ServiceEntry') return [s.hostname];
  const names = [s.hostname, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`];
  if (s.namespace === proxyNamespace) names.push(s.name);
  return names;
}

/** The mesh VirtualService for each host this proxy sees: the first one (Istio does not merge them on sidecars). */
function meshVirtualServiceByHost(snapshot: MeshSnapshot, proxy: ProxyNode): Map<string, VirtualServiceResource> {
  const byHost = new Map<string, VirtualServiceResource>();
  for (const vs of snapshot.meshVirtualServices) {
    if (vs.spec.exportTo && !vs.spec.exportTo.some((e) => e === '*' || (e === '.' ? vs.metadata.namespace : e) === proxy.namespace)) continue;
    for (const h of vs.spec.hosts) {
      const fqdn = snapshot.resolveHost(h, vs.metadata.namespace);
      if (!byHost.has(fqdn)) byHost.set(fqdn, vs);
    }
  }
  return byHost;
}

export function sidecarRoutes(snapshot: MeshSnapshot, proxy: ProxyNode, hash?: RouteContext['hashPolicy']): RouteConfiguration[] {
  const vhosts: VirtualHost[] = [];
  const byHost = meshVirtualServiceByHost(snapshot, proxy);
  const mesh = snapshot.meshConfig;
  const hashPolicy: RouteContext['hashPolicy'] = (fqdn, port, subset) => (hash ? hash(fqdn, port, subset) : undefined);
  const services = byHostname(servicesForProxy(snapshot, proxy));
  for (const s of services) {
    for (const sp of s.ports) {
      if (!isHttpProtocol(sp.protocol)) continue;
      const vs = byHost.get(s.hostname);
      let routes: Route[];
      if (vs) {
        routes = translateHttpRules(snapshot, vs, { proxy, port: sp.port, hashPolicy });
      } else {
        // No VirtualService: the default route, with Istio's default retry policy (VS-17).
        const h = hashPolicy(s.hostname, sp.port, '');
        const retryPolicy = convertRetries(undefined, mesh, (h?.length ?? 0) > 0);
        routes = [
          {
            name: 'default',
            match: { prefix: '/' },
            route: { cluster: outboundClusterName(sp.port, '', s.hostname), timeout: '0s', ...(retryPolicy ? { retryPolicy } : {}), ...(h?.length ? { hashPolicy: h } : {}) },
            decorator: { operation: `${s.hostname}:${sp.port}/*` },
          },
        ];
      }
      vhosts.push({ name: `${s.hostname}:${sp.port}`, domains: serviceDomains(s, sp.port, proxy.namespace), routes });
    }
  }
  // Hosts named by VirtualServices but backed by no Service (external names): any port.
  for (const [host, vs] of byHost) {
    if (snapshot.servicesByHost.has(host) || host.includes('*')) continue;
    vhosts.push({ name: `${host}:*`, domains: [host, `${host}:*`], routes: translateHttpRules(snapshot, vs, { proxy, port: 80, hashPolicy }) });
  }
  if (outboundTrafficMode(snapshot, proxy) === 'ALLOW_ANY') {
    // ALLOW_ANY (Istio's default): unknown hosts pass through to where the client asked.
    vhosts.push({ name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: PASSTHROUGH_CLUSTER, timeout: '0s' } }] });
  } else {
    // REGISTRY_ONLY: hosts outside the registry get a 502 that says why (SC-02, TASK-10).
    vhosts.push({
      name: 'block_all',
      domains: ['*'],
      routes: [
        {
          name: 'block_all',
          match: { prefix: '/' },
          directResponse: { status: 502, body: { inlineString: 'the outbound traffic policy is REGISTRY_ONLY and this host is not in the mesh registry (add a ServiceEntry for it)\n' } },
          metadata: { filterMetadata: { strait: { responseFlag: 'NR', details: 'registry_only_blocked' } } },
        },
      ],
    });
  }
  return [{ name: VIRTUAL_OUTBOUND, virtualHosts: vhosts, validateClusters: false }];
}
