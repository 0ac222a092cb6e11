// Clusters for a proxy, as Istio's pilot/pkg/networking/core/cluster.go builds them:
//
//   outbound  for every service the proxy sees (sidecar-scope.ts: exportTo, Sidecar egress hosts)
//             and every port of it, `outbound|<port>||<host>`, plus `outbound|<port>|<subset>|<host>`
//             for each subset of the DestinationRule the proxy applies to the host (DR-01). The
//             discovery type follows the service's resolution (SE-02): EDS for Kubernetes Services
//             and STATIC entries, STRICT_DNS / LOGICAL_DNS with the names to resolve for DNS /
//             DNS_ROUND_ROBIN entries, ORIGINAL_DST for NONE (on sidecars; gateways cannot forward
//             to an original destination and get EDS, as in Istio) and for PASSTHROUGH load
//             balancing. The DestinationRule's policy for the port and subset (destination-policy.ts)
//             becomes load balancing, circuit breakers, outlier detection, HTTP/2 and TLS
//             (cluster-traffic-policy.ts, cluster-tls.ts). A DNS cluster whose subset selects no
//             endpoint is left out, as Istio leaves it out.
//   special   PassthroughCluster (sidecars only: unknown hosts under ALLOW_ANY) and BlackHoleCluster.
//   inbound   for a sidecar, a static cluster per inbound port to the workload on the pod-local
//             address, with the connection limits of the DestinationRule of the service on that
//             port (Istio sets the server side's circuit breakers too).
//
// The outbound plan (outboundClusters) is shared with endpoints.ts, so every EDS cluster has its
// ClusterLoadAssignment and no other; it is computed once per snapshot and proxy.

import type { DestinationRuleResource, Subset } from '../../config/types.js';
import { resolveTargetPort, selects } from '../../registry/registry.js';
import type { MeshService, MeshServicePort } from '../../registry/registry.js';
import type { Cluster, LbEndpoint, Metadata } from '../../xds/resources.js';
import type { Endpoint, MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { applyConnectionPool, applyLoadBalancer, applyOutlierDetection, isHttp2Protocol, speaksHttp2 } from './cluster-traffic-policy.js';
import { upstreamTransportSocket } from './cluster-tls.js';
import { applyMeshMtls, endpointSpeaksMtls, expectedIdentities, withTlsMode } from './mesh-mtls.js';
import { socketAddress } from './common.js';
import { destinationRuleFor, mergeTrafficPolicy, protoDuration } from './destination-policy.js';
import type { EffectivePolicy } from './destination-policy.js';
import { BLACKHOLE_CLUSTER, inboundClusterName, outboundClusterName, PASSTHROUGH_CLUSTER } from './names.js';
import { servicesForProxy } from './sidecar-scope.js';
import { endpointPeerMetadata } from './telemetry/stats-filter.js';
import { inboundPorts } from './sidecar.js';

export type OutboundClusterType = 'EDS' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';

/** One outbound cluster of a proxy, before it is written as an Envoy Cluster. */
export interface OutboundCluster {
  readonly name: string;
  readonly service: MeshService;
  readonly port: MeshServicePort;
  /** The DestinationRule the proxy applies to the service's host, if any. */
  readonly rule?: DestinationRuleResource;
  readonly subset?: Subset;
  /** The rule's policy for this port and subset. */
  readonly policy: EffectivePolicy;
  readonly type: OutboundClusterType;
  /** EDS: the ClusterLoadAssignment's endpoints; DNS: the names to resolve; ORIGINAL_DST: none. */
  readonly endpoints: readonly Endpoint[];
}

const plans = new WeakMap<MeshSnapshot, WeakMap<ProxyNode, OutboundCluster[]>>();

/** Istio's convertResolution: the discovery type a service's resolution asks for (SE-02). */
function discoveryType(service: MeshService, proxy: ProxyNode): OutboundClusterType {
  switch (service.resolution) {
    case 'DNS':
      return 'STRICT_DNS';
    case 'DNS_ROUND_ROBIN':
      return 'LOGICAL_DNS';
    case 'PASSTHROUGH':
      return proxy.type === 'router' ? 'EDS' : 'ORIGINAL_DST';
    default:
      return 'EDS';
  }
}

/** The endpoints a cluster of this type carries: DNS entries without endpoints resolve their own host. */
function endpointsFor(snapshot: MeshSnapshot, service: MeshService, port: MeshServicePort, type: OutboundClusterType): readonly Endpoint[] {
  if (type === 'ORIGINAL_DST') return [];
  if ((type === 'STRICT_DNS' || type === 'LOGICAL_DNS') && (service.entryEndpoints ?? []).length === 0) {
    if (service.hostname.includes('*')) return [];
    return [{ address: service.hostname, port: typeof port.targetPort === 'number' ? port.targetPort : port.port, labels: {} }];
  }
  return snapshot.endpoints(service, port);
}

/** The outbound clusters of a proxy, sorted by host, then port (service order), default before subsets. */
export function outboundClusters(snapshot: MeshSnapshot, proxy: ProxyNode): readonly OutboundCluster[] {
  let byProxy = plans.get(snapshot);
  if (!byProxy) plans.set(snapshot, (byProxy = new WeakMap()));
  const cached = byProxy.get(proxy);
  if (cached) return cached;
  const out: OutboundCluster[] = [];
  for (const service of servicesForProxy(snapshot, proxy)) {
    const rule = destinationRuleFor(snapshot, proxy, service.hostname);
    const base = discoveryType(service, proxy);
    for (const port of service.ports) {
      const all = endpointsFor(snapshot, service, port, base);
      const entry = (subset: Subset | undefined): OutboundCluster | undefined => {
        const policy = mergeTrafficPolicy(rule?.spec.trafficPolicy, subset?.trafficPolicy, port.port);
        // PASSTHROUGH load balancing forwards to the original destination (DR-02).
        const type = policy.loadBalancer?.simple === 'PASSTHROUGH' ? 'ORIGINAL_DST' : base;
        const endpoints = type === 'ORIGINAL_DST' ? [] : subset ? all.filter((e) => subsetSelects(subset, e)) : all;
        // A DNS cluster needs something to resolve; Istio builds none without endpoints.
        if ((type === 'STRICT_DNS' || type === 'LOGICAL_DNS') && endpoints.length === 0) return undefined;
        return {
          name: outboundClusterName(port.port, subset?.name ?? '', service.hostname),
          service,
          port,
          ...(rule ? { rule } : {}),
          ...(subset ? { subset } : {}),
          policy,
          type,
          endpoints,
        };
      };
      for (const s of [undefined, ...(rule?.spec.subsets ?? [])]) {
        const c = entry(s);
        if (c) out.push(c);
      }
    }
  }
  byProxy.set(proxy, out);
  return out;
}

/** A subset selects the endpoints whose labels include all of its labels; `{}` selects all. */
function subsetSelects(subset: Subset, e: Endpoint): boolean {
  return Object.keys(subset.labels).length === 0 || selects(subset.labels, e.labels);
}

/**
 * How the cluster uses mesh mTLS: AUTO (per endpoint, Istio's auto mTLS: no DestinationRule TLS
 * setting, an in-mesh destination), ISTIO_MUTUAL (the rule asks for it), or none.
 */
export function meshMtlsMode(snapshot: MeshSnapshot, oc: OutboundCluster): 'AUTO' | 'ISTIO_MUTUAL' | null {
  if (!snapshot.mesh.meshMtls) return null;
  const tls = oc.policy.tls;
  if (tls) return tls.mode === 'ISTIO_MUTUAL' ? 'ISTIO_MUTUAL' : null;
  if (oc.service.location === 'MESH_EXTERNAL' || oc.service.registry === 'ServiceEntry') return null;
  return 'AUTO';
}

/**
 * Cluster endpoints by snapshot, then by the DestinationRule the proxy applies (its subsets and
 * TLS settings decide them; null: none) and by cluster name and type: every proxy of a push that
 * applies the same rule shares one list, so the control plane encodes it once (the endpoints are
 * most of a large mesh's config).
 */
const lbEndpointCache = new WeakMap<MeshSnapshot, Map<DestinationRuleResource | null, Map<string, readonly LbEndpoint[]>>>();

/** The cluster's endpoints, labelled `tlsMode: istio` where auto mTLS applies to them. Shared: never mutate. */
export function clusterLbEndpoints(snapshot: MeshSnapshot, oc: OutboundCluster): readonly LbEndpoint[] {
  let byRule = lbEndpointCache.get(snapshot);
  if (!byRule) lbEndpointCache.set(snapshot, (byRule = new Map()));
  let byName = byRule.get(oc.rule ?? null);
  if (!byName) byRule.set(oc.rule ?? null, (byName = new Map()));
  const key = `${oc.type} ${oc.name}`;
  let r = byName.get(key);
  if (!r) byName.set(key, (r = computeLbEndpoints(snapshot, oc)));
  return r;
}

function computeLbEndpoints(snapshot: MeshSnapshot, oc: OutboundCluster): LbEndpoint[] {
  const mode = meshMtlsMode(snapshot, oc);
  return oc.endpoints.map((e) => {
    const auto = mode === 'AUTO' && endpointSpeaksMtls(snapshot, e);
    return withTlsMode(lbEndpoint(snapshot, e, auto || mode === 'ISTIO_MUTUAL'), auto);
  });
}

/**
 * An endpoint as Envoy's LbEndpoint (EDS and DNS clusters alike). A pod's endpoint names its
 * workload in the metadata (istio.stats labels the destination from it), with its principal
 * when the proxy reaches it over mTLS.
 */
export function lbEndpoint(snapshot: MeshSnapshot, e: Endpoint, mtls: boolean): LbEndpoint {
  return {
    endpoint: { address: socketAddress(e.address, e.port) },
    healthStatus: 'HEALTHY',
    ...(e.weight !== undefined ? { loadBalancingWeight: e.weight } : {}),
    ...(e.workload ? { metadata: endpointPeerMetadata(snapshot, e.workload, mtls) } : {}),
  };
}

function clusterMetadata(oc: OutboundCluster): Metadata {
  const s = oc.service;
  const istio: Record<string, unknown> = { services: [{ host: s.hostname, name: s.name, namespace: s.namespace }] };
  // Istio's AddConfigInfoMetadata / AddSubsetToMetadata: where the cluster's policy came from.
  if (oc.rule) istio.config = `/apis/${oc.rule.apiVersion}/namespaces/${oc.rule.metadata.namespace}/destination-rule/${oc.rule.metadata.name}`;
  if (oc.subset) istio.subset = oc.subset.name;
  if (s.location === 'MESH_EXTERNAL') istio.external = true;
  return { filterMetadata: { istio } };
}

/** The Envoy Cluster of one planned outbound cluster. */
export function outboundCluster(snapshot: MeshSnapshot, proxy: ProxyNode, oc: OutboundCluster): Cluster {
  const c: Cluster = { name: oc.name, type: oc.type };
  if (oc.type === 'EDS') c.edsClusterConfig = { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: oc.name };
  if (oc.type === 'STRICT_DNS' || oc.type === 'LOGICAL_DNS') {
    // Istio resolves the address family the proxy has (its IPs are all IPv4 or all IPv6 here).
    c.dnsLookupFamily = proxy.ip.includes(':') ? 'V6_ONLY' : 'V4_ONLY';
    c.loadAssignment = { clusterName: oc.name, endpoints: [{ lbEndpoints: clusterLbEndpoints(snapshot, oc) as LbEndpoint[] }] };
  }
  const http2 = speaksHttp2(oc.port.protocol, oc.policy);
  if (http2) c.http2ProtocolOptions = {};
  applyConnectionPool(c, oc.policy, snapshot.meshConfig);
  applyOutlierDetection(c, oc.policy);
  applyLoadBalancer(c, oc.policy);
  const ts = upstreamTransportSocket(snapshot, proxy, oc.policy.tls, { host: oc.service.hostname, serviceSans: oc.service.subjectAltNames ?? [], http2 });
  if (ts) c.transportSocket = ts;
  const mtls = meshMtlsMode(snapshot, oc);
  if (mtls) applyMeshMtls(c, mtls, expectedIdentities(snapshot, oc.service, oc.endpoints), http2);
  c.metadata = clusterMetadata(oc);
  return c;
}

/** Inbound: the connection limits of the service's DestinationRule on the service port (DR-06/07). */
function inboundCluster(snapshot: MeshSnapshot, proxy: ProxyNode, port: number, service: MeshService | undefined): Cluster {
  const w = snapshot.workloadsByName.get(`${proxy.namespace}/${proxy.podName}`);
  const sp = service && w ? service.ports.find((p) => resolveTargetPort(p, w) === port) : undefined;
  const rule = service && sp ? destinationRuleFor(snapshot, proxy, service.hostname, 'inbound') : undefined;
  const policy = sp ? mergeTrafficPolicy(rule?.spec.trafficPolicy, undefined, sp.port) : {};
  const name = inboundClusterName(port);
  const c: Cluster = {
    name,
    type: 'STATIC',
    lbPolicy: 'ROUND_ROBIN',
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: socketAddress('127.0.0.1', port) } }] }] },
  };
  // The workload is sent HTTP/2 on an HTTP2/GRPC port, as Istio does for inbound clusters.
  if (isHttp2Protocol(sp?.protocol)) c.http2ProtocolOptions = {};
  applyConnectionPool(c, { ...(policy.connectionPool ? { connectionPool: policy.connectionPool } : {}) }, snapshot.meshConfig);
  return c;
}

export function generateClusters(snapshot: MeshSnapshot, proxy: ProxyNode): Cluster[] {
  const clusters = outboundClusters(snapshot, proxy).map((oc) => outboundCluster(snapshot, proxy, oc));
  const connectTimeout = protoDuration(snapshot.meshConfig.connectTimeout.ms);
  if (proxy.type === 'sidecar') {
    // Gateways have no original-destination listeners, so Istio gives them no PassthroughCluster.
    const passthrough: Cluster = { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' };
    applyConnectionPool(passthrough, {}, snapshot.meshConfig);
    clusters.push(passthrough);
  }
  clusters.push({ name: BLACKHOLE_CLUSTER, type: 'STATIC', connectTimeout, lbPolicy: 'ROUND_ROBIN' });
  if (proxy.type === 'sidecar') {
    for (const { port, service } of inboundPorts(snapshot, proxy)) clusters.push(inboundCluster(snapshot, proxy, port, service));
  }
  return clusters;
}
