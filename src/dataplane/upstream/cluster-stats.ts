// A cluster's stats in one table, with Envoy's names (`cluster.<name>.<stat>` on /stats,
// `envoy_cluster_<stat>{cluster_name=...}` for Prometheus). Created once per cluster object; a
// replacement cluster of the same name shares the same cells, so counters survive config pushes.

import type { Counter, Gauge, StatsScope } from '../../telemetry/stats/stats.js';

export interface ClusterStats {
  rqTotal: Counter;
  rqActive: Gauge;
  rqXx: Counter[];
  rqTimeout: Counter;
  rqRetry: Counter;
  /** upstream_cx_none_healthy: no host to choose. */
  noHealthyHost: Counter;
  membershipTotal: Gauge;
  membershipHealthy: Gauge;
  /** Picks made while in panic (too few healthy hosts: balancing over all of them). */
  lbHealthyPanic: Counter;
  rqPendingTotal: Counter;
  rqPendingActive: Gauge;
  /** Requests failed with UO: pending queue full, or maxRequests reached. */
  rqPendingOverflow: Counter;
  rqRetryOverflow: Counter;
  cxTotal: Counter;
  cxActive: Gauge;
  cxHttp1Total: Counter;
  cxHttp2Total: Counter;
  cxConnectFail: Counter;
  cxConnectTimeout: Counter;
  cxDestroy: Counter;
  cxIdleTimeout: Counter;
  cxMaxRequests: Counter;
  cxMaxDurationReached: Counter;
  /** A connection was wanted but maxConnections was reached. */
  cxOverflow: Counter;
  /** Completed TLS handshakes (Envoy's ssl.handshake), resumed sessions among them, and by version. */
  sslHandshake: Counter;
  sslSessionReused: Counter;
  sslVersions: { readonly 'TLSv1.2': Counter; readonly 'TLSv1.3': Counter };
  cbCxOpen: Gauge;
  cbRqPendingOpen: Gauge;
  cbRqOpen: Gauge;
  cbRqRetryOpen: Gauge;
  /** Envoy's track_remaining gauges (Istio turns them on): how far each count is from its limit. */
  cbRemainingCx: Gauge;
  cbRemainingPending: Gauge;
  cbRemainingRq: Gauge;
  cbRemainingRetries: Gauge;
}

export function clusterStats(scope: StatsScope): ClusterStats {
  const c = (name: string) => scope.counter(name);
  const g = (name: string) => scope.gauge(name);
  const breaker = (name: string) => scope.gauge(`circuit_breakers_default_${name}`, {}, `circuit_breakers.default.${name}`);
  return {
    rqTotal: c('upstream_rq_total'),
    rqActive: g('upstream_rq_active'),
    rqXx: [1, 2, 3, 4, 5].map((n) => scope.counter('upstream_rq_xx', { response_code_class: String(n) }, `upstream_rq_${n}xx`)),
    rqTimeout: c('upstream_rq_timeout'),
    rqRetry: c('upstream_rq_retry'),
    noHealthyHost: c('upstream_cx_none_healthy'),
    membershipTotal: g('membership_total'),
    membershipHealthy: g('membership_healthy'),
    lbHealthyPanic: c('lb_healthy_panic'),
    rqPendingTotal: c('upstream_rq_pending_total'),
    rqPendingActive: g('upstream_rq_pending_active'),
    rqPendingOverflow: c('upstream_rq_pending_overflow'),
    rqRetryOverflow: c('upstream_rq_retry_overflow'),
    cxTotal: c('upstream_cx_total'),
    cxActive: g('upstream_cx_active'),
    cxHttp1Total: c('upstream_cx_http1_total'),
    cxHttp2Total: c('upstream_cx_http2_total'),
    cxConnectFail: c('upstream_cx_connect_fail'),
    cxConnectTimeout: c('upstream_cx_connect_timeout'),
    cxDestroy: c('upstream_cx_destroy'),
    cxIdleTimeout: c('upstream_cx_idle_timeout'),
    cxMaxRequests: c('upstream_cx_max_requests'),
    cxMaxDurationReached: c('upstream_cx_max_duration_reached'),
    cxOverflow: c('upstream_cx_overflow'),
    sslHandshake: scope.counter('ssl_handshake', {}, 'ssl.handshake'),
    sslSessionReused: scope.counter('ssl_session_reused', {}, 'ssl.session_reused'),
    sslVersions: { 'TLSv1.2': scope.counter('ssl_versions_TLSv1_2', {}, 'ssl.versions.TLSv1.2'), 'TLSv1.3': scope.counter('ssl_versions_TLSv1_3', {}, 'ssl.versions.TLSv1.3') },
    cbCxOpen: breaker('cx_open'),
    cbRqPendingOpen: breaker('rq_pending_open'),
    cbRqOpen: breaker('rq_open'),
    cbRqRetryOpen: breaker('rq_retry_open'),
    cbRemainingCx: breaker('remaining_cx'),
    cbRemainingPending: breaker('remaining_pending'),
    cbRemainingRq: breaker('remaining_rq'),
    cbRemainingRetries: breaker('remaining_retries'),
  };
}
