// Cross-resource checks of Istio traffic management, in the spirit of `istioctl analyze`: subsets
// no DestinationRule defines (IST0101), VirtualServices competing for one host, DestinationRules
// for one host in one namespace, delegation (VS-24: the delegate exists, has no hosts, is
// delegated to from a gateway-bound VirtualService, and matches within the root's match),
// DestinationRule hosts and subsets that select nothing, and ServiceEntry hosts that shadow a
// Service. Each resource is valid on its own by now; Kubernetes accepts all of these, so none
// blocks a run (docs/compat.md). Every diagnostic points at the offending field.

import type { ConfigStore } from './config-store.js';
import { displayPath } from './format.js';
import { hostMatches } from './kinds/istio-common.js';
import type {
  Destination,
  DestinationRuleResource,
  Diagnostic,
  FieldPath,
  HTTPMatchRequest,
  HTTPRoute,
  ResourceSource,
  ServiceEntryResource,
  Severity,
  StringMatch,
  VirtualServiceResource,
} from './types.js';

function at(source: ResourceSource, path: FieldPath, severity: Severity, code: string, message: string, fix: string): Diagnostic {
  const pos = source.at(path);
  return { severity, file: pos.file, line: pos.line, col: pos.col, code, message, fix };
}

function place(source: ResourceSource): string {
  return `${displayPath(source.file)}:${source.line}`;
}

function name(r: { metadata: { namespace: string; name: string } }): string {
  return `${r.metadata.namespace}/${r.metadata.name}`;
}

/**
 * The host a name means, the way Istio compares hosts: a short name (`reviews`) becomes
 * `reviews.<namespace>.svc.cluster.local`. Kubernetes DNS forms are resolved too when they are
 * unambiguous: `reviews.<ns>.svc`, and `reviews.<ns>` when `<ns>` is a namespace in `namespaces`
 * (otherwise `httpbin.org` would be taken for a Service). Anything else (FQDNs, ServiceEntry
 * hosts, wildcards) is lower-cased as written.
 */
export function canonicalHost(host: string, namespace: string, namespaces: ReadonlySet<string> = new Set()): string {
  const h = host.toLowerCase();
  if (h.startsWith('*')) return h;
  const parts = h.split('.');
  if (parts.length === 1) return `${h}.${namespace}.svc.cluster.local`;
  if (parts.length === 2 && namespaces.has(parts[1])) return `${h}.svc.cluster.local`;
  if (parts.length === 3 && parts[2] === 'svc') return `${h}.cluster.local`;
  return h;
}

/** Every destination of a VirtualService (route, mirror, mirrors, tcp and tls routes) with the path of its `destination`. */
export function destinationsOf(vs: VirtualServiceResource): { destination: Destination; path: FieldPath }[] {
  const out: { destination: Destination; path: FieldPath }[] = [];
  for (const rule of vs.spec.http) {
    for (const d of rule.route) out.push({ destination: d.destination, path: [...d.path, 'destination'] });
    if (rule.mirror) out.push({ destination: rule.mirror, path: [...rule.path, 'mirror'] });
    for (const m of rule.mirrors) out.push({ destination: m.destination, path: [...m.path, 'destination'] });
  }
  for (const rule of [...vs.spec.tcp, ...vs.spec.tls]) for (const d of rule.route) out.push({ destination: d.destination, path: [...d.path, 'destination'] });
  return out;
}

/** ServiceEntries with a host that matches `host` (exactly, or through a wildcard of the entry). */
export function serviceEntriesFor(store: ConfigStore, host: string, namespace: string): ServiceEntryResource[] {
  const h = canonicalHost(host, namespace, store.namespaces());
  return store.list('ServiceEntry').filter((se) => se.spec.hosts.some((seHost) => hostMatches(seHost, h)));
}

/** DestinationRules that apply to a destination host: same host, or a wildcard DR host covering it. */
function destinationRulesFor(store: ConfigStore, host: string, namespace: string): DestinationRuleResource[] {
  const namespaces = store.namespaces();
  const h = canonicalHost(host, namespace, namespaces);
  return store.list('DestinationRule').filter((dr) => hostMatches(canonicalHost(dr.spec.host, dr.metadata.namespace, namespaces), h));
}

// ---- subsets (IST0101) -------------------------------------------------------------------------

/** A destination subset that no DestinationRule for the host defines: Envoy has no such cluster (503 NR). */
export function checkSubsets(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const vs of store.list('VirtualService')) {
    for (const { destination, path } of destinationsOf(vs)) {
      const subset = destination.subset;
      if (subset === undefined) continue;
      const host = canonicalHost(destination.host, vs.metadata.namespace, store.namespaces());
      const rules = destinationRulesFor(store, destination.host, vs.metadata.namespace);
      if (rules.some((dr) => dr.spec.subsets.some((s) => s.name === subset))) continue;
      const known = [...new Set(rules.flatMap((dr) => dr.spec.subsets.map((s) => s.name)))];
      out.push(
        at(
          vs.source,
          [...path, 'subset'],
          'error',
          'unknown-subset',
          rules.length === 0
            ? `referenced subset not found: "${subset}": no DestinationRule defines subsets for ${host}, so requests routed here fail with 503`
            : `referenced subset not found: "${subset}": the DestinationRule${rules.length > 1 ? 's' : ''} for ${host} (${rules.map(name).join(', ')}) define${rules.length > 1 ? '' : 's'} ${known.length > 0 ? known.join(', ') : 'no subsets'}, so requests routed here fail with 503`,
          rules.length === 0
            ? `add a DestinationRule with host: ${destination.host} and a subset named ${subset} (labels: {version: ${subset}})`
            : known.length > 0
              ? `use one of ${known.join(', ')}, or add subset ${subset} to ${name(rules[0])}`
              : `add subset ${subset} to ${name(rules[0])}`,
        ),
      );
    }
  }
  return out;
}

// ---- competing resources -----------------------------------------------------------------------

/** Where a VirtualService applies: `mesh` or `namespace/name` of each gateway. */
function gatewayKeys(vs: VirtualServiceResource): string[] {
  const gws = vs.spec.gateways.length === 0 ? ['mesh'] : vs.spec.gateways;
  return gws.map((g) => {
    if (g === 'mesh' || g.includes('/')) return g;
    const [n, ns] = g.split('.');
    return `${ns ?? vs.metadata.namespace}/${n}`;
  });
}

/**
 * Two VirtualServices with the same host on the same gateway: Istio merges their rules in load
 * order on gateways; for sidecars (`mesh`) it does not merge, and which one applies is undefined
 * (istioctl analyze: IST0109). Either way one VirtualService per host is the reliable form.
 */
export function checkVirtualServiceHostConflicts(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, { vs: VirtualServiceResource; index: number }>();
  const namespaces = store.namespaces();
  for (const vs of store.list('VirtualService')) {
    const reported = new Set<number>();
    for (const gw of gatewayKeys(vs)) {
      vs.spec.hosts.forEach((host, i) => {
        const key = `${gw}\n${gw === 'mesh' ? canonicalHost(host, vs.metadata.namespace, namespaces) : host.toLowerCase()}`;
        const prev = first.get(key);
        if (!prev) {
          first.set(key, { vs, index: i });
          return;
        }
        if (prev.vs === vs || reported.has(i)) return;
        reported.add(i);
        const other = `VirtualService ${name(prev.vs)} (${place(prev.vs.source)})`;
        out.push(
          gw === 'mesh'
            ? at(vs.source, ['spec', 'hosts', i], 'warning', 'conflicting-mesh-hosts', `host ${host} is also routed for sidecars by ${other}: Istio does not merge VirtualServices for sidecars, so which one applies is undefined`, 'merge the two into one VirtualService per host')
            : at(vs.source, ['spec', 'hosts', i], 'warning', 'duplicate-gateway-host', `host ${host} on gateway ${gw} is also routed by ${other}: their rules are merged in load order as Istio does (this one's after); prefer one VirtualService per host`, 'merge the rules into one VirtualService, or use delegation'),
        );
      });
    }
  }
  return out;
}

/** Two DestinationRules for one host in one namespace: Istio merges them, and the first one wins. */
export function checkDuplicateDestinationRules(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, DestinationRuleResource>();
  const namespaces = store.namespaces();
  for (const dr of store.list('DestinationRule')) {
    if (dr.spec.workloadSelector) continue; // selector-scoped rules are not merged
    const key = `${dr.metadata.namespace}\n${canonicalHost(dr.spec.host, dr.metadata.namespace, namespaces)}`;
    const prev = first.get(key);
    if (!prev) {
      first.set(key, dr);
      continue;
    }
    out.push(
      at(
        dr.source,
        ['spec', 'host'],
        'warning',
        'duplicate-destination-rule',
        `DestinationRule ${name(prev)} (${place(prev.source)}) is also for host ${dr.spec.host} in namespace ${dr.metadata.namespace}: Istio merges them, adding this one's subsets whose names are new, but the first one's traffic policy wins and this one's is ignored`,
        'put the subsets and the traffic policy in one DestinationRule per host',
      ),
    );
  }
  return out;
}

// ---- delegation (VS-24) ------------------------------------------------------------------------

/**
 * Istio's stringMatchConflict: a delegate's condition must fit within the root's. Two regexes
 * cannot be compared, so a regex on either side of a property both match conflicts.
 */
function stringMatchConflict(root: StringMatch | Record<string, never> | undefined, leaf: StringMatch | Record<string, never> | undefined): boolean {
  if (!root || !leaf || !('exact' in root || 'prefix' in root || 'regex' in root) || !('exact' in leaf || 'prefix' in leaf || 'regex' in leaf)) return false;
  if ('regex' in root || 'regex' in leaf) return true;
  if ('exact' in root) {
    if ('prefix' in leaf) return !root.exact.startsWith(leaf.prefix);
    return leaf.exact !== root.exact;
  }
  if ('prefix' in leaf) return !leaf.prefix.startsWith(root.prefix);
  return !leaf.exact.startsWith(root.prefix);
}

/** Istio's hasConflict (virtualservice merging): true when no request can match both. */
export function matchConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): string | undefined {
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) {
    if (stringMatchConflict(root[f], leaf[f])) return f;
  }
  for (const f of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    for (const [k, v] of Object.entries(leaf[f] ?? {})) if (stringMatchConflict((root[f] ?? {})[k], v)) return `${f}.${k}`;
  }
  if ((root.ignoreUriCase ?? false) !== (leaf.ignoreUriCase ?? false)) return 'ignoreUriCase';
  if (root.port !== undefined && leaf.port !== undefined && root.port !== leaf.port) return 'port';
  if (root.sourceNamespace !== undefined && leaf.sourceNamespace !== root.sourceNamespace) return 'sourceNamespace';
  for (const [k, v] of Object.entries(leaf.sourceLabels ?? {})) if (root.sourceLabels && Object.hasOwn(root.sourceLabels, k) && root.sourceLabels[k] !== v) return `sourceLabels.${k}`;
  if (root.gateways?.length && leaf.gateways?.length && !leaf.gateways.every((g) => root.gateways?.includes(g))) return 'gateways';
  return undefined;
}

function describeMatch(m: HTTPMatchRequest): string {
  const parts: string[] = [];
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) {
    const sm = m[f];
    if (sm) parts.push(`${f} ${Object.entries(sm).map(([k, v]) => `${k} ${v}`).join('')}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'its conditions';
}

function checkDelegateMatches(root: VirtualServiceResource, rootRule: HTTPRoute, delegate: VirtualServiceResource): Diagnostic[] {
  if (rootRule.match.length === 0) return [];
  const out: Diagnostic[] = [];
  for (const rule of delegate.spec.http) {
    rule.match.forEach((m, k) => {
      const conflicts = rootRule.match.map((r) => matchConflict(r, m));
      if (conflicts.some((c) => c === undefined)) return;
      out.push(
        at(
          delegate.source,
          [...rule.path, 'match', k],
          'error',
          'delegate-match-conflict',
          `this match is not within the match of the delegating rule in VirtualService ${name(root)} (${place(root.source)}: ${rootRule.match.map(describeMatch).join(' or ')}); it conflicts on ${conflicts[0]}, so Istio drops it and its requests never reach this rule`,
          'narrow this match to a subset of the root rule\'s match (e.g. a longer prefix), or widen the root rule',
        ),
      );
    });
  }
  return out;
}

/** VS-24: delegate rules point at existing host-less VirtualServices, from gateway-bound roots, with compatible matches. */
export function checkDelegates(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const referenced = new Set<VirtualServiceResource>();
  for (const vs of store.list('VirtualService')) {
    const boundToMesh = vs.spec.gateways.length === 0 || vs.spec.gateways.includes('mesh');
    for (const rule of vs.spec.http) {
      const d = rule.delegate;
      if (!d) continue;
      if (boundToMesh) {
        out.push(
          at(vs.source, [...rule.path, 'delegate'], 'error', 'delegate-on-mesh', `delegation works only in VirtualServices bound to gateways, but this one applies to sidecars (${vs.spec.gateways.length === 0 ? 'no gateways: mesh' : 'gateways include mesh'}); Istio ignores the delegate here`, 'bind this VirtualService to gateways only, or route directly instead of delegating'),
        );
      }
      const target = store.get('VirtualService', d.namespace, d.name);
      if (!target) {
        out.push(at(vs.source, [...rule.path, 'delegate', 'name'], 'error', 'unknown-delegate', `delegate VirtualService ${d.namespace}/${d.name} does not exist, so requests matching this rule get 404`, `add a VirtualService named ${d.name} without hosts in namespace ${d.namespace}, or correct the name`));
        continue;
      }
      referenced.add(target);
      if (target.spec.hosts.length > 0) {
        out.push(
          at(vs.source, [...rule.path, 'delegate', 'name'], 'error', 'delegate-has-hosts', `VirtualService ${name(target)} (${place(target.source)}) has hosts, so it is not a delegate; Istio ignores this delegation`, `remove spec.hosts from ${name(target)}, or route directly`),
        );
        continue;
      }
      out.push(...checkDelegateMatches(vs, rule, target));
    }
  }
  for (const vs of store.list('VirtualService')) {
    if (vs.spec.hosts.length > 0 || referenced.has(vs)) continue;
    out.push(at(vs.source, ['spec'], 'warning', 'unused-delegate', `VirtualService ${name(vs)} has no hosts, which makes it a delegate, but no VirtualService delegates to it; it has no effect`, 'add spec.hosts, or reference it with `delegate: {name, namespace}` from a gateway-bound VirtualService'));
  }
  return out;
}

// ---- DestinationRule hosts and subsets, ServiceEntry hosts ------------------------------------

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/** DestinationRule hosts that match no Service and no ServiceEntry, and subsets whose labels select no workload. */
export function checkDestinationRuleHosts(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const services = store.list('Service');
  const serviceHosts = services.map((s) => ({ svc: s, host: `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local` }));
  const namespaces = store.namespaces();
  for (const dr of store.list('DestinationRule')) {
    const host = canonicalHost(dr.spec.host, dr.metadata.namespace, namespaces);
    const svcMatches = serviceHosts.filter((s) => hostMatches(host, s.host));
    const seMatches = store.list('ServiceEntry').filter((se) => se.spec.hosts.some((h) => hostMatches(host, h) || hostMatches(h, host)));
    if (svcMatches.length === 0 && seMatches.length === 0) {
      out.push(
        at(
          dr.source,
          ['spec', 'host'],
          'warning',
          'unknown-host',
          `host ${dr.spec.host} (${host}) matches no Service and no ServiceEntry, so this DestinationRule applies to nothing yet`,
          'correct the host (a Service name, name.namespace, or a ServiceEntry host), or add the Service',
        ),
      );
      continue;
    }
    for (const subset of dr.spec.subsets) {
      if (Object.keys(subset.labels).length === 0) continue;
      const deployments = svcMatches.flatMap(({ svc }) =>
        store.list('Deployment').filter((d) => d.metadata.namespace === svc.metadata.namespace && selects(svc.spec.selector ?? {}, d.spec.template.metadata.labels) && svc.spec.selector !== undefined),
      );
      const endpoints = seMatches.flatMap((se) => se.spec.endpoints);
      // Only judge when something could be selected: Deployments behind the Services, or ServiceEntry endpoints.
      if (deployments.length === 0 && endpoints.length === 0) continue;
      const selected = deployments.some((d) => selects(subset.labels, d.spec.template.metadata.labels)) || endpoints.some((e) => selects(subset.labels, e.labels));
      if (selected) continue;
      const shown = Object.entries(subset.labels).map(([k, v]) => `${k}: ${v}`).join(', ');
      out.push(
        at(
          dr.source,
          [...subset.path, 'labels'],
          'warning',
          'subset-selects-nothing',
          `subset ${subset.name} selects {${shown}}, which no ${deployments.length > 0 ? `Deployment behind ${host} (${[...new Set(deployments.map((d) => d.metadata.name))].join(', ')})` : 'ServiceEntry endpoint'} has: requests routed to it get 503 (no healthy upstream)`,
          'make the labels equal to those under spec.template.metadata.labels of the Deployment for this version',
        ),
      );
    }
  }
  return out;
}

/** A ServiceEntry host that is also a Service's cluster name: the two compete for the host. */
export function checkServiceEntryHosts(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  const fqdns = new Map(store.list('Service').map((s) => [`${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`, s]));
  for (const se of store.list('ServiceEntry')) {
    se.spec.hosts.forEach((h, i) => {
      const svc = fqdns.get(h.toLowerCase());
      if (!svc) return;
      out.push(
        at(se.source, ['spec', 'hosts', i], 'warning', 'service-entry-shadows-service', `host ${h} is the name of Service ${name(svc)} (${place(svc.source)}): the ServiceEntry and the Service compete for it, and Istio merges their endpoints unpredictably`, 'use another host for the ServiceEntry, or remove it and rely on the Service'),
      );
    });
  }
  return out;
}

/** All Istio traffic-management analyzers, in a stable order. */
export function analyzeIstio(store: ConfigStore): Diagnostic[] {
  return [
    ...checkSubsets(store),
    ...checkVirtualServiceHostConflicts(store),
    ...checkDuplicateDestinationRules(store),
    ...checkDelegates(store),
    ...checkDestinationRuleHosts(store),
    ...checkServiceEntryHosts(store),
  ];
}
