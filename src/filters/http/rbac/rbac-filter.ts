// The RBAC HTTP filter's request path (Envoy's RoleBasedAccessControlFilter::decodeHeaders):
//   1. shadow rules (dry run): evaluated, counted (shadow_allowed / shadow_denied) and recorded
//      in dynamic metadata `envoy.filters.http.rbac` as <prefix>shadow_effective_policy_id (when a
//      policy matched) and <prefix>shadow_engine_result ("allowed" / "denied"); never enforced;
//   2. enforced rules: counted (allowed / denied), recorded as <prefix>enforced_effective_policy_id
//      and <prefix>enforced_engine_result; a denial is answered here with 403 "RBAC: access
//      denied", details `rbac_access_denied_matched_policy[<policy>|none]` and no response flag
//      (as in Envoy; Istio's access log shows `-`). A LOG engine never denies; it tells the access
//      log whether a policy matched in `envoy.common` → access_log_hint.
// A route's RBACPerRoute replaces both engines. No rules at all: the request passes.

import type { FilterResult, FilterStream, HttpFilter, LocalReply } from '../api.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import type { CompiledRbac, RbacMetadataKeys } from './config.js';
import { engineAllows } from './engine.js';
import type { RbacEngine } from './engine.js';
import type { RbacStats } from './stats.js';

export const RBAC_FILTER_NAME = 'envoy.filters.http.rbac';
export const RBAC_DENIED_BODY = 'RBAC: access denied';

export class RbacFilter implements HttpFilter {
  constructor(
    private readonly cfg: CompiledRbac,
    private readonly stats: RbacStats,
  ) {}

  onRequestHeaders(s: FilterStream): FilterResult {
    const route = s.perRoute<CompiledRbac>(RBAC_FILTER_NAME);
    const cfg = route ?? this.cfg;
    const { shadow, rules } = cfg;
    if (shadow === null && rules === null) return;
    const req = s.request;
    const info = s.info;
    const perRule = cfg.trackPerRuleStats;
    // Envoy writes one Struct per request, merged into the namespace; so does this.
    const md: Record<string, unknown> = {};

    if (shadow !== null) {
      const keys = route && route.shadowRulesStatPrefix !== '' ? route.shadowKeys : this.cfg.shadowKeys;
      const matched = shadow.firstMatch(req, info);
      const allowed = engineAllows(shadow, matched);
      (allowed ? this.stats.shadow_allowed : this.stats.shadow_denied).value++;
      if (perRule && matched >= 0) this.stats.policy(shadow.policyNames[matched]!, true, allowed ? 'allowed' : 'denied').value++;
      record(md, keys, shadow, matched, allowed);
    }

    if (rules === null) {
      setMetadata(info, RBAC_FILTER_NAME, md);
      return;
    }
    const keys = route && route.rulesStatPrefix !== '' ? route.enforcedKeys : this.cfg.enforcedKeys;
    const matched = rules.firstMatch(req, info);
    const allowed = engineAllows(rules, matched);
    if (rules.action === 'LOG') setMetadata(info, 'envoy.common', { access_log_hint: matched >= 0 });
    (allowed ? this.stats.allowed : this.stats.denied).value++;
    if (perRule && matched >= 0) this.stats.policy(rules.policyNames[matched]!, false, allowed ? 'allowed' : 'denied').value++;
    record(md, keys, rules, matched, allowed);
    setMetadata(info, RBAC_FILTER_NAME, md);
    if (!allowed) return deniedReply(matched < 0 ? 'none' : rules.policyNames[matched]!);
  }
}

function record(md: Record<string, unknown>, keys: RbacMetadataKeys, engine: RbacEngine, matched: number, allowed: boolean): void {
  if (matched >= 0) md[keys.effectivePolicyId] = engine.policyNames[matched];
  md[keys.engineResult] = allowed ? 'allowed' : 'denied';
}

/** Envoy's setDynamicMetadata: the fields are merged into the filter's namespace. */
export function setMetadata(info: StreamInfo, namespace: string, fields: Record<string, unknown>): void {
  const cur = info.dynamicMetadata[namespace];
  if (cur === undefined) info.dynamicMetadata[namespace] = fields;
  else Object.assign(cur, fields);
}

/** Envoy's RBAC::responseDetail: whitespace in the policy name becomes `_` (one log field). */
export function rbacDeniedDetails(policy: string): string {
  return `rbac_access_denied_matched_policy[${policy.replace(/[ \t\f\v\n\r]/g, '_')}]`;
}

function deniedReply(policy: string): LocalReply {
  return {
    status: 403,
    flag: '',
    details: rbacDeniedDetails(policy),
    message: RBAC_DENIED_BODY,
    headers: [['content-type', 'text/plain']],
    body: RBAC_DENIED_BODY,
  };
}
