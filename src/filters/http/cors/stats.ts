// The CORS filter's stats, declared once (Envoy's ALL_CORS_STATS) under the owning connection
// manager's scope: `http.<statPrefix>.cors.<name>` on the admin /stats page,
// `envoy_http_cors_<name>{http_conn_manager_prefix="<statPrefix>"}` in Prometheus. Requests
// without an Origin header are counted in neither, as in Envoy.

import type { Counter, StatsRegistry } from '../../../telemetry/stats/stats.js';

export const CORS_STATS = {
  counters: ['origin_valid', 'origin_invalid'],
} as const;

export type CorsStats = { readonly [K in (typeof CORS_STATS.counters)[number]]: Counter };

export function corsStats(registry: StatsRegistry, statPrefix: string): CorsStats {
  const scope = registry.scope('http', { http_conn_manager_prefix: statPrefix });
  const out: Record<string, Counter> = {};
  for (const c of CORS_STATS.counters) out[c] = scope.counter(`cors_${c}`, {}, `cors.${c}`);
  return out as CorsStats;
}
