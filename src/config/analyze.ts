// Cross-resource checks over a loaded ConfigStore, in the spirit of `istioctl analyze`: references
// that point at nothing (namespaces, Services, ports, Gateways) and selectors that select nothing.
// Each resource is valid on its own by now; these are the mistakes only visible together. A
// broken reference that makes traffic fail outright is an error, one that may be intended (a
// Service for pods that come later) is a warning. Every diagnostic points at the offending field
// through `source.at(path)`.

import type { ConfigStore } from './config-store.js';
import { displayPath } from './format.js';
import type { Diagnostic, FieldPath, ResourceSource, ServiceResource, Severity, VirtualServiceResource } from './types.js';

/** Labels and namespace of the ingress gateway that Strait always runs. */
export const BUILTIN_GATEWAY: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> } = {
  namespace: 'istio-system',
  labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
};

function at(source: ResourceSource, path: FieldPath, severity: Severity, code: string, message: string, fix: string): Diagnostic {
  const pos = source.at(path);
  return { severity, file: pos.file, line: pos.line, col: pos.col, code, message, fix };
}

/** True when every label the selector asks for is present with the same value. */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

function showLabels(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

/** Resources placed in a namespace that no Namespace declares (and that Kubernetes does not pre-create). */
export function checkNamespaces(store: ConfigStore): Diagnostic[] {
  const known = store.namespaces();
  const out: Diagnostic[] = [];
  for (const r of store.all()) {
    const ns = r.metadata.namespace;
    if (ns === '' || known.has(ns)) continue;
    out.push(
      at(r.source, ['metadata', 'namespace'], 'warning', 'unknown-namespace', `namespace "${ns}" is not declared by any Namespace resource`, `add a Namespace named ${ns} (apiVersion: v1, kind: Namespace), or correct the namespace`),
    );
  }
  return out;
}

/** Services whose selector matches no Deployment, and named targetPorts no selected container declares. */
export function checkServiceSelectors(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const deployments = store.list('Deployment');
  for (const svc of store.list('Service')) {
    const selector = svc.spec.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    const selected = deployments.filter((d) => d.metadata.namespace === svc.metadata.namespace && selects(selector, d.spec.template.metadata.labels));
    if (selected.length === 0) {
      out.push(
        at(
          svc.source,
          ['spec', 'selector'],
          'warning',
          'selector-matches-nothing',
          `Service ${svc.metadata.name} selects ${showLabels(selector)}, which matches no Deployment's pod template in namespace ${svc.metadata.namespace}`,
          'make the selector equal to the labels under spec.template.metadata.labels of the Deployment it fronts',
        ),
      );
      continue;
    }
    svc.spec.ports.forEach((p, i) => {
      if (typeof p.targetPort !== 'string') return;
      const declared = selected.some((d) => d.spec.template.spec.containers.some((c) => c.ports.some((cp) => cp.name === p.targetPort)));
      if (!declared) {
        out.push(
          at(
            svc.source,
            ['spec', 'ports', i, 'targetPort'],
            'warning',
            'unknown-target-port',
            `targetPort "${p.targetPort}" is not the name of any container port in ${selected.map((d) => d.metadata.name).join(', ')}`,
            `name a container port "${p.targetPort}" (ports: - name: ${p.targetPort}, containerPort: N), or use the port number`,
          ),
        );
      }
    });
  }
  return out;
}

/**
 * Resolves a destination host to a Service's namespace/name the way Istio does on Kubernetes:
 * a short name is in the VirtualService's namespace; `name.ns`, `name.ns.svc` and
 * `name.ns.svc.cluster.local` name the namespace. Anything else is an external host.
 */
export function resolveServiceHost(host: string, namespace: string): { name: string; namespace: string } | undefined {
  const parts = host.split('.');
  if (parts.length === 1) return { name: host, namespace };
  if (parts.length === 2) return { name: parts[0], namespace: parts[1] };
  if (parts.length === 3 && parts[2] === 'svc') return { name: parts[0], namespace: parts[1] };
  if (parts.length === 5 && parts.slice(2).join('.') === 'svc.cluster.local') return { name: parts[0], namespace: parts[1] };
  return undefined;
}

function fqdn(ref: { name: string; namespace: string }): string {
  return `${ref.name}.${ref.namespace}.svc.cluster.local`;
}

/** Destination hosts, destination ports and gateway references of VirtualServices. */
export function checkVirtualServices(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const vs of store.list('VirtualService')) {
    out.push(...checkDestinations(store, vs), ...checkGatewayRefs(store, vs));
  }
  return out;
}

function checkDestinations(store: ConfigStore, vs: VirtualServiceResource): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of vs.spec.http) {
    rule.route.forEach((d, j) => {
      const base: FieldPath = [...rule.path, 'route', j, 'destination'];
      const host = d.destination.host;
      const ref = resolveServiceHost(host, vs.metadata.namespace);
      const svc: ServiceResource | undefined = ref ? store.get('Service', ref.namespace, ref.name) : undefined;
      if (!svc) {
        out.push(
          at(
            vs.source,
            [...base, 'host'],
            'warning',
            'unknown-host',
            `referenced host not found: "${host}"${ref ? ` (${fqdn(ref)})` : ''} matches no Service`,
            ref ? `add a Service named ${ref.name} in namespace ${ref.namespace}, or correct the host` : 'use the name of a Service (name, name.namespace or name.namespace.svc.cluster.local)',
          ),
        );
        return;
      }
      const ports = svc.spec.ports.map((p) => p.port);
      const number = d.destination.port?.number;
      if (number !== undefined && !ports.includes(number)) {
        out.push(
          at(
            vs.source,
            [...base, 'port', 'number'],
            'error',
            'unknown-port',
            `Service ${svc.metadata.namespace}/${svc.metadata.name} has no port ${number} (it has ${ports.join(', ') || 'none'}); declared at ${displayPath(svc.source.file)}:${svc.source.line}`,
            `use one of the Service's ports: ${ports.join(', ')}`,
          ),
        );
      } else if (number === undefined && ports.length > 1) {
        out.push(
          at(
            vs.source,
            base,
            'error',
            'missing-port',
            `destination "${host}" has no port, but Service ${svc.metadata.namespace}/${svc.metadata.name} has ${ports.length} ports (${ports.join(', ')}), so the port must be chosen`,
            `add port: {number: ${ports[0]}} (or another of ${ports.join(', ')}) to the destination`,
          ),
        );
      }
    });
  }
  return out;
}

/** `name` is in the VirtualService's namespace, `ns/name` is explicit; `mesh` means the sidecars. */
export function resolveGatewayRef(ref: string, namespace: string): { name: string; namespace: string } | undefined {
  if (ref === 'mesh') return undefined;
  const slash = ref.indexOf('/');
  if (slash >= 0) return { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
  // Legacy form that Istio still accepts with a warning: name.namespace[.svc.cluster.local].
  const dot = ref.indexOf('.');
  if (dot >= 0) return { name: ref.slice(0, dot), namespace: ref.split('.')[1] };
  return { name: ref, namespace };
}

function checkGatewayRefs(store: ConfigStore, vs: VirtualServiceResource): Diagnostic[] {
  const out: Diagnostic[] = [];
  vs.spec.gateways.forEach((g, i) => {
    const ref = resolveGatewayRef(g, vs.metadata.namespace);
    if (!ref || store.get('Gateway', ref.namespace, ref.name)) return;
    out.push(
      at(
        vs.source,
        ['spec', 'gateways', i],
        'error',
        'unknown-gateway',
        `gateway "${g}" (${ref.namespace}/${ref.name}) does not exist`,
        `add a Gateway named ${ref.name} in namespace ${ref.namespace}, write "<namespace>/<name>" for a Gateway in another namespace, or use mesh for sidecars`,
      ),
    );
  });
  return out;
}

/** Gateways whose selector does not select the ingress gateway Strait runs. */
export function checkGatewaySelectors(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const gw of store.list('Gateway')) {
    if (selects(gw.spec.selector, BUILTIN_GATEWAY.labels)) continue;
    out.push(
      at(
        gw.source,
        ['spec', 'selector'],
        'warning',
        'gateway-selects-nothing',
        `selector ${showLabels(gw.spec.selector)} matches no gateway: Strait runs one ingress gateway, labelled istio: ingressgateway and app: istio-ingressgateway`,
        'use selector istio: ingressgateway',
      ),
    );
  }
  return out;
}

/** All cross-resource checks, in a stable order. */
export function analyze(store: ConfigStore): Diagnostic[] {
  return [...checkNamespaces(store), ...checkServiceSelectors(store), ...checkVirtualServices(store), ...checkGatewaySelectors(store)];
}
