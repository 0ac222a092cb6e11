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

export function gatewayListenerName(port: number): string {
  return `0.0.0.0_${port}`;
}

export function gatewayRouteName(port: number): string {
  return `http.${port}`;
}

export function inboundListenerName(port: number): string {
  return `inbound_0.0.0.0_${port}`;
}
