// Test-only: Istio standard-metric expositions as the seed's proxies write them (label names
// from istio.io's metrics reference, MET-01/02), for the dashboard's unit tests. Kept beside
// the code so each test states only the counts it is about.

export interface Hop {
  reporter: 'source' | 'destination';
  src: [workload: string, namespace: string, serviceAccount: string];
  dst: [workload: string, namespace: string, serviceAccount: string, service: string, version?: string];
  code?: number;
  flags?: string;
  mtls?: boolean;
}

const ISTIO_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

function labelsText(h: Hop): string {
  const [sw, sns, ssa] = h.src;
  const [dw, dns, dsa, svc, ver] = h.dst;
  const l: [string, string][] = [
    ['reporter', h.reporter],
    ['source_workload', sw],
    ['source_canonical_service', sw],
    ['source_canonical_revision', 'latest'],
    ['source_workload_namespace', sns],
    ['source_principal', h.mtls === false ? 'unknown' : `spiffe://cluster.local/ns/${sns}/sa/${ssa}`],
    ['source_app', sw],
    ['source_version', 'unknown'],
    ['source_cluster', 'Kubernetes'],
    ['destination_workload', dw],
    ['destination_workload_namespace', dns],
    ['destination_principal', h.mtls === false ? 'unknown' : `spiffe://cluster.local/ns/${dns}/sa/${dsa}`],
    ['destination_app', svc],
    ['destination_version', ver ?? 'unknown'],
    ['destination_service', `${svc}.${dns}.svc.cluster.local`],
    ['destination_canonical_service', svc],
    ['destination_canonical_revision', ver ?? 'latest'],
    ['destination_service_name', svc],
    ['destination_service_namespace', dns],
    ['destination_cluster', 'Kubernetes'],
    ['request_protocol', 'http'],
    ['response_code', String(h.code ?? 200)],
    ['grpc_response_status', ''],
    ['response_flags', h.flags ?? '-'],
    ['connection_security_policy', h.reporter === 'source' ? 'unknown' : h.mtls === false ? 'none' : 'mutual_tls'],
  ];
  return l.map(([k, v]) => `${k}="${v}"`).join(',');
}

/**
 * The exposition of one proxy holding `hops`: each with its request count and the latencies
 * (ms) of those requests, as a counter and a histogram with Istio's default buckets.
 */
export function istioExposition(hops: readonly { hop: Hop; latencies: readonly number[] }[]): string {
  const lines = ['# TYPE istio_requests_total counter'];
  for (const { hop, latencies } of hops) lines.push(`istio_requests_total{${labelsText(hop)}} ${latencies.length}`);
  lines.push('# TYPE istio_request_duration_milliseconds histogram');
  for (const { hop, latencies } of hops) {
    const l = labelsText(hop);
    for (const b of ISTIO_BUCKETS) lines.push(`istio_request_duration_milliseconds_bucket{${l},le="${b}"} ${latencies.filter((x) => x <= b).length}`);
    lines.push(`istio_request_duration_milliseconds_bucket{${l},le="+Inf"} ${latencies.length}`);
    lines.push(`istio_request_duration_milliseconds_sum{${l}} ${latencies.reduce((a, b) => a + b, 0)}`);
    lines.push(`istio_request_duration_milliseconds_count{${l}} ${latencies.length}`);
  }
  // Envoy's own series sit beside them and must be skipped.
  lines.push('# TYPE envoy_cluster_upstream_rq_total counter', 'envoy_cluster_upstream_rq_total{cluster_name="outbound|8080||backend.default.svc.cluster.local"} 7');
  return lines.join('\n') + '\n';
}

/** A TCP hop's counters: connections opened and bytes each way (no response code, no histogram). */
export function istioTcpExposition(hops: readonly { hop: Hop; opened: number; sent: number; received: number }[]): string {
  const lines: string[] = [];
  for (const { hop, opened, sent, received } of hops) {
    const l = labelsText({ ...hop }).replace(/,?response_code="[^"]*"|,?grpc_response_status="[^"]*"|,?response_flags="[^"]*"/g, '').replace('request_protocol="http"', 'request_protocol="tcp"');
    lines.push(`istio_tcp_connections_opened_total{${l}} ${opened}`, `istio_tcp_connections_closed_total{${l}} ${opened}`, `istio_tcp_sent_bytes_total{${l}} ${sent}`, `istio_tcp_received_bytes_total{${l}} ${received}`);
  }
  return lines.join('\n') + '\n';
}

export const GATEWAY: Hop['src'] = ['istio-ingressgateway', 'istio-system', 'istio-ingressgateway-service-account'];
export const FRONTEND_SRC: Hop['src'] = ['frontend', 'default', 'frontend'];
export const FRONTEND_DST: Hop['dst'] = ['frontend', 'default', 'frontend', 'frontend'];
export const BACKEND_V1: Hop['dst'] = ['backend-v1', 'default', 'backend', 'backend', 'v1'];
export const BACKEND_V2: Hop['dst'] = ['backend-v2', 'default', 'backend', 'backend', 'v2'];

/** `n` latencies, all equal to `ms`. */
export function times(n: number, ms: number): number[] {
  return Array.from({ length: n }, () => ms);
}
