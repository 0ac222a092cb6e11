// The per-proxy configuration model: Envoy xDS v3 resources in their proto3 JSON shape, typed with
// only the fields Strait implements. Field names and meanings follow Envoy's API reference
// (envoy/config/listener/v3, route/v3, cluster/v3, endpoint/v3). Durations are proto3 JSON
// strings ("1.5s"); wrapper types are plain numbers/booleans.
//
// Strait-only data travels in `metadata.filterMetadata['strait']` (a google.protobuf.Struct), so
// every resource stays a valid Envoy resource on the wire.

export const TYPE_URL = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type TypeUrl = (typeof TYPE_URL)[keyof typeof TYPE_URL];

/** Order in which an ADS server sends types, so that nothing references what is not there yet. */
export const PUSH_ORDER: readonly TypeUrl[] = [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route, TYPE_URL.secret];

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const UPSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const DOWNSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
export const FILE_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
export const STDOUT_ACCESS_LOG_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
/** The CEL access-log filter Istio writes for Telemetry accessLogging[].filter (ExtensionFilter name and config type). */
export const CEL_ACCESS_LOG_FILTER = 'envoy.access_loggers.extension_filters.cel';
export const CEL_EXPRESSION_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';
export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
export const TCP_PROXY_FILTER_NAME = 'envoy.filters.network.tcp_proxy';
export const HCM_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';
export const STRAIT_METADATA = 'strait';

// ---- core -------------------------------------------------------------------------------------

export interface SocketAddress {
  address: string;
  portValue: number;
}

export interface Address {
  socketAddress: SocketAddress;
}

/** google.protobuf.Struct in JSON form: any JSON object. */
export type Struct = Record<string, unknown>;

export interface Metadata {
  filterMetadata?: Record<string, Struct>;
}

export interface TypedConfig {
  '@type': string;
  [field: string]: unknown;
}

// ---- listener ---------------------------------------------------------------------------------

export interface Filter {
  name: string;
  typedConfig: TypedConfig;
}

export interface FilterChainMatch {
  /** SNI names, exact or `*.suffix` wildcards (Envoy's server_names). */
  serverNames?: string[];
  /** 'tls' or 'raw_buffer' (from the TLS inspector). */
  transportProtocol?: string;
  /** The connection's original destination port (for CONNECT tunnels: the requested port). */
  destinationPort?: number;
}

export interface TcpProxy {
  '@type': typeof TCP_PROXY_TYPE;
  statPrefix: string;
  cluster?: string;
  weightedClusters?: { clusters: { name: string; weight: number }[] };
  idleTimeout?: string;
  accessLog?: AccessLog[];
}

/** Envoy's DataSource. */
export interface DataSource {
  inlineString?: string;
  filename?: string;
}

export interface TlsCertificate {
  certificateChain: DataSource;
  privateKey: DataSource;
}

export interface SdsSecretConfig {
  name: string;
  sdsConfig?: { ads: Record<string, never>; resourceApiVersion?: 'V3' };
}

export type TlsVersion = 'TLS_AUTO' | 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3';

export interface CommonTlsContext {
  tlsParams?: { tlsMinimumProtocolVersion?: TlsVersion; tlsMaximumProtocolVersion?: TlsVersion; cipherSuites?: string[]; ecdhCurves?: string[] };
  tlsCertificates?: TlsCertificate[];
  tlsCertificateSdsSecretConfigs?: SdsSecretConfig[];
  /** Trusted CAs (for client certificates on a server, the server's on a client) over SDS. */
  validationContextSdsSecretConfig?: SdsSecretConfig;
  alpnProtocols?: string[];
}

export interface DownstreamTlsContext {
  '@type': typeof DOWNSTREAM_TLS_TYPE;
  commonTlsContext: CommonTlsContext;
  requireClientCertificate?: boolean;
}

export interface TransportSocket {
  name: string;
  typedConfig: DownstreamTlsContext;
}

export interface FilterChain {
  name?: string;
  filterChainMatch?: FilterChainMatch;
  transportSocket?: TransportSocket;
  filters: Filter[];
}

export interface Listener {
  name: string;
  address: Address;
  filterChains: FilterChain[];
  /** Envoy's traffic_direction: INBOUND for sidecar inbound, OUTBOUND for sidecar outbound/gateways. */
  trafficDirection?: 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND';
  metadata?: Metadata;
}

export interface AccessLog {
  name: string;
  /** Which requests are logged (envoy.config.accesslog.v3.AccessLogFilter); absent: all. */
  filter?: AccessLogFilter;
  typedConfig: TypedConfig;
}

/** envoy.config.accesslog.v3.ComparisonFilter: op (default EQ) against a runtime value's default. */
export interface AccessLogComparison {
  op?: 'EQ' | 'GE' | 'LE' | 'NE';
  value: { defaultValue?: number; runtimeKey: string };
}

/** envoy.config.accesslog.v3.AccessLogFilter: exactly one of these (the ones Strait runs). */
export interface AccessLogFilter {
  statusCodeFilter?: { comparison: AccessLogComparison };
  durationFilter?: { comparison: AccessLogComparison };
  notHealthCheckFilter?: Record<string, never>;
  andFilter?: { filters: AccessLogFilter[] };
  orFilter?: { filters: AccessLogFilter[] };
  /** Requests with any of these flags; empty: with any flag at all. */
  responseFlagFilter?: { flags?: string[] };
  /** CEL_ACCESS_LOG_FILTER with `{'@type': CEL_EXPRESSION_FILTER_TYPE, expression}`. */
  extensionFilter?: { name: string; typedConfig: TypedConfig };
}

export interface HttpFilter {
  name: string;
  typedConfig: TypedConfig;
}

export interface HttpConnectionManager {
  '@type': typeof HCM_TYPE;
  statPrefix: string;
  /** Either rds (dynamic route config by name) or routeConfig (inline). */
  rds?: { routeConfigName: string; configSource?: { ads: Record<string, never>; resourceApiVersion?: 'V3' } };
  routeConfig?: RouteConfiguration;
  httpFilters: HttpFilter[];
  /** Use the downstream connection's address as the client address and append it to XFF (edge). */
  useRemoteAddress?: boolean;
  /** Default 0. How many proxies in front append trusted X-Forwarded-For entries. */
  xffNumTrustedHops?: number;
  /** Keep an x-request-id set by an external client instead of replacing it. */
  preserveExternalRequestId?: boolean;
  generateRequestId?: boolean;
  serverName?: string;
  serverHeaderTransformation?: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  /** Idle timeout of downstream connections (HttpProtocolOptions.idle_timeout). */
  commonHttpProtocolOptions?: { idleTimeout?: string; maxHeadersCount?: number };
  streamIdleTimeout?: string;
  requestHeadersTimeout?: string;
  accessLog?: AccessLog[];
  /** RFC 3986 normalisation of the path before routing and filters (Envoy's default: false; Istio: true). */
  normalizePath?: boolean;
  /** Runs of `/` become one (Istio MERGE_SLASHES, DECODE_AND_MERGE_SLASHES). */
  mergeSlashes?: boolean;
  /** `%2F` `%5C` in the path (Envoy's default IMPLEMENTATION_SPECIFIC_DEFAULT = KEEP_UNCHANGED). */
  pathWithEscapedSlashesAction?: 'IMPLEMENTATION_SPECIFIC_DEFAULT' | 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';
  /** X-Forwarded-Client-Cert policy (default SANITIZE) and what the current element carries. */
  forwardClientCertDetails?: 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';
  setCurrentClientCertDetails?: { subject?: boolean; cert?: boolean; chain?: boolean; dns?: boolean; uri?: boolean };
  /** `websocket` lets Upgrade: websocket through; `CONNECT` terminates CONNECT tunnels (Strait: the
   * tunnel's bytes are then handled by this listener as a new connection to the requested port). */
  upgradeConfigs?: { upgradeType: string; enabled?: boolean }[];
  /** Distributed tracing (HttpConnectionManager.Tracing); absent: no spans, no trace headers. */
  tracing?: HcmTracing;
}

// ---- tracing (envoy.config.trace.v3, HttpConnectionManager.Tracing) ----------------------------

export const ZIPKIN_TRACER = 'envoy.tracers.zipkin';
export const OPENTELEMETRY_TRACER = 'envoy.tracers.opentelemetry';
export const ZIPKIN_CONFIG_TYPE = 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig';
export const OPENTELEMETRY_CONFIG_TYPE = 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig';

/** envoy.type.v3.Percent: 0..100. */
export interface Percent {
  value: number;
}

/** envoy.type.tracing.v3.CustomTag: exactly one of literal, environment, requestHeader, metadata. */
export interface TracingCustomTag {
  tag: string;
  literal?: { value: string };
  environment?: { name: string; defaultValue?: string };
  requestHeader?: { name: string; defaultValue?: string };
  /** Request metadata only (dynamic metadata a filter wrote, e.g. RBAC's shadow results). */
  metadata?: { kind?: { request?: Record<string, never> }; metadataKey: { key: string; path: { key: string }[] }; defaultValue?: string };
}

export interface HcmTracing {
  /** Default 100: x-client-trace-id forces a trace this often. */
  clientSampling?: Percent;
  /** Default 100: the share of other requests traced (Istio: 1 % unless configured). */
  randomSampling?: Percent;
  /** Default 100: a cap over all of the above. */
  overallSampling?: Percent;
  /** Default 256: characters of the path kept in http.url. */
  maxPathTagLength?: number;
  customTags?: TracingCustomTag[];
  /** Absent: requests are sampled and propagated, but spans go nowhere. */
  provider?: { name: string; typedConfig?: ZipkinConfig | OpenTelemetryConfig };
  /** A child span per upstream request; the downstream span is then a SERVER span. */
  spawnUpstreamSpan?: boolean;
}

export interface ZipkinConfig {
  '@type': typeof ZIPKIN_CONFIG_TYPE;
  collectorCluster: string;
  collectorEndpoint: string;
  traceId128bit?: boolean;
  /** Istio: false (each hop's server span gets its own id). */
  sharedSpanContext?: boolean;
  collectorEndpointVersion?: 'HTTP_JSON' | 'HTTP_PROTO' | 'GRPC';
  /** Host header of the collector request; default the cluster name. */
  collectorHostname?: string;
}

/** core.v3.HttpService: where OTLP/HTTP goes. */
export interface HttpService {
  httpUri: { uri: string; cluster: string; timeout: string };
  requestHeadersToAdd?: { header: { key: string; value: string } }[];
}

export interface OpenTelemetryConfig {
  '@type': typeof OPENTELEMETRY_CONFIG_TYPE;
  httpService?: HttpService;
  /** OTLP/gRPC (core.v3.GrpcService; Strait's proxy speaks envoy_grpc targets). */
  grpcService?: { envoyGrpc?: { clusterName: string; authority?: string }; timeout?: string; initialMetadata?: { key: string; value: string }[] };
  /** The Resource's service.name; default "unknown_service:envoy". */
  serviceName?: string;
}

// ---- route ------------------------------------------------------------------------------------

export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safeRegex?: { regex: string };
  ignoreCase?: boolean;
}

export interface HeaderMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
  invertMatch?: boolean;
}

export interface QueryParameterMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
}

export interface RouteMatch {
  prefix?: string;
  path?: string;
  safeRegex?: { regex: string };
  /** Envoy's path_separated_prefix: prefix matched on whole path segments (Ingress Prefix). */
  pathSeparatedPrefix?: string;
  /** Defaults to true in Envoy. */
  caseSensitive?: boolean;
  headers?: HeaderMatcher[];
  queryParameters?: QueryParameterMatcher[];
  /**
   * Envoy's dynamic_metadata: every matcher must match the request's dynamic metadata (Istio's
   * routing on JWT claims reads `envoy.filters.http.jwt_authn` → `payload`). Only a route cache
   * cleared by a filter (jwt_authn's clear_route_cache) sees metadata set during the request.
   */
  dynamicMetadata?: RouteMetadataMatcher[];
}

/** envoy.type.matcher.v3.MetadataMatcher, as route matches carry it (value: a ValueMatcher). */
export interface RouteMetadataMatcher {
  filter: string;
  path: { key: string }[];
  value: Record<string, unknown>;
  invert?: boolean;
}

export interface HeaderValueOption {
  header: { key: string; value: string };
  /** Envoy's default is APPEND_IF_EXISTS_OR_ADD. */
  appendAction?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

/** Header changes, at route, virtual host or weighted-cluster level (Envoy field names). */
export interface HeaderMutations {
  requestHeadersToAdd?: HeaderValueOption[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: HeaderValueOption[];
  responseHeadersToRemove?: string[];
}

export interface WeightedCluster extends HeaderMutations {
  name: string;
  weight: number;
  typedPerFilterConfig?: Record<string, TypedConfig>;
}

export interface RetryPolicy {
  /** Comma-separated x-envoy-retry-on / x-envoy-retry-grpc-on values. */
  retryOn?: string;
  numRetries?: number;
  perTryTimeout?: string;
  retriableStatusCodes?: number[];
  retryHostPredicate?: { name: string; typedConfig?: TypedConfig }[];
  hostSelectionRetryMaxAttempts?: number;
  retryBackOff?: { baseInterval: string; maxInterval?: string };
}

export interface HashPolicy {
  header?: { headerName: string };
  cookie?: { name: string; ttl?: string; path?: string };
  connectionProperties?: { sourceIp: boolean };
  queryParameter?: { name: string };
  terminal?: boolean;
}

export interface FractionalPercent {
  numerator: number;
  denominator?: 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION';
}

export interface RequestMirrorPolicy {
  cluster: string;
  runtimeFraction?: { defaultValue: FractionalPercent };
}

export interface RouteAction {
  cluster?: string;
  weightedClusters?: { clusters: WeightedCluster[] };
  /** "0s" disables the route timeout. */
  timeout?: string;
  retryPolicy?: RetryPolicy;
  prefixRewrite?: string;
  regexRewrite?: { pattern: { regex: string }; substitution: string };
  hostRewriteLiteral?: string;
  requestMirrorPolicies?: RequestMirrorPolicy[];
  hashPolicy?: HashPolicy[];
}

export interface RedirectAction {
  schemeRedirect?: string;
  httpsRedirect?: boolean;
  hostRedirect?: string;
  portRedirect?: number;
  pathRedirect?: string;
  prefixRewrite?: string;
  regexRewrite?: { pattern: { regex: string }; substitution: string };
  responseCode?: 'MOVED_PERMANENTLY' | 'FOUND' | 'SEE_OTHER' | 'TEMPORARY_REDIRECT' | 'PERMANENT_REDIRECT';
  stripQuery?: boolean;
}

export interface Route extends HeaderMutations {
  name?: string;
  match: RouteMatch;
  route?: RouteAction;
  redirect?: RedirectAction;
  directResponse?: { status: number; body?: { inlineString: string } };
  metadata?: Metadata;
  decorator?: { operation: string };
  typedPerFilterConfig?: Record<string, TypedConfig>;
}

export interface VirtualHost extends HeaderMutations {
  name: string;
  domains: string[];
  routes: Route[];
  typedPerFilterConfig?: Record<string, TypedConfig>;
  /** Adds x-envoy-attempt-count to upstream requests. */
  includeRequestAttemptCount?: boolean;
  retryPolicy?: RetryPolicy;
}

export interface RouteConfiguration {
  name: string;
  virtualHosts: VirtualHost[];
  validateClusters?: boolean;
  /** Routes (and RBAC path rules) match the path without `;` parameters of its segments. */
  ignorePathParametersInPathMatching?: boolean;
}

// ---- cluster / endpoint -----------------------------------------------------------------------

export interface LbEndpoint {
  /** For STRICT_DNS/LOGICAL_DNS clusters socketAddress.address is a hostname to resolve. */
  endpoint: { address: Address; hostname?: string };
  healthStatus?: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';
  loadBalancingWeight?: number;
  metadata?: Metadata;
}

export interface LocalityLbEndpoints {
  lbEndpoints: LbEndpoint[];
  locality?: { region?: string; zone?: string; subZone?: string };
}

export interface ClusterLoadAssignment {
  clusterName: string;
  endpoints: LocalityLbEndpoints[];
}

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV' | 'CLUSTER_PROVIDED';

export interface CircuitBreakerThresholds {
  priority?: 'DEFAULT' | 'HIGH';
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
  retryBudget?: { budgetPercent?: { value: number }; minRetryConcurrency?: number };
}

export interface OutlierDetection {
  consecutive5xx?: number;
  consecutiveGatewayFailure?: number;
  /** Percent (0..100) of detections that really eject; Istio sets 100 for what it enables, 0 otherwise. */
  enforcingConsecutive5xx?: number;
  enforcingConsecutiveGatewayFailure?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailure?: number;
  enforcingConsecutiveLocalOriginFailure?: number;
  /** Envoy success-rate detection is off when this is 0 (Istio sets 0). */
  enforcingSuccessRate?: number;
}

export interface UpstreamTlsContext {
  '@type': typeof UPSTREAM_TLS_TYPE;
  sni?: string;
  commonTlsContext?: CommonTlsContext & {
    validationContext?: {
      trustedCa?: DataSource;
      /** SAN checks: any one must match. */
      matchSubjectAltNames?: StringMatcher[];
      /** ACCEPT_UNTRUSTED skips chain verification (DestinationRule insecureSkipVerify). */
      trustChainVerification?: 'VERIFY_TRUST_CHAIN' | 'ACCEPT_UNTRUSTED';
    };
    validationContextSdsSecretConfig?: SdsSecretConfig;
  };
}

export interface Cluster {
  name: string;
  /** STATIC carries its endpoints in loadAssignment; EDS gets them from ClusterLoadAssignment. */
  type: 'STATIC' | 'EDS' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';
  edsClusterConfig?: { edsConfig: { ads: Record<string, never>; resourceApiVersion?: 'V3' }; serviceName?: string };
  connectTimeout?: string;
  lbPolicy?: LbPolicy;
  ringHashLbConfig?: { minimumRingSize?: number; maximumRingSize?: number };
  maglevLbConfig?: { tableSize?: number };
  leastRequestLbConfig?: { choiceCount?: number };
  /** healthyPanicThreshold: below this share of healthy hosts, balance over all (Istio minHealthPercent). */
  commonLbConfig?: { healthyPanicThreshold?: { value: number } };
  loadAssignment?: ClusterLoadAssignment;
  /** HTTP/1.1 upstream keep-alive and limits live here in Envoy's CommonHttpProtocolOptions. */
  commonHttpProtocolOptions?: { idleTimeout?: string; maxRequestsPerConnection?: number; maxConnectionDuration?: string };
  /** Present (even empty) means the upstream speaks HTTP/2 (h2c, or h2 over TLS). */
  http2ProtocolOptions?: { maxConcurrentStreams?: number };
  circuitBreakers?: { thresholds: CircuitBreakerThresholds[] };
  outlierDetection?: OutlierDetection;
  transportSocket?: { name: string; typedConfig: UpstreamTlsContext };
  /**
   * Per-endpoint transport sockets (Istio's auto mTLS): the first entry whose `match` equals the
   * endpoint's `envoy.transport_socket_match` metadata applies; no transportSocket = plaintext.
   */
  transportSocketMatches?: { name: string; match?: Record<string, string>; transportSocket?: { name: string; typedConfig: UpstreamTlsContext } }[];
  dnsLookupFamily?: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  dnsRefreshRate?: string;
  upstreamConnectionOptions?: { tcpKeepalive?: { keepaliveProbes?: number; keepaliveTime?: number; keepaliveInterval?: number } };
  metadata?: Metadata;
}

/** SDS Secret (envoy.extensions.transport_sockets.tls.v3.Secret). */
export interface Secret {
  name: string;
  tlsCertificate?: TlsCertificate;
  validationContext?: { trustedCa?: DataSource };
}

export type XdsResource = Listener | RouteConfiguration | Cluster | ClusterLoadAssignment | Secret;

/** Name of an xDS resource of any type. */
export function resourceName(typeUrl: TypeUrl, r: XdsResource): string {
  if (typeUrl === TYPE_URL.endpoint) return (r as ClusterLoadAssignment).clusterName;
  return (r as Listener | RouteConfiguration | Cluster | Secret).name;
}

// ---- bootstrap (the proxy's static startup file, as Envoy's) -----------------------------------

export interface Node {
  id: string;
  cluster?: string;
  metadata?: Struct;
}

export interface Bootstrap {
  node: Node;
  admin?: { address: Address };
  staticResources?: {
    listeners?: Listener[];
    clusters?: Cluster[];
    /** Named secrets the listeners' and clusters' SDS references resolve to (Envoy's static secrets). */
    secrets?: Secret[];
  };
  /** When present, the proxy connects to this ADS server (gRPC, host:port) for its config. */
  dynamicResources?: { adsServer: string };
}

// ---- HTTP filter: JWT authentication (envoy.extensions.filters.http.jwt_authn.v3) --------------

/** JwtAuthentication, the typed config of `envoy.filters.http.jwt_authn` (src/filters/http/jwt_authn/). */
export interface JwtAuthentication {
  '@type'?: string;
  /** Providers by name (Istio: `origins-<i>`, one per jwtRule). */
  providers?: Record<string, JwtProvider>;
  /** First match wins; a rule without a requirement lets its requests through unchecked. */
  rules?: { match: RouteMatch; requires?: JwtRequirement; requirementName?: string }[];
  /** Let CORS preflights through (Istio: true). */
  bypassCorsPreflight?: boolean;
  /** Named requirements, for rules' and routes' (PerRouteConfig) requirementName. */
  requirementMap?: Record<string, JwtRequirement>;
  /** Deny with an empty body and no www-authenticate. */
  stripFailureResponse?: boolean;
}

export interface JwtProvider {
  /** The token's `iss` must equal it; '' accepts any issuer. */
  issuer?: string;
  /** The token's `aud` must contain one of them (http(s):// and a trailing / are ignored); empty: any. */
  audiences?: string[];
  /** Exactly one of remoteJwks and localJwks. */
  remoteJwks?: {
    httpUri: { uri: string; cluster: string; timeout: string };
    /** Default 600s. */
    cacheDuration?: string;
    asyncFetch?: { fastListener?: boolean; failedRefetchDuration?: string };
    retryPolicy?: { retryBackOff?: { baseInterval: string; maxInterval?: string }; numRetries?: number; retryOn?: string };
  };
  localJwks?: DataSource & { inlineBytes?: string; environmentVariable?: string };
  /** Keep the token in the forwarded request (Istio forwardOriginalToken; default false: removed). */
  forward?: boolean;
  /** Default (all three empty): `Authorization: Bearer <t>`, then the `access_token` parameter. */
  fromHeaders?: { name: string; valuePrefix?: string }[];
  fromParams?: string[];
  fromCookies?: string[];
  /** Header receiving the payload's base64url (Istio outputPayloadToHeader). */
  forwardPayloadHeader?: string;
  padForwardPayloadHeader?: boolean;
  /** Dynamic metadata key of the verified payload (Istio: "payload"; older Istio: the issuer). */
  payloadInMetadata?: string;
  /** Istio: {spaceDelimitedClaims: ["permission", "scope", ...]}. */
  normalizePayloadInMetadata?: { spaceDelimitedClaims?: string[] };
  headerInMetadata?: string;
  /** 0 or unset: 60. */
  clockSkewSeconds?: number;
  /** Istio outputClaimToHeaders; claimName may be a dotted path into nested claims. */
  claimToHeaders?: { headerName: string; claimName: string }[];
  /** Accepted; Strait picks routes before HTTP filters, so it has no effect. */
  clearRouteCache?: boolean;
  /** Accepted and ignored (a cache of verified tokens). */
  jwtCacheConfig?: { jwtCacheSize?: number };
}

/** A oneof: exactly one field, or none (no requirement). */
export interface JwtRequirement {
  providerName?: string;
  providerAndAudiences?: { providerName: string; audiences?: string[] };
  requiresAny?: { requirements: JwtRequirement[] };
  requiresAll?: { requirements: JwtRequirement[] };
  allowMissingOrFailed?: Record<string, never>;
  allowMissing?: Record<string, never>;
}
