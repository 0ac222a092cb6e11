// DestinationRule lookups for one proxy, shared by the cluster generator and the routes
// generator so that both read the same rule, subset and policy for a host (DR-01..10):
//
//   destinationRuleFor  the rule a proxy applies to a host, in Istio's lookup order (proxy
//                       namespace, then the service's, then the root namespace; most specific
//                       host; exportTo; workloadSelector) — see model/destination-rule-index.ts;
//   effectivePolicy     the traffic policy for one port (and subset): port-level settings over
//                       the top level, then the subset's over the rule's, field by field
//                       (loadBalancer, connectionPool, outlierDetection, tls), as Istio's
//                       MergeSubsetTrafficPolicy does;
//   hashPolicyFor       the route-level Envoy hash policy of a consistentHash load balancer (DR-03);
//   subsetExists        whether a route's subset is defined (else Istio's route gets no cluster).
//
// Everything here is pure: the same snapshot, proxy and host always give the same answer.

import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  ConsistentHashLB,
  DestinationRuleResource,
  LoadBalancerSettings,
  OutlierDetection,
  Subset,
  TrafficPolicy,
} from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { HashPolicy } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { serviceExportedTo } from './sidecar-scope.js';

/** A traffic policy resolved for one port (and subset): what a cluster is built from. */
export interface EffectivePolicy {
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
  readonly tls?: ClientTLSSettings;
  readonly retryBudget?: TrafficPolicy['retryBudget'];
}

/** A duration in milliseconds as proto3 JSON (`10s`, `0.25s`), written as the xDS codec writes it. */
export function protoDuration(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/**
 * The namespace of the service a host names, as seen from the proxy's namespace (its own
 * namespace's declaration first, else the first one exported to it), for step 2 of the lookup.
 */
function serviceNamespaceOf(snapshot: MeshSnapshot, proxy: ProxyNode, fqdn: string): string | undefined {
  const candidates = (snapshot.servicesByHostname.get(fqdn) ?? []).filter((s) => serviceExportedTo(snapshot, s, proxy.namespace));
  return (candidates.find((s) => s.namespace === proxy.namespace) ?? candidates[0])?.namespace;
}

/**
 * The DestinationRule the proxy applies to `fqdn` (DR-01), merged when several rules of one
 * namespace name the same host, or undefined. Outbound (the default), a rule with a
 * workloadSelector applies only to proxies of its namespace whose labels it selects, and beats
 * a rule without selector; inbound (the server side's connection pool), selectors are ignored.
 */
export function destinationRuleFor(snapshot: MeshSnapshot, proxy: ProxyNode, fqdn: string, direction: 'outbound' | 'inbound' = 'outbound'): DestinationRuleResource | undefined {
  const candidates = snapshot.destinationRules.lookup(proxy.namespace, fqdn, serviceNamespaceOf(snapshot, proxy, fqdn));
  let catchAll: DestinationRuleResource | undefined;
  for (const c of candidates) {
    const selector = c.rule.spec.workloadSelector?.matchLabels;
    if (!selector) {
      catchAll = c.rule;
      continue;
    }
    // An empty selector selects every workload of the namespace (the loader warns).
    const matches = Object.keys(selector).length === 0 || selects(selector, proxy.labels);
    if (direction === 'outbound' && c.rule.metadata.namespace === proxy.namespace && matches) return c.rule;
  }
  return catchAll;
}

/** Istio's GetPortLevelTrafficPolicy: the policy with the port's portLevelSettings over its top level. */
export function portLevelPolicy(policy: TrafficPolicy | undefined, port: number): EffectivePolicy | undefined {
  if (!policy) return undefined;
  const base: EffectivePolicy = pickFields(policy);
  const pl = policy.portLevelSettings.find((p) => p.port.number === port);
  return pl ? overlay(base, pickFields(pl)) : base;
}

function pickFields(p: EffectivePolicy): EffectivePolicy {
  return {
    ...(p.loadBalancer ? { loadBalancer: p.loadBalancer } : {}),
    ...(p.connectionPool ? { connectionPool: p.connectionPool } : {}),
    ...(p.outlierDetection ? { outlierDetection: p.outlierDetection } : {}),
    ...(p.tls ? { tls: p.tls } : {}),
    ...(p.retryBudget ? { retryBudget: p.retryBudget } : {}),
  };
}

/** Each field `over` sets replaces the one of `base` whole (Istio merges at this level). */
function overlay(base: EffectivePolicy, over: EffectivePolicy): EffectivePolicy {
  return {
    ...((over.loadBalancer ?? base.loadBalancer) ? { loadBalancer: over.loadBalancer ?? base.loadBalancer } : {}),
    ...((over.connectionPool ?? base.connectionPool) ? { connectionPool: over.connectionPool ?? base.connectionPool } : {}),
    ...((over.outlierDetection ?? base.outlierDetection) ? { outlierDetection: over.outlierDetection ?? base.outlierDetection } : {}),
    ...((over.tls ?? base.tls) ? { tls: over.tls ?? base.tls } : {}),
    ...((over.retryBudget ?? base.retryBudget) ? { retryBudget: over.retryBudget ?? base.retryBudget } : {}),
  };
}

/**
 * Istio's MergeSubsetTrafficPolicy: the rule's policy for the port, overridden field by field by
 * the subset's policy for the port (DR-01, DR-10). Returns {} when neither sets anything.
 */
export function mergeTrafficPolicy(rule: TrafficPolicy | undefined, subset: TrafficPolicy | undefined, port: number): EffectivePolicy {
  const base = portLevelPolicy(rule, port) ?? {};
  const over = portLevelPolicy(subset, port);
  return over ? overlay(base, over) : base;
}

/** The subset of the proxy's rule for `fqdn` named `name`, if defined. */
export function subsetOf(snapshot: MeshSnapshot, proxy: ProxyNode, fqdn: string, name: string): Subset | undefined {
  return destinationRuleFor(snapshot, proxy, fqdn)?.spec.subsets.find((s) => s.name === name);
}

/** Whether the DestinationRule the proxy applies to `fqdn` defines subset `subset` (VS-12). */
export function subsetExists(snapshot: MeshSnapshot, proxy: ProxyNode, fqdn: string, subset: string): boolean {
  return subsetOf(snapshot, proxy, fqdn, subset) !== undefined;
}

/**
 * The traffic policy the proxy applies to `fqdn` on service port `port`, for `subset` when given
 * (an unknown subset gets the rule's policy). {} without a DestinationRule.
 */
export function effectivePolicy(snapshot: MeshSnapshot, proxy: ProxyNode, fqdn: string, port: number, subset?: string): EffectivePolicy {
  const rule = destinationRuleFor(snapshot, proxy, fqdn);
  if (!rule) return {};
  const s = subset ? rule.spec.subsets.find((x) => x.name === subset) : undefined;
  return mergeTrafficPolicy(rule.spec.trafficPolicy, s?.trafficPolicy, port);
}

/**
 * Envoy's route hash policy for a consistentHash load balancer (DR-03), as Istio's
 * consistentHashToHashPolicy builds it: header, cookie (name, ttl, path; with a ttl the proxy
 * generates the cookie), source IP, or query parameter. Undefined without a hash key.
 */
export function hashPolicyOf(ch: ConsistentHashLB | undefined): HashPolicy[] | undefined {
  if (!ch) return undefined;
  if (ch.httpHeaderName !== undefined) return [{ header: { headerName: ch.httpHeaderName } }];
  if (ch.httpCookie !== undefined) {
    const c = ch.httpCookie;
    return [{ cookie: { name: c.name, ...(c.ttl !== undefined ? { ttl: protoDuration(c.ttl.ms) } : {}), ...(c.path !== undefined ? { path: c.path } : {}) } }];
  }
  if (ch.useSourceIp !== undefined) return [{ connectionProperties: { sourceIp: ch.useSourceIp } }];
  if (ch.httpQueryParameterName !== undefined) return [{ queryParameter: { name: ch.httpQueryParameterName } }];
  return undefined;
}

/**
 * The hash policy a route to `fqdn` port `port` (and `subset`) carries, from the proxy's
 * DestinationRule: the merged policy's consistentHash (port level and subset included).
 */
export function hashPolicyFor(snapshot: MeshSnapshot, proxy: ProxyNode, fqdn: string, port: number, subset?: string): HashPolicy[] | undefined {
  return hashPolicyOf(effectivePolicy(snapshot, proxy, fqdn, port, subset || undefined).loadBalancer?.consistentHash);
}
