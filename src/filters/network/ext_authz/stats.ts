// The network ext_authz filter's stats, declared once, named as Envoy names them
// (NetworkFilters::ExtAuthz::Config::generateStats): `ext_authz.<stat_prefix>.<stat>`, where
// Istio's stat_prefix `tcp.` gives `ext_authz.tcp.ok` (the trailing dot is not doubled) and
// Prometheus `envoy_ext_authz_tcp_ok`. `active` is a gauge of checks in flight.

import type { Counter, Gauge, StatsRegistry } from '../../../telemetry/stats/stats.js';

export const NETWORK_EXT_AUTHZ_COUNTERS = ['total', 'ok', 'denied', 'error', 'disabled', 'failure_mode_allowed', 'cx_closed'] as const;

export type NetworkExtAuthzStats = Readonly<Record<(typeof NETWORK_EXT_AUTHZ_COUNTERS)[number], Counter>> & { readonly active: Gauge };

export function networkExtAuthzStats(registry: StatsRegistry, statPrefix: string): NetworkExtAuthzStats {
  const scope = registry.scope('ext_authz');
  const prefix = statPrefix.replace(/\.+$/, '');
  const prom = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');
  const out: Record<string, Counter | Gauge> = {};
  for (const s of NETWORK_EXT_AUTHZ_COUNTERS) out[s] = scope.counter(prom(`${prefix}_${s}`), {}, `${prefix}.${s}`);
  out.active = scope.gauge(prom(`${prefix}_active`), {}, `${prefix}.active`);
  return out as unknown as NetworkExtAuthzStats;
}
