// Typed, normalised Telemetry API resources (telemetry.istio.io v1 and v1alpha1 `Telemetry`,
// istio/api telemetry/v1/telemetry.proto): metrics, tracing and access-logging overrides for the
// workloads a resource selects (TEL-01..04). Re-exported by types.ts, where the rest of Strait
// imports them from.
//
// Istio's wrapper types (BoolValue, DoubleValue) distinguish "not written" from "written false/0":
// a child scope inherits a field its own resource leaves out. The normalised values keep that
// distinction as optional fields (`disabled?: boolean`), so do not default them here. How the
// scopes combine for one workload is controlplane/model/telemetry-scope.ts (resolveTelemetry).

import type { Duration, FieldPath, ObjectMeta, ResourceSource } from './types.js';
import type { PolicyTargetReference, WorkloadSelector } from './types-security.js';

/**
 * Which side of the traffic a rule applies to, relative to the proxied workload: CLIENT is
 * outbound (sidecar outbound and every gateway), SERVER is inbound. CLIENT_AND_SERVER (the
 * default when `match` or its mode is absent) is both.
 */
export type WorkloadMode = 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER';

/** The standard metrics a MetricSelector names (TEL-03); ALL_METRICS is every one of them. */
export const ISTIO_METRICS = [
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS',
  'TCP_SENT_BYTES',
  'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES',
  'GRPC_RESPONSE_MESSAGES',
] as const;

export type IstioMetricName = (typeof ISTIO_METRICS)[number];

/** One `tagOverrides` value: UPSERT sets the label to `value` (a CEL expression), REMOVE drops it. */
export type TelemetryTagOverride =
  | { readonly operation: 'UPSERT'; readonly value: string; readonly path: FieldPath }
  | { readonly operation: 'REMOVE'; readonly path: FieldPath };

/** `metrics[].overrides[]`. */
export interface TelemetryMetricsOverride {
  /**
   * Which metrics: `metric` (ALL_METRICS when neither it nor customMetric is written) or a
   * free-form `customMetric` name; and `mode` (default CLIENT_AND_SERVER).
   */
  readonly match: { readonly metric: 'ALL_METRICS' | IstioMetricName; readonly mode: WorkloadMode } | { readonly customMetric: string; readonly mode: WorkloadMode };
  /** Absent: inherited (false at the top). A parent's `true` is undone only by an explicit `false`. */
  readonly disabled?: boolean;
  /** Label name → operation, as written (applied in order after the parents' overrides). */
  readonly tagOverrides: Readonly<Record<string, TelemetryTagOverride>>;
  readonly path: FieldPath;
}

/** `metrics[]`. */
export interface TelemetryMetrics {
  /** Provider names (MeshConfig extensionProviders; `prometheus` is built in). [] = inherit the parent's. */
  readonly providers: readonly string[];
  readonly overrides: readonly TelemetryMetricsOverride[];
  /** TCP metrics' reporting interval (Istio's default 5s when no scope sets it). */
  readonly reportingInterval?: Duration;
  readonly path: FieldPath;
}

/** `tracing[].customTags{}` value: where the span tag's value comes from. */
export type TelemetryCustomTag =
  | { readonly type: 'literal'; readonly value: string }
  | { readonly type: 'environment'; readonly name: string; readonly defaultValue?: string }
  | { readonly type: 'header'; readonly name: string; readonly defaultValue?: string }
  /** Newer Istio: an Envoy access-log command operator such as `%REQ(x-foo)%`. */
  | { readonly type: 'formatter'; readonly value: string };

/** `tracing[]` (TEL-02). Every optional field inherits the parent scope's value when absent. */
export interface TelemetryTracing {
  readonly match: { readonly mode: WorkloadMode };
  /** Provider names; only the first is used (Istio's rule). [] = inherit. */
  readonly providers: readonly string[];
  /** 0..100 (precision 0.01). Absent = the parent's, finally MeshConfig defaultConfig.tracing.sampling. */
  readonly randomSamplingPercentage?: number;
  readonly disableSpanReporting?: boolean;
  /** When written (even `{}`), replaces the parent's tags entirely (not merged). */
  readonly customTags?: Readonly<Record<string, TelemetryCustomTag>>;
  readonly useRequestIdForTraceSampling?: boolean;
  readonly enableIstioTags?: boolean;
  readonly disableContextPropagation?: boolean;
  readonly path: FieldPath;
}

/** `accessLogging[]` (TEL-04). */
/**
 * MeshConfig extensionProviders[].envoyFileAccessLog (istio/api
 * EnvoyFileAccessLogProvider): where a Telemetry-selected access log goes and how it looks.
 * The built-in provider `envoy` is one of these with no logFormat, which follows the mesh
 * config's accessLogEncoding/accessLogFormat (Istio's telemetryAccessLog).
 */
export interface FileAccessLogProvider {
  /** As written; '' means /dev/stdout (Istio's default). */
  readonly path: string;
  /** Absent: Istio's default text format. `labels` {} is Istio's default JSON labels. */
  readonly logFormat?: { readonly text: string } | { readonly labels: Readonly<Record<string, unknown>> };
  /** Envoy's omit_empty_values: empty fields print nothing (text) or are left out (JSON). */
  readonly omitEmptyValues: boolean;
}

export interface TelemetryAccessLogging {
  readonly match: { readonly mode: WorkloadMode };
  /** Provider names (`envoy` is built in: Istio's text log on /dev/stdout). [] = inherit. */
  readonly providers: readonly string[];
  /** Absent: inherited. A parent's `true` is undone only by an explicit `false`. */
  readonly disabled?: boolean;
  /** CEL expression selecting the requests logged (e.g. `response.code >= 400`), as written. */
  readonly filter?: { readonly expression: string; readonly path: FieldPath };
  readonly path: FieldPath;
}

export interface TelemetryResource {
  readonly apiVersion: string;
  readonly kind: 'Telemetry';
  readonly metadata: ObjectMeta;
  readonly source: ResourceSource;
  readonly spec: {
    /**
     * TEL-01. Absent: the namespace's Telemetry (the mesh's in the root namespace). With labels:
     * the workloads of its own namespace that carry them. Several per scope: the oldest wins in
     * Istio, the first loaded in Strait.
     */
    readonly selector?: WorkloadSelector;
    /** Gateway API gateways, which Strait does not run: a targeted Telemetry applies to no proxy. */
    readonly targetRefs: readonly PolicyTargetReference[];
    readonly metrics: readonly TelemetryMetrics[];
    readonly tracing: readonly TelemetryTracing[];
    readonly accessLogging: readonly TelemetryAccessLogging[];
  };
}
