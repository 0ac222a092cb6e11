// The JWT filter's stats, declared once (Envoy's ALL_JWT_AUTHN_FILTER_STATS) under the owning
// connection manager's scope: `http.<statPrefix>.jwt_authn.<name>` on the admin /stats page,
// `envoy_http_jwt_authn_<name>{http_conn_manager_prefix="<statPrefix>"}` in Prometheus. Cells
// with the same name are shared, so a config update keeps counting where the old filter left off.

import type { Counter, StatsRegistry } from '../../../telemetry/stats/stats.js';

export const JWT_AUTHN_STATS = {
  counters: ['allowed', 'cors_preflight_bypassed', 'denied', 'jwks_fetch_success', 'jwks_fetch_failed'],
} as const;

export type JwtAuthnStats = { readonly [K in (typeof JWT_AUTHN_STATS.counters)[number]]: Counter };

export function jwtAuthnStats(registry: StatsRegistry, statPrefix: string): JwtAuthnStats {
  const scope = registry.scope('http', { http_conn_manager_prefix: statPrefix });
  const out: Record<string, Counter> = {};
  for (const c of JWT_AUTHN_STATS.counters) out[c] = scope.counter(`jwt_authn_${c}`, {}, `jwt_authn.${c}`);
  return out as JwtAuthnStats;
}
