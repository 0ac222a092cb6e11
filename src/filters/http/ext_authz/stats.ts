// The ext_authz filter's stats, declared once, named as Envoy names them (ExtAuthz::generateStats):
// `http.<hcm stat_prefix>.ext_authz.[<stat_prefix>.]<stat>`, Prometheus
// `envoy_http_ext_authz_<stat>{http_conn_manager_prefix="..."}`. Envoy's per-cluster copies
// (`cluster.<name>.ext_authz.*`) are not kept.

import type { Counter, StatsRegistry } from '../../../telemetry/stats/stats.js';

export const EXT_AUTHZ_STATS = ['ok', 'denied', 'error', 'disabled', 'failure_mode_allowed', 'invalid'] as const;

export type ExtAuthzStats = Readonly<Record<(typeof EXT_AUTHZ_STATS)[number], Counter>>;

export function extAuthzStats(registry: StatsRegistry, hcmStatPrefix: string, statPrefix: string): ExtAuthzStats {
  const scope = registry.scope('http', { http_conn_manager_prefix: hcmStatPrefix });
  const base = statPrefix ? `ext_authz.${statPrefix.replace(/\.$/, '')}.` : 'ext_authz.';
  const prom = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');
  const out: Record<string, Counter> = {};
  for (const s of EXT_AUTHZ_STATS) out[s] = scope.counter(prom(`${base}${s}`), {}, `${base}${s}`);
  return out as ExtAuthzStats;
}
