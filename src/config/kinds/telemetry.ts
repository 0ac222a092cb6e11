// telemetry.istio.io Telemetry (v1 and v1alpha1, istio/api telemetry/v1/telemetry.proto): per
// mesh, namespace or workload overrides of metrics, tracing and access logging (TEL-01..04). All
// three sections are typed and checked with Istio's rules (ValidateTelemetry and the CRD's CEL
// rules): provider names set, sampling 0..100, UPSERT tag overrides with a value and REMOVE ones
// without, a non-empty filter expression. How the scopes combine for one workload lives in
// controlplane/model/telemetry-scope.ts; what each section drives is in docs/observability.md.

import { bool, enumOf, field, listOf, mapOf, mapped, num, obj, required, str } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type {
  FieldPath,
  TelemetryAccessLogging,
  TelemetryCustomTag,
  TelemetryMetrics,
  TelemetryMetricsOverride,
  TelemetryResource,
  TelemetryTagOverride,
  TelemetryTracing,
  WorkloadMode,
} from '../types.js';
import { ISTIO_METRICS } from '../types-telemetry.js';
import { defineKind, resourceSchema } from './common.js';
import { durationSchema } from './istio-common.js';
import { compileCelFilter } from '../../telemetry/access-log/cel/compile.js';
import { CelSyntaxError, parseCel } from '../../telemetry/access-log/cel/parse.js';
import { checkScope, rejectDryRun, scopeFields, toSelector, toTargetRefs } from './security-common.js';

export const TELEMETRY_VERSIONS = ['telemetry.istio.io/v1', 'telemetry.istio.io/v1alpha1'] as const;

const MODES = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'] as const;
const modeField = () => field(enumOf(MODES), 'default CLIENT_AND_SERVER; CLIENT is outbound (and gateways), SERVER inbound');

const providersField = (what: string) =>
  field(listOf(obj({ name: required(str({ nonEmpty: true }), 'a MeshConfig extensionProviders name') })), `absent or []: the parent scope's ${what} providers (finally MeshConfig defaultProviders)`);
const providerNames = (p: readonly { readonly name: string }[] | undefined): string[] => (p ?? []).map((x) => x.name);

// ---- metrics -----------------------------------------------------------------------------------

/** Label names the stats plugin can emit: Prometheus label syntax. */
function checkTagName(k: string): string | undefined {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) ? undefined : 'a Prometheus label name (letters, digits and _, not starting with a digit)';
}

const tagOverrideSchema = obj(
  {
    operation: field(enumOf(['UPSERT', 'REMOVE']), 'default UPSERT'),
    value: field(str(), 'a CEL expression (UPSERT only); Strait evaluates literals and request/connection attributes (docs/observability.md)'),
  },
  {
    refine(t, r) {
      const op = t.operation ?? 'UPSERT';
      if (op === 'UPSERT' && !t.value) r.error(['value'], 'missing-field', 'value must be set when operation is UPSERT', "write an expression, e.g. value: request.host (or a quoted literal: value: \"'v1'\")", 'key');
      if (op === 'REMOVE' && t.value !== undefined) r.error(['value'], 'invalid-value', 'value must not be set when operation is REMOVE', 'remove value, or use operation: UPSERT', 'key');
    },
  },
);

const metricSelectorSchema = obj(
  {
    metric: field(enumOf(['ALL_METRICS', ...ISTIO_METRICS]), 'default ALL_METRICS'),
    customMetric: field(str({ nonEmpty: true }), "a metric name without the istio_ prefix (e.g. requests_total); Strait's standard metrics only"),
    mode: modeField(),
  },
  { atMostOne: [['metric', 'customMetric']] },
);

const overrideSchema = mapped(
  obj({
    match: field(metricSelectorSchema, 'absent: every standard metric, client and server'),
    disabled: field(bool(), "absent: inherited; true turns the metrics off, false turns a parent's true back on"),
    tagOverrides: field(mapOf(tagOverrideSchema, { keyRule: checkTagName, expected: 'a map of label names to {operation, value}' })),
  }),
  (o, path): TelemetryMetricsOverride => {
    const mode: WorkloadMode = o.match?.mode ?? 'CLIENT_AND_SERVER';
    const tags: Record<string, TelemetryTagOverride> = {};
    for (const [k, t] of Object.entries(o.tagOverrides ?? {})) {
      const p: FieldPath = [...path, 'tagOverrides', k];
      tags[k] = (t.operation ?? 'UPSERT') === 'REMOVE' ? { operation: 'REMOVE', path: p } : { operation: 'UPSERT', value: t.value ?? '', path: p };
    }
    return {
      match: o.match?.customMetric !== undefined ? { customMetric: o.match.customMetric, mode } : { metric: o.match?.metric ?? 'ALL_METRICS', mode },
      ...(o.disabled !== undefined ? { disabled: o.disabled } : {}),
      tagOverrides: tags,
      path,
    };
  },
);

const metricsSchema = mapped(
  obj({
    providers: providersField('metrics'),
    overrides: field(listOf(overrideSchema), 'applied in order, after the parent scopes\' overrides'),
    reportingInterval: field(durationSchema(), 'TCP metrics: how often open connections report; default 5s'),
  }),
  (m, path): TelemetryMetrics => ({ providers: providerNames(m.providers), overrides: m.overrides ?? [], ...(m.reportingInterval ? { reportingInterval: m.reportingInterval } : {}), path }),
);

// ---- tracing -----------------------------------------------------------------------------------

const defaulted = { name: required(str({ nonEmpty: true })), defaultValue: field(str()) };

const customTagSchema = mapped(
  obj(
    {
      literal: field(obj({ value: required(str({ nonEmpty: true })) })),
      environment: field(obj(defaulted), "the proxy's environment variable"),
      header: field(obj(defaulted), 'a request header'),
      formatter: field(obj({ value: required(str({ nonEmpty: true })) }), 'an Envoy command operator such as %REQ(x-foo)%'),
    },
    { exactlyOne: [['literal', 'environment', 'header', 'formatter']] },
  ),
  (t): TelemetryCustomTag => {
    const dv = (d: { defaultValue?: string }) => (d.defaultValue !== undefined ? { defaultValue: d.defaultValue } : {});
    if (t.literal) return { type: 'literal', value: t.literal.value };
    if (t.environment) return { type: 'environment', name: t.environment.name, ...dv(t.environment) };
    if (t.header) return { type: 'header', name: t.header.name, ...dv(t.header) };
    return { type: 'formatter', value: t.formatter?.value ?? '' };
  },
);

const tracingSchema = mapped(
  obj(
    {
      match: field(obj({ mode: modeField() })),
      providers: providersField('tracing'),
      randomSamplingPercentage: field(num(), '0..100; absent: the parent scope\'s, finally MeshConfig defaultConfig.tracing.sampling'),
      disableSpanReporting: field(bool(), 'true: no spans are sent; context is still propagated'),
      customTags: field(mapOf(customTagSchema, { expected: 'a map of tag names to {literal|environment|header|formatter}' }), "replaces the parent's tags when written"),
      useRequestIdForTraceSampling: field(bool(), 'default true'),
      enableIstioTags: field(bool(), "default true: Istio's span tags (istio.canonical_service, ...)"),
      disableContextPropagation: field(bool(), 'default false'),
    },
    {
      refine(t, r) {
        const p = t.randomSamplingPercentage;
        if (p !== undefined && (p < 0 || p > 100)) r.error(['randomSamplingPercentage'], 'invalid-value', `${p} is out of range: a percentage between 0 and 100`, 'write a number between 0 and 100 (precision 0.01), e.g. 10.5');
        if ((t.providers ?? []).length > 1) r.warn(['providers'], 'multiple-providers', 'only the first tracing provider is used (Istio supports one per tracing rule)', 'keep one provider', 'key');
      },
    },
  ),
  (t, path): TelemetryTracing => ({
    match: { mode: t.match?.mode ?? 'CLIENT_AND_SERVER' },
    providers: providerNames(t.providers),
    ...(t.randomSamplingPercentage !== undefined ? { randomSamplingPercentage: t.randomSamplingPercentage } : {}),
    ...(t.disableSpanReporting !== undefined ? { disableSpanReporting: t.disableSpanReporting } : {}),
    ...(t.customTags !== undefined ? { customTags: t.customTags } : {}),
    ...(t.useRequestIdForTraceSampling !== undefined ? { useRequestIdForTraceSampling: t.useRequestIdForTraceSampling } : {}),
    ...(t.enableIstioTags !== undefined ? { enableIstioTags: t.enableIstioTags } : {}),
    ...(t.disableContextPropagation !== undefined ? { disableContextPropagation: t.disableContextPropagation } : {}),
    path,
  }),
);

// ---- access logging ----------------------------------------------------------------------------

/** Istio's validation parses the expression with cel-go and rejects the Telemetry when it fails. */
function celSyntax(expression: string): string | undefined {
  try {
    parseCel(expression);
    return undefined;
  } catch (e) {
    if (e instanceof CelSyntaxError) return `a valid CEL expression (${e.message})`;
    throw e;
  }
}

/**
 * Valid CEL Strait does not evaluate: Envoy would, so say where, and that the filter then logs
 * nothing (Strait treats it as an evaluation error, which Envoy counts as false).
 */
function checkCelSubset(expression: string, r: Refiner): void {
  let compiled: ReturnType<typeof compileCelFilter>;
  try {
    compiled = compileCelFilter(expression, { http: true });
  } catch {
    return; // a syntax error, reported by the field's rule
  }
  for (const u of compiled.unsupported) {
    r.warn(['expression'], 'unsupported-cel', `character ${u.offset + 1} of the filter: ${u.message}, so this access log writes nothing (Strait counts what it cannot evaluate as an error, and Envoy logs nothing on an error)`, 'use the attributes, operators and functions listed in docs/observability.md (Access logs), e.g. response.code >= 400');
  }
  for (const w of compiled.warnings) {
    r.warn(['expression'], 'cel-never-true', `character ${w.offset + 1} of the filter: ${w.message}`, "compare values of the same type, e.g. response.code >= 400 (not '400')");
  }
}

const accessLoggingSchema = mapped(
  obj({
    match: field(obj({ mode: modeField() })),
    providers: providersField('access log'),
    disabled: field(bool(), "absent: inherited; true: no access log for these providers; false turns a parent's true back on"),
    filter: field(
      obj(
        { expression: required(str({ nonEmpty: true, rule: celSyntax }), 'CEL, e.g. response.code >= 400; Strait evaluates a subset (docs/observability.md)') },
        { refine: (f, r) => checkCelSubset(f.expression, r) },
      ),
    ),
  }, {
    refine(a, r) {
      // Istio's mergeLogs records a filter per provider its entry names; with none, it is dropped.
      if (a.filter && (a.providers ?? []).length === 0) r.warn(['filter'], 'filter-without-provider', 'this filter has no effect: Istio applies an accessLogging filter only to the providers listed in the same entry, and this entry lists none', 'add the providers it is for, e.g. providers: [{name: envoy}]', 'key');
    },
  }),
  (a, path): TelemetryAccessLogging => ({
    match: { mode: a.match?.mode ?? 'CLIENT_AND_SERVER' },
    providers: providerNames(a.providers),
    ...(a.disabled !== undefined ? { disabled: a.disabled } : {}),
    ...(a.filter ? { filter: { expression: a.filter.expression, path: [...path, 'filter', 'expression'] } } : {}),
    path,
  }),
);

// ---- the kind ----------------------------------------------------------------------------------

/** Two tracing rules for the same direction: Istio applies them in order, which is rarely meant. */
function checkTracingModes(tracing: readonly TelemetryTracing[], r: Refiner): void {
  const seen = new Set<string>();
  tracing.forEach((t, i) => {
    const modes = t.match.mode === 'CLIENT_AND_SERVER' ? ['CLIENT', 'SERVER'] : [t.match.mode];
    if (modes.some((m) => seen.has(m))) r.warn(['tracing', i], 'multiple-tracing', `tracing[${i}] applies to ${t.match.mode} traffic that an earlier tracing rule of this Telemetry also covers; the later one's fields win`, 'write one rule per direction (match.mode CLIENT and SERVER)', 'key');
    for (const m of modes) seen.add(m);
  });
}

const telemetrySpecSchema = obj(
  {
    ...scopeFields(),
    metrics: field(listOf(metricsSchema), 'TEL-03: standard metrics (disable, tagOverrides)'),
    tracing: field(listOf(tracingSchema), 'TEL-02'),
    accessLogging: field(listOf(accessLoggingSchema), 'TEL-04'),
  },
  {
    refine(s, r) {
      checkScope(s, r, 'Telemetry');
      checkTracingModes(s.tracing ?? [], r);
    },
  },
);

type CheckedSpec = ObjectOf<(typeof telemetrySpecSchema)['fields']>;

export const telemetryKind = defineKind({
  kind: 'Telemetry',
  apiVersions: TELEMETRY_VERSIONS,
  origin: 'Istio',
  schema: resourceSchema({ spec: field(telemetrySpecSchema) }, undefined, { refine: (v, r) => rejectDryRun(v.metadata.annotations, 'Telemetry', r) }),
  convert(v, base): TelemetryResource {
    const s: CheckedSpec = v.spec ?? {};
    const selector = toSelector(s.selector);
    return {
      ...base,
      kind: 'Telemetry',
      spec: {
        ...(selector ? { selector } : {}),
        targetRefs: toTargetRefs(s),
        metrics: s.metrics ?? [],
        tracing: s.tracing ?? [],
        accessLogging: s.accessLogging ?? [],
      },
    };
  },
});
