// A cluster's hosts: validated from a ClusterLoadAssignment, matched against the previous set
// so that unchanged endpoints keep their Host objects (and with them active-request counts, the
// router's retry exclusions and outlier state), and split into the view the load balancer is
// built over: the healthy hosts, or in panic (too few healthy, Envoy's healthy_panic_threshold)
// every host that is not DRAINING.

import type { ClusterLoadAssignment } from '../../xds/resources.js';
import { ConfigError } from '../config/durations.js';
import { mapAddress } from '../config/compile.js';
import type { AddressMap } from '../config/compile.js';
import { isHealthy, newHost } from './host.js';
import type { EdsHealth, Host } from './host.js';

/** Validates an assignment and turns it into hosts; throws ConfigError when malformed. */
export function endpointsToHosts(cluster: string, cla: ClusterLoadAssignment, addresses: AddressMap): Host[] {
  const hosts: Host[] = [];
  const seen = new Set<string>();
  for (const locality of cla.endpoints ?? []) {
    for (const e of locality.lbEndpoints ?? []) {
      const sa = e.endpoint?.address?.socketAddress;
      if (!sa?.address) throw new ConfigError(`cluster ${cluster}: an endpoint has no socket address`);
      const port = sa.portValue ?? 0;
      if (!(port > 0 && port < 65536)) throw new ConfigError(`cluster ${cluster}: endpoint ${sa.address} has invalid port ${port}`);
      const weight = e.loadBalancingWeight ?? 1;
      if (!Number.isInteger(weight) || weight < 1 || weight > 4294967295) {
        throw new ConfigError(`cluster ${cluster}: endpoint ${sa.address}:${port} has loadBalancingWeight ${weight} (an integer of at least 1 is required)`);
      }
      // 127.0.0.1 in an endpoint means the pod's own localhost (an inbound cluster's workload).
      const h = newHost(mapAddress(sa.address, addresses), port, weight, edsHealth(e.healthStatus), socketMatchOf(e.metadata), peerMetadataOf(e.metadata));
      // The same address twice would be one host to pools and detectors: keep the first.
      if (seen.has(h.key)) continue;
      seen.add(h.key);
      hosts.push(h);
    }
  }
  return hosts;
}

/** String values of an endpoint's `envoy.transport_socket_match` metadata, if any. */
function socketMatchOf(md: { filterMetadata?: Record<string, Record<string, unknown>> } | undefined): Record<string, string> | undefined {
  const m = md?.filterMetadata?.['envoy.transport_socket_match'];
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The endpoint's `istio` and `strait` metadata (the workload behind it), frozen: shared by every request to it. */
function peerMetadataOf(md: { filterMetadata?: Record<string, Record<string, unknown>> } | undefined): Host['metadata'] {
  const f = md?.filterMetadata;
  if (!f || (f.istio === undefined && f.strait === undefined)) return undefined;
  return Object.freeze({ ...(f.istio ? { istio: Object.freeze({ ...f.istio }) } : {}), ...(f.strait ? { strait: Object.freeze({ ...f.strait }) } : {}) });
}

/** UNKNOWN and HEALTHY take traffic (Envoy treats UNKNOWN as healthy). */
export function edsHealth(status: string | undefined): EdsHealth {
  return status === 'UNHEALTHY' || status === 'DRAINING' ? status : 'HEALTHY';
}

/** `next`, with each host replaced by its predecessor in `prev` when nothing about it changed. */
export function reuseHosts(prev: readonly Host[], next: readonly Host[]): Host[] {
  if (prev.length === 0) return [...next];
  const byKey = new Map(prev.map((h) => [h.key, h]));
  return next.map((h) => {
    const old = byKey.get(h.key);
    const same = old !== undefined && old.weight === h.weight && old.edsHealth === h.edsHealth && old.address === h.address && JSON.stringify(old.socketMatch) === JSON.stringify(h.socketMatch) && JSON.stringify(old.metadata) === JSON.stringify(h.metadata);
    return same ? old : h;
  });
}

/** Fresh Host objects with the same identity (a replacement cluster must not share state). */
export function cloneHosts(hosts: readonly Host[]): Host[] {
  return hosts.map((h) => newHost(h.address, h.port, h.weight, h.edsHealth, h.socketMatch, h.metadata));
}

export interface HostView {
  /** What the load balancer is built over. */
  readonly lbHosts: readonly Host[];
  readonly healthy: number;
  readonly panic: boolean;
}

export function hostView(hosts: readonly Host[], panicThresholdPercent: number): HostView {
  const usable: Host[] = [];
  const healthy: Host[] = [];
  for (const h of hosts) {
    if (h.edsHealth === 'DRAINING') continue;
    usable.push(h);
    if (isHealthy(h)) healthy.push(h);
  }
  const panic = usable.length > 0 && (100 * healthy.length) / usable.length < panicThresholdPercent;
  return { lbHosts: panic ? usable : healthy, healthy: healthy.length, panic };
}

/** ORIGINAL_DST: the destination is the request's authority (the HTTP_PROXY target). */
export function hostFromAuthority(authority: string): Host | undefined {
  try {
    const u = new URL(`http://${authority}`);
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    if (!host) return undefined;
    return newHost(host, u.port ? Number(u.port) : 80);
  } catch {
    return undefined;
  }
}
