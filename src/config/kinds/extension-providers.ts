// MeshConfig `extensionProviders` (istio/api mesh/v1alpha1/config.proto, ExtensionProvider): named
// extensions that other resources refer to by name, here the external authorizers of CUSTOM
// AuthorizationPolicies, and the tracers of the proxies. Implemented and typed: envoyExtAuthzHttp,
// envoyExtAuthzGrpc, zipkin and opentelemetry (kept as type 'other' with their `tracing` settings,
// controlplane/generate/tracing.ts), envoyFileAccessLog (type 'other' with `accessLog`,
// controlplane/generate/telemetry/access-log.ts). The other provider kinds (gRPC and OpenTelemetry
// access-log services, metrics, SDS) are
// valid and warned about, and kept by name so that a reference to one can be told apart from a
// reference to nothing. Istio's rules
// (pkg/config/validation/agent/extensionprovider.go) are applied: unique non-empty names, exactly
// one provider kind per entry, service `[namespace/]host` (or an IP), port 1..65535, a status
// code Envoy knows for statusOnError, pathPrefix starting with '/'.

import { anyValue, bool, field, int, listOf, mapOf, mapped, obj, required, str, unsupported } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type { EnvoyExtAuthzGrpcProvider, EnvoyExtAuthzHttpProvider, ExtAuthzRequestBody, ExtensionProvider, FileAccessLogProvider, ProviderHeader, TracingProvider } from '../types.js';
import { formatProblem } from '../../telemetry/access-log/format.js';
import { checkDns1123Label } from '../names.js';
import { checkFqdn, checkHeaderName, checkWildcardDomain, durationSchema, isIpAddress } from './istio-common.js';

/** envoy.type.v3.StatusCode: the codes Istio accepts for statusOnError (0 is the enum's "Empty"). */
const ENVOY_STATUS_CODES = new Set([
  0, 100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431,
  500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** `[<namespace>/]<hostname>` or an IP (Istio's validateExtensionProviderService). */
export function checkProviderService(v: string): string | undefined {
  const rule = 'a service host name (e.g. ext-authz.foo.svc.cluster.local), optionally as namespace/host, or an IP';
  const slash = v.indexOf('/');
  if (slash < 0) return checkFqdn(v) === undefined || isIpAddress(v) ? undefined : rule;
  const ns = v.slice(0, slash);
  const host = v.slice(slash + 1);
  if (ns === '' || host === '' || (ns !== '*' && ns !== '.' && checkDns1123Label(ns) !== undefined)) return rule;
  return host === '*' || checkWildcardDomain(host) === undefined ? undefined : rule;
}

const statusOnError = () =>
  field(
    str({ rule: (v) => (/^\d+$/.test(v) && ENVOY_STATUS_CODES.has(Number(v)) ? undefined : 'an HTTP status code Envoy knows, as a string (e.g. "503")') }),
    'status when the provider cannot be reached; default "403"',
  );

const requestBodySchema = mapped(
  obj({
    maxRequestBytes: field(int({ min: 0, max: 2 ** 32 - 1 }), 'bytes of body held for the check'),
    allowPartialMessage: field(bool(), 'default false: a larger body gets 413'),
    packAsBytes: field(bool(), 'gRPC only: send the body as raw bytes'),
  }),
  (b): ExtAuthzRequestBody => ({ ...(b.maxRequestBytes ? { maxRequestBytes: b.maxRequestBytes } : {}), allowPartialMessage: b.allowPartialMessage ?? false, packAsBytes: b.packAsBytes ?? false }),
);

const commonFields = {
  service: required(str({ nonEmpty: true, rule: checkProviderService }), '[namespace/]FQDN of a Service or ServiceEntry host'),
  port: required(int({ min: 1, max: 65535 })),
  timeout: field(durationSchema({ min: '0' }), 'default 600s'),
  failOpen: field(bool(), 'default false: the request is denied when the provider fails'),
  clearRouteCache: field(bool(), 'default false'),
  statusOnError: statusOnError(),
  includeRequestBodyInCheck: field(requestBodySchema),
};

function toCommon(c: ObjectOf<typeof commonFields>): EnvoyExtAuthzGrpcProvider {
  return {
    service: c.service,
    port: c.port,
    ...(c.timeout !== undefined ? { timeout: c.timeout } : {}),
    failOpen: c.failOpen ?? false,
    clearRouteCache: c.clearRouteCache ?? false,
    ...(c.statusOnError ? { statusOnError: Number(c.statusOnError) } : {}),
    ...(c.includeRequestBodyInCheck !== undefined ? { includeRequestBodyInCheck: c.includeRequestBodyInCheck } : {}),
  };
}

/** Header patterns of ext-authz: exact, `prefix*` or `*suffix` (no presence match). */
const headerPatterns = () => listOf(str({ nonEmpty: true, rule: (v) => (v === '*' ? 'an exact, prefix* or *suffix header name (ext-authz has no presence match)' : undefined) }));

const httpProviderSchema = mapped(
  obj(
    {
      ...commonFields,
      pathPrefix: field(str({ rule: (v) => (v.startsWith('/') ? undefined : 'a path starting with /') }), 'prepended to the checked path'),
      includeHeadersInCheck: field(headerPatterns(), 'deprecated: use includeRequestHeadersInCheck'),
      includeRequestHeadersInCheck: field(headerPatterns(), 'request headers sent to the provider'),
      includeAdditionalHeadersInCheck: field(mapOf(str(), { keyRule: checkHeaderName, expected: 'a map of header values' }), 'fixed headers added to the check'),
      headersToUpstreamOnAllow: field(headerPatterns()),
      headersToDownstreamOnDeny: field(headerPatterns()),
      headersToDownstreamOnAllow: field(headerPatterns()),
    },
    {
      refine(h, r) {
        if (h.includeHeadersInCheck !== undefined) r.warn(['includeHeadersInCheck'], 'deprecated-field', 'includeHeadersInCheck is deprecated', 'rename it to includeRequestHeadersInCheck', 'key');
      },
    },
  ),
  (h): EnvoyExtAuthzHttpProvider => ({
    ...toCommon(h),
    ...(h.pathPrefix ? { pathPrefix: h.pathPrefix } : {}),
    includeRequestHeadersInCheck: [...(h.includeRequestHeadersInCheck ?? []), ...(h.includeHeadersInCheck ?? [])],
    includeAdditionalHeadersInCheck: h.includeAdditionalHeadersInCheck ?? {},
    headersToUpstreamOnAllow: h.headersToUpstreamOnAllow ?? [],
    headersToDownstreamOnDeny: h.headersToDownstreamOnDeny ?? [],
    headersToDownstreamOnAllow: h.headersToDownstreamOnAllow ?? [],
  }),
);

const grpcProviderSchema = mapped(obj(commonFields), toCommon);

const other = (what: string) => unsupported(anyValue(), `${what}; kept by name only`);

/** Headers added to export requests: `{name, value}` or `{name, envName}` (Istio's HttpHeader). */
const providerHeaders = () =>
  listOf(
    mapped(
      obj(
        { name: required(str({ nonEmpty: true, rule: checkHeaderName })), value: field(str()), envName: field(str({ nonEmpty: true }), "an environment variable of the control plane") },
        { exactlyOne: [['value', 'envName']] },
      ),
      (h): ProviderHeader => ({ name: h.name, ...(h.value !== undefined ? { value: h.value } : {}), ...(h.envName !== undefined ? { envName: h.envName } : {}) }),
    ),
  );

const tracingCommon = {
  service: required(str({ nonEmpty: true, rule: checkProviderService }), '[namespace/]FQDN of the collector\'s Service or ServiceEntry'),
  port: required(int({ min: 1, max: 65535 })),
  maxTagLength: field(int({ min: 0 }), 'characters of http.url kept; default 256'),
};

/** `zipkin`: Zipkin v2 JSON over HTTP (Istio's default tracer, B3 headers). */
const zipkinSchema = mapped(
  obj({
    ...tracingCommon,
    path: field(str({ rule: (v) => (v.startsWith('/') ? undefined : 'a path starting with /') }), 'default /api/v2/spans'),
    enable64bitTraceId: field(bool(), 'default false: new traces get 128-bit ids'),
    traceContextOption: unsupported(anyValue(), 'Strait writes B3, and W3C only where the request carried it'),
    timeout: field(durationSchema({ min: '0' }), 'default 5s'),
    headers: field(providerHeaders()),
  }),
  (z): TracingProvider => ({
    kind: 'zipkin',
    service: z.service,
    port: z.port,
    ...(z.path ? { path: z.path } : {}),
    enable64bitTraceId: z.enable64bitTraceId ?? false,
    ...(z.maxTagLength ? { maxTagLength: z.maxTagLength } : {}),
    ...(z.timeout !== undefined ? { timeout: z.timeout } : {}),
    headers: z.headers ?? [],
  }),
);

/** `opentelemetry`: OTLP over HTTP (`http`), else over gRPC (W3C trace context). */
const openTelemetrySchema = mapped(
  obj({
    ...tracingCommon,
    http: field(
      obj({
        path: field(str({ rule: (v) => (v.startsWith('/') ? undefined : 'a path starting with /') }), 'default /v1/traces'),
        timeout: field(durationSchema({ min: '0' }), 'default 5s'),
        headers: field(providerHeaders()),
      }),
      'OTLP/HTTP; without it Istio uses OTLP/gRPC',
    ),
    grpc: field(
      obj({
        timeout: field(durationSchema({ min: '0' }), 'default 5s'),
        initialMetadata: field(providerHeaders(), 'gRPC metadata sent with each export'),
      }),
      'OTLP/gRPC settings (used when http is absent)',
    ),
    resourceDetectors: unsupported(anyValue()),
    dynatraceSampler: unsupported(anyValue()),
  }),
  (o): TracingProvider => ({
    kind: 'opentelemetry',
    service: o.service,
    port: o.port,
    ...(o.maxTagLength ? { maxTagLength: o.maxTagLength } : {}),
    ...(o.http ? { http: { path: o.http.path || '/v1/traces', ...(o.http.timeout !== undefined ? { timeout: o.http.timeout } : {}), headers: o.http.headers ?? [] } } : {}),
    ...(o.grpc ? { grpc: { ...(o.grpc.timeout !== undefined ? { timeout: o.grpc.timeout } : {}), initialMetadata: o.grpc.initialMetadata ?? [] } } : {}),
  }),
);

/**
 * `envoyFileAccessLog`: a file (or /dev/stdout) access log with its own text format or JSON
 * labels. Istio checks nothing here; Strait warns about a format its formatter cannot write (the
 * proxies then log Istio's default format rather than reject their listeners, as Envoy would).
 */
const fileAccessLogSchema = mapped(
  obj({
    path: field(str(), 'default /dev/stdout; a file the proxy appends to'),
    logFormat: field(
      obj(
        {
          text: field(str({ nonEmpty: true }), "Envoy format string (%RESPONSE_CODE% ...); a missing final newline is added"),
          labels: field(mapOf(anyValue('a format string, number, boolean or map')), "JSON log: key → format string; {} means Istio's default JSON labels"),
        },
        {
          atMostOne: [['text', 'labels']],
          refine(f, r) {
            const [key, format] = f.text !== undefined ? ['text', f.text] : f.labels !== undefined ? ['labels', f.labels] : [undefined, undefined];
            if (key === undefined || format === undefined) return;
            const problem = formatProblem(format);
            if (problem) r.warn([key], 'unsupported-log-format', `${problem}: Strait's proxies cannot write this format, so this provider logs Istio's default ${key === 'text' ? 'text format' : 'JSON labels'} instead`, 'use the command operators listed in docs/observability.md (Access logs)');
          },
        },
      ),
      "absent: Istio's default text format",
    ),
    omitEmptyValues: field(bool(), 'default false: empty fields print "-" (text) or null (JSON)'),
  }),
  (a): FileAccessLogProvider => {
    const f = a.logFormat;
    // An empty logFormat ({}) is taken as absent: Istio's default text format.
    const logFormat = f?.text !== undefined ? { text: f.text } : f?.labels !== undefined ? { labels: f.labels } : undefined;
    return { path: a.path ?? '', ...(logFormat ? { logFormat } : {}), omitEmptyValues: a.omitEmptyValues ?? false };
  },
);

const PROVIDER_KINDS = [
  'envoyExtAuthzHttp', 'envoyExtAuthzGrpc', 'zipkin', 'lightstep', 'datadog', 'stackdriver', 'opencensus', 'skywalking',
  'opentelemetry', 'prometheus', 'envoyFileAccessLog', 'envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls', 'sds',
] as const;

const providerSchema = mapped(
  obj(
    {
      name: required(str({ nonEmpty: true }), 'unique; what AuthorizationPolicy provider.name refers to'),
      envoyExtAuthzHttp: field(httpProviderSchema, 'ext-authz over HTTP, for CUSTOM AuthorizationPolicies'),
      envoyExtAuthzGrpc: field(grpcProviderSchema, 'ext-authz over gRPC (envoy.service.auth.v3), for CUSTOM AuthorizationPolicies'),
      zipkin: field(zipkinSchema, 'a tracing provider: Zipkin v2 JSON (B3 headers)'),
      lightstep: other('a tracing provider (deprecated in Istio)'),
      datadog: other('a tracing provider'),
      stackdriver: other('a tracing provider'),
      opencensus: other('a tracing provider (deprecated in Istio)'),
      skywalking: other('a tracing provider'),
      opentelemetry: field(openTelemetrySchema, 'a tracing provider: OTLP over HTTP or gRPC (W3C trace context)'),
      prometheus: other('a metrics provider'),
      envoyFileAccessLog: field(fileAccessLogSchema, 'an access-log provider: a file (default /dev/stdout), text format or JSON labels'),
      envoyHttpAls: other('an access-log provider'),
      envoyTcpAls: other('an access-log provider'),
      envoyOtelAls: other('an access-log provider'),
      sds: other('a secret provider'),
    },
    { exactlyOne: [PROVIDER_KINDS] },
  ),
  (p, path): ExtensionProvider => {
    if (p.envoyExtAuthzHttp) return { name: p.name, type: 'envoyExtAuthzHttp', envoyExtAuthzHttp: p.envoyExtAuthzHttp, path };
    if (p.envoyExtAuthzGrpc) return { name: p.name, type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: p.envoyExtAuthzGrpc, path };
    // Sound: exactlyOne guarantees one provider field is set.
    const kind = PROVIDER_KINDS.find((k) => p[k] !== undefined) ?? 'unknown';
    const tracing = p.zipkin ?? p.opentelemetry;
    return { name: p.name, type: 'other', kind, path, ...(tracing ? { tracing } : {}), ...(p.envoyFileAccessLog ? { accessLog: p.envoyFileAccessLog } : {}) };
  },
);

function uniqueNames(providers: readonly ExtensionProvider[], r: Refiner): void {
  const seen = new Map<string, number>();
  providers.forEach((p, i) => {
    const first = seen.get(p.name);
    if (first !== undefined) r.error([i, 'name'], 'duplicate-value', `extension provider name ${p.name} is already used by extensionProviders[${first}]`, 'give every provider a different name');
    else seen.set(p.name, i);
  });
}

export const extensionProvidersSchema = listOf(providerSchema, { refine: uniqueNames });
