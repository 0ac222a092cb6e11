// The security filters of one proxy's inbound side (sidecar inbound listeners, gateway listeners),
// built once per proxy from the policies that apply to it and placed by the listener generators
// in front of their own filters. The order is Istio's (pilot/pkg/networking/core/
// listener_builder.go, networkfilter.go):
//
//   HTTP:  rbac (CUSTOM, shadow) · ext_authz · jwt_authn · rbac (AUDIT) · rbac (DENY) · rbac (ALLOW)
//          … then the generators' own cors · fault · router
//   TCP:   rbac (CUSTOM, shadow) · ext_authz (gRPC providers) · rbac (AUDIT) · rbac (DENY) ·
//          rbac (ALLOW) … then tcp_proxy
//
// CUSTOM runs before JWT authentication in Istio, so CUSTOM rules cannot see request.auth.*; the
// other RBAC filters run after it and read the verified token from the JWT filter's metadata.
// Sidecar outbound listeners get none of these (Istio applies them to inbound and gateways only).

import type { Filter, HttpFilter } from '../../../xds/resources.js';
import type { MeshSnapshot } from '../../model/mesh-snapshot.js';
import type { ProxyNode } from '../../model/proxy-node.js';
import { authzHttpFilters, authzTcpFilters } from './authz-builder.js';
import type { CustomContext, ServiceLookup } from './ext-authz.js';
import { customHttpFilters, customTcpFilters } from './ext-authz.js';
import { authorizationPoliciesFor, jwtRulesFor } from './policy-selection.js';
import { jwtAuthnFilter } from './request-authn.js';

export interface SecurityFilters {
  /** For inbound HTTP connection managers, before their CORS, fault and router filters. */
  readonly http: readonly HttpFilter[];
  /** For inbound TCP chains, before tcp_proxy. */
  readonly tcp: readonly Filter[];
}

export const NO_SECURITY_FILTERS: SecurityFilters = { http: [], tcp: [] };

/**
 * The mesh trust domain (the mesh config's when one is loaded, else the control plane's), which
 * `cluster.local/...` principals stand for. MeshConfig trustDomainAliases is not read yet, so
 * the list has no aliases.
 */
export function trustDomainsOf(snapshot: MeshSnapshot): string[] {
  return [snapshot.store.list('MeshConfig').length ? snapshot.meshConfig.trustDomain : snapshot.mesh.trustDomain];
}

/**
 * Istio's LookupCluster for ext-authz services: `<namespace>/<hostname>`, or a hostname that only
 * one namespace declares.
 */
export function serviceLookup(snapshot: MeshSnapshot): ServiceLookup {
  return (service) => {
    const slash = service.indexOf('/');
    if (slash >= 0) {
      const ns = service.slice(0, slash);
      const host = service.slice(slash + 1);
      const s = (snapshot.servicesByHostname.get(host) ?? []).find((x) => x.namespace === ns);
      return s ? { hostname: s.hostname } : { error: `could not find service ${service} in the mesh registry` };
    }
    const namespaces = [...new Set((snapshot.servicesByHostname.get(service) ?? []).map((s) => s.namespace))].sort();
    if (namespaces.length === 1) return { hostname: service };
    if (namespaces.length > 1) return { error: `found ${service} in multiple namespaces [${namespaces.join(' ')}], specify the namespace explicitly in the format of <Namespace>/<Hostname>` };
    return { error: `could not find service ${service} in the mesh registry` };
  };
}

/** Every security filter the proxy's inbound chains carry; empty lists when no policy applies. */
export function securityFilters(snapshot: MeshSnapshot, proxy: ProxyNode): SecurityFilters {
  const policies = authorizationPoliciesFor(snapshot, proxy);
  const jwtRules = jwtRulesFor(snapshot, proxy);
  const anyAuthz = policies.custom.length + policies.deny.length + policies.allow.length + policies.audit.length > 0;
  if (!anyAuthz && jwtRules.length === 0) return NO_SECURITY_FILTERS;
  const trustDomains = trustDomainsOf(snapshot);
  const custom: CustomContext = { providers: snapshot.meshConfig.extensionProviders, lookup: serviceLookup(snapshot), trustDomains };
  // Gateways re-pick the route after JWT verification so routes may match on claims (Istio).
  const jwt = jwtAuthnFilter(jwtRules, { clearRouteCache: proxy.type !== 'sidecar', discoveredJwksUris: snapshot.mesh.discoveredJwksUris });
  return {
    http: [...customHttpFilters(policies.custom, custom), ...(jwt ? [jwt] : []), ...authzHttpFilters(policies, trustDomains)],
    tcp: [...customTcpFilters(policies.custom, custom), ...authzTcpFilters(policies, trustDomains)],
  };
}
