// Resource names, as Istio gives them, so `proxy-config` output reads the way Istio users expect.

export function outboundClusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
/** Port of the sidecar's outbound (HTTP_PROXY) listener, Istio's outbound capture port. */
export const OUTBOUND_PORT = 15001;
/** Ports the proxy itself uses (Istio's reserved 150xx ports); a workload must not serve them. */
export const PROXY_PORTS: ReadonlySet<number> = new Set([15000, 15001, 15006, 15008, 15020, 15021, 15053, 15090]);

export function gatewayListenerName(port: number): string {
  return `0.0.0.0_${port}`;
}

export function gatewayRouteName(port: number): string {
  return `http.${port}`;
}

export function inboundListenerName(port: number): string {
  return `inbound_0.0.0.0_${port}`;
}
