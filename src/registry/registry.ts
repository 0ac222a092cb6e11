// The service registry: what exists at run time, as opposed to what the manifests ask for.
// Services (from Service manifests, the gateway's own Service the local runner defines, and the
// hosts of ServiceEntries, SE-01) and workloads (pods: where they are, their labels, whether they
// are ready). Endpoints of Kubernetes Services are derived from the two by label selection, as
// Kubernetes' endpoints controller does; a ServiceEntry brings its own endpoints (SE-03). A
// Registry is an immutable value; a change builds a new one.

import type { ServiceResource } from '../config/types.js';

/** Protocol of a service port, from its name prefix or appProtocol (Istio protocol selection). */
export type PortProtocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'HTTPS' | 'TLS' | 'TCP' | 'UNKNOWN';

export interface MeshServicePort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: PortProtocol;
}

/**
 * How the proxy finds a service's endpoints (Istio's model.Resolution): CLIENT_SIDE_LB is an EDS
 * cluster fed with the endpoints the control plane knows; DNS and DNS_ROUND_ROBIN make the proxy
 * resolve host names itself (STRICT_DNS / LOGICAL_DNS clusters); PASSTHROUGH forwards to where the
 * client asked (an ORIGINAL_DST cluster). SE-02.
 */
export type ServiceResolution = 'CLIENT_SIDE_LB' | 'DNS' | 'DNS_ROUND_ROBIN' | 'PASSTHROUGH';

/** An endpoint a ServiceEntry lists (WE-01): an IP (STATIC) or a host name (DNS). */
export interface ServiceEntryEndpoint {
  readonly address: string;
  /** ServiceEntry port name to endpoint port. */
  readonly ports: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  /** Load-balancing weight; absent = 1. */
  readonly weight?: number;
}

export interface MeshService {
  /** The Service's name; for a ServiceEntry host, the host itself (as Istio names it). */
  readonly name: string;
  readonly namespace: string;
  /** name.namespace.svc.<domainSuffix>; for a ServiceEntry, the host as written (may be `*.example.com`). */
  readonly hostname: string;
  readonly ports: readonly MeshServicePort[];
  /** Absent for services without a selector. */
  readonly selector?: Readonly<Record<string, string>>;
  /** Where the service was declared; absent = Kubernetes. */
  readonly registry?: 'Kubernetes' | 'ServiceEntry';
  /** Absent = CLIENT_SIDE_LB. */
  readonly resolution?: ServiceResolution;
  /** ServiceEntry location; absent = MESH_INTERNAL (a Kubernetes Service). */
  readonly location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  /**
   * Namespaces that may see the service (`*`, `.`, `~` or names): ServiceEntry exportTo, or the
   * `networking.istio.io/exportTo` annotation of a Service. Absent = MeshConfig.defaultServiceExportTo.
   */
  readonly exportTo?: readonly string[];
  /** ServiceEntry endpoints (STATIC: IPs; DNS: names to resolve). Absent for Kubernetes Services. */
  readonly entryEndpoints?: readonly ServiceEntryEndpoint[];
  /** ServiceEntry subjectAltNames: the server identities TLS origination accepts by default. */
  readonly subjectAltNames?: readonly string[];
}

export interface WorkloadPort {
  readonly name?: string;
  readonly port: number;
}

export interface Workload {
  /** Pod name. */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** Pod IP. */
  readonly ip: string;
  readonly ready: boolean;
  readonly ports: readonly WorkloadPort[];
  /** Whether a sidecar proxy fronts the workload (then its endpoints are its sidecar's). */
  readonly hasSidecar: boolean;
}

export interface Registry {
  readonly services: readonly MeshService[];
  readonly workloads: readonly Workload[];
}

export const EMPTY_REGISTRY: Registry = { services: [], workloads: [] };

/** Istio's protocol selection: `<protocol>[-<suffix>]` port names, or appProtocol. */
export function portProtocol(name: string | undefined, appProtocol: string | undefined): PortProtocol {
  const pick = (p: string): PortProtocol | undefined => {
    const v = p.toLowerCase();
    if (v === 'http' || v === 'http-web' || v === 'kubernetes.io/h2c') return v === 'kubernetes.io/h2c' ? 'HTTP2' : 'HTTP';
    if (v === 'http2') return 'HTTP2';
    if (v === 'grpc' || v === 'grpc-web') return 'GRPC';
    if (v === 'https') return 'HTTPS';
    if (v === 'tls') return 'TLS';
    if (v === 'tcp' || v === 'mongo' || v === 'mysql' || v === 'redis') return 'TCP';
    return undefined;
  };
  if (appProtocol) {
    const p = pick(appProtocol);
    if (p) return p;
  }
  if (name) {
    const p = pick(name.split('-')[0]!);
    if (p) return p;
  }
  return 'UNKNOWN';
}

/** True for protocols the HTTP connection manager serves (UNKNOWN is auto-detected HTTP locally). */
export function isHttpProtocol(p: PortProtocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'UNKNOWN';
}

/** Istio reads a Service's visibility from this annotation (comma-separated, like exportTo). */
export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

export function serviceFromResource(s: ServiceResource, domainSuffix: string): MeshService {
  const exportTo = s.metadata.annotations[EXPORT_TO_ANNOTATION]
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return {
    name: s.metadata.name,
    namespace: s.metadata.namespace,
    hostname: `${s.metadata.name}.${s.metadata.namespace}.svc.${domainSuffix}`,
    ports: s.spec.ports.map((p) => ({
      name: p.name ?? '',
      port: p.port,
      targetPort: p.targetPort,
      protocol: portProtocol(p.name, p.appProtocol),
    })),
    selector: s.spec.selector,
    ...(exportTo?.length ? { exportTo } : {}),
  };
}

export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  const keys = Object.keys(selector);
  if (keys.length === 0) return false;
  return keys.every((k) => labels[k] === selector[k]);
}

/** The numeric port a workload serves a service port on (named targetPorts resolve per pod). */
export function resolveTargetPort(port: MeshServicePort, w: Workload): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort;
  return w.ports.find((p) => p.name === port.targetPort)?.port;
}
