// Cross-resource checks of Telemetry resources (TEL-01..04), after istioctl analyze: providers
// the mesh config does not define (Istio silently skips them), metric and access-log providers
// Strait does not run, tag-override expressions Strait cannot evaluate, custom metrics that are not standard
// ones, several Telemetries competing for one scope (only the oldest applies), and selectors
// that select nothing.

import type { ConfigStore } from './config-store.js';
import { displayPath } from './format.js';
import { declaredWorkloads, selects } from './security-scope.js';
import { DEFAULT_MESH_CONFIG } from './types.js';
import type { Diagnostic, FieldPath, MeshConfig, ResourceSource, TelemetryResource } from './types.js';
import { compileTagExpression } from '../telemetry/metrics/tag-expressions.js';

/** Standard metric names a customMetric may use (the stats plugin's, with or without `istio_`). */
const STANDARD = new Set(['requests_total', 'request_duration_milliseconds', 'request_bytes', 'response_bytes', 'request_messages_total', 'response_messages_total', 'tcp_connections_opened_total', 'tcp_connections_closed_total', 'tcp_sent_bytes_total', 'tcp_received_bytes_total']);

/** Providers Istio's default mesh config defines even when extensionProviders does not list them. */
const BUILTIN: Readonly<Record<string, string>> = { prometheus: 'prometheus', envoy: 'envoyFileAccessLog', stackdriver: 'stackdriver' };

/** Access-log providers that send to a service (gRPC ALS, OpenTelemetry logs), which Strait does not run. */
const ACCESS_LOG_SERVICES = new Set(['envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls']);

function at(source: ResourceSource, path: FieldPath, code: string, message: string, fix: string): Diagnostic {
  const pos = source.at(path);
  return { severity: 'warning', file: pos.file, line: pos.line, col: pos.col, code, message, fix };
}

const name = (r: TelemetryResource) => `${r.metadata.namespace}/${r.metadata.name}`;

/** The provider's kind (`prometheus`, `zipkin`, `envoyExtAuthzHttp`, ...), or undefined when unknown. */
function providerKind(mesh: MeshConfig, n: string): string | undefined {
  const p = mesh.extensionProviders.find((e) => e.name.toLowerCase() === n.toLowerCase());
  if (p) return p.type === 'other' ? p.kind : p.type;
  return BUILTIN[n.toLowerCase()];
}

function checkProviders(t: TelemetryResource, mesh: MeshConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  const sections = [
    ['metrics', t.spec.metrics],
    ['tracing', t.spec.tracing],
    ['accessLogging', t.spec.accessLogging],
  ] as const;
  for (const [section, list] of sections) {
    list.forEach((entry, i) => {
      entry.providers.forEach((p, j) => {
        const path: FieldPath = ['spec', section, i, 'providers', j, 'name'];
        const kind = providerKind(mesh, p);
        if (kind === undefined) {
          out.push(at(t.source, path, 'unknown-telemetry-provider', `provider ${p} is not among the mesh config's extensionProviders (nor a built-in: prometheus, envoy, stackdriver): Istio skips it, so this ${section} entry has no provider`, `add an extensionProviders entry named ${p} to the mesh config, or use a defined provider`));
        } else if (section === 'metrics' && kind !== 'prometheus') {
          out.push(at(t.source, path, 'unsupported-metrics-provider', `metrics provider ${p} (${kind}) is not run by Strait: only prometheus metrics are produced`, 'use the prometheus provider'));
        } else if (section === 'accessLogging' && kind !== 'envoyFileAccessLog') {
          // Istio writes no access log for a provider of another kind; Strait runs file logs only.
          const why = ACCESS_LOG_SERVICES.has(kind) ? `is an access-log service (${kind}) Strait does not send to` : `is a ${kind} provider, not an access-log provider`;
          out.push(at(t.source, path, 'unsupported-access-log-provider', `access-log provider ${p} ${why}: nothing is logged for it`, 'use the built-in envoy provider or an envoyFileAccessLog provider of the mesh config'));
        }
      });
    });
  }
  return out;
}

function checkOverrides(t: TelemetryResource): Diagnostic[] {
  const out: Diagnostic[] = [];
  t.spec.metrics.forEach((m) => {
    for (const o of m.overrides) {
      if ('customMetric' in o.match) {
        const short = o.match.customMetric.replace(/^istio_/, '');
        if (!STANDARD.has(short)) out.push(at(t.source, [...o.path, 'match', 'customMetric'], 'unknown-custom-metric', `customMetric ${o.match.customMetric} is not a standard metric: Strait defines no custom metrics, so this override changes nothing`, `name a standard metric (${[...STANDARD].join(', ')}) or use match.metric`));
      }
      for (const [tag, op] of Object.entries(o.tagOverrides)) {
        if (op.operation !== 'UPSERT') continue;
        const c = compileTagExpression(op.value);
        if (!c.supported) {
          out.push(at(t.source, [...op.path, 'value'], 'unsupported-tag-expression', `tag ${tag}: Strait does not evaluate the expression ${JSON.stringify(op.value)} (Istio's CEL); the label is reported as "unknown"`, "use a quoted literal ('v1'), an attribute such as request.host, request.method, response.code, or request.headers['x-name'] (docs/observability.md)"));
        }
      }
    }
  });
  return out;
}

/** Istio allows one selector-less Telemetry per namespace and one Telemetry per workload; the oldest wins. */
function checkScopes(store: ConfigStore, mesh: MeshConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  const all = store.list('Telemetry').filter((t) => t.spec.targetRefs.length === 0);
  const firstByNamespace = new Map<string, TelemetryResource>();
  for (const t of all) {
    if (t.spec.selector !== undefined) continue;
    const first = firstByNamespace.get(t.metadata.namespace);
    if (!first) {
      firstByNamespace.set(t.metadata.namespace, t);
      continue;
    }
    const scope = t.metadata.namespace === mesh.rootNamespace ? 'mesh-wide (root namespace, no selector)' : `namespace-wide in ${t.metadata.namespace}`;
    out.push(at(t.source, ['metadata', 'name'], 'duplicate-telemetry', `Telemetry ${name(first)} (${displayPath(first.source.file)}:${first.source.line}) is also ${scope}: Istio applies the oldest one only (Strait: the first loaded), so this one has no effect`, 'merge them into one Telemetry without selector per namespace'));
  }
  const workloads = declaredWorkloads(store);
  const claimed = new Map<string, TelemetryResource>();
  for (const t of all) {
    const sel = t.spec.selector?.matchLabels;
    if (sel === undefined) continue;
    const selected = workloads.filter((w) => w.namespace === t.metadata.namespace && selects(sel, w.labels));
    if (selected.length === 0) {
      out.push(at(t.source, ['spec', 'selector', 'matchLabels'], 'selector-selects-nothing', `selector matches no workload in namespace ${t.metadata.namespace} (Deployments, WorkloadEntries, the ingress gateway), so this Telemetry applies to nothing yet`, "make the labels equal to the pods' labels (spec.template.metadata.labels), or correct the namespace"));
      continue;
    }
    for (const w of selected) {
      const first = claimed.get(w.name);
      if (!first) claimed.set(w.name, t);
      else if (first !== t) out.push(at(t.source, ['spec', 'selector'], 'duplicate-telemetry', `${w.name === 'the ingress gateway' ? w.name : `workload ${w.name}`} is already selected by Telemetry ${name(first)}: Istio applies one workload Telemetry (the oldest; Strait: the first loaded), so this one does not apply to it`, 'select each workload from one Telemetry only'));
    }
  }
  return out;
}

export function analyzeTelemetry(store: ConfigStore): Diagnostic[] {
  const mesh = store.list('MeshConfig')[0]?.spec ?? DEFAULT_MESH_CONFIG;
  const out: Diagnostic[] = [];
  for (const t of store.list('Telemetry')) out.push(...checkProviders(t, mesh), ...checkOverrides(t));
  out.push(...checkScopes(store, mesh));
  return out;
}
