// ServiceEntries as registry services (SE-01..03), the way Istio's serviceentry controller
// converts them (pilot/pkg/serviceregistry/serviceentry/conversion.go): every host of an entry is
// one service, named by the host as written, in the entry's namespace, with the entry's ports,
// location, resolution, exportTo and endpoints. Hosts of Kubernetes Services and ServiceEntries
// then resolve alike in VirtualServices and DestinationRules.

import type { ServiceEntryResource, ServiceEntryResolution } from '../config/types.js';
import type { MeshService, MeshServicePort, PortProtocol, ServiceEntryEndpoint, ServiceResolution } from './registry.js';

/** A ServiceEntry port protocol (HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP, TLS) as a PortProtocol. */
export function serviceEntryProtocol(protocol: string | undefined): PortProtocol {
  switch (protocol?.toUpperCase()) {
    case 'HTTP':
      return 'HTTP';
    case 'HTTP2':
      return 'HTTP2';
    // gRPC-Web travels over HTTP/2 between proxies, as Istio's protocol.IsHTTP2 says.
    case 'GRPC':
    case 'GRPC-WEB':
      return 'GRPC';
    case 'HTTPS':
      return 'HTTPS';
    case 'TLS':
      return 'TLS';
    case 'TCP':
    case 'MONGO':
      return 'TCP';
    default:
      // No protocol: Istio sniffs it.
      return 'UNKNOWN';
  }
}

/** Istio's conversion of the entry's resolution into the service's. DYNAMIC_DNS is not implemented: no endpoints. */
function resolutionOf(r: ServiceEntryResolution): ServiceResolution {
  switch (r) {
    case 'NONE':
      return 'PASSTHROUGH';
    case 'DNS':
      return 'DNS';
    case 'DNS_ROUND_ROBIN':
      return 'DNS_ROUND_ROBIN';
    case 'STATIC':
    case 'DYNAMIC_DNS':
      return 'CLIENT_SIDE_LB';
  }
}

/** The registry services of one ServiceEntry: one per host (SE-01). */
export function servicesFromServiceEntry(se: ServiceEntryResource): MeshService[] {
  const ports: MeshServicePort[] = se.spec.ports.map((p) => ({
    name: p.name,
    port: p.number,
    targetPort: p.targetPort ?? p.number,
    protocol: serviceEntryProtocol(p.protocol),
  }));
  // DYNAMIC_DNS is warned about by the loader and gets no endpoints.
  const endpoints: ServiceEntryEndpoint[] =
    se.spec.resolution === 'DYNAMIC_DNS'
      ? []
      : se.spec.endpoints.map((e) => ({ address: e.address, ports: e.ports, labels: e.labels, ...(e.weight !== undefined ? { weight: e.weight } : {}) }));
  return se.spec.hosts.map((host) => ({
    name: host,
    namespace: se.metadata.namespace,
    hostname: host,
    ports,
    registry: 'ServiceEntry' as const,
    resolution: resolutionOf(se.spec.resolution),
    location: se.spec.location,
    ...(se.spec.exportTo !== undefined ? { exportTo: se.spec.exportTo } : {}),
    entryEndpoints: endpoints,
    subjectAltNames: se.spec.subjectAltNames,
  }));
}

/**
 * Adds the services of every ServiceEntry to `existing` (Kubernetes Services first). The same
 * host twice in one namespace keeps the first declaration, and a Kubernetes Service always wins
 * over an entry naming its host (Istio: no "domain squatting" on a Service's name). The same host
 * in different namespaces stays: which one a proxy sees is decided by visibility (exportTo, its
 * own namespace first).
 */
export function withServiceEntries(existing: readonly MeshService[], entries: readonly ServiceEntryResource[]): MeshService[] {
  const out = [...existing];
  const taken = new Set(existing.map((s) => `${s.namespace}/${s.hostname}`));
  for (const se of entries) {
    for (const s of servicesFromServiceEntry(se)) {
      const key = `${s.namespace}/${s.hostname}`;
      if (taken.has(key)) continue;
      taken.add(key);
      out.push(s);
    }
  }
  return out;
}
