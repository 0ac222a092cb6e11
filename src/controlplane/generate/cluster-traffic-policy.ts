// A resolved DestinationRule traffic policy applied to an Envoy Cluster, as Istio's
// pilot/pkg/networking/core/cluster_traffic_policy.go does it:
//
//   connection pool (DR-06/07, both directions): connectTimeout (MeshConfig.connectTimeout unless
//     tcp.connectTimeout), circuit-breaker thresholds always written with 2^32-1 for what is unset
//     (Istio's values, not Envoy's 1024), tcpKeepalive, idle timeout (http, else tcp), requests
//     and lifetime per connection, HTTP/2 concurrent streams;
//   HTTP/2 (outbound): ports whose protocol is HTTP2 or GRPC, or h2UpgradePolicy UPGRADE;
//   outlier detection (DR-08): only what is set, enforcing 100 for a count above 0, success-rate
//     ejection off, minHealthPercent as the healthy panic threshold;
//   load balancer (DR-02/03): LEAST_REQUEST by default; PASSTHROUGH turns the cluster into an
//     ORIGINAL_DST one; consistentHash picks RING_HASH or MAGLEV (the hash key itself is a route
//     hash policy, destination-policy.ts).
//
// The functions fill in the Cluster object the caller is building; they never touch their inputs.

import type { MeshConfig as IstioMeshConfig } from '../../config/types.js';
import type { PortProtocol } from '../../registry/registry.js';
import type { CircuitBreakerThresholds, Cluster, OutlierDetection as EnvoyOutlierDetection } from '../../xds/resources.js';
import { protoDuration } from './destination-policy.js';
import type { EffectivePolicy } from './destination-policy.js';

/** Istio writes this (math.MaxUint32) for every threshold the DestinationRule leaves unset. */
export const UINT32_MAX = 4294967295;

/** Istio's getDefaultCircuitBreakerThresholds. */
function defaultThresholds(): CircuitBreakerThresholds {
  return { maxConnections: UINT32_MAX, maxPendingRequests: UINT32_MAX, maxRequests: UINT32_MAX, maxRetries: UINT32_MAX };
}

/** Ports Istio sends HTTP/2 to without being asked (protocol.IsHTTP2). */
export function isHttp2Protocol(p: PortProtocol | undefined): boolean {
  return p === 'HTTP2' || p === 'GRPC';
}

/**
 * DR-06/07: connect timeout, circuit breakers, keepalive and HTTP connection options. Applied to
 * outbound and inbound clusters alike (Istio applies the server side's limits too).
 */
export function applyConnectionPool(c: Cluster, policy: EffectivePolicy, mesh: IstioMeshConfig): void {
  const pool = policy.connectionPool ?? {};
  const t = defaultThresholds();
  const http = pool.http;
  const tcp = pool.tcp;
  // Envoy applies maxRequests to HTTP/2 and maxPendingRequests to HTTP/1.1 clusters.
  if (http?.http2MaxRequests) t.maxRequests = http.http2MaxRequests;
  if (http?.http1MaxPendingRequests) t.maxPendingRequests = http.http1MaxPendingRequests;
  if (http?.maxRetries) t.maxRetries = http.maxRetries;
  if (tcp?.maxConnections) t.maxConnections = tcp.maxConnections;
  const budget = policy.retryBudget;
  if (budget) t.retryBudget = { budgetPercent: { value: budget.percent?.value ?? 20 }, minRetryConcurrency: budget.minRetryConcurrency ?? 3 };
  c.connectTimeout = protoDuration((tcp?.connectTimeout ?? mesh.connectTimeout).ms);
  c.circuitBreakers = { thresholds: [t] };

  const ka = tcp?.tcpKeepalive;
  if (ka) {
    // An empty tcpKeepalive turns SO_KEEPALIVE on with the OS's settings; Envoy takes seconds.
    c.upstreamConnectionOptions = {
      tcpKeepalive: {
        ...(ka.probes !== undefined ? { keepaliveProbes: ka.probes } : {}),
        ...(ka.time !== undefined ? { keepaliveTime: Math.floor(ka.time.ms / 1000) } : {}),
        ...(ka.interval !== undefined ? { keepaliveInterval: Math.floor(ka.interval.ms / 1000) } : {}),
      },
    };
  }

  // Istio sets only what the rule sets: Envoy's own default idle timeout (1h) applies otherwise.
  const idle = http?.idleTimeout ?? tcp?.idleTimeout;
  const options: NonNullable<Cluster['commonHttpProtocolOptions']> = {};
  if (idle !== undefined) options.idleTimeout = protoDuration(idle.ms);
  if (http?.maxRequestsPerConnection) options.maxRequestsPerConnection = http.maxRequestsPerConnection;
  if (tcp?.maxConnectionDuration !== undefined) options.maxConnectionDuration = protoDuration(tcp.maxConnectionDuration.ms);
  if (Object.keys(options).length) c.commonHttpProtocolOptions = options;
  if (c.http2ProtocolOptions && http?.maxConcurrentStreams) c.http2ProtocolOptions = { maxConcurrentStreams: http.maxConcurrentStreams };
}

/**
 * Whether an outbound cluster speaks HTTP/2 upstream (Istio's setUpstreamProtocol and
 * shouldH2Upgrade): the port's protocol is HTTP2 or GRPC, or the rule asks to UPGRADE.
 * DO_NOT_UPGRADE only prevents an upgrade; it never downgrades an HTTP/2 port. The mesh-wide
 * h2UpgradePolicy is not part of Strait's mesh config (Istio's default, DO_NOT_UPGRADE, applies).
 */
export function speaksHttp2(protocol: PortProtocol | undefined, policy: EffectivePolicy): boolean {
  return isHttp2Protocol(protocol) || policy.connectionPool?.http?.h2UpgradePolicy === 'UPGRADE';
}

/** DR-08, Istio's applyOutlierDetection. */
export function applyOutlierDetection(c: Cluster, policy: EffectivePolicy): void {
  const o = policy.outlierDetection;
  if (!o) return;
  // Success-rate ejection is always off in Istio.
  const out: EnvoyOutlierDetection = { enforcingSuccessRate: 0 };
  // Unset counts are left to Envoy's defaults (5 consecutive 5xx enforced; gateway errors not).
  if (o.consecutive5xxErrors !== undefined) {
    out.consecutive5xx = o.consecutive5xxErrors;
    out.enforcingConsecutive5xx = o.consecutive5xxErrors > 0 ? 100 : 0;
  }
  if (o.consecutiveGatewayErrors !== undefined) {
    out.consecutiveGatewayFailure = o.consecutiveGatewayErrors;
    out.enforcingConsecutiveGatewayFailure = o.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  if (o.interval !== undefined) out.interval = protoDuration(o.interval.ms);
  if (o.baseEjectionTime !== undefined) out.baseEjectionTime = protoDuration(o.baseEjectionTime.ms);
  if (o.maxEjectionPercent !== undefined && o.maxEjectionPercent > 0) out.maxEjectionPercent = o.maxEjectionPercent;
  if (o.splitExternalLocalOriginErrors) {
    out.splitExternalLocalOriginErrors = true;
    if (o.consecutiveLocalOriginFailures !== undefined && o.consecutiveLocalOriginFailures > 0) {
      out.consecutiveLocalOriginFailure = o.consecutiveLocalOriginFailures;
      out.enforcingConsecutiveLocalOriginFailure = 100;
    }
  }
  c.outlierDetection = out;
  // Istio always writes the panic threshold with outlier detection (0 unless minHealthPercent):
  // Envoy's 50% would send traffic to ejected hosts in the few-pod services of Kubernetes.
  c.commonLbConfig = { ...c.commonLbConfig, healthyPanicThreshold: { value: o.minHealthPercent ?? 0 } };
}

/**
 * DR-02/03, Istio's applyLoadBalancer. An ORIGINAL_DST cluster keeps CLUSTER_PROVIDED; PASSTHROUGH
 * makes the cluster ORIGINAL_DST (its endpoints are the destination the client asked for).
 */
export function applyLoadBalancer(c: Cluster, policy: EffectivePolicy): void {
  const lb = policy.loadBalancer;
  if (c.type === 'ORIGINAL_DST') {
    c.lbPolicy = 'CLUSTER_PROVIDED';
    return;
  }
  switch (lb?.simple) {
    case 'RANDOM':
      c.lbPolicy = 'RANDOM';
      break;
    case 'ROUND_ROBIN':
      c.lbPolicy = 'ROUND_ROBIN';
      break;
    case 'PASSTHROUGH':
      c.type = 'ORIGINAL_DST';
      c.lbPolicy = 'CLUSTER_PROVIDED';
      delete c.edsClusterConfig;
      delete c.loadAssignment;
      delete c.dnsLookupFamily;
      return;
    default:
      // LEAST_REQUEST, and Istio's default when nothing is set.
      c.lbPolicy = 'LEAST_REQUEST';
  }
  const ch = lb?.consistentHash;
  if (ch?.maglev) {
    c.lbPolicy = 'MAGLEV';
    if (ch.maglev.tableSize) c.maglevLbConfig = { tableSize: ch.maglev.tableSize };
  } else if (ch) {
    c.lbPolicy = 'RING_HASH';
    if (ch.ringHash?.minimumRingSize) c.ringHashLbConfig = { minimumRingSize: ch.ringHash.minimumRingSize };
  }
}
