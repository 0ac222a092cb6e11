// The RBAC filters' stats, declared once, named as Envoy names them (Filters::Common::RBAC::
// generateStats): under `<prefix>rbac.` joined with rules_stat_prefix, and the shadow ones further
// joined with shadow_rules_stat_prefix, where "joined" is Envoy's statPrefixJoin (a `.` is
// inserted unless the prefix already ends with one, so `istio_dry_run_allow_` gives
// `rbac.istio_dry_run_allow_.shadow_denied`). HTTP: `http.<hcm stat_prefix>.rbac.allowed`,
// Prometheus `envoy_http_rbac_allowed{http_conn_manager_prefix="..."}`. Network: `<stat_prefix>rbac.allowed`
// (Istio's `tcp.` gives `tcp.rbac.allowed`, `envoy_tcp_rbac_allowed`).

import type { Counter, StatsRegistry, StatsScope } from '../../../telemetry/stats/stats.js';

export const RBAC_STATS = {
  enforced: ['allowed', 'denied'],
  shadow: ['shadow_allowed', 'shadow_denied'],
} as const;

export interface RbacStats {
  readonly allowed: Counter;
  readonly denied: Counter;
  readonly shadow_allowed: Counter;
  readonly shadow_denied: Counter;
  /** Per-policy counters (track_per_rule_stats), created on first use. */
  policy(name: string, shadow: boolean, result: 'allowed' | 'denied'): Counter;
}

/** Envoy's statPrefixJoin. */
export function statPrefixJoin(prefix: string, token: string): string {
  if (prefix === '') return token;
  return prefix.endsWith('.') ? prefix + token : `${prefix}.${token}`;
}

/** A Prometheus-safe stat name (Envoy's exposition replaces everything else with `_`). */
function promName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_]/g, '_');
}

/**
 * `scope` is where the names start (`http.<prefix>.` for the HTTP filter); `base` is the part
 * before `rbac.` inside it (the network filter's stat_prefix; '' for HTTP).
 */
export function rbacStats(scope: StatsScope, base: string, rulesStatPrefix: string, shadowRulesStatPrefix: string): RbacStats {
  const enforcedPrefix = statPrefixJoin(`${base}rbac.`, rulesStatPrefix);
  const shadowPrefix = statPrefixJoin(enforcedPrefix, shadowRulesStatPrefix);
  const counter = (full: string) => scope.counter(promName(full), {}, full);
  return {
    allowed: counter(statPrefixJoin(enforcedPrefix, 'allowed')),
    denied: counter(statPrefixJoin(enforcedPrefix, 'denied')),
    shadow_allowed: counter(statPrefixJoin(shadowPrefix, 'shadow_allowed')),
    shadow_denied: counter(statPrefixJoin(shadowPrefix, 'shadow_denied')),
    policy(name, shadow, result) {
      const prefix = statPrefixJoin(shadow ? shadowPrefix : enforcedPrefix, 'policy.');
      const stat = shadow ? `shadow_${result}` : result;
      return scope.counter(promName(`${prefix}${stat}`), { policy_name: name }, `${prefix}${name}.${stat}`);
    },
  };
}

/** The HTTP filter's stats, in the owning connection manager's scope. */
export function httpRbacStats(registry: StatsRegistry, hcmStatPrefix: string, rulesStatPrefix: string, shadowRulesStatPrefix: string): RbacStats {
  return rbacStats(registry.scope('http', { http_conn_manager_prefix: hcmStatPrefix }), '', rulesStatPrefix, shadowRulesStatPrefix);
}
