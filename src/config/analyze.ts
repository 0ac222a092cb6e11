// Cross-resource checks over a loaded ConfigStore, in the spirit of `istioctl analyze`: references
// that point at nothing (namespaces, Services or ServiceEntries, ports, Gateways, Secrets,
// IngressClasses) and selectors that select nothing; the Istio traffic-management analyzers
// (subsets, delegation, competing VirtualServices and DestinationRules) are in analyze-istio.ts,
// the security ones (mTLS conflicts, ext-authz providers, policy scopes) in analyze-security.ts,
// the Telemetry ones (providers, tag expressions, scopes) in analyze-telemetry.ts.
// Each resource is valid on its own by now; these are the mistakes
// only visible together. A broken reference that makes traffic fail outright is an error, one
// that may be intended (a Service for pods that come later) is a warning. Every diagnostic points
// at the offending field through `source.at(path)`.

import { analyzeIstio, destinationsOf, serviceEntriesFor } from './analyze-istio.js';
import { analyzeSecurity } from './analyze-security.js';
import { analyzeTelemetry } from './analyze-telemetry.js';
import type { ConfigStore } from './config-store.js';
import { displayPath } from './format.js';
import {
  DEFAULT_CLASS_ANNOTATION,
  INGRESS_CLASS_ANNOTATION,
  STRAIT_CONTROLLER,
  STRAIT_INGRESS_CLASS,
  defaultIngressClasses,
  effectiveIngressClasses,
  ingressClassOf,
  requestedIngressClass,
} from './ingress-class.js';
import type { IngressClassDecision } from './ingress-class.js';
import { BUILTIN_GATEWAY, selects } from './security-scope.js';

// Kept here too: they were defined in this module first.
export { BUILTIN_GATEWAY, selects } from './security-scope.js';
import type {
  Diagnostic,
  FieldPath,
  IngressBackend,
  IngressClassResource,
  IngressResource,
  ResourceSource,
  ServiceResource,
  Severity,
  VirtualServiceResource,
} from './types.js';

function at(source: ResourceSource, path: FieldPath, severity: Severity, code: string, message: string, fix: string): Diagnostic {
  const pos = source.at(path);
  return { severity, file: pos.file, line: pos.line, col: pos.col, code, message, fix };
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
  for (const { destination, path: base } of destinationsOf(vs)) {
    const host = destination.host;
    const ref = resolveServiceHost(host, vs.metadata.namespace);
    const svc: ServiceResource | undefined = ref ? store.get('Service', ref.namespace, ref.name) : undefined;
    const number = destination.port?.number;
    if (!svc) {
      // A ServiceEntry host is as good a destination as a Service (SE-01).
      const entries = serviceEntriesFor(store, host, vs.metadata.namespace);
      if (entries.length > 0) {
        const ports = [...new Set(entries.flatMap((se) => se.spec.ports.map((p) => p.number)))];
        if (number !== undefined && ports.length > 0 && !ports.includes(number)) {
          out.push(
            at(vs.source, [...base, 'port', 'number'], 'error', 'unknown-port', `ServiceEntry ${entries[0].metadata.namespace}/${entries[0].metadata.name} has no port ${number} for ${host} (it has ${ports.join(', ')}); declared at ${displayPath(entries[0].source.file)}:${entries[0].source.line}`, `use one of the ServiceEntry's ports: ${ports.join(', ')}`),
          );
        }
        continue;
      }
      out.push(
        at(
          vs.source,
          [...base, 'host'],
          'warning',
          'unknown-host',
          `referenced host not found: "${host}"${ref ? ` (${fqdn(ref)})` : ''} matches no Service and no ServiceEntry`,
          ref ? `add a Service named ${ref.name} in namespace ${ref.namespace}, or correct the host` : 'use the name of a Service (name, name.namespace or name.namespace.svc.cluster.local), or add a ServiceEntry for this host',
        ),
      );
      continue;
    }
    const ports = svc.spec.ports.map((p) => p.port);
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

// ---- Ingress and IngressClass ------------------------------------------------------------------

function place(source: ResourceSource): string {
  return `${displayPath(source.file)}:${source.line}`;
}

/**
 * IngressClasses: more than one default class (ING-02: Kubernetes then refuses classless
 * Ingresses, and Strait serves none), and a declared `strait` class that hands Strait's own
 * class to another controller.
 */
export function checkIngressClasses(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const classes = store.list('IngressClass');
  const defaults = defaultIngressClasses(classes);
  const declaredDefaults = classes.filter((c) => c.isDefault);
  if (defaults.length > 1 && declaredDefaults.length > 0) {
    const names = defaults.map((d) => {
      const declared = classes.find((c) => c.metadata.name === d.name);
      return d.builtIn || !declared ? `${d.name} (Strait's built-in class)` : `${d.name} (${place(declared.source)})`;
    });
    out.push(
      at(
        declaredDefaults[0].source,
        ['metadata', 'annotations', DEFAULT_CLASS_ANNOTATION],
        'warning',
        'multiple-default-ingress-classes',
        `${defaults.length} IngressClasses are marked default: ${names.join(', ')}; Kubernetes refuses new Ingresses without a class in that case, and Strait serves none of them (ING-02)`,
        `keep ${DEFAULT_CLASS_ANNOTATION}: "true" on one class only (Strait's built-in class ${STRAIT_INGRESS_CLASS} is a default unless you declare an IngressClass named ${STRAIT_INGRESS_CLASS})`,
      ),
    );
  }
  const override = classes.find((c) => c.metadata.name === STRAIT_INGRESS_CLASS);
  if (override && override.spec.controller !== STRAIT_CONTROLLER) {
    out.push(
      at(
        override.source,
        ['spec', 'controller'],
        'warning',
        'strait-class-overridden',
        `this IngressClass replaces Strait's built-in class ${STRAIT_INGRESS_CLASS} and gives it to controller ${override.spec.controller}, so Strait no longer serves Ingresses of class ${STRAIT_INGRESS_CLASS}`,
        `set controller: ${STRAIT_CONTROLLER}, or give this IngressClass another name`,
      ),
    );
  }
  return out;
}

/** Why a not-served Ingress is ignored, when that is likely a mistake (not when it belongs to another controller). */
function ingressNotServed(ing: IngressResource, decision: IngressClassDecision, classes: readonly IngressClassResource[]): Diagnostic[] {
  const requested = requestedIngressClass(ing);
  if (requested) {
    if (effectiveIngressClasses(classes).some((c) => c.name === requested.name)) return []; // another controller's Ingress
    const path = requested.from === 'spec' ? ['spec', 'ingressClassName'] : ['metadata', 'annotations', INGRESS_CLASS_ANNOTATION];
    return [
      at(
        ing.source,
        path,
        'warning',
        'unknown-ingress-class',
        `IngressClass "${requested.name}" does not exist; Strait's built-in class is \`${STRAIT_INGRESS_CLASS}\`; this Ingress is ignored`,
        `write ${STRAIT_INGRESS_CLASS} here, remove the class to use the default one, or declare an IngressClass named ${requested.name} with controller ${STRAIT_CONTROLLER}`,
      ),
    ];
  }
  if (decision.className !== null) return []; // the single default class belongs to another controller
  return [
    at(ing.source, ['spec'], 'warning', 'ingress-not-served', `this Ingress is ignored: ${decision.reason}`, `set spec.ingressClassName: ${STRAIT_INGRESS_CLASS}, or mark exactly one IngressClass as the default`),
  ];
}

/** Every backend of an Ingress with the path of its `backend` field. */
function ingressBackends(ing: IngressResource): { backend: IngressBackend; path: FieldPath }[] {
  const out: { backend: IngressBackend; path: FieldPath }[] = [];
  if (ing.spec.defaultBackend) out.push({ backend: ing.spec.defaultBackend, path: ['spec', 'defaultBackend'] });
  for (const rule of ing.spec.rules) for (const p of rule.paths) out.push({ backend: p.backend, path: [...p.at, 'backend'] });
  return out;
}

/** Backend Services (ING-13) and their ports (ING-14), in the Ingress's namespace. */
function checkIngressBackends(store: ConfigStore, ing: IngressResource): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ns = ing.metadata.namespace;
  for (const { backend, path } of ingressBackends(ing)) {
    const ref = backend.service;
    if (!ref) continue; // a resource backend, already warned about when loading
    const svc = store.get('Service', ns, ref.name);
    if (!svc) {
      out.push(
        at(
          ing.source,
          [...path, 'service', 'name'],
          'warning',
          'unknown-service',
          `Referenced service not found: "${ref.name}" (no Service ${ref.name} in namespace ${ns}); requests routed to this backend get 503`,
          `add a Service named ${ref.name} in namespace ${ns}, or correct the name (an Ingress reaches only Services of its own namespace)`,
        ),
      );
      continue;
    }
    const declared = `Service ${ns}/${ref.name} (${place(svc.source)})`;
    if (ref.port.number !== undefined) {
      const numbers = svc.spec.ports.map((p) => p.port);
      if (!numbers.includes(ref.port.number)) {
        out.push(
          at(ing.source, [...path, 'service', 'port', 'number'], 'error', 'unknown-port', `${declared} has no port ${ref.port.number} (it has ${numbers.join(', ') || 'none'})`, numbers.length > 0 ? `use one of the Service's ports: ${numbers.join(', ')}` : 'add the port to the Service'),
        );
      }
    } else if (ref.port.name !== undefined) {
      const names = svc.spec.ports.flatMap((p) => (p.name !== undefined ? [p.name] : []));
      if (!names.includes(ref.port.name)) {
        out.push(
          at(ing.source, [...path, 'service', 'port', 'name'], 'error', 'unknown-port', `${declared} has no port named "${ref.port.name}" (its port names: ${names.join(', ') || 'none'})`, names.length > 0 ? `use one of the Service's port names: ${names.join(', ')}, or a port number` : 'name the Service port, or use its number'),
        );
      }
    }
  }
  return out;
}

/** True when a request for `a` can be routed by a rule for `b` or the other way round (`*` matches one label). */
export function hostsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const covers = (wild: string, name: string) => wild.startsWith('*.') && !name.startsWith('*.') && name.indexOf('.') > 0 && name.slice(name.indexOf('.')) === wild.slice(1);
  return covers(a, b) || covers(b, a);
}

/** TLS Secrets (ING-17) and TLS hosts that no rule of the same Ingress routes. */
function checkIngressTls(store: ConfigStore, ing: IngressResource): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ns = ing.metadata.namespace;
  const ruleHosts = ing.spec.rules.flatMap((r) => (r.host !== undefined ? [r.host] : []));
  const hasHostless = ing.spec.rules.some((r) => r.host === undefined);
  for (const t of ing.spec.tls) {
    const hosts = t.hosts.length > 0 ? t.hosts.join(', ') : 'every host';
    if (t.secretName !== undefined) {
      const secret = store.get('Secret', ns, t.secretName);
      if (!secret) {
        out.push(
          at(
            ing.source,
            [...t.at, 'secretName'],
            'error',
            'unknown-secret',
            `no valid Secret "${t.secretName}" in namespace ${ns}: the hosts of this tls entry (${hosts}) will not be served over HTTPS`,
            `add a kubernetes.io/tls Secret named ${t.secretName} in namespace ${ns} (kubectl create secret tls ${t.secretName} --cert=tls.crt --key=tls.key --dry-run=client -o yaml), or fix the errors reported for it`,
          ),
        );
      } else if (secret.type !== 'kubernetes.io/tls' && !(secret.data['tls.crt'] && secret.data['tls.key'])) {
        const istioStyle = secret.data.cert !== undefined && secret.data.key !== undefined;
        out.push(
          at(
            ing.source,
            [...t.at, 'secretName'],
            'error',
            'not-a-tls-secret',
            `Secret ${ns}/${t.secretName} (${place(secret.source)}) is of type ${secret.type} and has no tls.crt and tls.key: the hosts of this tls entry (${hosts}) will not be served over HTTPS`,
            istioStyle ? 'rename its keys cert and key to tls.crt and tls.key (an Ingress reads only those)' : 'put the certificate chain in tls.crt and the private key in tls.key, and set type: kubernetes.io/tls',
          ),
        );
      }
    }
    // A host-less rule of this Ingress routes every host, so its tls hosts are all routed here.
    if (hasHostless) continue;
    t.hosts.forEach((h, j) => {
      if (ruleHosts.some((r) => hostsOverlap(h, r))) return;
      out.push(
        at(
          ing.source,
          [...t.at, 'hosts', j],
          'warning',
          'tls-host-unused',
          `no rule of this Ingress names tls host "${h}": its certificate is served for it, but this Ingress routes none of its requests (Kubernetes allows this)`,
          `add a rule with host: ${h}, or remove it from tls.hosts if it is a slip`,
        ),
      );
    });
  }
  return out;
}

/** The same host, path and pathType routed twice among the Ingresses Strait serves: the first loaded wins. */
function checkDuplicateIngressPaths(served: readonly IngressResource[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, { ing: IngressResource; at: FieldPath }>();
  for (const ing of served) {
    for (const rule of ing.spec.rules) {
      for (const p of rule.paths) {
        const key = `${rule.host ?? ''}\n${p.pathType}\n${p.path}`;
        const prev = first.get(key);
        if (!prev) {
          first.set(key, { ing, at: p.at });
          continue;
        }
        const host = rule.host !== undefined ? `host ${rule.host}` : 'every host (no host)';
        const owner = prev.ing === ing ? 'this Ingress, earlier in the list' : `Ingress ${prev.ing.metadata.namespace}/${prev.ing.metadata.name} (${place(prev.ing.source)})`;
        out.push(
          at(
            ing.source,
            [...p.at, 'path'],
            'warning',
            'duplicate-ingress-path',
            `${host}, ${p.pathType} path ${p.path} is already routed by ${owner}; the oldest (first loaded) wins, so this path is never used`,
            'remove one of the two, or change its path or host',
          ),
        );
      }
    }
  }
  return out;
}

/** The classes of every Ingress, then backends, TLS and duplicate paths of those Strait serves. */
export function checkIngresses(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const classes = store.list('IngressClass');
  const served: IngressResource[] = [];
  for (const ing of store.list('Ingress')) {
    const decision = ingressClassOf(ing, classes);
    if (!decision.served) {
      out.push(...ingressNotServed(ing, decision, classes));
      continue;
    }
    // Only Ingresses Strait serves are checked further: another controller's references are
    // not Strait's to judge, and would be noise in a shared set of manifests.
    served.push(ing);
    out.push(...checkIngressBackends(store, ing), ...checkIngressTls(store, ing));
  }
  out.push(...checkDuplicateIngressPaths(served));
  return out;
}

/** All cross-resource checks, in a stable order. */
export function analyze(store: ConfigStore): Diagnostic[] {
  return [
    ...checkNamespaces(store),
    ...checkServiceSelectors(store),
    ...checkVirtualServices(store),
    ...analyzeIstio(store),
    ...analyzeSecurity(store),
    ...analyzeTelemetry(store),
    ...checkGatewaySelectors(store),
    ...checkIngressClasses(store),
    ...checkIngresses(store),
  ];
}
