// Services of the registry that come from configuration: every Service manifest, the hosts of
// every ServiceEntry (SE-01, service-entries.ts), plus the gateway's own Service. In Kubernetes the ingress gateway is exposed by a Service
// (istio-ingressgateway) whose ports map Gateway server ports to the ports the gateway binds
// (80 → 8080 in Istio's chart). The local runner has no such manifest, so Strait defines it:
// one port per Gateway server port, mapped by the runner's port rule.

import type { ConfigStore } from '../config/config-store.js';
import { serviceFromResource } from './registry.js';
import type { MeshService } from './registry.js';
import { withServiceEntries } from './service-entries.js';

export interface GatewayServiceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Where a Gateway server port is bound (e.g. 80 → 8080). */
  readonly bindPort: (port: number) => number;
}

export const DEFAULT_GATEWAY: Omit<GatewayServiceSpec, 'bindPort'> = {
  name: 'istio-ingressgateway',
  namespace: 'istio-system',
  labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
};

/** The runner's port rule: ports below 1024 are served on port + offset. */
export function offsetBelow1024(offset: number): (port: number) => number {
  return (port) => (port < 1024 ? port + offset : port);
}

export function servicesFromConfig(store: ConfigStore, domainSuffix: string, gateway?: GatewayServiceSpec): MeshService[] {
  const services = store.list('Service').map((s) => serviceFromResource(s, domainSuffix));
  if (gateway && !services.some((s) => s.name === gateway.name && s.namespace === gateway.namespace)) {
    const ports = new Set<number>();
    for (const g of store.list('Gateway')) {
      const sel = g.spec.selector;
      // A Gateway without a selector applies to every gateway (Istio).
      if (!Object.entries(sel).every(([k, v]) => gateway.labels[k] === v)) continue;
      for (const s of g.spec.servers) ports.add(s.port.number);
    }
    // The ingress gateway serves Kubernetes Ingress on 80, and on 443 when an Ingress has TLS.
    const ingresses = store.list('Ingress');
    if (ingresses.length > 0) ports.add(80);
    if (ingresses.some((i) => i.spec.tls.length > 0)) ports.add(443);
    services.push({
      name: gateway.name,
      namespace: gateway.namespace,
      hostname: `${gateway.name}.${gateway.namespace}.svc.${domainSuffix}`,
      selector: gateway.labels,
      ports: [...ports].sort((a, b) => a - b).map((p) => ({ name: p === 443 ? 'https' : `http-${p}`, port: p, targetPort: gateway.bindPort(p), protocol: p === 443 ? ('HTTPS' as const) : ('HTTP' as const) })),
    });
  }
  // After every Kubernetes Service, so that a Service wins over an entry naming its host.
  return withServiceEntries(services, store.list('ServiceEntry'));
}
