// One upstream endpoint of a cluster. Identity is immutable; the counters are live inputs for
// load balancers (active requests) and are shared by every LoadBalancer built over the host.

export interface Host {
  readonly address: string;
  readonly port: number;
  /** "address:port", as logged in %UPSTREAM_HOST%. */
  readonly key: string;
  readonly weight: number;
  activeRequests: number;
}

export function newHost(address: string, port: number, weight = 1): Host {
  return { address, port, key: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`, weight, activeRequests: 0 };
}
