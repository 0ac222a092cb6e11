// DestinationRules indexed the way Istio's PushContext indexes them (pilot/pkg/model/
// push_context.go setDestinationRules, destination_rule.go mergeDestinationRule), so that the
// rule a proxy applies to a host is found in Istio's order (DR-01):
//
//   1. rules in the proxy's own namespace that are visible there (private or exported); for a
//      proxy in the root namespace, the root namespace's private rules;
//   2. rules exported from the namespace of the service, if exported to the proxy's namespace;
//   3. rules exported from the root namespace (istio-system), likewise.
//
// Inside one namespace the most specific host wins: an exact host, else the longest wildcard
// (`*.example.com` beats `*.com`). Several rules for the same host in one namespace are merged:
// subsets are concatenated (the first definition of a name wins) and the first top-level
// trafficPolicy is kept; rules with different workloadSelectors, or incompatible exportTo, stay
// separate entries, from which the proxy picks the first whose selector matches it, else the one
// without a selector. Rules with a workloadSelector are private to their namespace.

import type { DestinationRuleResource, Subset, TrafficPolicy } from '../../config/types.js';

/** One or more rules for the same host and namespace, merged (Istio's ConsolidatedDestRule). */
export interface ConsolidatedRule {
  /** The first rule's metadata, with the merged subsets and traffic policy. */
  readonly rule: DestinationRuleResource;
  /** exportTo of the first rule (empty = the mesh default). */
  readonly exportTo: ReadonlySet<string>;
  /** The rules merged into this one, in order. */
  readonly from: readonly DestinationRuleResource[];
}

class HostRules {
  readonly specific = new Map<string, ConsolidatedRule[]>();
  readonly wildcard = new Map<string, ConsolidatedRule[]>();
}

/**
 * Istio's host.Name.Matches for a rule host against a service host: equal, or the rule is a
 * wildcard whose suffix (`.example.com` of `*.example.com`) ends the host (any number of labels,
 * and a wildcard service host `*.api.example.com` too). `*` matches everything.
 */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host || pattern === '*') return true;
  if (!pattern.startsWith('*')) return false;
  const suffix = pattern.slice(1);
  return host.endsWith(suffix) && (host.startsWith('*') ? host.length >= pattern.length : host.length > suffix.length);
}

/**
 * Istio's MostSpecificHostMatch: the exact entry for `host`, else the longest wildcard key that
 * matches it. For a wildcard host, an equal wildcard key counts as exact.
 */
export function mostSpecificHostMatch<V>(host: string, specific: ReadonlyMap<string, V>, wildcard: ReadonlyMap<string, V>): V | undefined {
  const exact = host.startsWith('*') ? wildcard.get(host) : specific.get(host);
  if (exact !== undefined) return exact;
  const needle = host.startsWith('*') ? host.slice(1) : host;
  let best: string | undefined;
  for (const key of wildcard.keys()) {
    if (!needle.endsWith(key.slice(1))) continue;
    // Longer wildcards are more specific; ties (impossible for distinct keys of equal length
    // that both match) fall back to the smaller string, so the choice never depends on order.
    if (best === undefined || key.length > best.length || (key.length === best.length && key < best)) best = key;
  }
  return best === undefined ? undefined : wildcard.get(best);
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

function setEquals(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function isSuperset(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return [...b].every((x) => a.has(x));
}

/** Adds the subsets of `incoming` (new names only) and its policy when the merged rule has none. */
function mergeInto(target: ConsolidatedRule, incoming: DestinationRuleResource): ConsolidatedRule {
  const names = new Set(target.rule.spec.subsets.map((s) => s.name));
  const subsets: Subset[] = [...target.rule.spec.subsets];
  for (const s of incoming.spec.subsets) {
    if (names.has(s.name)) continue;
    names.add(s.name);
    subsets.push(s);
  }
  const trafficPolicy: TrafficPolicy | undefined = target.rule.spec.trafficPolicy ?? incoming.spec.trafficPolicy;
  const spec = { ...target.rule.spec, subsets, ...(trafficPolicy ? { trafficPolicy } : {}) };
  return { rule: { ...target.rule, spec }, exportTo: target.exportTo, from: [...target.from, incoming] };
}

export interface DestinationRuleIndexOptions {
  /** Resolves the rule's host (short names in the rule's namespace). */
  readonly resolveHost: (host: string, namespace: string) => string;
  readonly rootNamespace: string;
  /** MeshConfig.defaultDestinationRuleExportTo. */
  readonly defaultExportTo: readonly string[];
}

export class DestinationRuleIndex {
  /** Rules visible in their own namespace (private and exported), by namespace. */
  private readonly namespaceLocal = new Map<string, HostRules>();
  /** Rules exported beyond their namespace, by the namespace that declares them. */
  private readonly exportedByNamespace = new Map<string, HostRules>();
  /** Private rules of the root namespace (for proxies in the root namespace). */
  private readonly rootNamespaceLocal = new HostRules();
  readonly rootNamespace: string;

  /** `rules` in load order, which stands for Istio's creation-time order. */
  constructor(rules: readonly DestinationRuleResource[], private readonly opts: DestinationRuleIndexOptions) {
    this.rootNamespace = opts.rootNamespace;
    // Istio's sortConfigBySelectorAndCreationTime: rules with a workloadSelector first (stable).
    const sorted = [...rules.filter((r) => r.spec.workloadSelector), ...rules.filter((r) => !r.spec.workloadSelector)];
    for (const r of sorted) this.add(r);
  }

  private add(r: DestinationRuleResource): void {
    const ns = r.metadata.namespace;
    // A rule for some workloads only is never exported (Istio forces `.`).
    const exportTo = new Set(r.spec.workloadSelector ? ['.'] : (r.spec.exportTo ?? []));
    if (exportTo.size === 0 || exportTo.has('*') || exportTo.has('.') || exportTo.has(ns)) {
      this.merge(this.rulesOf(this.namespaceLocal, ns), r, exportTo);
    }
    const privateOnly =
      (exportTo.size === 0 && this.opts.defaultExportTo.includes('.')) || (exportTo.size === 1 && (exportTo.has('.') || exportTo.has(ns)));
    if (!privateOnly) this.merge(this.rulesOf(this.exportedByNamespace, ns), r, exportTo);
    else if (ns === this.rootNamespace) this.merge(this.rootNamespaceLocal, r, exportTo);
  }

  private rulesOf(map: Map<string, HostRules>, ns: string): HostRules {
    let rules = map.get(ns);
    if (!rules) map.set(ns, (rules = new HostRules()));
    return rules;
  }

  /** Istio's mergeDestinationRule (with the enhanced merge of ENABLE_ENHANCED_DESTINATIONRULE_MERGE, on by default). */
  private merge(into: HostRules, r: DestinationRuleResource, exportTo: ReadonlySet<string>): void {
    const host = this.opts.resolveHost(r.spec.host, r.metadata.namespace);
    const map = host.startsWith('*') ? into.wildcard : into.specific;
    const list = map.get(host);
    const fresh: ConsolidatedRule = { rule: r, exportTo, from: [r] };
    if (!list) {
      map.set(host, [fresh]);
      return;
    }
    let appendSeparately = true;
    for (let i = 0; i < list.length; i++) {
      const existing = list[i]!;
      const sel = r.spec.workloadSelector?.matchLabels;
      const existingSel = existing.rule.spec.workloadSelector?.matchLabels;
      const bothWithout = sel === undefined && existingSel === undefined;
      const bothWith = sel !== undefined && existingSel !== undefined;
      const selectorsMatch = sameLabels(sel, existingSel);
      if (setEquals(exportTo, existing.exportTo)) {
        appendSeparately = !(bothWithout || (bothWith && selectorsMatch));
      } else if (existing.exportTo.size > 0 && isSuperset(exportTo, existing.exportTo)) {
        appendSeparately = true;
      } else {
        appendSeparately = true;
        continue;
      }
      // Rules for different workloads are never merged.
      if (bothWith && !selectorsMatch) continue;
      list[i] = mergeInto(existing, r);
    }
    if (appendSeparately) list.push(fresh);
  }

  /**
   * The candidate rules for `host` as seen from `proxyNamespace` (Istio's PushContext.destinationRule).
   * `serviceNamespace` is the namespace of the service the host belongs to, when there is one.
   */
  lookup(proxyNamespace: string, host: string, serviceNamespace: string | undefined): readonly ConsolidatedRule[] {
    if (proxyNamespace !== this.rootNamespace) {
      const local = this.namespaceLocal.get(proxyNamespace);
      const found = local && mostSpecificHostMatch(host, local.specific, local.wildcard);
      if (found) return found;
    } else {
      // A private rule of the root namespace is meant for proxies there (e.g. gateways).
      const found = mostSpecificHostMatch(host, this.rootNamespaceLocal.specific, this.rootNamespaceLocal.wildcard);
      if (found) return found;
    }
    if (serviceNamespace !== undefined) {
      const out = this.exported(serviceNamespace, host, proxyNamespace);
      if (out.length) return out;
    }
    return this.exported(this.rootNamespace, host, proxyNamespace);
  }

  private exported(owner: string, host: string, client: string): ConsolidatedRule[] {
    const rules = this.exportedByNamespace.get(owner);
    const found = rules && mostSpecificHostMatch(host, rules.specific, rules.wildcard);
    if (!found) return [];
    return found.filter((c) => c.exportTo.size === 0 || c.exportTo.has('*') || c.exportTo.has(client));
  }
}
