// One upstream endpoint of a cluster. Identity (address, port, weight, EDS health) is immutable;
// the two mutable cells are live inputs shared by every LoadBalancer built over the host: the
// router's count of active requests (LEAST_REQUEST reads it) and the outlier detector's ejection
// flag (the cluster rebuilds its load balancer when it changes).

/** EDS health as Envoy uses it: UNKNOWN counts as HEALTHY; DRAINING hosts never take traffic. */
export type EdsHealth = 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';

export interface Host {
  readonly address: string;
  readonly port: number;
  /** "address:port", as logged in %UPSTREAM_HOST%; also the host's identity in pools and detectors. */
  readonly key: string;
  readonly weight: number;
  readonly edsHealth: EdsHealth;
  /** The endpoint's `envoy.transport_socket_match` metadata (chooses its transport socket). */
  readonly socketMatch?: Readonly<Record<string, string>>;
  /** The endpoint's filter metadata (`istio.workload`, ...): which workload it is, for istio.stats. */
  readonly metadata?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  activeRequests: number;
  /** Set by the outlier detector while the host is ejected. */
  ejected: boolean;
}

export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function newHost(address: string, port: number, weight = 1, edsHealth: EdsHealth = 'HEALTHY', socketMatch?: Readonly<Record<string, string>>, metadata?: Host['metadata']): Host {
  return { address, port, key: hostKey(address, port), weight, edsHealth, ...(socketMatch ? { socketMatch } : {}), ...(metadata ? { metadata } : {}), activeRequests: 0, ejected: false };
}

/** Whether the host may take traffic outside panic mode. */
export function isHealthy(h: Host): boolean {
  return h.edsHealth === 'HEALTHY' && !h.ejected;
}
