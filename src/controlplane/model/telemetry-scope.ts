// Which Telemetry resources apply to a workload and what they add up to (TEL-01..04), as Istio's
// pilot/pkg/model/telemetry.go computes it: the root namespace's selector-less Telemetry, then
// the workload namespace's selector-less one, then the first one of the workload's namespace whose
// selector matches the workload's labels (Istio: the oldest of each; Strait: the first loaded).
// Later scopes override earlier ones field by field; metrics overrides accumulate in order.
//
// Pure: takes resources and the mesh config, so the analyzers, the generators and the dashboard
// can all call it. MeshSnapshot.telemetryFor(workload) is the cached entry point for generators.

import type {
  ExtensionProvider,
  IstioMetricName,
  MeshConfig,
  TelemetryAccessLogging,
  TelemetryCustomTag,
  TelemetryMetrics,
  TelemetryResource,
  TelemetryTracing,
  WorkloadMode,
} from '../../config/types.js';
import { ISTIO_METRICS } from '../../config/types-telemetry.js';
import type { FieldPath } from '../../config/types.js';

/** CLIENT (outbound listeners of sidecars, and every listener of a gateway) or SERVER (inbound). */
export type TelemetryDirection = 'client' | 'server';

export interface TelemetryWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The Telemetry resources that apply to a workload, one per scope. */
export interface ApplicableTelemetries {
  readonly root?: TelemetryResource;
  readonly namespace?: TelemetryResource;
  readonly workload?: TelemetryResource;
}

/** A provider name resolved against MeshConfig extensionProviders (built-ins included). */
export interface ResolvedProvider {
  readonly name: string;
  readonly provider: ExtensionProvider;
}

// ---- metrics -----------------------------------------------------------------------------------

export type ResolvedTagOverride =
  | { readonly name: string; readonly operation: 'REMOVE'; readonly path: FieldPath }
  | { readonly name: string; readonly operation: 'UPSERT'; readonly value: string; readonly path: FieldPath };

export interface ResolvedMetricOverride {
  readonly disabled: boolean;
  /** By label name, sorted (Istio sorts them too); the last written for a name wins. */
  readonly tagOverrides: readonly ResolvedTagOverride[];
}

export interface ResolvedMetricsDirection {
  /** False when no Prometheus provider is in scope, or ALL_METRICS is disabled for this direction. */
  readonly enabled: boolean;
  /** Every standard metric; those nobody overrode are `{disabled: false, tagOverrides: []}`. */
  readonly metrics: Readonly<Record<IstioMetricName, ResolvedMetricOverride>>;
}

export interface ResolvedMetrics {
  readonly client: ResolvedMetricsDirection;
  readonly server: ResolvedMetricsDirection;
  /** TCP metrics' reporting interval: the most specific scope's, else 5000 (Istio's default). */
  readonly reportingIntervalMs: number;
  /** customMetric names that are not standard metrics (nothing to override in Strait). */
  readonly unknownCustomMetrics: readonly string[];
}

// ---- tracing -----------------------------------------------------------------------------------

export interface ResolvedTracingSpec {
  /** The first provider in scope; absent = no provider found, and `disabled` is then true. */
  readonly provider?: ResolvedProvider;
  /** No spans are reported (context is still propagated unless disableContextPropagation). */
  readonly disabled: boolean;
  /** 0..100: the most specific Telemetry's, else MeshConfig defaultConfig.tracing.sampling. */
  readonly randomSamplingPercentage: number;
  /** The most specific scope's map (replaced, never merged); {} when none. */
  readonly customTags: Readonly<Record<string, TelemetryCustomTag>>;
  readonly useRequestIdForTraceSampling: boolean;
  readonly enableIstioTags: boolean;
  readonly disableContextPropagation: boolean;
}

// ---- access logging ----------------------------------------------------------------------------

export interface ResolvedAccessLog {
  readonly provider: ResolvedProvider;
  /** The CEL filter written with this provider (the most specific one), if any. */
  readonly filter?: { readonly expression: string; readonly path: FieldPath; readonly resource: TelemetryResource };
}

export interface ResolvedTelemetry {
  readonly applicable: ApplicableTelemetries;
  readonly metrics: ResolvedMetrics;
  /**
   * Undefined when neither a Telemetry `tracing` entry nor MeshConfig defaultProviders.tracing
   * applies: tracing then follows the legacy MeshConfig (enableTracing, defaultConfig.tracing.sampling).
   */
  readonly tracing?: { readonly client: ResolvedTracingSpec; readonly server: ResolvedTracingSpec };
  /**
   * Undefined when neither a Telemetry `accessLogging` entry nor MeshConfig
   * defaultProviders.accessLogging applies: the access log then follows MeshConfig accessLogFile.
   * Otherwise the providers that log for each direction ([] = access logging explicitly off).
   */
  readonly accessLogging?: { readonly client: readonly ResolvedAccessLog[]; readonly server: readonly ResolvedAccessLog[] };
}

// ---- scope -------------------------------------------------------------------------------------

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/**
 * TEL-01: root < namespace < workload. Telemetries with targetRefs attach to Gateway API
 * gateways (which Strait does not run), so to no workload.
 */
export function applicableTelemetries(telemetries: readonly TelemetryResource[], workload: TelemetryWorkload, rootNamespace: string): ApplicableTelemetries {
  let root: TelemetryResource | undefined;
  let namespace: TelemetryResource | undefined;
  let selected: TelemetryResource | undefined;
  for (const t of telemetries) {
    if (t.spec.targetRefs.length > 0) continue;
    const ns = t.metadata.namespace;
    if (t.spec.selector === undefined) {
      if (ns === rootNamespace) root ??= t;
      else if (ns === workload.namespace) namespace ??= t;
    } else if (ns === workload.namespace && selects(t.spec.selector.matchLabels, workload.labels)) {
      selected ??= t;
    }
  }
  return { ...(root ? { root } : {}), ...(namespace ? { namespace } : {}), ...(selected ? { workload: selected } : {}) };
}

const BUILTIN_PROVIDERS: readonly ExtensionProvider[] = [
  { name: 'prometheus', type: 'other', kind: 'prometheus', path: [] },
  { name: 'envoy', type: 'other', kind: 'envoyFileAccessLog', path: [] },
  { name: 'stackdriver', type: 'other', kind: 'stackdriver', path: [] },
];

/** Istio's fetchProvider: the extension provider of that name (case-insensitive), then the built-ins. */
export function findProvider(mesh: MeshConfig, name: string): ResolvedProvider | undefined {
  const lower = name.toLowerCase();
  const p = mesh.extensionProviders.find((e) => e.name.toLowerCase() === lower) ?? BUILTIN_PROVIDERS.find((e) => e.name === lower);
  return p ? { name: p.name, provider: p } : undefined;
}

const isPrometheus = (p: ResolvedProvider | undefined): boolean => p?.provider.type === 'other' && p.provider.kind === 'prometheus';
const directions = (mode: WorkloadMode): TelemetryDirection[] => (mode === 'CLIENT' ? ['client'] : mode === 'SERVER' ? ['server'] : ['client', 'server']);

/** Standard metric of a customMetric name: `requests_total`, `istio_requests_total` or `REQUEST_COUNT`. */
const CUSTOM_NAMES: Readonly<Record<string, IstioMetricName>> = {
  requests_total: 'REQUEST_COUNT',
  request_duration_milliseconds: 'REQUEST_DURATION',
  request_bytes: 'REQUEST_SIZE',
  response_bytes: 'RESPONSE_SIZE',
  tcp_connections_opened_total: 'TCP_OPENED_CONNECTIONS',
  tcp_connections_closed_total: 'TCP_CLOSED_CONNECTIONS',
  tcp_sent_bytes_total: 'TCP_SENT_BYTES',
  tcp_received_bytes_total: 'TCP_RECEIVED_BYTES',
  request_messages_total: 'GRPC_REQUEST_MESSAGES',
  response_messages_total: 'GRPC_RESPONSE_MESSAGES',
};

export function standardMetricOf(custom: string): IstioMetricName | undefined {
  const short = custom.startsWith('istio_') ? custom.slice('istio_'.length) : custom;
  return CUSTOM_NAMES[short] ?? (ISTIO_METRICS as readonly string[]).find((m) => m === custom) as IstioMetricName | undefined;
}

/** Istio's mergeMetrics, for the Prometheus provider (the only metrics provider Strait runs). */
function mergeMetrics(specs: readonly TelemetryMetrics[], mesh: MeshConfig): ResolvedMetrics {
  // Providers: the most specific scope that names any; else the mesh defaults.
  let inScope = mesh.defaultProviders.metrics;
  for (const m of specs) if (m.providers.length > 0) inScope = m.providers;
  const prometheusInScope = inScope.some((n) => isPrometheus(findProvider(mesh, n)));

  type Acc = { disabled?: boolean; tags: Map<string, ResolvedTagOverride> };
  const acc: Record<TelemetryDirection, Map<IstioMetricName, Acc>> = { client: new Map(), server: new Map() };
  const allDisabled: Record<TelemetryDirection, boolean> = { client: false, server: false };
  const unknown = new Set<string>();
  let reportingIntervalMs = 5000;
  let parent = mesh.defaultProviders.metrics;
  for (const m of specs) {
    const names = m.providers.length > 0 ? m.providers : parent;
    parent = names;
    if (m.reportingInterval) reportingIntervalMs = m.reportingInterval.ms;
    // Overrides written for providers that are not in scope, or not Prometheus, change nothing here.
    if (!names.some((n) => inScope.includes(n) && isPrometheus(findProvider(mesh, n)))) continue;
    for (const o of m.overrides) {
      let metrics: readonly IstioMetricName[];
      if ('customMetric' in o.match) {
        const std = standardMetricOf(o.match.customMetric);
        if (!std) {
          unknown.add(o.match.customMetric);
          continue;
        }
        metrics = [std];
      } else if (o.match.metric === 'ALL_METRICS') {
        if (o.disabled === true) {
          for (const d of directions(o.match.mode)) allDisabled[d] = true;
          continue;
        }
        metrics = ISTIO_METRICS;
      } else metrics = [o.match.metric];
      for (const d of directions(o.match.mode)) {
        // A later scope that turns anything on again re-enables the provider (Istio's rule).
        allDisabled[d] = false;
        for (const name of metrics) {
          let a = acc[d].get(name);
          if (!a) acc[d].set(name, (a = { tags: new Map() }));
          if (o.disabled !== undefined) a.disabled = o.disabled;
          for (const [tag, t] of Object.entries(o.tagOverrides)) a.tags.set(tag, t.operation === 'REMOVE' ? { name: tag, operation: 'REMOVE', path: t.path } : { name: tag, operation: 'UPSERT', value: t.value, path: t.path });
        }
      }
    }
  }
  const direction = (d: TelemetryDirection): ResolvedMetricsDirection => {
    const metrics = {} as Record<IstioMetricName, ResolvedMetricOverride>;
    for (const name of ISTIO_METRICS) {
      const a = acc[d].get(name);
      metrics[name] = { disabled: a?.disabled ?? false, tagOverrides: a ? [...a.tags.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)) : [] };
    }
    return { enabled: prometheusInScope && !allDisabled[d], metrics };
  };
  return { client: direction('client'), server: direction('server'), reportingIntervalMs, unknownCustomMetrics: [...unknown] };
}

/** Istio's Telemetries.Tracing: defaults, then each scope's fields for the directions it matches. */
function mergeTracing(specs: readonly TelemetryTracing[], mesh: MeshConfig): ResolvedTelemetry['tracing'] {
  const defaults = mesh.defaultProviders.tracing;
  if (specs.length === 0 && defaults.length === 0) return undefined;
  type Spec = { -readonly [K in keyof ResolvedTracingSpec]: ResolvedTracingSpec[K] };
  const initial = (): Spec => {
    const first = defaults[0] !== undefined ? findProvider(mesh, defaults[0]) : undefined;
    return {
      ...(first ? { provider: first } : {}),
      disabled: false,
      randomSamplingPercentage: mesh.defaultConfig.tracing.sampling,
      customTags: {},
      useRequestIdForTraceSampling: true,
      enableIstioTags: true,
      disableContextPropagation: false,
    };
  };
  const out: Record<TelemetryDirection, Spec> = { client: initial(), server: initial() };
  for (const t of specs) {
    for (const d of directions(t.match.mode)) {
      const s = out[d];
      if (t.providers[0] !== undefined) {
        const p = findProvider(mesh, t.providers[0]);
        if (p) s.provider = p;
        else delete s.provider;
      }
      if (t.disableSpanReporting !== undefined) s.disabled = t.disableSpanReporting;
      if (t.customTags !== undefined) s.customTags = t.customTags;
      if (t.randomSamplingPercentage !== undefined) s.randomSamplingPercentage = t.randomSamplingPercentage;
      if (t.useRequestIdForTraceSampling !== undefined) s.useRequestIdForTraceSampling = t.useRequestIdForTraceSampling;
      if (t.enableIstioTags !== undefined) s.enableIstioTags = t.enableIstioTags;
      if (t.disableContextPropagation !== undefined) s.disableContextPropagation = t.disableContextPropagation;
    }
  }
  // No provider found: nothing to report to.
  for (const d of ['client', 'server'] as const) if (!out[d].provider) out[d].disabled = true;
  return out;
}

/** Istio's mergeLogs, per direction: providers in scope, minus the disabled ones, with their filters. */
function mergeLogs(scopes: readonly { readonly resource: TelemetryResource; readonly logging: readonly TelemetryAccessLogging[] }[], mesh: MeshConfig, d: TelemetryDirection): ResolvedAccessLog[] {
  const resolve = (names: readonly string[], filters: Map<string, ResolvedAccessLog['filter']>): ResolvedAccessLog[] =>
    names.flatMap((n) => {
      const provider = findProvider(mesh, n);
      if (!provider) return [];
      const filter = filters.get(n);
      return [{ provider, ...(filter ? { filter } : {}) }];
    });
  if (scopes.length === 0) return resolve(mesh.defaultProviders.accessLogging, new Map());
  // The providers in scope: the last scope that names any, else the defaults. Filters: the last one written per provider.
  let inScope: readonly string[] = mesh.defaultProviders.accessLogging;
  const filters = new Map<string, ResolvedAccessLog['filter']>();
  for (const s of scopes) {
    const names = new Set<string>();
    for (const l of s.logging) {
      for (const n of l.providers) {
        names.add(n);
        filters.set(n, l.filter ? { expression: l.filter.expression, path: l.filter.path, resource: s.resource } : undefined);
      }
    }
    if (names.size > 0) inScope = [...names];
  }
  const enabled = new Map<string, boolean>();
  let parent: readonly string[] = mesh.defaultProviders.accessLogging;
  for (const s of scopes) {
    for (const l of s.logging) {
      const names = l.providers.length > 0 ? l.providers : parent;
      parent = names;
      if (!directions(l.match.mode).includes(d)) continue;
      for (const n of names) {
        if (!inScope.includes(n)) continue;
        if (l.disabled === true) enabled.delete(n);
        else enabled.set(n, true);
      }
    }
  }
  return resolve([...enabled.keys()], filters);
}

/**
 * What the Telemetry API (plus the mesh config's defaultProviders) says for one workload.
 *
 * How to use it: generators call `snapshot.telemetryFor(proxyWorkload)` (cached per snapshot)
 * rather than this; pick the direction of the listener being built, `client` for sidecar outbound
 * and for gateways (Istio's reporter=source side), `server` for sidecar inbound, then read
 * `metrics[direction]` (istio_* standard metrics, tag overrides), `tracing?.[direction]` (absent:
 * use the legacy MeshConfig enableTracing/sampling) and `accessLogging?.[direction]` (absent: use
 * MeshConfig accessLogFile; [] means logging is explicitly off for that direction).
 */
export function resolveTelemetry(telemetries: readonly TelemetryResource[], mesh: MeshConfig, workload: TelemetryWorkload, rootNamespace: string = mesh.rootNamespace): ResolvedTelemetry {
  const applicable = applicableTelemetries(telemetries, workload, rootNamespace);
  const ordered = [applicable.root, applicable.namespace, applicable.workload].filter((t): t is TelemetryResource => t !== undefined);
  const metrics = mergeMetrics(ordered.flatMap((t) => t.spec.metrics), mesh);
  const tracing = mergeTracing(ordered.flatMap((t) => t.spec.tracing), mesh);
  const logScopes = ordered.filter((t) => t.spec.accessLogging.length > 0).map((t) => ({ resource: t, logging: t.spec.accessLogging }));
  const accessLogging =
    logScopes.length === 0 && mesh.defaultProviders.accessLogging.length === 0 ? undefined : { client: mergeLogs(logScopes, mesh, 'client'), server: mergeLogs(logScopes, mesh, 'server') };
  return { applicable, metrics, ...(tracing ? { tracing } : {}), ...(accessLogging ? { accessLogging } : {}) };
}
