// Compiles an HttpConnectionManager network filter (xDS) into the immutable object the request
// path reads: its route table (resolved now, from RDS or inline), header policies, access
// loggers and stats. Anything Strait cannot honour is a ConfigError, so the proxy NACKs it
// instead of serving something other than what was asked.

import type { StatsRegistry, Counter, Gauge } from '../../telemetry/stats/stats.js';
import { AccessLogConfigError, compileAccessLogs as compileLogs } from '../../telemetry/access-log/access-logs.js';
import type { CompiledAccessLog } from '../../telemetry/access-log/access-logs.js';
import { HCM_TYPE, ROUTER_TYPE } from '../../xds/resources.js';
import type { AccessLog, HttpConnectionManager } from '../../xds/resources.js';
import type { ClientCertConfig } from './client-cert-header.js';
import { ConfigError, optionalDurationMs } from '../config/durations.js';
import { compileRouteConfiguration, RouteTable } from '../router/route-table.js';
import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { AsyncHttpClient, HttpFilter } from '../../filters/http/api.js';
import { filterByTypeUrl } from '../../filters/http/registry.js';
import type { EscapedSlashesAction, PathNormalization } from './path-normalization.js';
import type { HttpTracing } from '../../telemetry/tracing/http-tracing.js';
import { istioMetricsFor } from '../../telemetry/metrics/istio-metrics.js';
import type { IstioMetrics } from '../../telemetry/metrics/istio-metrics.js';
import { compileStatsConfig, isStatsFilterConfig } from '../../telemetry/metrics/stats-config.js';
import { compileTracing } from '../../telemetry/tracing/tracing-config.js';
import type { TracerRegistry } from '../../telemetry/tracing/tracer-registry.js';

export type { CompiledAccessLog };

export interface HcmStats {
  readonly rqTotal: Counter;
  readonly rqActive: Gauge;
  readonly rqXx: readonly Counter[];
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly noRoute: Counter;
  readonly noCluster: Counter;
  readonly rqTimeout: Counter;
  readonly failedPathNormalization: Counter;
  /** Strait's own: requests the proxy failed on (a bug), answered 500 `internal_error`. */
  readonly internalErrors: Counter;
  readonly redirectedWithNormalizedPath: Counter;
}

export interface HcmConfig {
  readonly statPrefix: string;
  readonly routeTable: RouteTable;
  /** Name of the RDS route configuration, if dynamic (for diagnostics when it has not arrived). */
  readonly rdsName: string | undefined;
  readonly routeConfigMissing: boolean;
  readonly useRemoteAddress: boolean;
  /** Proxies in front of this one whose X-Forwarded-For entries are trusted (xff_num_trusted_hops). */
  readonly xffNumTrustedHops: number;
  readonly preserveExternalRequestId: boolean;
  readonly generateRequestId: boolean;
  readonly serverName: string;
  readonly serverHeaderTransformation: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  readonly idleTimeoutMs: number;
  readonly requestHeadersTimeoutMs: number;
  readonly maxHeadersCount: number;
  readonly accessLogs: readonly CompiledAccessLog[];
  /** HTTP filters before the router, in order; null when there are none. */
  readonly filters: readonly HttpFilter[] | null;
  /** upgradeConfigs: WebSocket upgrades are proxied as tunnels. */
  readonly allowWebsocket: boolean;
  /** upgradeConfigs CONNECT: tunnels are accepted and handled as new connections (sidecars). */
  readonly allowConnect: boolean;
  /** Outbound listeners send the route's decorator operation upstream. */
  readonly propagateDecorator: boolean;
  /** X-Forwarded-Client-Cert handling (mutual TLS callers). */
  readonly clientCert: ClientCertConfig;
  /** normalize_path, merge_slashes, path_with_escaped_slashes_action (path-normalization.ts). */
  readonly pathNormalization: PathNormalization;
  /** Distributed tracing (telemetry/tracing/); null when the HCM has no `tracing`. */
  readonly tracing: HttpTracing | null;
  /**
   * Istio's standard metrics (the `istio.stats` HTTP filter, telemetry/metrics/): recorded when
   * the request ends, outside the filter chain so a listener without other filters still runs
   * none; null when the HCM has no istio.stats filter.
   */
  readonly istioStats: IstioMetrics | null;
  readonly stats: HcmStats;
}

export interface FilterDeps {
  readonly clock: Clock;
  readonly random: Random;
  /** Filters that call services (ext_authz) send through it; compileConfig provides one. */
  readonly httpClient?: AsyncHttpClient;
  /** The proxy's tracers (span reporters by provider); absent: spans are decided but not sent. */
  readonly tracers?: TracerRegistry;
}

export function compileHcm(
  listenerName: string,
  hcm: HttpConnectionManager,
  routeConfigs: ReadonlyMap<string, RouteTable>,
  stats: StatsRegistry,
  deps: FilterDeps,
  direction?: 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND',
): HcmConfig {
  const at = `listener ${listenerName}`;
  if (hcm['@type'] !== HCM_TYPE) throw new ConfigError(`${at}: expected an HttpConnectionManager`);
  if (!hcm.statPrefix) throw new ConfigError(`${at}: HttpConnectionManager needs a statPrefix`);
  let routeTable: RouteTable;
  let rdsName: string | undefined;
  let missing = false;
  if (hcm.routeConfig) {
    routeTable = compileRouteConfiguration(hcm.routeConfig);
  } else if (hcm.rds?.routeConfigName) {
    rdsName = hcm.rds.routeConfigName;
    const t = routeConfigs.get(rdsName);
    missing = !t;
    routeTable = t ?? RouteTable.empty(rdsName);
  } else {
    throw new ConfigError(`${at}: HttpConnectionManager needs rds or routeConfig`);
  }
  const filters = hcm.httpFilters ?? [];
  if (filters.length === 0 || filters[filters.length - 1]!.typedConfig?.['@type'] !== ROUTER_TYPE) {
    throw new ConfigError(`${at}: the last HTTP filter must be the router (${ROUTER_TYPE})`);
  }
  const compiled: HttpFilter[] = [];
  let istioStats: IstioMetrics | null = null;
  for (const f of filters.slice(0, -1)) {
    if (isStatsFilterConfig(f.typedConfig as Readonly<Record<string, unknown>> | undefined)) {
      istioStats = istioMetricsFor(compileStatsConfig(f.typedConfig as Readonly<Record<string, unknown>>, at), stats);
      continue;
    }
    const factory = filterByTypeUrl(f.typedConfig?.['@type'] ?? '');
    if (!factory) throw new ConfigError(`${at}: HTTP filter ${f.name} (${f.typedConfig?.['@type']}) is not supported`);
    compiled.push(factory.create(f.typedConfig as Readonly<Record<string, unknown>>, { clock: deps.clock, random: deps.random, stats, statPrefix: hcm.statPrefix, ...(deps.httpClient ? { httpClient: deps.httpClient } : {}) }));
  }
  const scope = stats.scope('http', { http_conn_manager_prefix: hcm.statPrefix });
  return {
    statPrefix: hcm.statPrefix,
    routeTable,
    rdsName,
    routeConfigMissing: missing,
    useRemoteAddress: hcm.useRemoteAddress ?? false,
    xffNumTrustedHops: hcm.xffNumTrustedHops ?? 0,
    preserveExternalRequestId: hcm.preserveExternalRequestId ?? false,
    generateRequestId: hcm.generateRequestId ?? true,
    serverName: hcm.serverName || 'envoy',
    serverHeaderTransformation: hcm.serverHeaderTransformation ?? 'OVERWRITE',
    // Envoy's HCM idle timeout defaults to 1 hour.
    idleTimeoutMs: optionalDurationMs(hcm.commonHttpProtocolOptions?.idleTimeout, `${at} idleTimeout`, 3_600_000),
    requestHeadersTimeoutMs: optionalDurationMs(hcm.requestHeadersTimeout, `${at} requestHeadersTimeout`, 10_000),
    maxHeadersCount: hcm.commonHttpProtocolOptions?.maxHeadersCount ?? 100,
    accessLogs: compileAccessLogs(at, hcm.accessLog),
    filters: compiled.length ? compiled : null,
    allowWebsocket: upgradeEnabled(hcm, 'websocket'),
    allowConnect: upgradeEnabled(hcm, 'connect'),
    // Envoy sends x-envoy-decorator-operation on egress when tracing is on, which Istio turns
    // on for every proxy; inbound listeners only read it.
    propagateDecorator: direction !== 'INBOUND',
    pathNormalization: {
      // Envoy's defaults (runtime http_connection_manager.normalize_path and merge_slashes: off).
      normalizePath: hcm.normalizePath === true,
      mergeSlashes: hcm.mergeSlashes === true,
      escapedSlashes: escapedSlashesAction(at, hcm.pathWithEscapedSlashesAction),
    },
    istioStats,
    tracing: hcm.tracing ? compileTracing(at, hcm.tracing, direction === 'INBOUND', deps.tracers, deps.random) : null,
    clientCert: {
      forward: hcm.forwardClientCertDetails ?? 'SANITIZE',
      set: {
        subject: hcm.setCurrentClientCertDetails?.subject === true,
        cert: hcm.setCurrentClientCertDetails?.cert === true,
        dns: hcm.setCurrentClientCertDetails?.dns === true,
        uri: hcm.setCurrentClientCertDetails?.uri === true,
      },
    },
    stats: {
      rqTotal: scope.counter('downstream_rq_total'),
      rqActive: scope.gauge('downstream_rq_active'),
      rqXx: [1, 2, 3, 4, 5].map((c) => scope.counter('downstream_rq_xx', { response_code_class: String(c) }, `downstream_rq_${c}xx`)),
      cxTotal: scope.counter('downstream_cx_total'),
      cxActive: scope.gauge('downstream_cx_active'),
      noRoute: scope.counter('no_route'),
      noCluster: scope.counter('no_cluster'),
      rqTimeout: scope.counter('downstream_rq_timeout'),
      failedPathNormalization: scope.counter('downstream_rq_failed_path_normalization'),
      internalErrors: scope.counter('downstream_rq_internal_error'),
      redirectedWithNormalizedPath: scope.counter('downstream_rq_redirected_with_normalized_path'),
    },
  };
}

/** A listener's access logs (telemetry/access-log/access-logs.ts); `http` false for a TCP proxy. */
export function compileAccessLogs(at: string, logs: readonly AccessLog[] | undefined, http = true): CompiledAccessLog[] {
  try {
    return compileLogs(at, logs, http);
  } catch (e) {
    if (e instanceof AccessLogConfigError) throw new ConfigError(e.message);
    throw e;
  }
}

const ESCAPED_SLASHES: readonly EscapedSlashesAction[] = ['KEEP_UNCHANGED', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];
const ESCAPED_SLASHES_NAMES = ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];

/** path_with_escaped_slashes_action by name or number; IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED (Envoy's runtime default). */
function escapedSlashesAction(at: string, v: unknown): EscapedSlashesAction {
  if (v === undefined) return 'KEEP_UNCHANGED';
  const i = typeof v === 'number' ? v : ESCAPED_SLASHES_NAMES.indexOf(String(v));
  const action = Number.isInteger(i) ? ESCAPED_SLASHES[i] : undefined;
  if (action === undefined) throw new ConfigError(`${at}: pathWithEscapedSlashesAction ${JSON.stringify(v)} is not one of ${ESCAPED_SLASHES_NAMES.join(', ')}`);
  return action;
}

function upgradeEnabled(hcm: HttpConnectionManager, type: string): boolean {
  return (hcm.upgradeConfigs ?? []).some((u) => u.upgradeType.toLowerCase() === type && u.enabled !== false);
}
