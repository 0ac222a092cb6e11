// The HTTP connection manager's `tracing` for one proxy and listener class, as Istio's
// configureTracing builds it (pilot/pkg/networking/core/tracing.go):
//
// - Telemetry `tracing` (or MeshConfig defaultProviders.tracing) applies: the client spec on
//   sidecar outbound and gateway listeners, the server spec on sidecar inbound ones; the provider
//   is the first one in scope, randomSamplingPercentage falls back to MeshConfig
//   defaultConfig.tracing.sampling; customTags replace the parent's; Istio's tags unless
//   enableIstioTags is false.
// - Otherwise MeshConfig alone: no tracing when enableTracing is false; else sampling from
//   defaultConfig.tracing.sampling (1 %), Istio's tags, and Istio's bootstrap tracer: Zipkin at
//   zipkin.istio-system:9411 (spans go nowhere unless such a service exists, as in Istio; the
//   B3 headers still flow, which is what Istio's tasks show).
// - Providers: zipkin → envoy.tracers.zipkin (v2 JSON, 128-bit ids, no shared span context);
//   opentelemetry → envoy.tracers.opentelemetry with an http_service (OTLP/HTTP), or an
//   envoy_grpc grpc_service (OTLP/gRPC); service.name is the proxy's
//   `<canonical service>.<namespace>` (Istio's node cluster).
// - disableSpanReporting, or a provider that names no known service, keeps sampling and
//   propagation without a provider (Istio's docs: span reporting off does not change context
//   propagation). disableContextPropagation is not applied: the Envoy API Strait speaks predates
//   no_context_propagation (Istio sets it only for 1.30+ proxies).
//
// Sampling percentages: random from the settings above, client and overall 100 (Istio's values).

import type { TelemetryCustomTag, TracingProvider } from '../../config/types.js';
import { OPENTELEMETRY_CONFIG_TYPE, OPENTELEMETRY_TRACER, ZIPKIN_CONFIG_TYPE, ZIPKIN_TRACER } from '../../xds/resources.js';
import type { HcmTracing, TracingCustomTag } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import type { ResolvedTracingSpec } from '../model/telemetry-scope.js';
import { protoDuration } from './destination-policy.js';
import { outboundClusterName } from './names.js';
import { serviceLookup } from './security/security-filters.js';

/** Which HTTP listener the connection manager serves (Istio's ListenerClass). */
export type TracingListenerClass = 'sidecar-inbound' | 'sidecar-outbound' | 'gateway';

/** Istio's bootstrap tracer when no provider is configured: Zipkin, zipkin.istio-system:9411. */
const LEGACY_ZIPKIN_HOST = 'zipkin.istio-system.svc.cluster.local';
const LEGACY_ZIPKIN_PORT = 9411;

/** The RBAC filter's dry-run results, tagged on spans when present (Istio's optionalPolicyTags). */
const DRY_RUN_TAGS: readonly TracingCustomTag[] = [
  ['istio.authorization.dry_run.allow_policy.name', 'istio_dry_run_allow_shadow_effective_policy_id'],
  ['istio.authorization.dry_run.allow_policy.result', 'istio_dry_run_allow_shadow_engine_result'],
  ['istio.authorization.dry_run.deny_policy.name', 'istio_dry_run_deny_shadow_effective_policy_id'],
  ['istio.authorization.dry_run.deny_policy.result', 'istio_dry_run_deny_shadow_engine_result'],
].map(([tag, key]) => ({ tag: tag!, metadata: { kind: { request: {} }, metadataKey: { key: 'envoy.filters.http.rbac', path: [{ key: key! }] } } }));

/** Istio's canonical service of a workload (the injector's label, else app.kubernetes.io/name, else app). */
export function canonicalService(proxy: ProxyNode): string {
  const l = proxy.labels;
  return l['service.istio.io/canonical-name'] || l['app.kubernetes.io/name'] || l.app || 'unknown';
}

function canonicalRevision(proxy: ProxyNode): string {
  const l = proxy.labels;
  return l['service.istio.io/canonical-revision'] || l['app.kubernetes.io/version'] || l.version || 'latest';
}

/** Istio's buildServiceTags (+ the dry-run policy tags). */
function istioTags(snapshot: MeshSnapshot, proxy: ProxyNode): TracingCustomTag[] {
  const literal = (tag: string, value: string): TracingCustomTag => ({ tag, literal: { value } });
  return [
    literal('istio.canonical_revision', canonicalRevision(proxy)),
    literal('istio.canonical_service', canonicalService(proxy)),
    // Istio's mesh id defaults to the trust domain.
    literal('istio.mesh_id', snapshot.meshConfig.trustDomain || 'unknown'),
    literal('istio.namespace', proxy.namespace || 'default'),
    literal('istio.cluster_id', 'Kubernetes'),
    ...DRY_RUN_TAGS,
  ];
}

function telemetryTags(tags: Readonly<Record<string, TelemetryCustomTag>>): TracingCustomTag[] {
  const out: TracingCustomTag[] = [];
  for (const [tag, t] of Object.entries(tags)) {
    if (t.type === 'literal') out.push({ tag, literal: { value: t.value } });
    else if (t.type === 'environment') out.push({ tag, environment: { name: t.name, ...(t.defaultValue !== undefined ? { defaultValue: t.defaultValue } : {}) } });
    else if (t.type === 'header') out.push({ tag, requestHeader: { name: t.name, ...(t.defaultValue !== undefined ? { defaultValue: t.defaultValue } : {}) } });
    // `formatter` (Envoy command operators) is left out, as Istio does for proxies before 1.29.
  }
  return out;
}

function headerValue(h: { readonly value?: string; readonly envName?: string }): string {
  return h.value ?? (h.envName ? (process.env[h.envName] ?? '') : '');
}

/** The Envoy provider for a MeshConfig tracing provider, or undefined when its service is unknown. */
function providerConfig(snapshot: MeshSnapshot, proxy: ProxyNode, p: TracingProvider): NonNullable<HcmTracing['provider']> | undefined {
  const found = serviceLookup(snapshot)(p.service);
  if ('error' in found) return undefined;
  const hostname = found.hostname;
  const cluster = outboundClusterName(p.port, '', hostname);
  if (p.kind === 'zipkin') {
    return {
      name: ZIPKIN_TRACER,
      typedConfig: { '@type': ZIPKIN_CONFIG_TYPE, collectorCluster: cluster, collectorEndpoint: p.path ?? '/api/v2/spans', traceId128bit: !p.enable64bitTraceId, sharedSpanContext: false, collectorEndpointVersion: 'HTTP_JSON', collectorHostname: hostname },
    };
  }
  const serviceName = `${canonicalService(proxy)}.${proxy.namespace}`;
  if (p.http) {
    const headers = p.http.headers.map((h) => ({ header: { key: h.name, value: headerValue(h) } }));
    return {
      name: OPENTELEMETRY_TRACER,
      typedConfig: {
        '@type': OPENTELEMETRY_CONFIG_TYPE,
        httpService: { httpUri: { uri: `${hostname}${p.http.path}`, cluster, timeout: protoDuration(p.http.timeout?.ms ?? 5000) }, ...(headers.length ? { requestHeadersToAdd: headers } : {}) },
        serviceName,
      },
    };
  }
  const metadata = (p.grpc?.initialMetadata ?? []).map((h) => ({ key: h.name, value: headerValue(h) }));
  const grpcService = { envoyGrpc: { clusterName: cluster, authority: hostname }, ...(p.grpc?.timeout ? { timeout: protoDuration(p.grpc.timeout.ms) } : {}), ...(metadata.length ? { initialMetadata: metadata } : {}) };
  return { name: OPENTELEMETRY_TRACER, typedConfig: { '@type': OPENTELEMETRY_CONFIG_TYPE, grpcService, serviceName } };
}

function sampling(percent: number): Pick<HcmTracing, 'clientSampling' | 'randomSampling' | 'overallSampling'> {
  return { clientSampling: { value: 100 }, randomSampling: { value: Math.min(100, Math.max(0, percent)) }, overallSampling: { value: 100 } };
}

const byTag = (a: TracingCustomTag, b: TracingCustomTag): number => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

function fromTelemetry(snapshot: MeshSnapshot, proxy: ProxyNode, spec: ResolvedTracingSpec): HcmTracing {
  const tags = [...(spec.enableIstioTags ? istioTags(snapshot, proxy) : []), ...telemetryTags(spec.customTags)].sort(byTag);
  const h: HcmTracing = { ...sampling(spec.randomSamplingPercentage), customTags: tags };
  const tracing = spec.provider?.provider.type === 'other' ? spec.provider.provider.tracing : undefined;
  if (!spec.disabled && tracing) {
    const provider = providerConfig(snapshot, proxy, tracing);
    if (provider) h.provider = provider;
    if (tracing.maxTagLength) h.maxPathTagLength = tracing.maxTagLength;
  }
  return h;
}

/** The `tracing` of an HTTP connection manager of this proxy; undefined: tracing off. */
export function hcmTracing(snapshot: MeshSnapshot, proxy: ProxyNode, cls: TracingListenerClass): HcmTracing | undefined {
  const resolved = snapshot.telemetryFor({ namespace: proxy.namespace, labels: proxy.labels }).tracing;
  if (resolved) return fromTelemetry(snapshot, proxy, cls === 'sidecar-inbound' ? resolved.server : resolved.client);
  const mesh = snapshot.meshConfig;
  if (!mesh.enableTracing) return undefined;
  return {
    ...sampling(mesh.defaultConfig.tracing.sampling),
    customTags: istioTags(snapshot, proxy).sort(byTag),
    provider: {
      name: ZIPKIN_TRACER,
      typedConfig: { '@type': ZIPKIN_CONFIG_TYPE, collectorCluster: outboundClusterName(LEGACY_ZIPKIN_PORT, '', LEGACY_ZIPKIN_HOST), collectorEndpoint: '/api/v2/spans', traceId128bit: true, sharedSpanContext: false, collectorEndpointVersion: 'HTTP_JSON', collectorHostname: LEGACY_ZIPKIN_HOST },
    },
  };
}
