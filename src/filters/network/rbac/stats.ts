// The network RBAC filter's stats: the HTTP filter's table (src/filters/http/rbac/stats.ts) under
// the filter's own stat_prefix instead of a connection manager's scope, as Envoy names them:
// `<stat_prefix>rbac.allowed`, `<stat_prefix>rbac.<shadow_rules_stat_prefix>shadow_denied`.
// Istio's `tcp.` gives `tcp.rbac.allowed`, Prometheus `envoy_tcp_rbac_allowed`. The first
// dot-separated part of stat_prefix becomes the scope; a prefix without a dot is read as if it
// ended with one (Envoy would run it into the stat name: `tcprbac.allowed`).

import type { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { rbacStats } from '../../http/rbac/stats.js';
import type { RbacStats } from '../../http/rbac/stats.js';

export function networkRbacStats(registry: StatsRegistry, statPrefix: string, shadowRulesStatPrefix: string): RbacStats {
  const dot = statPrefix.indexOf('.');
  const scope = dot < 0 ? statPrefix : statPrefix.slice(0, dot);
  const base = dot < 0 ? '' : statPrefix.slice(dot + 1);
  return rbacStats(registry.scope(scope), base, '', shadowRulesStatPrefix);
}
