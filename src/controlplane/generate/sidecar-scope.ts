// What one proxy can see of the mesh (Istio's SidecarScope, pilot/pkg/model/sidecar.go): the
// Sidecar resource that applies to it (SC-01), the outbound traffic policy it follows (SC-02), and
// the services it gets clusters, endpoints and virtual hosts for. A service is visible when it is
// exported to the proxy's namespace (exportTo, SE-03 / VS-04 rules) and, for a sidecar whose
// Sidecar resource lists egress hosts, when one of those `namespace/host` entries names it: the
// config-size fix of CPL-02. Of several services with one hostname (a ServiceEntry host declared
// in two namespaces), a proxy sees the one of its own namespace, else the first declared.

import type { SidecarResource } from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { MeshService } from '../../registry/registry.js';
import { hostMatches } from '../model/destination-rule-index.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';

/**
 * The Sidecar resource for a proxy, in Istio's order: one with a workloadSelector matching the
 * proxy in its namespace (the first declared), else the namespace's Sidecar without selector,
 * else the root namespace's Sidecar without selector. Gateways have none (Istio's Sidecar
 * applies to sidecars only).
 */
export function sidecarFor(snapshot: MeshSnapshot, proxy: ProxyNode): SidecarResource | undefined {
  if (proxy.type !== 'sidecar') return undefined;
  const inNamespace = snapshot.sidecars.filter((s) => s.metadata.namespace === proxy.namespace);
  const selected = inNamespace.find((s) => s.spec.workloadSelector && Object.keys(s.spec.workloadSelector.labels).length > 0 && selects(s.spec.workloadSelector.labels, proxy.labels));
  if (selected) return selected;
  // A selector without labels selects the whole namespace (the loader warns about it).
  const namespaceWide = inNamespace.find((s) => !s.spec.workloadSelector || Object.keys(s.spec.workloadSelector.labels).length === 0);
  if (namespaceWide) return namespaceWide;
  return snapshot.sidecars.find((s) => s.metadata.namespace === snapshot.rootNamespace && !s.spec.workloadSelector);
}

/**
 * SC-02: what a sidecar does with hosts outside the registry. The Sidecar resource's
 * outboundTrafficPolicy when it sets one, else the mesh config's (ALLOW_ANY by default, TASK-10).
 */
export function outboundTrafficMode(snapshot: MeshSnapshot, proxy: ProxyNode): 'ALLOW_ANY' | 'REGISTRY_ONLY' {
  return sidecarFor(snapshot, proxy)?.spec.outboundTrafficPolicy?.mode ?? snapshot.meshConfig.outboundTrafficPolicy.mode;
}

/** Whether exportTo values (`*`, `.`, `~`, names) of something declared in `owner` reach `client`. */
export function exportedTo(exportTo: readonly string[], owner: string, client: string): boolean {
  return exportTo.some((e) => e === '*' || e === client || (e === '.' && owner === client));
}

/** Whether a service is exported to the proxy's namespace (default: MeshConfig.defaultServiceExportTo). */
export function serviceExportedTo(snapshot: MeshSnapshot, service: MeshService, namespace: string): boolean {
  return exportedTo(service.exportTo ?? snapshot.meshConfig.defaultServiceExportTo, service.namespace, namespace);
}

/**
 * SC-01: whether a Sidecar egress host `namespace/host` names a service: the namespace is `*`
 * (any), `.` (the proxy's own), `~` (none) or a name; the host is `*`, a `*.`-wildcard or exact.
 */
export function egressHostMatches(entry: string, service: MeshService, proxyNamespace: string): boolean {
  const slash = entry.indexOf('/');
  const ns = slash < 0 ? '*' : entry.slice(0, slash);
  const host = slash < 0 ? entry : entry.slice(slash + 1);
  if (ns === '~') return false;
  if (ns !== '*' && (ns === '.' ? proxyNamespace : ns) !== service.namespace) return false;
  return hostMatches(host, service.hostname);
}

/** Whether a Sidecar's egress listeners name the service (no egress listeners: every service). */
function egressAllows(sidecar: SidecarResource | undefined, service: MeshService, proxyNamespace: string): boolean {
  if (!sidecar || sidecar.spec.egress.length === 0) return true;
  return sidecar.spec.egress.some((l) => l.hosts.some((h) => egressHostMatches(h, service, proxyNamespace)));
}

/** Of the services sharing one hostname, the one this proxy sees, if any. */
function chosenFor(snapshot: MeshSnapshot, proxy: ProxyNode, sidecar: SidecarResource | undefined, candidates: readonly MeshService[]): MeshService | undefined {
  const visible = candidates.filter((s) => serviceExportedTo(snapshot, s, proxy.namespace) && egressAllows(sidecar, s, proxy.namespace));
  return visible.find((s) => s.namespace === proxy.namespace) ?? visible[0];
}

/**
 * The services this proxy gets config for, sorted by hostname: exported to its namespace, named
 * by its Sidecar's egress hosts, one per hostname (its own namespace's, else the first declared).
 */
export function servicesForProxy(snapshot: MeshSnapshot, proxy: ProxyNode): MeshService[] {
  const sidecar = sidecarFor(snapshot, proxy);
  const out: MeshService[] = [];
  for (const candidates of snapshot.servicesByHostname.values()) {
    const chosen = chosenFor(snapshot, proxy, sidecar, candidates);
    if (chosen) out.push(chosen);
  }
  return out.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
}

/**
 * Whether `service` is among the services the proxy sees (servicesForProxy): what the routes
 * generator applies to virtual hosts so that routes, clusters and endpoints agree.
 */
export function visibleToProxy(snapshot: MeshSnapshot, proxy: ProxyNode, service: MeshService): boolean {
  const candidates = snapshot.servicesByHostname.get(service.hostname) ?? [];
  return candidates.includes(service) && chosenFor(snapshot, proxy, sidecarFor(snapshot, proxy), candidates) === service;
}
