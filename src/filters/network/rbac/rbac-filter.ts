// The network RBAC filter's connection check (Envoy's network RoleBasedAccessControlFilter):
//   1. shadow rules (dry run): evaluated, counted (shadow_allowed / shadow_denied) and recorded
//      in dynamic metadata `envoy.filters.network.rbac` as <prefix>shadow_effective_policy_id
//      (when a policy matched) and <prefix>shadow_engine_result; never enforced;
//   2. enforced rules: counted (allowed / denied); a LOG engine never denies and tells the access
//      log whether a policy matched (`envoy.common` → access_log_hint); a denial closes the
//      connection without flushing, with connection termination details
//      `rbac_access_denied_matched_policy[<policy>|none]` (after delay_deny when set).
// Principals and permissions are the HTTP engine's, evaluated with no request: source IP, peer
// certificate, destination IP and port, SNI and metadata apply; HTTP-only rules (headers, paths)
// never match here, which is why Istio's TCP rules leave them out of DENY and fail ALLOW (AZ-10).
// Strait decides when the connection reaches the chain, before tcp_proxy connects upstream;
// Envoy decides on the connection's first bytes, after tcp_proxy has connected.

import type { CloseConnection, NetworkFilter } from '../api.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { engineAllows } from '../../http/rbac/engine.js';
import { rbacDeniedDetails, setMetadata } from '../../http/rbac/rbac-filter.js';
import type { RbacStats } from '../../http/rbac/stats.js';
import type { CompiledNetworkRbac } from './config.js';

export const NETWORK_RBAC_METADATA = 'envoy.filters.network.rbac';

export class NetworkRbacFilter implements NetworkFilter {
  constructor(
    private readonly cfg: CompiledNetworkRbac,
    private readonly stats: RbacStats,
  ) {}

  onNewConnection(info: StreamInfo): CloseConnection | undefined {
    const { shadow, rules } = this.cfg;
    if (shadow !== null) {
      const matched = shadow.firstMatch(null, info);
      const allowed = engineAllows(shadow, matched);
      (allowed ? this.stats.shadow_allowed : this.stats.shadow_denied).value++;
      const md: Record<string, unknown> = {};
      if (matched >= 0) md[this.cfg.shadowKeys.effectivePolicyId] = shadow.policyNames[matched];
      md[this.cfg.shadowKeys.engineResult] = allowed ? 'allowed' : 'denied';
      setMetadata(info, NETWORK_RBAC_METADATA, md);
    }
    if (rules === null) return undefined;
    const matched = rules.firstMatch(null, info);
    const allowed = engineAllows(rules, matched);
    if (rules.action === 'LOG') setMetadata(info, 'envoy.common', { access_log_hint: matched >= 0 });
    (allowed ? this.stats.allowed : this.stats.denied).value++;
    if (allowed) return undefined;
    const details = rbacDeniedDetails(matched < 0 ? 'none' : rules.policyNames[matched]!);
    return this.cfg.delayDenyMs > 0 ? { details, delayMs: this.cfg.delayDenyMs } : { details };
  }
}
