// MeshSnapshot: the immutable, indexed view of config + registry that generators read (Istio's
// PushContext). Built in one pass whenever either input changes (the DestinationRule index on
// first use); generators never look at the ConfigStore or Registry directly, and never mutate
// what they get from here.

import type { ConfigStore } from '../../config/config-store.js';
import { DEFAULT_MESH_CONFIG as ISTIO_MESH_DEFAULTS } from '../../config/types.js';
import type { AuthorizationPolicyResource, GatewayResource, MeshConfig as IstioMeshConfig, RequestAuthenticationResource, SidecarResource, TelemetryResource, VirtualServiceResource } from '../../config/types.js';
import { resolveTargetPort, selects } from '../../registry/registry.js';
import type { MeshService, MeshServicePort, Registry, Workload } from '../../registry/registry.js';
import { DestinationRuleIndex } from './destination-rule-index.js';
import { applicableTelemetries, resolveTelemetry } from './telemetry-scope.js';
import type { ResolvedTelemetry, TelemetryWorkload } from './telemetry-scope.js';

export interface MeshConfig {
  /** DNS suffix of services (Istio's domainSuffix). */
  readonly domainSuffix: string;
  readonly trustDomain: string;
  /** Namespace whose config applies mesh-wide (Istio's rootNamespace). */
  readonly rootNamespace: string;
  /**
   * The control plane runs the mesh CA, so every proxy has a workload certificate: inbound ports
   * follow PeerAuthentication and clusters use auto mTLS. Off, the mesh talks plaintext.
   */
  readonly meshMtls?: boolean;
  /**
   * Key set URIs found by OIDC discovery (oidc-discovery.ts) for RequestAuthentication rules
   * that name only an issuer, by issuer.
   */
  readonly discoveredJwksUris?: ReadonlyMap<string, string>;
}

export const DEFAULT_MESH_CONFIG: MeshConfig = { domainSuffix: 'cluster.local', trustDomain: 'cluster.local', rootNamespace: 'istio-system' };

/** One endpoint of a service port: a pod (Kubernetes) or a ServiceEntry endpoint. */
export interface Endpoint {
  /** IP address; for a DNS ServiceEntry, a host name the proxy resolves. */
  readonly address: string;
  readonly port: number;
  /** The pod's labels, or the ServiceEntry endpoint's (what DestinationRule subsets select). */
  readonly labels: Readonly<Record<string, string>>;
  /** The pod behind the endpoint; absent for ServiceEntry endpoints. */
  readonly workload?: Workload;
  /** Load-balancing weight (ServiceEntry endpoints); absent = 1. */
  readonly weight?: number;
}

function byAddress(a: Endpoint, b: Endpoint): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}

export class MeshSnapshot {
  /**
   * One service per hostname: a Kubernetes Service before a ServiceEntry, else the first declared.
   * The same ServiceEntry host in several namespaces is in `servicesByHostname`; which one a
   * proxy sees is decided per proxy (sidecar-scope.ts).
   */
  readonly servicesByHost = new Map<string, MeshService>();
  /** Every service with a hostname, in registry order. */
  readonly servicesByHostname = new Map<string, MeshService[]>();
  readonly workloadsByName = new Map<string, Workload>();
  /** Virtual services that apply to sidecars (`mesh`), in load order. */
  readonly meshVirtualServices: readonly VirtualServiceResource[];
  /** Virtual services naming a gateway, by the gateway's `namespace/name`. */
  readonly virtualServicesByGateway = new Map<string, VirtualServiceResource[]>();
  readonly gateways: readonly GatewayResource[];
  /** Sidecar resources, in load order (SC-01/02). */
  readonly sidecars: readonly SidecarResource[];
  /** AuthorizationPolicies, in load order (Istio orders by creation time) (AZ-04). */
  readonly authorizationPolicies: readonly AuthorizationPolicyResource[];
  /** RequestAuthentications, in load order (RA-01). */
  readonly requestAuthentications: readonly RequestAuthenticationResource[];
  /** Telemetry resources, in load order (Istio orders by creation time) (TEL-01). */
  readonly telemetries: readonly TelemetryResource[];
  /** The mesh config in force: ConfigMap istio-system/istio (key `mesh`), else Istio's defaults. */
  readonly meshConfig: IstioMeshConfig;
  private drIndex: DestinationRuleIndex | undefined;
  /** Ready workloads by namespace (services select within their own). */
  private readonly workloadsByNamespace = new Map<string, Workload[]>();
  /** endpoints() and servicesOf() results: every proxy of a push asks the same questions. */
  private readonly endpointCache = new Map<MeshService, Map<MeshServicePort, readonly Endpoint[]>>();
  private readonly servicesOfCache = new Map<Workload, readonly MeshService[]>();
  /** resolveTelemetry results by the applicable resources' keys: many workloads share one. */
  private readonly telemetryCache = new Map<string, ResolvedTelemetry>();

  constructor(
    readonly version: number,
    readonly store: ConfigStore,
    readonly registry: Registry,
    readonly mesh: MeshConfig = DEFAULT_MESH_CONFIG,
  ) {
    for (const s of registry.services) {
      let list = this.servicesByHostname.get(s.hostname);
      if (!list) this.servicesByHostname.set(s.hostname, (list = []));
      list.push(s);
      const existing = this.servicesByHost.get(s.hostname);
      if (!existing || (existing.registry === 'ServiceEntry' && s.registry !== 'ServiceEntry')) this.servicesByHost.set(s.hostname, s);
    }
    for (const w of registry.workloads) {
      this.workloadsByName.set(`${w.namespace}/${w.name}`, w);
      if (!w.ready) continue;
      let list = this.workloadsByNamespace.get(w.namespace);
      if (!list) this.workloadsByNamespace.set(w.namespace, (list = []));
      list.push(w);
    }
    this.gateways = store.list('Gateway');
    this.sidecars = store.list('Sidecar');
    this.authorizationPolicies = store.list('AuthorizationPolicy');
    this.requestAuthentications = store.list('RequestAuthentication');
    this.telemetries = store.list('Telemetry');
    this.meshConfig = store.list('MeshConfig')[0]?.spec ?? ISTIO_MESH_DEFAULTS;
    const meshVs: VirtualServiceResource[] = [];
    for (const vs of store.list('VirtualService')) {
      const gws = vs.spec.gateways.length ? vs.spec.gateways : ['mesh'];
      for (const g of gws) {
        if (g === 'mesh') {
          meshVs.push(vs);
          continue;
        }
        const key = g.includes('/') ? g : `${vs.metadata.namespace}/${g}`;
        let list = this.virtualServicesByGateway.get(key);
        if (!list) this.virtualServicesByGateway.set(key, (list = []));
        list.push(vs);
      }
    }
    this.meshVirtualServices = meshVs;
  }

  /**
   * Istio's rootNamespace: the mesh config's when a mesh config resource exists, else the
   * control plane's setting. Sidecars and DestinationRules there apply mesh-wide.
   */
  get rootNamespace(): string {
    return this.store.list('MeshConfig').length ? this.meshConfig.rootNamespace : this.mesh.rootNamespace;
  }

  /** DestinationRules indexed for Istio's lookup order (DR-01), built on first use. */
  get destinationRules(): DestinationRuleIndex {
    this.drIndex ??= new DestinationRuleIndex(this.store.list('DestinationRule'), {
      resolveHost: (h, ns) => this.resolveHost(h, ns),
      rootNamespace: this.rootNamespace,
      defaultExportTo: this.meshConfig.defaultDestinationRuleExportTo,
    });
    return this.drIndex;
  }

  /**
   * The Telemetry API's metrics, tracing and access-logging settings for a workload (a proxy's
   * own namespace and labels; the ingress gateway's are istio-system and its `istio`/`app`
   * labels). See resolveTelemetry in telemetry-scope.ts for how to read the result.
   */
  telemetryFor(workload: TelemetryWorkload): ResolvedTelemetry {
    const root = this.rootNamespace;
    const a = applicableTelemetries(this.telemetries, workload, root);
    const key = [a.root, a.namespace, a.workload].map((t) => (t ? `${t.metadata.namespace}/${t.metadata.name}` : '')).join('|');
    let r = this.telemetryCache.get(key);
    if (!r) this.telemetryCache.set(key, (r = resolveTelemetry(this.telemetries, this.meshConfig, workload, root)));
    return r;
  }

  /** Resolves a VirtualService/DestinationRule host as Istio does (VS-01): short names in `namespace`. */
  resolveHost(host: string, namespace: string): string {
    if (host.includes('*')) return host;
    const suffix = this.mesh.domainSuffix;
    const parts = host.split('.');
    if (parts.length === 1) return `${host}.${namespace}.svc.${suffix}`;
    if (parts.length === 2 && this.servicesByHost.has(`${host}.svc.${suffix}`)) return `${host}.svc.${suffix}`;
    if (parts.length === 3 && parts[2] === 'svc') return `${host}.${suffix}`;
    return host;
  }

  /**
   * Endpoints of one service port, sorted by address: for a Kubernetes Service, the ready pods it
   * selects at their target port; for a ServiceEntry (SE-03), its endpoints at the port they map
   * the entry's port name to, else the port's targetPort, else its number (`unix://` endpoints
   * are skipped: proxies reach upstreams over TCP only).
   */
  endpoints(service: MeshService, port: MeshServicePort): readonly Endpoint[] {
    let byPort = this.endpointCache.get(service);
    if (!byPort) this.endpointCache.set(service, (byPort = new Map()));
    let r = byPort.get(port);
    if (!r) byPort.set(port, (r = this.computeEndpoints(service, port)));
    return r;
  }

  private computeEndpoints(service: MeshService, port: MeshServicePort): Endpoint[] {
    const out: Endpoint[] = [];
    if (service.entryEndpoints) {
      for (const e of service.entryEndpoints) {
        if (e.address.startsWith('unix://') || e.address === '') continue;
        const p = e.ports[port.name] ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
        out.push({ address: e.address, port: p, labels: e.labels, ...(e.weight !== undefined ? { weight: e.weight } : {}) });
      }
      return out.sort(byAddress);
    }
    for (const w of this.workloadsByNamespace.get(service.namespace) ?? []) {
      if (!selects(service.selector, w.labels)) continue;
      const p = resolveTargetPort(port, w);
      if (p !== undefined && p > 0 && p < 65536) out.push({ address: w.ip, port: p, labels: w.labels, workload: w });
    }
    return out.sort(byAddress);
  }

  /** Services whose selector picks this workload. */
  servicesOf(w: Workload): readonly MeshService[] {
    let r = this.servicesOfCache.get(w);
    if (!r) this.servicesOfCache.set(w, (r = this.registry.services.filter((s) => s.namespace === w.namespace && selects(s.selector, w.labels))));
    return r;
  }
}
