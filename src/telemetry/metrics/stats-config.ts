// The `istio.stats` filter's config, as the control plane writes it into HTTP connection managers
// (an HTTP filter) and TCP chains (a network filter before tcp_proxy), and its compiled form.
// On the wire it is an `xds.type.v3.TypedStruct` wrapping `type.googleapis.com/stats.PluginConfig`,
// the type Istio's stats filter uses; the fields inside are Strait's (docs/observability.md):
//
//   reporter   `source` (sidecar outbound and gateways) or `destination` (sidecar inbound)
//   local      this proxy's workload labels (workload, namespace, principal, app, version,
//              canonicalService, canonicalRevision, cluster): the source side of what it sends,
//              the destination side of what it receives
//   service    inbound: the Service of the port ({host, name, namespace}), destination_service*
//   peers      inbound TCP: the mesh's workloads by IP ({ip, ...labels}), how the receiving side
//              knows who called without headers (docs/compat.md); inbound HTTP learns it from the
//              caller's `x-envoy-peer-metadata` (peer-exchange.ts), outbound from the chosen
//              endpoint's metadata
//   metrics    Telemetry API overrides in Istio's stats.PluginConfig shape: [{name, drop,
//              tagsToRemove, dimensions{tag: expression}}], `name` without the `istio_` prefix

import { ConfigError } from '../../dataplane/config/durations.js';
import type { ServiceLabels, WorkloadLabels } from './labels.js';
import { DEFAULT_CLUSTER_ID, UNKNOWN } from './labels.js';
import { encodePeerMetadata } from './peer-exchange.js';
import { compileTagExpression } from './tag-expressions.js';
import type { CompiledTagExpression } from './tag-expressions.js';

export const ISTIO_STATS_FILTER = 'istio.stats';
export const TYPED_STRUCT_TYPE = 'type.googleapis.com/xds.type.v3.TypedStruct';
export const STATS_PLUGIN_TYPE = 'type.googleapis.com/stats.PluginConfig';

/** Standard metric names as the stats plugin spells them (Prometheus name = `istio_` + name). */
export const METRIC_NAMES = {
  REQUEST_COUNT: 'requests_total',
  REQUEST_DURATION: 'request_duration_milliseconds',
  REQUEST_SIZE: 'request_bytes',
  RESPONSE_SIZE: 'response_bytes',
  GRPC_REQUEST_MESSAGES: 'request_messages_total',
  GRPC_RESPONSE_MESSAGES: 'response_messages_total',
  TCP_OPENED_CONNECTIONS: 'tcp_connections_opened_total',
  TCP_CLOSED_CONNECTIONS: 'tcp_connections_closed_total',
  TCP_SENT_BYTES: 'tcp_sent_bytes_total',
  TCP_RECEIVED_BYTES: 'tcp_received_bytes_total',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

export const HTTP_METRICS: readonly MetricName[] = ['requests_total', 'request_duration_milliseconds', 'request_bytes', 'response_bytes', 'request_messages_total', 'response_messages_total'];
export const TCP_METRICS: readonly MetricName[] = ['tcp_connections_opened_total', 'tcp_connections_closed_total', 'tcp_sent_bytes_total', 'tcp_received_bytes_total'];

export interface PeerEntry extends WorkloadLabels {
  readonly ip: string;
}

export interface MetricOverride {
  readonly name: string;
  readonly drop?: boolean;
  readonly tagsToRemove?: readonly string[];
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** The plugin config (TypedStruct `value`). */
export interface StatsPluginConfig {
  readonly reporter: 'source' | 'destination';
  readonly local: WorkloadLabels;
  readonly service?: ServiceLabels;
  readonly peers?: readonly PeerEntry[];
  readonly metrics?: readonly MetricOverride[];
}

/** The filter as it appears in http_filters or a chain's filters. */
export interface StatsFilterResource {
  readonly name: typeof ISTIO_STATS_FILTER;
  readonly typedConfig: { readonly '@type': typeof TYPED_STRUCT_TYPE; readonly typeUrl: typeof STATS_PLUGIN_TYPE; readonly value: StatsPluginConfig };
}

export function statsFilter(config: StatsPluginConfig): StatsFilterResource {
  return { name: ISTIO_STATS_FILTER, typedConfig: { '@type': TYPED_STRUCT_TYPE, typeUrl: STATS_PLUGIN_TYPE, value: config } };
}

/** True for a filter's typed config that is the istio.stats plugin. */
export function isStatsFilterConfig(typedConfig: Readonly<Record<string, unknown>> | undefined): boolean {
  return typedConfig?.['@type'] === TYPED_STRUCT_TYPE && typedConfig.typeUrl === STATS_PLUGIN_TYPE;
}

export interface CompiledMetric {
  readonly drop: boolean;
  readonly remove: ReadonlySet<string>;
  /** Added or replaced labels, in the order written. */
  readonly dimensions: readonly (readonly [string, CompiledTagExpression])[];
}

export interface CompiledStatsConfig {
  readonly reporter: 'source' | 'destination';
  readonly local: WorkloadLabels;
  readonly service: ServiceLabels | null;
  readonly peersByIp: ReadonlyMap<string, WorkloadLabels>;
  /** Principals that name exactly one workload. */
  readonly peersByPrincipal: ReadonlyMap<string, WorkloadLabels>;
  readonly metrics: ReadonlyMap<MetricName, CompiledMetric>;
  /** Some dimension is read from the request: series are keyed by its values too. */
  readonly dynamic: boolean;
  /** Reporter source: the `x-envoy-peer-metadata` value this proxy sends to in-mesh services; else null. */
  readonly exchangeHeader: string | null;
  /** The config as JSON: identical configs share one recorder (and its series). */
  readonly key: string;
}

const LABEL_FIELDS = ['workload', 'namespace', 'principal', 'app', 'version', 'canonicalService', 'canonicalRevision', 'cluster'] as const;

function labelsOf(v: unknown, at: string): WorkloadLabels {
  if (typeof v !== 'object' || v === null) throw new ConfigError(`${at}: expected workload labels`);
  const o = v as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const f of LABEL_FIELDS) {
    const x = o[f];
    if (x !== undefined && typeof x !== 'string') throw new ConfigError(`${at}.${f}: expected a string`);
    out[f] = x || (f === 'cluster' ? DEFAULT_CLUSTER_ID : UNKNOWN);
  }
  return out as unknown as WorkloadLabels;
}

function serviceOf(v: unknown, at: string): ServiceLabels {
  const o = (v ?? {}) as Record<string, unknown>;
  const s = (k: string): string => {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new ConfigError(`${at}.${k}: expected a string`);
    return (o[k] as string | undefined) || UNKNOWN;
  };
  return { host: s('host'), name: s('name'), namespace: s('namespace') };
}

const ALL_METRICS = new Set<string>([...HTTP_METRICS, ...TCP_METRICS]);

/** Validates and compiles an istio.stats typed config; throws ConfigError (the proxy NACKs). */
export function compileStatsConfig(typedConfig: Readonly<Record<string, unknown>>, at: string): CompiledStatsConfig {
  if (!isStatsFilterConfig(typedConfig)) throw new ConfigError(`${at}: istio.stats expects a TypedStruct of ${STATS_PLUGIN_TYPE}`);
  const v = (typedConfig.value ?? {}) as Record<string, unknown>;
  const reporter = v.reporter;
  if (reporter !== 'source' && reporter !== 'destination') throw new ConfigError(`${at}: istio.stats reporter must be "source" or "destination"`);
  const local = labelsOf(v.local, `${at} istio.stats local`);
  const service = v.service === undefined ? null : serviceOf(v.service, `${at} istio.stats service`);
  const peersByIp = new Map<string, WorkloadLabels>();
  const principals = new Map<string, WorkloadLabels | null>();
  if (v.peers !== undefined && !Array.isArray(v.peers)) throw new ConfigError(`${at}: istio.stats peers must be a list`);
  for (const [i, p] of ((v.peers ?? []) as unknown[]).entries()) {
    const ip = (p as { ip?: unknown } | null)?.ip;
    if (typeof ip !== 'string' || ip === '') throw new ConfigError(`${at}: istio.stats peers[${i}] needs an ip`);
    const labels = labelsOf(p, `${at} istio.stats peers[${i}]`);
    if (!peersByIp.has(ip)) peersByIp.set(ip, labels);
    if (labels.principal !== UNKNOWN) {
      const seen = principals.get(labels.principal);
      // Replicas of one workload share a principal; two workloads under one principal are ambiguous.
      principals.set(labels.principal, seen === undefined || (seen !== null && seen.workload === labels.workload && seen.namespace === labels.namespace) ? labels : null);
    }
  }
  const peersByPrincipal = new Map<string, WorkloadLabels>();
  for (const [p, l] of principals) if (l) peersByPrincipal.set(p, l);
  const metrics = new Map<MetricName, CompiledMetric>();
  let dynamic = false;
  if (v.metrics !== undefined && !Array.isArray(v.metrics)) throw new ConfigError(`${at}: istio.stats metrics must be a list`);
  for (const [i, m] of ((v.metrics ?? []) as MetricOverride[]).entries()) {
    if (!ALL_METRICS.has(m?.name)) throw new ConfigError(`${at}: istio.stats metrics[${i}].name ${JSON.stringify(m?.name)} is not a standard metric (${[...ALL_METRICS].join(', ')})`);
    const dims = Object.entries(m.dimensions ?? {}).map(([k, e]) => {
      if (typeof e !== 'string') throw new ConfigError(`${at}: istio.stats metrics[${i}].dimensions.${k} must be a string`);
      const c = compileTagExpression(e);
      if (c.constant === undefined) dynamic = true;
      return [k, c] as const;
    });
    metrics.set(m.name as MetricName, { drop: m.drop === true, remove: new Set(m.tagsToRemove ?? []), dimensions: dims });
  }
  const exchangeHeader = reporter === 'source' ? encodePeerMetadata(local) : null;
  return { reporter, local, service, peersByIp, peersByPrincipal, metrics, dynamic, exchangeHeader, key: JSON.stringify(v) };
}
