// The fault filter's stats, declared once (Envoy's ALL_FAULT_FILTER_STATS table) under the
// owning connection manager's scope: `http.<statPrefix>.fault.<name>` on the admin /stats page,
// `envoy_http_fault_<name>{http_conn_manager_prefix="<statPrefix>"}` in Prometheus. Cells with the
// same name are shared, so a config update keeps counting where the old filter left off and the
// active_faults gauge stays right while old requests finish.

import type { Counter, Gauge, StatsRegistry } from '../../../telemetry/stats/stats.js';

export const FAULT_STATS = {
  counters: ['delays_injected', 'aborts_injected', 'faults_overflow'],
  gauges: ['active_faults'],
} as const;

export type FaultStats = { readonly [K in (typeof FAULT_STATS.counters)[number]]: Counter } & {
  readonly [K in (typeof FAULT_STATS.gauges)[number]]: Gauge;
};

export function faultStats(registry: StatsRegistry, statPrefix: string): FaultStats {
  const scope = registry.scope('http', { http_conn_manager_prefix: statPrefix });
  const out: Record<string, Counter | Gauge> = {};
  for (const c of FAULT_STATS.counters) out[c] = scope.counter(`fault_${c}`, {}, `fault.${c}`);
  for (const g of FAULT_STATS.gauges) out[g] = scope.gauge(`fault_${g}`, {}, `fault.${g}`);
  return out as FaultStats;
}
