// MeshSnapshot: the immutable, indexed view of config + registry that generators read (Istio's
// PushContext). Built in one pass whenever either input changes; generators never look at the
// ConfigStore or Registry directly, and never mutate what they get from here.

import type { ConfigStore } from '../../config/config-store.js';
import type { GatewayResource, VirtualServiceResource } from '../../config/types.js';
import { resolveTargetPort, selects } from '../../registry/registry.js';
import type { MeshService, MeshServicePort, Registry, Workload } from '../../registry/registry.js';

export interface MeshConfig {
  /** DNS suffix of services (Istio's domainSuffix). */
  readonly domainSuffix: string;
  readonly trustDomain: string;
  /** Namespace whose config applies mesh-wide (Istio's rootNamespace). */
  readonly rootNamespace: string;
}

export const DEFAULT_MESH_CONFIG: MeshConfig = { domainSuffix: 'cluster.local', trustDomain: 'cluster.local', rootNamespace: 'istio-system' };

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly workload: Workload;
}

export class MeshSnapshot {
  readonly servicesByHost = new Map<string, MeshService>();
  readonly workloadsByName = new Map<string, Workload>();
  /** Virtual services that apply to sidecars (`mesh`), in load order. */
  readonly meshVirtualServices: readonly VirtualServiceResource[];
  /** Virtual services naming a gateway, by the gateway's `namespace/name`. */
  readonly virtualServicesByGateway = new Map<string, VirtualServiceResource[]>();
  readonly gateways: readonly GatewayResource[];

  constructor(
    readonly version: number,
    readonly store: ConfigStore,
    readonly registry: Registry,
    readonly mesh: MeshConfig = DEFAULT_MESH_CONFIG,
  ) {
    for (const s of registry.services) this.servicesByHost.set(s.hostname, s);
    for (const w of registry.workloads) this.workloadsByName.set(`${w.namespace}/${w.name}`, w);
    this.gateways = store.list('Gateway');
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

  /** Ready endpoints of one service port: workloads selected by the service, at their target port. */
  endpoints(service: MeshService, port: MeshServicePort): Endpoint[] {
    const out: Endpoint[] = [];
    for (const w of this.registry.workloads) {
      if (w.namespace !== service.namespace || !w.ready || !selects(service.selector, w.labels)) continue;
      const p = resolveTargetPort(port, w);
      if (p !== undefined && p > 0 && p < 65536) out.push({ address: w.ip, port: p, workload: w });
    }
    return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  }

  /** Services whose selector picks this workload. */
  servicesOf(w: Workload): MeshService[] {
    return this.registry.services.filter((s) => s.namespace === w.namespace && selects(s.selector, w.labels));
  }
}
