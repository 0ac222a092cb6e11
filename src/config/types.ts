// Typed, normalised configuration resources: what src/config/ produces from YAML and what the
// registry and the control plane read. Defaults are already applied here (namespace "default",
// replicas 1, service account "default", ...), so later stages never re-derive them.

import type { AuthorizationPolicyResource, ExtensionProvider, PeerAuthenticationResource, RequestAuthenticationResource } from './types-security.js';
import type { TelemetryResource } from './types-telemetry.js';

// The security.istio.io kinds and the ext-authz providers are described in types-security.ts.
export type * from './types-security.js';
// The telemetry.istio.io Telemetry kind is described in types-telemetry.ts.
export type * from './types-telemetry.js';

/** A path into a YAML document, e.g. ['spec', 'http', 0, 'route', 0, 'destination', 'host']. */
export type FieldPath = readonly (string | number)[];

export interface SourcePosition {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

/** Where a resource came from; `at(path)` finds a field inside it (the closest existing node). */
export interface ResourceSource extends SourcePosition {
  /** Index of the document inside its file (0-based). */
  readonly docIndex: number;
  at(path: FieldPath): SourcePosition;
  /**
   * Where the text of a literal block scalar (`key: |`) at `path` starts: the line of its first
   * content line and its indentation, so that positions inside YAML embedded in a string (the
   * mesh config in a ConfigMap) map back to the file. Undefined for other values; absent on
   * sources that were not read from text.
   */
  blockAt?(path: FieldPath): { readonly line: number; readonly indent: number } | undefined;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Short stable identifier, e.g. 'unknown-field', 'unsupported-field', 'yaml-syntax'. */
  readonly code: string;
  readonly message: string;
  /** How to fix it, phrased as an instruction. */
  readonly fix?: string;
  /**
   * false for errors Kubernetes itself would accept (a reference to a missing Service or Secret,
   * certificate content): reported, and `strait validate` fails, but `strait up` still applies
   * the rest of the config and the affected part answers with a clear local reply. Errors in the
   * shape of a resource (what the API server rejects) always block (absent = true).
   */
  readonly blocking?: boolean;
}

export function isBlocking(d: Diagnostic): boolean {
  return d.severity === 'error' && d.blocking !== false;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

interface ResourceBase<K extends string> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly source: ResourceSource;
}

// ---- core/v1, apps/v1 -------------------------------------------------------------------------

export type NamespaceResource = ResourceBase<'Namespace'>;

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  /** A number, or the name of a container port. Defaults to `port`. */
  readonly targetPort: number | string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly appProtocol?: string;
}

export interface ServiceResource extends ResourceBase<'Service'> {
  readonly spec: {
    /** Absent means "no selector" (endpoints managed elsewhere). */
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports: readonly ServicePort[];
    readonly type: string;
  };
}

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface ContainerPort {
  readonly containerPort: number;
  readonly name?: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env: readonly EnvVar[];
  readonly ports: readonly ContainerPort[];
  readonly workingDir?: string;
}

export interface DeploymentResource extends ResourceBase<'Deployment'> {
  readonly spec: {
    readonly replicas: number;
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly template: {
      readonly metadata: {
        readonly labels: Readonly<Record<string, string>>;
        readonly annotations: Readonly<Record<string, string>>;
      };
      readonly spec: {
        readonly serviceAccountName: string;
        /** The first container is the one that runs (see docs/compat.md). */
        readonly containers: readonly Container[];
      };
    };
  };
}

export interface SecretResource extends ResourceBase<'Secret'> {
  readonly type: string;
  /** `data` (base64-decoded) merged with `stringData` (which wins, as in Kubernetes). */
  readonly data: Readonly<Record<string, Buffer>>;
}

// ---- networking.istio.io ----------------------------------------------------------------------
// Istio's field names and shapes (istio/api networking/v1alpha3), with three normalisations so
// that later stages never re-derive them: durations are converted to milliseconds (Duration),
// proto3 defaults the API documents are applied (noted per field), and deprecated spellings are
// folded into their replacements (`mirrorPercent` into `mirrorPercentage`, `allowOrigin` into
// `allowOrigins`, ...). File paths on the proxy's machine (serverCertificate, clientCertificate,
// ...) are not in these types: Strait reads certificates from Secrets, and the loader warns about
// such paths. List entries carry `path`, their position inside the resource, for diagnostics.

/** An Istio duration (`1.5s`, `500ms`, `2m`, `1h`, `1m30s`), converted. */
export interface Duration {
  /** Milliseconds; Istio accepts millisecond precision only, so this is an integer. */
  readonly ms: number;
  /** As written, for messages. */
  readonly text: string;
}

/** Istio's Percent: a double between 0 and 100. */
export interface Percent {
  readonly value: number;
}

/** Exactly one of exact, prefix or regex (RE2 syntax, full match; compiled when loading). */
export type StringMatch =
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly regex: string };

/** A header match: a StringMatch, or `{}` meaning "the header is present" (VS-07). */
export type HeaderMatch = StringMatch | Record<string, never>;

/** Header manipulation of one direction (VS-23). */
export interface HeaderOperations {
  /** Overwrite these headers (default {}). */
  readonly set: Readonly<Record<string, string>>;
  /** Append these headers (default {}). */
  readonly add: Readonly<Record<string, string>>;
  /** Remove these headers (default []). */
  readonly remove: readonly string[];
}

/** `headers` of a rule or of one destination; both directions default to empty operations. */
export interface Headers {
  readonly request: HeaderOperations;
  readonly response: HeaderOperations;
}

export type ServerTLSMode = 'PASSTHROUGH' | 'SIMPLE' | 'MUTUAL' | 'AUTO_PASSTHROUGH' | 'ISTIO_MUTUAL' | 'OPTIONAL_MUTUAL';
export type TLSProtocolVersion = 'TLS_AUTO' | 'TLSV1_0' | 'TLSV1_1' | 'TLSV1_2' | 'TLSV1_3';

/** Gateway `servers[].tls` (ServerTLSSettings, IG-04..07). */
export interface ServerTLSSettings {
  /** Answer plain-HTTP requests with a 301 to https (IG-04). Default false. */
  readonly httpsRedirect: boolean;
  /** Default PASSTHROUGH (the proto's zero value), as in Istio. */
  readonly mode: ServerTLSMode;
  /**
   * Secret with the certificate (tls.crt/tls.key or cert/key; for MUTUAL the CA in ca.crt/cacert
   * or a `<name>-cacert` Secret), in the namespace of the gateway proxy: istio-system for
   * Strait's ingress gateway (IG-06).
   */
  readonly credentialName?: string;
  /** Up to two Secrets (e.g. an RSA and an ECDSA certificate); never together with credentialName. */
  readonly credentialNames: readonly string[];
  /** Secret holding the client CA bundle (instead of ca.crt in credentialName, or `<name>-cacert`). */
  readonly caCertCredentialName?: string;
  /** Accepted client certificate SANs (MUTUAL, OPTIONAL_MUTUAL); empty = any. */
  readonly subjectAltNames: readonly string[];
  /** Accepted client certificate SPKI SHA-256 hashes (base64); empty = any. */
  readonly verifyCertificateSpki: readonly string[];
  /** Accepted client certificate SHA-256 hashes (hex, optional colons); empty = any. */
  readonly verifyCertificateHash: readonly string[];
  /** Default TLS_AUTO (Envoy's default: TLS 1.2 for servers). */
  readonly minProtocolVersion: TLSProtocolVersion;
  /** Default TLS_AUTO (Envoy's default: TLS 1.3). */
  readonly maxProtocolVersion: TLSProtocolVersion;
  /** OpenSSL cipher suite names, as written; empty = Envoy's defaults. */
  readonly cipherSuites: readonly string[];
}

export interface GatewayServer {
  readonly port: {
    readonly number: number;
    readonly name?: string;
    /** Upper-cased: HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP, TLS. */
    readonly protocol: string;
    readonly targetPort?: number;
  };
  /** `[namespace/]dnsName` as written. */
  readonly hosts: readonly string[];
  readonly name?: string;
  readonly bind?: string;
  /** Absent for servers without `tls`. */
  readonly tls?: ServerTLSSettings;
  /**
   * Position of this server (`['spec', 'servers', i]`). Always set by the loader; optional only
   * so that hand-written GatewayServer literals in tests keep compiling.
   */
  readonly path?: FieldPath;
}

export interface GatewayResource extends ResourceBase<'Gateway'> {
  readonly spec: {
    readonly selector: Readonly<Record<string, string>>;
    readonly servers: readonly GatewayServer[];
  };
}

export interface PortSelector {
  /** 1..65535 (Istio requires a valid port number whenever a port selector is written). */
  readonly number: number;
}

export interface Destination {
  /** As written: a short name (resolved in the resource's namespace), an FQDN or a ServiceEntry host. */
  readonly host: string;
  /** A subset of a DestinationRule for the host (a DNS-1123 label). */
  readonly subset?: string;
  /** Required when the host's Service has several ports. */
  readonly port?: PortSelector;
}

export interface HTTPRouteDestination {
  readonly destination: Destination;
  /** Absent when not written: a lone destination gets everything, otherwise absent is 0 (VS-12). */
  readonly weight?: number;
  /** Header operations for requests sent to / responses from this destination (VS-23). */
  readonly headers?: Headers;
  /** `[...rule.path, 'route', j]`. */
  readonly path: FieldPath;
}

export interface HTTPMatchRequest {
  /** Appended to the rule name in access logs (VS-11). */
  readonly name?: string;
  readonly uri?: StringMatch;
  readonly scheme?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  /** Lower-case names as written; the keys uri, scheme, method and authority are ignored by Istio (VS-07). */
  readonly headers?: Readonly<Record<string, HeaderMatch>>;
  /** Inverted header matches (VS-08). */
  readonly withoutHeaders?: Readonly<Record<string, HeaderMatch>>;
  /** `exact: ""` matches `?key` with no value (VS-09). */
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  /** Case-insensitive uri exact/prefix (VS-10). */
  readonly ignoreUriCase?: boolean;
  /** Only on this port (gateway server port or service port). */
  readonly port?: number;
  /** Only for sidecars of workloads with these labels (needs `mesh`). */
  readonly sourceLabels?: Readonly<Record<string, string>>;
  /** Only for sidecars in this namespace (needs `mesh`). */
  readonly sourceNamespace?: string;
  /** Only on these gateways (`mesh` for sidecars); overrides the VirtualService's gateways. */
  readonly gateways?: readonly string[];
  /** Stat prefix for this match's route (Envoy route stat_prefix). */
  readonly statPrefix?: string;
  /** `[...rule.path, 'match', k]`. */
  readonly path: FieldPath;
}

export type RedirectPortSelection = 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';

/** VS-13. At least one of uri, authority, scheme, port, derivePort or prefixRewrite is set. */
export interface HTTPRedirect {
  /** Replaces the whole path (never together with prefixRewrite). */
  readonly uri?: string;
  /** Replaces the matched prefix of the path. */
  readonly prefixRewrite?: string;
  readonly authority?: string;
  /** Never together with derivePort. */
  readonly port?: number;
  readonly derivePort?: RedirectPortSelection;
  readonly scheme?: 'http' | 'https';
  /** 300..399; default 301. */
  readonly redirectCode: number;
}

/** VS-14. `bytes` is base64 in the manifest and decoded here. */
export interface HTTPDirectResponse {
  /** 200..599. */
  readonly status: number;
  readonly body?: { readonly string: string } | { readonly bytes: Buffer };
}

/** VS-24: the rule's traffic is routed by the rules of another VirtualService (which has no hosts). */
export interface Delegate {
  readonly name: string;
  /** Defaults to the namespace of the delegating VirtualService. */
  readonly namespace: string;
}

/** VS-15. At least one field is set; never both uri and uriRegexRewrite. */
export interface HTTPRewrite {
  /** Replaces the matched uri prefix (or the whole path for an exact match). */
  readonly uri?: string;
  readonly authority?: string;
  /** RE2 `match` (compiled when loading) and its replacement (`\1` groups). */
  readonly uriRegexRewrite?: { readonly match: string; readonly rewrite: string };
}

/** VS-17. */
export interface HTTPRetry {
  /** Retries after the first try; 0 (the default) disables retries. */
  readonly attempts: number;
  /** Default: the route timeout. At least 1ms. */
  readonly perTryTimeout?: Duration;
  /** Comma-separated Envoy retry-on policies and status codes, as written (VS-18); checked word by word. */
  readonly retryOn?: string;
  /** Retry on other localities. Default false. */
  readonly retryRemoteLocalities: boolean;
  /** Skip previously tried hosts. Default true (per the API). */
  readonly retryIgnorePreviousHosts: boolean;
  /** Base interval of Envoy's exponential back-off; absent = Envoy's 25ms. */
  readonly backoff?: Duration;
}

export type GrpcStatusName =
  | 'OK' | 'CANCELLED' | 'UNKNOWN' | 'INVALID_ARGUMENT' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND' | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION' | 'ABORTED' | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED' | 'INTERNAL' | 'UNAVAILABLE' | 'DATA_LOSS' | 'UNAUTHENTICATED';

/** VS-19. */
export interface HTTPFaultDelay {
  /** At least 1ms. */
  readonly fixedDelay: Duration;
  /** Share of requests delayed; absent = none (0%). The deprecated integer `percent` is folded in here. */
  readonly percentage?: Percent;
}

/** VS-20: exactly one of httpStatus or grpcStatus (Istio rejects http2Error). */
export type HTTPFaultAbort = {
  /** Share of requests aborted; absent = none (0%). */
  readonly percentage?: Percent;
} & ({ readonly httpStatus: number } | { readonly grpcStatus: GrpcStatusName });

/** At least one of delay and abort. */
export interface HTTPFaultInjection {
  readonly delay?: HTTPFaultDelay;
  readonly abort?: HTTPFaultAbort;
}

/** VS-21: one entry of `mirrors[]`. */
export interface HTTPMirrorPolicy {
  readonly destination: Destination;
  /** Absent = 100% mirrored. */
  readonly percentage?: Percent;
  /** `[...rule.path, 'mirrors', j]`. */
  readonly path: FieldPath;
}

/** VS-22. */
export interface CorsPolicy {
  /** Allowed origins; the deprecated `allowOrigin` strings are folded in as exact matches when `allowOrigins` is absent. */
  readonly allowOrigins: readonly StringMatch[];
  /** HTTP methods (GET, POST, ...); default []. */
  readonly allowMethods: readonly string[];
  /** Header names (or `*`); default []. */
  readonly allowHeaders: readonly string[];
  /** Header names (or `*`); default []. */
  readonly exposeHeaders: readonly string[];
  /** Whole seconds (Istio rejects sub-second precision). */
  readonly maxAge?: Duration;
  /** Absent = the header is not sent. */
  readonly allowCredentials?: boolean;
  /** What to do with preflight requests whose origin matches nothing; default FORWARD. */
  readonly unmatchedPreflights: 'FORWARD' | 'IGNORE';
}

export interface HTTPRoute {
  /** Used in access logs and stats (VS-27). */
  readonly name?: string;
  /** ORed blocks of ANDed conditions; empty = matches everything (VS-05). */
  readonly match: readonly HTTPMatchRequest[];
  /**
   * Exactly one of route (non-empty), redirect, directResponse and delegate is set: the loader
   * rejects a rule with none or several.
   */
  readonly route: readonly HTTPRouteDestination[];
  readonly redirect?: HTTPRedirect;
  readonly directResponse?: HTTPDirectResponse;
  readonly delegate?: Delegate;
  /** Never together with redirect. */
  readonly rewrite?: HTTPRewrite;
  /** Absent = no timeout (VS-16); at least 1ms. */
  readonly timeout?: Duration;
  /** Absent = the mesh default policy (MeshConfig.defaultHttpRetryPolicy, else 2 attempts) (VS-17). */
  readonly retries?: HTTPRetry;
  /** Never together with redirect. */
  readonly fault?: HTTPFaultInjection;
  /** Single mirror (never together with mirrors). */
  readonly mirror?: Destination;
  /** Share of requests mirrored to `mirror`; absent = 100%. The deprecated `mirrorPercent` is folded in. */
  readonly mirrorPercentage?: Percent;
  /** Several mirrors, each with its own percentage; default []. */
  readonly mirrors: readonly HTTPMirrorPolicy[];
  readonly corsPolicy?: CorsPolicy;
  /** Rule-level header operations (VS-23). */
  readonly headers?: Headers;
  /** `['spec', 'http', i]`. */
  readonly path: FieldPath;
}

/** VS-25/26: `route[]` of tcp and tls rules. */
export interface RouteDestination {
  readonly destination: Destination;
  /** As in HTTPRouteDestination. */
  readonly weight?: number;
  readonly path: FieldPath;
}

/** VS-25: conditions of a tcp rule (ANDed); the list of them is ORed. */
export interface L4MatchAttributes {
  /** IPs or CIDRs; default []. */
  readonly destinationSubnets: readonly string[];
  readonly port?: number;
  /** Source IP or CIDR. */
  readonly sourceSubnet?: string;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly gateways?: readonly string[];
  readonly sourceNamespace?: string;
  readonly path: FieldPath;
}

/** VS-26: conditions of a tls rule. */
export interface TLSMatchAttributes {
  /** At least one; each a subset of one of the VirtualService's hosts. */
  readonly sniHosts: readonly string[];
  readonly destinationSubnets: readonly string[];
  readonly port?: number;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly gateways?: readonly string[];
  readonly sourceNamespace?: string;
  readonly path: FieldPath;
}

export interface TCPRoute {
  /** Empty = every connection. */
  readonly match: readonly L4MatchAttributes[];
  /** At least one. */
  readonly route: readonly RouteDestination[];
  /** `['spec', 'tcp', i]`. */
  readonly path: FieldPath;
}

export interface TLSRoute {
  /** At least one. */
  readonly match: readonly TLSMatchAttributes[];
  /** At least one. */
  readonly route: readonly RouteDestination[];
  /** `['spec', 'tls', i]`. */
  readonly path: FieldPath;
}

export interface VirtualServiceResource extends ResourceBase<'VirtualService'> {
  readonly spec: {
    /** Empty only for a delegate VirtualService (VS-24). */
    readonly hosts: readonly string[];
    /** As written; an empty list means `mesh` (VS-02). */
    readonly gateways: readonly string[];
    readonly http: readonly HTTPRoute[];
    readonly tcp: readonly TCPRoute[];
    readonly tls: readonly TLSRoute[];
    /** Absent = MeshConfig.defaultVirtualServiceExportTo (`*`). */
    readonly exportTo?: readonly string[];
  };
}

// ---- DestinationRule (DR-01..11) ----------------------------------------------------------------

export type SimpleLB = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH';

/** DR-03. Exactly one hash key is set (the loader warns when none is). */
export interface ConsistentHashLB {
  readonly httpHeaderName?: string;
  /** With a ttl, the proxy generates the cookie when the request has none. */
  readonly httpCookie?: {
    readonly name: string;
    readonly path?: string;
    readonly ttl?: Duration;
    readonly attributes: readonly { readonly name: string; readonly value?: string }[];
  };
  readonly useSourceIp?: boolean;
  readonly httpQueryParameterName?: string;
  /**
   * Exactly one of ringHash and maglev. When neither is written, ringHash is filled in (Istio's
   * choice) with the deprecated `minimumRingSize` if given, else 1024.
   */
  readonly ringHash?: { readonly minimumRingSize: number };
  /** tableSize: a prime below 5000011 (default 65537 in Envoy, but Istio requires it written). */
  readonly maglev?: { readonly tableSize: number };
}

/** DR-02. At most one of simple and consistentHash; neither = LEAST_REQUEST (Istio's effective default). */
export interface LoadBalancerSettings {
  /** The deprecated LEAST_CONN is folded into LEAST_REQUEST, as Istio does. */
  readonly simple?: SimpleLB;
  readonly consistentHash?: ConsistentHashLB;
}

/** DR-06/07. Integer limits of 0 are "not set" in Istio (proto3), so they are absent here. */
export interface ConnectionPoolSettings {
  readonly tcp?: {
    /** Default 2^32-1. */
    readonly maxConnections?: number;
    /** Default 10s (MeshConfig.connectTimeout). */
    readonly connectTimeout?: Duration;
    /** Absent = no TCP keepalive; inside, absent fields use the OS defaults. */
    readonly tcpKeepalive?: { readonly probes?: number; readonly time?: Duration; readonly interval?: Duration };
    /** Absent = unlimited. */
    readonly maxConnectionDuration?: Duration;
    /** Default 1h; 0s disables the idle timeout. */
    readonly idleTimeout?: Duration;
  };
  readonly http?: {
    /** Default 2^32-1. */
    readonly http1MaxPendingRequests?: number;
    /** Default 2^32-1. */
    readonly http2MaxRequests?: number;
    /** Absent = unlimited; 1 disables keep-alive. */
    readonly maxRequestsPerConnection?: number;
    /** Concurrent retries to the cluster; default 2^32-1. */
    readonly maxRetries?: number;
    /** Default 1h. */
    readonly idleTimeout?: Duration;
    /** Default DEFAULT (the mesh setting). */
    readonly h2UpgradePolicy: 'DEFAULT' | 'DO_NOT_UPGRADE' | 'UPGRADE';
    /** Use the client's protocol (HTTP/1.1 or HTTP/2) upstream. Default false. */
    readonly useClientProtocol: boolean;
    /** Default 2^31-1. */
    readonly maxConcurrentStreams?: number;
  };
}

/** DR-08. Absent fields take Envoy's defaults, noted per field. */
export interface OutlierDetection {
  /** Default 5. The deprecated `consecutiveErrors` does not set this (it sets consecutiveGatewayErrors and disables this with 0). */
  readonly consecutive5xxErrors?: number;
  /** 502/503/504 only; absent = disabled. */
  readonly consecutiveGatewayErrors?: number;
  /** Default 10s. */
  readonly interval?: Duration;
  /** Default 30s. */
  readonly baseEjectionTime?: Duration;
  /** Default 10 (%). */
  readonly maxEjectionPercent?: number;
  /** Default 0 (%). */
  readonly minHealthPercent?: number;
  /** Count local-origin failures (connect errors, timeouts) separately. Default false. */
  readonly splitExternalLocalOriginErrors: boolean;
  /** Only with splitExternalLocalOriginErrors; default 5. */
  readonly consecutiveLocalOriginFailures?: number;
}

/** DR-09: TLS from the proxy to the upstream. */
export interface ClientTLSSettings {
  /** Default DISABLE. */
  readonly mode: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  /** Secret with the client certificate (MUTUAL) and/or the CA (ca.crt / `<name>-cacert`). */
  readonly credentialName?: string;
  /** Accepted server certificate SANs; empty = any. */
  readonly subjectAltNames: readonly string[];
  /** SNI sent upstream; absent = Istio's choice (the destination host for SIMPLE/MUTUAL). */
  readonly sni?: string;
  /** Skip server certificate verification. Default false. */
  readonly insecureSkipVerify: boolean;
}

/** DR-10: settings for one port, overriding the policy's top level. */
export interface PortTrafficPolicy {
  readonly port: { readonly number: number };
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
  readonly tls?: ClientTLSSettings;
  readonly path: FieldPath;
}

export interface TrafficPolicy {
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
  readonly tls?: ClientTLSSettings;
  /** Envoy's circuit-breaker retry budget; when set, it replaces maxRetries. */
  readonly retryBudget?: { readonly percent?: Percent; readonly minRetryConcurrency?: number };
  /** Default []. */
  readonly portLevelSettings: readonly PortTrafficPolicy[];
}

export interface Subset {
  /** DNS-1123 label, unique in the rule. */
  readonly name: string;
  /** Endpoints of the host with these labels (default {}: every endpoint). */
  readonly labels: Readonly<Record<string, string>>;
  /** Overrides the rule's policy field by field (DR-01). */
  readonly trafficPolicy?: TrafficPolicy;
  /** `['spec', 'subsets', i]`. */
  readonly path: FieldPath;
}

export interface DestinationRuleResource extends ResourceBase<'DestinationRule'> {
  readonly spec: {
    /** As written: short name, FQDN, ServiceEntry host, or a `*.` wildcard. */
    readonly host: string;
    readonly trafficPolicy?: TrafficPolicy;
    /** Default []. */
    readonly subsets: readonly Subset[];
    /** Absent = MeshConfig.defaultDestinationRuleExportTo (`*`). */
    readonly exportTo?: readonly string[];
    /** Applies only to workloads with these labels (in the rule's namespace). */
    readonly workloadSelector?: { readonly matchLabels: Readonly<Record<string, string>> };
  };
}

// ---- ServiceEntry, WorkloadEntry, Sidecar (SE-01..03, SC-01/02, WE-01) --------------------------

export interface ServiceEntryPort {
  readonly number: number;
  /** Upper-cased (HTTP, HTTPS, GRPC, HTTP2, TCP, TLS, ...); absent = protocol sniffing. */
  readonly protocol?: string;
  /** DNS-1123 label, unique. */
  readonly name: string;
  /** Endpoint port when it differs from `number`. */
  readonly targetPort?: number;
  readonly path: FieldPath;
}

/** WE-01: an endpoint (in ServiceEntry.endpoints, or a standalone WorkloadEntry's spec). */
export interface WorkloadEntry {
  /** IP, hostname (DNS resolution) or `unix://` path. */
  readonly address: string;
  /** Port name (of the ServiceEntry) to endpoint port; default {}. */
  readonly ports: Readonly<Record<string, number>>;
  /** Default {}. */
  readonly labels: Readonly<Record<string, string>>;
  readonly network?: string;
  /** `region/zone/subzone`. */
  readonly locality?: string;
  /** Load-balancing weight; absent = 1. */
  readonly weight?: number;
  readonly serviceAccount?: string;
  /** Position of this entry (`['spec', 'endpoints', i]`, or `['spec']` for a WorkloadEntry). */
  readonly path: FieldPath;
}

export type ServiceEntryResolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'DYNAMIC_DNS';

export interface ServiceEntryResource extends ResourceBase<'ServiceEntry'> {
  readonly spec: {
    /** At least one; no `*`; wildcards (`*.example.com`) only when resolution is not DNS without endpoints. */
    readonly hosts: readonly string[];
    /** Virtual IPs or CIDRs (CIDRs only with NONE or STATIC); default []. */
    readonly addresses: readonly string[];
    /** Default []. */
    readonly ports: readonly ServiceEntryPort[];
    /** Default MESH_EXTERNAL. */
    readonly location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
    /** Default NONE. DYNAMIC_DNS is not implemented (the loader warns). */
    readonly resolution: ServiceEntryResolution;
    /** Default []. Never with NONE; IP addresses with STATIC. */
    readonly endpoints: readonly WorkloadEntry[];
    /** Absent = MeshConfig.defaultServiceExportTo (`*`). */
    readonly exportTo?: readonly string[];
    /** Accepted server identities; default []. */
    readonly subjectAltNames: readonly string[];
  };
}

export interface WorkloadEntryResource extends ResourceBase<'WorkloadEntry'> {
  readonly spec: WorkloadEntry;
}

/** SC-01: one egress listener. */
export interface IstioEgressListener {
  /** Absent = the catch-all listener (only the last one may omit it). */
  readonly port?: { readonly number: number; readonly protocol?: string; readonly name?: string };
  /** IP or `unix://` path to bind to. */
  readonly bind?: string;
  /** Default DEFAULT. */
  readonly captureMode: 'DEFAULT' | 'IPTABLES' | 'NONE';
  /** `namespace/dnsName` (namespace `*`, `.` or `~`); at least one. */
  readonly hosts: readonly string[];
  /** `['spec', 'egress', i]`. */
  readonly path: FieldPath;
}

export interface SidecarResource extends ResourceBase<'Sidecar'> {
  readonly spec: {
    /** Absent = every workload of the namespace (or of the mesh, in the root namespace). */
    readonly workloadSelector?: { readonly labels: Readonly<Record<string, string>> };
    /** Default []. */
    readonly egress: readonly IstioEgressListener[];
    /** SC-02. The mode defaults to REGISTRY_ONLY here (the proto's zero value) when the block is written. */
    readonly outboundTrafficPolicy?: { readonly mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' };
  };
}

// ---- Mesh config (ConfigMap istio in istio-system, key `mesh`) ----------------------------------

/** The MeshConfig fields Strait implements, defaults applied (Istio's DefaultMeshConfig). */
export interface MeshConfig {
  /** Default ALLOW_ANY (TASK-10). */
  readonly outboundTrafficPolicy: { readonly mode: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
  /** Replaces the built-in default retry policy (2 attempts) of routes without `retries` (VS-17). */
  readonly defaultHttpRetryPolicy?: HTTPRetry;
  /** Namespace whose Sidecar/config applies mesh-wide. Default istio-system. */
  readonly rootNamespace: string;
  /** SPIFFE trust domain. Default cluster.local. */
  readonly trustDomain: string;
  /**
   * Access-log path; '' = no access log (unless a Telemetry turns it on). Default /dev/stdout:
   * Strait starts like Istio's demo profile, which every Istio task installs (docs/compat.md).
   */
  readonly accessLogFile: string;
  /** Default TEXT. */
  readonly accessLogEncoding: 'TEXT' | 'JSON';
  /** Envoy format string; absent = Istio's default format. */
  readonly accessLogFormat?: string;
  /** Default true. */
  readonly enableTracing: boolean;
  /**
   * ProxyConfig defaults: tracing.sampling (percent of requests traced, default 1: Istio's
   * PILOT_TRACE_SAMPLING) and gatewayTopology.numTrustedProxies (proxies in front of the
   * gateways whose X-Forwarded-For entries are trusted, default 0).
   */
  readonly defaultConfig: { readonly tracing: { readonly sampling: number }; readonly gatewayTopology: { readonly numTrustedProxies: number } };
  /** Upstream connect timeout. Default 10s. */
  readonly connectTimeout: Duration;
  /** Defaults for resources without exportTo; each default ['*']. */
  readonly defaultServiceExportTo: readonly string[];
  readonly defaultVirtualServiceExportTo: readonly string[];
  readonly defaultDestinationRuleExportTo: readonly string[];
  /**
   * Named extensions (ext-authz services for CUSTOM AuthorizationPolicies, and tracing/logging
   * providers kept by name only); names are unique. Default [].
   */
  readonly extensionProviders: readonly ExtensionProvider[];
  /**
   * Providers used where no Telemetry resource names one (MeshConfig.DefaultProviders). metrics
   * defaults to ['prometheus'] (what Istio's installation writes), the others to [] (tracing
   * then follows enableTracing/defaultConfig.tracing, the access log accessLogFile). The names
   * `prometheus` and `envoy` are built in even when extensionProviders does not list them.
   */
  readonly defaultProviders: { readonly metrics: readonly string[]; readonly tracing: readonly string[]; readonly accessLogging: readonly string[] };
  /**
   * How proxies normalise request paths before routing and AuthorizationPolicy matching (Istio's
   * ProxyPathNormalization). Default DEFAULT, which is BASE (RFC 3986 normalisation).
   */
  readonly pathNormalization: { readonly normalization: PathNormalizationType };
}

export type PathNormalizationType = 'DEFAULT' | 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

/**
 * The mesh config found in ConfigMap `istio` of namespace `istio-system` (key `mesh`, YAML text).
 * metadata and source are the ConfigMap's; `source.at(path)` takes paths inside the mesh YAML
 * (e.g. ['outboundTrafficPolicy', 'mode']) and points into the embedded text. At most one exists;
 * without one, `DEFAULT_MESH_CONFIG` applies.
 */
export interface MeshConfigResource extends ResourceBase<'MeshConfig'> {
  readonly spec: MeshConfig;
}

export const DEFAULT_MESH_CONFIG: MeshConfig = {
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  accessLogFile: '/dev/stdout',
  accessLogEncoding: 'TEXT',
  enableTracing: true,
  defaultConfig: { tracing: { sampling: 1 }, gatewayTopology: { numTrustedProxies: 0 } },
  connectTimeout: { ms: 10_000, text: '10s' },
  defaultServiceExportTo: ['*'],
  defaultVirtualServiceExportTo: ['*'],
  defaultDestinationRuleExportTo: ['*'],
  extensionProviders: [],
  defaultProviders: { metrics: ['prometheus'], tracing: [], accessLogging: [] },
  pathNormalization: { normalization: 'DEFAULT' },
};

// ---- networking.k8s.io/v1 ----------------------------------------------------------------------

export interface IngressServiceBackend {
  readonly name: string;
  /** Exactly one of number or name (ING-14). */
  readonly port: { readonly number?: number; readonly name?: string };
}

export interface IngressBackend {
  /** Absent when the backend is a `resource` reference (ING-15), which Strait does not serve. */
  readonly service?: IngressServiceBackend;
  readonly resource?: { readonly apiGroup?: string; readonly kind: string; readonly name: string };
}

export type IngressPathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface IngressPath {
  /** Starts with '/'; defaults to '/' when omitted (only legal for ImplementationSpecific). */
  readonly path: string;
  readonly pathType: IngressPathType;
  readonly backend: IngressBackend;
  /** Path of this entry inside the Ingress, for diagnostics. */
  readonly at: FieldPath;
}

export interface IngressRule {
  /** Absent: the rule applies to every host (ING-07). Lower-cased, no port. */
  readonly host?: string;
  readonly paths: readonly IngressPath[];
  readonly at: FieldPath;
}

export interface IngressTLS {
  /** Absent or empty: the load balancer's wildcard host (ING-16). */
  readonly hosts: readonly string[];
  readonly secretName?: string;
  readonly at: FieldPath;
}

export interface IngressResource extends ResourceBase<'Ingress'> {
  readonly spec: {
    readonly ingressClassName?: string;
    readonly defaultBackend?: IngressBackend;
    readonly rules: readonly IngressRule[];
    readonly tls: readonly IngressTLS[];
  };
}

/** Cluster-scoped: metadata.namespace is ''. */
export interface IngressClassResource extends ResourceBase<'IngressClass'> {
  readonly spec: {
    /** e.g. `strait.dev/ingress-controller` (ING-19). */
    readonly controller: string;
    readonly parameters?: Readonly<Record<string, unknown>>;
  };
  /** True when annotated `ingressclass.kubernetes.io/is-default-class: "true"` (ING-02). */
  readonly isDefault: boolean;
}

export type ConfigResource =
  | NamespaceResource
  | ServiceResource
  | DeploymentResource
  | SecretResource
  | GatewayResource
  | VirtualServiceResource
  | DestinationRuleResource
  | ServiceEntryResource
  | WorkloadEntryResource
  | SidecarResource
  | MeshConfigResource
  | PeerAuthenticationResource
  | RequestAuthenticationResource
  | AuthorizationPolicyResource
  | TelemetryResource
  | IngressResource
  | IngressClassResource;

export type ConfigKind = ConfigResource['kind'];

export type ResourceOf<K extends ConfigKind> = Extract<ConfigResource, { kind: K }>;

/** Namespace/name key of a resource. */
export function resourceKey(r: { metadata: { namespace: string; name: string } }): string {
  return `${r.metadata.namespace}/${r.metadata.name}`;
}
