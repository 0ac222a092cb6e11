// Which AuthorizationPolicies and RequestAuthentications apply to one proxy (AZ-04, RA-01), as
// Istio's WorkloadPolicyMatcher decides (pilot/pkg/model/policyattachment.go):
//
// - only policies of the mesh root namespace (`rootNamespace`, istio-system) and of the proxy's
//   own namespace are candidates; a root-namespace policy without a selector is mesh-wide, one
//   with a selector applies to matching workloads of every namespace;
// - a selector applies when its matchLabels are a subset of the proxy's labels (a gateway's too:
//   TASK-14 selects the ingress gateway by `app: istio-ingressgateway`);
// - a policy with targetRefs applies only to a Gateway API gateway (a proxy labelled
//   `gateway.networking.k8s.io/gateway-name`) it names, in its own namespace. Strait runs no
//   such gateway today, so in practice those policies apply to no proxy, which is the safe
//   reading: they are never mistaken for namespace-wide policies.

import type { AuthorizationPolicyResource, JWTRule, PolicyTargetReference, RequestAuthenticationResource, WorkloadSelector } from '../../../config/types.js';
import type { MeshSnapshot } from '../../model/mesh-snapshot.js';
import type { ProxyNode } from '../../model/proxy-node.js';
import type { AuthzPolicies, AuthzPolicy } from './authz-builder.js';

/** The label Istio uses to tie a gateway deployment to its Gateway API Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

interface Targetable {
  readonly metadata: { readonly namespace: string };
  readonly spec: { readonly selector?: WorkloadSelector; readonly targetRefs: readonly PolicyTargetReference[] };
}

function selected(selector: WorkloadSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  return !selector || Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
}

/** Whether a policy in a candidate namespace attaches to the proxy (selector or targetRefs). */
export function attaches(policy: Targetable, proxy: ProxyNode): boolean {
  const gatewayName = proxy.labels[GATEWAY_NAME_LABEL];
  const refs = policy.spec.targetRefs;
  if (refs.length === 0) return selected(policy.spec.selector, proxy.labels);
  if (gatewayName === undefined || policy.metadata.namespace !== proxy.namespace) return false;
  return refs.some((r) => r.kind === 'Gateway' && r.group === 'gateway.networking.k8s.io' && r.name === gatewayName);
}

/** Candidates from the given namespaces (each once), in namespace order, then load order. */
function candidates<T extends Targetable>(all: readonly T[], namespaces: readonly string[], proxy: ProxyNode): T[] {
  const out: T[] = [];
  for (const ns of new Set(namespaces)) for (const p of all) if (p.metadata.namespace === ns && attaches(p, proxy)) out.push(p);
  return out;
}

function toPolicy(r: AuthorizationPolicyResource): AuthzPolicy {
  return {
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    action: r.spec.action,
    ...(r.spec.provider ? { provider: r.spec.provider.name } : {}),
    dryRun: r.spec.dryRun,
    rules: r.spec.rules,
  };
}

/** The AuthorizationPolicies of a proxy by action (Istio looks in the root namespace first). */
export function authorizationPoliciesFor(snapshot: MeshSnapshot, proxy: ProxyNode): AuthzPolicies {
  const applied = candidates(snapshot.authorizationPolicies, [snapshot.rootNamespace, proxy.namespace], proxy).map(toPolicy);
  return {
    custom: applied.filter((p) => p.action === 'CUSTOM'),
    deny: applied.filter((p) => p.action === 'DENY'),
    allow: applied.filter((p) => p.action === 'ALLOW'),
    audit: applied.filter((p) => p.action === 'AUDIT'),
  };
}

/** The jwtRules of every RequestAuthentication that applies (Istio looks in the proxy's namespace first). */
export function jwtRulesFor(snapshot: MeshSnapshot, proxy: ProxyNode): JWTRule[] {
  const applied: readonly RequestAuthenticationResource[] = candidates(snapshot.requestAuthentications, [proxy.namespace, snapshot.rootNamespace], proxy);
  return applied.flatMap((r) => r.spec.jwtRules);
}
