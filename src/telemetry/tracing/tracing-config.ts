// Compiles an HttpConnectionManager's `tracing` (xDS) into the HttpTracing the request path
// reads: sampling percentages in parts per 10 000, custom tags with environment values resolved
// now, the span kind from the listener's direction, and the provider's reporter from the proxy's
// TracerRegistry. Providers: envoy.tracers.zipkin (Zipkin v2 JSON, B3 headers) and
// envoy.tracers.opentelemetry with an http_service (OTLP/HTTP) or an envoy_grpc grpc_service
// (OTLP/gRPC), both with W3C headers. What Strait cannot
// honour is a ConfigError, so the proxy NACKs it.

import type { Random } from '../../common/random.js';
import { ConfigError, optionalDurationMs } from '../../dataplane/config/durations.js';
import { OPENTELEMETRY_CONFIG_TYPE, OPENTELEMETRY_TRACER, ZIPKIN_CONFIG_TYPE, ZIPKIN_TRACER } from '../../xds/resources.js';
import type { HcmTracing, OpenTelemetryConfig, Percent, TracingCustomTag, ZipkinConfig } from '../../xds/resources.js';
import type { CustomTag, HttpTracing } from './http-tracing.js';
import { DISCARDING_REPORTER } from './reporter.js';
import type { SpanReporter } from './reporter.js';
import { perTenThousand } from './sampling.js';
import type { TracerRegistry } from './tracer-registry.js';

/** Envoy's default collector request timeout (Zipkin and OTLP/HTTP). */
const DEFAULT_EXPORT_TIMEOUT_MS = 5000;

/** core.v3.GrpcService with an envoy_grpc target (the only kind Strait's proxy speaks). */
interface GrpcService {
  envoyGrpc?: { clusterName: string; authority?: string };
  timeout?: string;
  initialMetadata?: { key: string; value: string }[];
}

function percent(at: string, name: string, p: Percent | undefined): number {
  if (p === undefined) return 10_000;
  const v = typeof p === 'number' ? p : p.value;
  if (typeof v !== 'number' || !(v >= 0 && v <= 100)) throw new ConfigError(`${at}: tracing.${name} must be a percentage between 0 and 100, got ${JSON.stringify(p)}`);
  return perTenThousand(v);
}

function customTag(at: string, t: TracingCustomTag, env: NodeJS.ProcessEnv): CustomTag {
  if (!t.tag) throw new ConfigError(`${at}: a tracing custom tag needs a tag name`);
  if (t.literal) return { tag: t.tag, kind: 'literal', value: t.literal.value ?? '' };
  // Envoy reads the proxy's environment when the config loads, not per request.
  if (t.environment) return { tag: t.tag, kind: 'literal', value: env[t.environment.name] ?? t.environment.defaultValue ?? '' };
  if (t.requestHeader) return { tag: t.tag, kind: 'header', name: t.requestHeader.name.toLowerCase(), defaultValue: t.requestHeader.defaultValue ?? '' };
  if (t.metadata) {
    if (t.metadata.kind && !t.metadata.kind.request) throw new ConfigError(`${at}: custom tag ${t.tag}: only request metadata is supported`);
    return { tag: t.tag, kind: 'metadata', filter: t.metadata.metadataKey.key, path: (t.metadata.metadataKey.path ?? []).map((s) => s.key), defaultValue: t.metadata.defaultValue ?? '' };
  }
  throw new ConfigError(`${at}: custom tag ${t.tag} needs one of literal, environment, requestHeader, metadata`);
}

/** host[:port]/path of an http_uri (`otel-collector.observability.svc.cluster.local/v1/traces`). */
function splitUri(uri: string): { authority: string; path: string } {
  const rest = uri.replace(/^[a-z]+:\/\//i, '');
  const slash = rest.indexOf('/');
  return slash < 0 ? { authority: rest, path: '/' } : { authority: rest.slice(0, slash), path: rest.slice(slash) };
}

interface Provider {
  readonly format: 'w3c' | 'b3';
  readonly reporter: SpanReporter;
  readonly serviceName: string;
}

function provider(at: string, tracing: HcmTracing, registry: TracerRegistry | undefined): Provider {
  const p = tracing.provider;
  const defaultService = registry?.node.cluster || 'unknown_service:envoy';
  if (!p) return { format: 'b3', reporter: DISCARDING_REPORTER, serviceName: defaultService };
  const cfg = p.typedConfig as ZipkinConfig | OpenTelemetryConfig | undefined;
  if (p.name === ZIPKIN_TRACER || cfg?.['@type'] === ZIPKIN_CONFIG_TYPE) {
    const z = cfg as ZipkinConfig | undefined;
    if (!z || z['@type'] !== ZIPKIN_CONFIG_TYPE) throw new ConfigError(`${at}: tracer ${p.name} needs a ZipkinConfig`);
    if (!z.collectorCluster || !z.collectorEndpoint) throw new ConfigError(`${at}: ZipkinConfig needs collectorCluster and collectorEndpoint`);
    const version = z.collectorEndpointVersion ?? 'HTTP_JSON';
    if (version !== 'HTTP_JSON') throw new ConfigError(`${at}: ZipkinConfig collectorEndpointVersion ${version} is not supported (Strait sends Zipkin v2 JSON: HTTP_JSON)`);
    const target = { kind: 'zipkin' as const, cluster: z.collectorCluster, path: z.collectorEndpoint, hostname: z.collectorHostname || z.collectorCluster, timeoutMs: DEFAULT_EXPORT_TIMEOUT_MS };
    return { format: 'b3', reporter: registry ? registry.reporterFor(target, defaultService) : DISCARDING_REPORTER, serviceName: defaultService };
  }
  if (p.name === OPENTELEMETRY_TRACER || cfg?.['@type'] === OPENTELEMETRY_CONFIG_TYPE) {
    const o = cfg as OpenTelemetryConfig | undefined;
    if (o && o['@type'] !== OPENTELEMETRY_CONFIG_TYPE) throw new ConfigError(`${at}: tracer ${p.name} needs an OpenTelemetryConfig`);
    const serviceName = o?.serviceName || 'unknown_service:envoy';
    const http = o?.httpService;
    const grpc = o?.grpcService as GrpcService | undefined;
    if (!http && grpc?.envoyGrpc?.clusterName) {
      const metadata: Record<string, string> = {};
      for (const m of grpc.initialMetadata ?? []) metadata[m.key.toLowerCase()] = m.value;
      const timeoutMs = optionalDurationMs(grpc.timeout, `${at} tracing grpcService timeout`, DEFAULT_EXPORT_TIMEOUT_MS) || DEFAULT_EXPORT_TIMEOUT_MS;
      const target = { kind: 'otlp' as const, protocol: 'grpc' as const, cluster: grpc.envoyGrpc.clusterName, path: '', authority: grpc.envoyGrpc.authority || grpc.envoyGrpc.clusterName, timeoutMs, headers: metadata };
      return { format: 'w3c', reporter: registry ? registry.reporterFor(target, serviceName) : DISCARDING_REPORTER, serviceName };
    }
    if (!http) {
      // No exporter (Envoy allows it): spans are decided and propagated, not sent.
      return { format: 'w3c', reporter: DISCARDING_REPORTER, serviceName };
    }
    if (!http.httpUri?.cluster || !http.httpUri.uri) throw new ConfigError(`${at}: OpenTelemetryConfig httpService needs httpUri.uri and httpUri.cluster`);
    const { authority, path } = splitUri(http.httpUri.uri);
    const headers: Record<string, string> = {};
    for (const h of http.requestHeadersToAdd ?? []) headers[h.header.key.toLowerCase()] = h.header.value;
    const timeoutMs = optionalDurationMs(http.httpUri.timeout, `${at} tracing httpService timeout`, DEFAULT_EXPORT_TIMEOUT_MS) || DEFAULT_EXPORT_TIMEOUT_MS;
    const target = { kind: 'otlp' as const, protocol: 'http' as const, cluster: http.httpUri.cluster, path, authority, timeoutMs, headers };
    return { format: 'w3c', reporter: registry ? registry.reporterFor(target, serviceName) : DISCARDING_REPORTER, serviceName };
  }
  throw new ConfigError(`${at}: tracer ${p.name} is not supported (Strait implements ${ZIPKIN_TRACER} and ${OPENTELEMETRY_TRACER})`);
}

export function compileTracing(at: string, tracing: HcmTracing, inbound: boolean, registry: TracerRegistry | undefined, random: Random, env: NodeJS.ProcessEnv = process.env): HttpTracing {
  const prov = provider(at, tracing, registry);
  const maxPath = tracing.maxPathTagLength ?? 256;
  if (!(Number.isInteger(maxPath) && maxPath >= 1)) throw new ConfigError(`${at}: tracing.maxPathTagLength must be a positive integer`);
  const seen = new Set<string>();
  const customTags = (tracing.customTags ?? []).map((t) => {
    if (seen.has(t.tag)) throw new ConfigError(`${at}: tracing custom tag ${t.tag} is listed twice`);
    seen.add(t.tag);
    return customTag(at, t, env);
  });
  return {
    format: prov.format,
    reporter: prov.reporter,
    serviceName: prov.serviceName,
    // Envoy: a spawned upstream span makes the connection manager's span the server side.
    kind: inbound || tracing.spawnUpstreamSpan === true ? 'SERVER' : 'CLIENT',
    ingress: inbound,
    sampling: {
      random: percent(at, 'randomSampling', tracing.randomSampling),
      client: percent(at, 'clientSampling', tracing.clientSampling),
      overall: percent(at, 'overallSampling', tracing.overallSampling),
    },
    customTags,
    maxPathTagLength: maxPath,
    nodeId: registry?.node.id ?? '',
    zone: registry?.node.zone ?? '',
    random: registry?.random ?? random,
  };
}
