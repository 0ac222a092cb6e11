// Typed, normalised Istio security resources (security.istio.io v1/v1beta1: PeerAuthentication,
// RequestAuthentication, AuthorizationPolicy) and the MeshConfig extension providers that CUSTOM
// authorization names. Re-exported by types.ts, which is where the rest of Strait imports them
// from; they live in their own module only to keep types.ts readable.
//
// Field names and shapes are Istio's (istio/api security/v1beta1/*.proto). Where Istio's meaning
// depends on whether a field is absent or written empty, the doc comment says which one the
// normalised value keeps and what it means: read them before generating RBAC or JWT filters. The
// general rule, which is how Istio reads a manifest (protobuf JSON: an empty list is the same as
// no list), is that an empty list here means "no constraint", EXCEPT AuthorizationPolicy
// `spec.rules`, where no rules means "matches no request".

import type { FileAccessLogProvider } from './types-telemetry.js';
import type { Duration, FieldPath, ObjectMeta, ResourceSource } from './types.js';

interface SecurityResourceBase<K extends string> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly source: ResourceSource;
}

// ---- shared -----------------------------------------------------------------------------------

/**
 * `spec.selector` (istio.type.v1beta1.WorkloadSelector). Present only with at least one label:
 * Istio treats `selector: {}` and empty `matchLabels` exactly like no selector (the policy is then
 * namespace-wide, or mesh-wide in the root namespace), and the loader warns about it.
 */
export interface WorkloadSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
}

/** The resources `targetRefs` may point at (Istio's allowed list; namespace must be empty). */
export type PolicyTargetKind = 'Gateway' | 'GatewayClass' | 'Service' | 'ServiceEntry';

/**
 * One `targetRefs` entry (istio.type.v1beta1.PolicyTargetReference); the hidden singular
 * `targetRef` is folded into the list. Targets are Gateway API gateways, GatewayClasses,
 * ServiceEntries and (waypoints only) Services, always in the policy's own namespace.
 */
export interface PolicyTargetReference {
  /** As written; '' is the core group (Istio also accepts 'core'). */
  readonly group: string;
  readonly kind: PolicyTargetKind;
  readonly name: string;
  /** `['spec', 'targetRefs', i]`, or `['spec', 'targetRef']`. */
  readonly path: FieldPath;
}

// ---- PeerAuthentication (PA-01..04) ------------------------------------------------------------

/**
 * PA-01. UNSET inherits from the parent scope (workload → namespace → mesh) and is PERMISSIVE
 * when no scope sets a mode. DISABLE: plaintext only. PERMISSIVE: mTLS or plaintext. STRICT: mTLS
 * with a client certificate only.
 */
export type MutualTLSMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

/** One `portLevelMtls` entry (PA-03): the key is the workload (container) port, not the Service port. */
export interface PortLevelMtls {
  /** 1..65535. */
  readonly port: number;
  /** UNSET inherits the policy's own (effective) mode. */
  readonly mode: MutualTLSMode;
  /** `['spec', 'portLevelMtls', '<port>']`. */
  readonly path: FieldPath;
}

export interface PeerAuthenticationResource extends SecurityResourceBase<'PeerAuthentication'> {
  readonly spec: {
    /**
     * PA-02. Absent: the namespace's policy, or the mesh's in the root namespace. With labels, in
     * a namespace other than the root: those workloads. A selector policy in the root namespace is
     * ignored by Istio (the loader warns). When several policies share one scope, the oldest wins
     * in Istio; Strait takes the first loaded.
     */
    readonly selector?: WorkloadSelector;
    /** `mtls.mode`; UNSET when `mtls` or its mode is absent. */
    readonly mtls: { readonly mode: MutualTLSMode };
    /** Sorted by port; default []. Only with a selector (Istio rejects it otherwise). */
    readonly portLevelMtls: readonly PortLevelMtls[];
  };
}

// ---- RequestAuthentication (RA-01..09) ---------------------------------------------------------

/** Where a token is read from: header `name`, value after `prefix` (e.g. "Bearer "). */
export interface JWTHeader {
  readonly name: string;
  /** Absent (or written '') = the whole header value is the token. */
  readonly prefix?: string;
}

/** RA-08: copy one claim (nested ones as `a.b.c`) of a verified token into a request header. */
export interface ClaimToHeader {
  /** A header name of letters, digits, `-` and `_`; unique within the rule. */
  readonly header: string;
  readonly claim: string;
}

/** One `jwtRules[]` entry. */
export interface JWTRule {
  /**
   * RA-02: the token's `iss` must equal this. Istio requires issuer or jwksUri; absent means any
   * issuer is accepted (keys from jwksUri). The request principal is `<iss>/<sub>`.
   */
  readonly issuer?: string;
  /** RA-03: accepted `aud` values (any of them). [] = Istio accepts the service name. */
  readonly audiences: readonly string[];
  /**
   * RA-04: an http(s) URL of the key set; never together with `jwks` (the legacy spelling
   * `jwks_uri` is folded in here). With neither, Istio discovers the keys through OIDC discovery
   * from `issuer` (`<issuer>/.well-known/openid-configuration`) at runtime.
   */
  readonly jwksUri?: string;
  /** RA-04: the inline key set, as written (JSON text of a JWKS: `{"keys": [...]}`; checked to parse). */
  readonly jwks?: string;
  /**
   * RA-05: token locations. When fromHeaders, fromParams and fromCookies are all [] (the
   * default), Envoy's defaults apply: `Authorization: Bearer <token>`, then the `access_token`
   * query parameter. As soon as one is written, only the written locations are read.
   */
  readonly fromHeaders: readonly JWTHeader[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  /** RA-06: header that receives base64(JSON payload) of a verified token; absent = none. */
  readonly outputPayloadToHeader?: string;
  /** RA-07: default false: the token is removed before the request goes upstream. */
  readonly forwardOriginalToken: boolean;
  /** RA-08; default []. */
  readonly outputClaimToHeaders: readonly ClaimToHeader[];
  /** RA-08: claims whose string values are split on spaces (beside `scope` and `permission`, always split); default []. */
  readonly spaceDelimitedClaims: readonly string[];
  /** Time allowed to fetch jwksUri; absent = Istio's default, 5s. */
  readonly timeout?: Duration;
  /** `['spec', 'jwtRules', i]`. */
  readonly path: FieldPath;
}

export interface RequestAuthenticationResource extends SecurityResourceBase<'RequestAuthentication'> {
  readonly spec: {
    /** RA-01, scoped as PA-02 (absent: namespace-wide, or mesh-wide in the root namespace). */
    readonly selector?: WorkloadSelector;
    /**
     * RA-01. Default []. Never together with a selector. A policy with targetRefs attaches to
     * Gateway API gateways or waypoints, which Strait does not run, so it applies to NO sidecar
     * and no Strait gateway (it must not be taken for a namespace-wide policy); the loader warns.
     */
    readonly targetRefs: readonly PolicyTargetReference[];
    /** Default []. A request without a token is accepted with no identity (RA-09). */
    readonly jwtRules: readonly JWTRule[];
  };
}

// ---- AuthorizationPolicy (AZ-01..12) -----------------------------------------------------------

/** AZ-01. ALLOW is the default. */
export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

/**
 * AZ-06: `from[].source`. Fields are ANDed; the values of one field are ORed. Every list is []
 * when absent or written empty, and [] means "no constraint on this attribute" (never "matches
 * nothing"). At least one field is non-empty (Istio rejects an empty source). String values
 * match exactly, by prefix (`abc*`), by suffix (`*abc`) or by presence (`*`, not empty) (AZ-08).
 */
export interface AuthorizationSource {
  /** `<trust-domain>/ns/<ns>/sa/<sa>` peer identities (needs mTLS). */
  readonly principals: readonly string[];
  readonly notPrincipals: readonly string[];
  /** `<iss>/<sub>` of the request's JWT (needs RequestAuthentication). */
  readonly requestPrincipals: readonly string[];
  readonly notRequestPrincipals: readonly string[];
  /** Peer namespaces (from the peer certificate; needs mTLS). */
  readonly namespaces: readonly string[];
  readonly notNamespaces: readonly string[];
  /**
   * `<namespace>/<serviceaccount>`, or `<serviceaccount>` for the policy's namespace (as written;
   * no wildcards). Never together with principals/namespaces (or their not* forms).
   */
  readonly serviceAccounts: readonly string[];
  readonly notServiceAccounts: readonly string[];
  /** IPs or CIDRs of the connection's peer address. */
  readonly ipBlocks: readonly string[];
  readonly notIpBlocks: readonly string[];
  /** IPs or CIDRs of the original client (X-Forwarded-For with numTrustedProxies, or PROXY protocol). */
  readonly remoteIpBlocks: readonly string[];
  readonly notRemoteIpBlocks: readonly string[];
  /** Trust domains of the peer identity (no `/`). */
  readonly trustDomains: readonly string[];
  readonly notTrustDomains: readonly string[];
}

/**
 * AZ-07: `to[].operation`. Same conventions as AuthorizationSource ([] = no constraint; at least
 * one field non-empty). hosts match case-insensitively; ports are decimal strings 0..65535 as
 * written; paths may use Istio's `{*}` / `{**}` path templates.
 */
export interface AuthorizationOperation {
  readonly hosts: readonly string[];
  readonly notHosts: readonly string[];
  readonly ports: readonly string[];
  readonly notPorts: readonly string[];
  readonly methods: readonly string[];
  readonly notMethods: readonly string[];
  readonly paths: readonly string[];
  readonly notPaths: readonly string[];
}

/**
 * The attribute a `when` key names, parsed (AZ-09). `name` is the attribute without its bracket
 * part; `keys` are the bracket parts: the header of `request.headers[x-token]`, the claim path of
 * `request.auth.claims[a][b]` (['a', 'b']; `[a.b]` is the single claim 'a.b'), the metadata key of
 * `experimental.envoy.filters.<filter>[<key>]`. [] for attributes without brackets.
 */
export interface ConditionAttribute {
  readonly name:
    | 'request.headers'
    | 'source.ip'
    | 'remote.ip'
    | 'source.namespace'
    | 'source.serviceAccount'
    | 'source.principal'
    | 'source.trustDomain'
    | 'request.auth.principal'
    | 'request.auth.audiences'
    | 'request.auth.presenter'
    | 'request.auth.claims'
    | 'destination.ip'
    | 'destination.port'
    | 'connection.sni'
    /** `experimental.envoy.filters.<filter name>` as written (a prefix family). */
    | `experimental.envoy.filters.${string}`;
  readonly keys: readonly string[];
}

/** One `when[]` condition. At least one of values and notValues is non-empty. */
export interface AuthorizationCondition {
  /** As written, e.g. `request.auth.claims[groups]`. */
  readonly key: string;
  readonly attribute: ConditionAttribute;
  /** Matches if the attribute equals any of these (same string matching as sources); [] = no constraint. */
  readonly values: readonly string[];
  /** Matches if the attribute equals none of these; [] = no constraint. */
  readonly notValues: readonly string[];
  /** `[...rule.path, 'when', k]`. */
  readonly path: FieldPath;
}

/**
 * AZ-05: a rule matches when at least one `from`, at least one `to` and every `when` match.
 * [] (absent, or written empty, which Istio reads the same way) for from/to/when means "any".
 * So `{}` is a rule that matches every request (AZ-03: `rules: [{}]` is allow-all for ALLOW).
 */
export interface AuthorizationRule {
  readonly from: readonly { readonly source: AuthorizationSource; readonly path: FieldPath }[];
  readonly to: readonly { readonly operation: AuthorizationOperation; readonly path: FieldPath }[];
  readonly when: readonly AuthorizationCondition[];
  /** `['spec', 'rules', i]`. */
  readonly path: FieldPath;
}

export interface AuthorizationPolicyResource extends SecurityResourceBase<'AuthorizationPolicy'> {
  readonly spec: {
    /** AZ-04, scoped as PA-02 (absent: every workload of the namespace, or of the mesh in the root namespace). */
    readonly selector?: WorkloadSelector;
    /** As RequestAuthentication.targetRefs: a policy with targetRefs applies to no Strait proxy. Default []. */
    readonly targetRefs: readonly PolicyTargetReference[];
    /** Default ALLOW. */
    readonly action: AuthorizationAction;
    /** `provider.name`: set exactly when action is CUSTOM; names a MeshConfig extensionProviders entry. */
    readonly provider?: { readonly name: string };
    /**
     * AZ-03. [] (absent or written empty) = the policy matches NO request: for ALLOW it is
     * "allow nothing" (the workload denies everything no other ALLOW policy allows); DENY and
     * CUSTOM policies without rules are rejected when loading, so they always have rules here;
     * AUDIT without rules audits nothing. A rule `{}` matches every request.
     */
    readonly rules: readonly AuthorizationRule[];
    /**
     * AZ-12: annotation `istio.io/dry-run` parsed as Go's strconv.ParseBool ("true", "1", "t",
     * ...); false when absent. A dry-run policy is evaluated and logged (shadow rules) but never
     * enforced. Only ALLOW and DENY may carry the annotation.
     */
    readonly dryRun: boolean;
  };
}

// ---- MeshConfig extensionProviders (ext-authz) ------------------------------------------------

/** `includeRequestBodyInCheck` of an ext-authz provider. */
export interface ExtAuthzRequestBody {
  /** Bytes of body buffered for the check; absent (or 0) = Envoy's default (no explicit limit set). */
  readonly maxRequestBytes?: number;
  /** When the limit is reached: send a partial body (true) or reply 413 (false, the default). */
  readonly allowPartialMessage: boolean;
  /** gRPC only: send the body as raw bytes. Default false. */
  readonly packAsBytes: boolean;
}

/** Fields shared by the HTTP and gRPC ext-authz providers. */
interface ExtAuthzCommon {
  /**
   * `[<namespace>/]<hostname>`: the FQDN of a Service or ServiceEntry host (e.g.
   * `ext-authz.foo.svc.cluster.local`), as written.
   */
  readonly service: string;
  /** 1..65535. */
  readonly port: number;
  /** Time allowed for the check; absent = Istio's default, 600s. */
  readonly timeout?: Duration;
  /** Allow the request when the provider cannot be reached or answers 5xx. Default false. */
  readonly failOpen: boolean;
  /** Recompute the route after the provider changed headers. Default false. */
  readonly clearRouteCache: boolean;
  /** Status returned when the provider cannot be reached; absent = 403. A code Envoy knows. */
  readonly statusOnError?: number;
  readonly includeRequestBodyInCheck?: ExtAuthzRequestBody;
}

/** `envoyExtAuthzHttp`: Envoy's ext_authz filter, HTTP service. */
export interface EnvoyExtAuthzHttpProvider extends ExtAuthzCommon {
  /** Prepended to the checked request's path (`/check` + `/admin`); starts with '/'. */
  readonly pathPrefix?: string;
  /**
   * Request headers sent to the provider beside Host, Method, Path and Content-Length: exact,
   * `prefix*` or `*suffix` (no presence match). The deprecated `includeHeadersInCheck` is
   * folded in here. Default [].
   */
  readonly includeRequestHeadersInCheck: readonly string[];
  /** Fixed headers added to the check request (override client headers). Default {}. */
  readonly includeAdditionalHeadersInCheck: Readonly<Record<string, string>>;
  /** Provider response headers copied to the upstream request on allow; [] = none. */
  readonly headersToUpstreamOnAllow: readonly string[];
  /** Provider response headers sent downstream on deny; [] = all but Authority. */
  readonly headersToDownstreamOnDeny: readonly string[];
  /** Provider response headers added to the downstream response on allow; [] = none. */
  readonly headersToDownstreamOnAllow: readonly string[];
}

/** `envoyExtAuthzGrpc`: Envoy's ext_authz filter, gRPC Authorization service (envoy.service.auth.v3). */
export type EnvoyExtAuthzGrpcProvider = ExtAuthzCommon;

/**
 * One `extensionProviders[]` entry. Only the two ext-authz kinds are typed; other providers
 * (tracing, access logs, metrics, SDS) are kept by name with `type: 'other'` so that references
 * to them can be resolved (and reported as the wrong kind of provider).
 */
export type ExtensionProvider =
  | { readonly name: string; readonly type: 'envoyExtAuthzHttp'; readonly envoyExtAuthzHttp: EnvoyExtAuthzHttpProvider; readonly path: FieldPath }
  | { readonly name: string; readonly type: 'envoyExtAuthzGrpc'; readonly envoyExtAuthzGrpc: EnvoyExtAuthzGrpcProvider; readonly path: FieldPath }
  | {
      readonly name: string;
      /** The provider's field as written: zipkin, opentelemetry, envoyFileAccessLog, prometheus, ... */
      readonly type: 'other';
      readonly kind: string;
      readonly path: FieldPath;
      /** kind zipkin or opentelemetry: the tracing provider's settings (extension-providers.ts). */
      readonly tracing?: TracingProvider;
      /** kind envoyFileAccessLog: the file access log's settings (extension-providers.ts). */
      readonly accessLog?: FileAccessLogProvider;
    };

/** A header a tracing provider adds to its export requests: a value, or the control plane's environment variable. */
export interface ProviderHeader {
  readonly name: string;
  readonly value?: string;
  readonly envName?: string;
}

/**
 * `zipkin` and `opentelemetry` extension providers (istio/api MeshConfig.ExtensionProvider
 * ZipkinTracingProvider and OpenTelemetryTracingProvider): where the proxies send spans.
 */
export type TracingProvider =
  | {
      readonly kind: 'zipkin';
      /** `[<namespace>/]<hostname>` of the collector's Service or ServiceEntry. */
      readonly service: string;
      readonly port: number;
      /** Default /api/v2/spans. */
      readonly path?: string;
      /** Default false: 128-bit trace ids (Istio's default). */
      readonly enable64bitTraceId: boolean;
      readonly maxTagLength?: number;
      readonly timeout?: Duration;
      readonly headers: readonly ProviderHeader[];
    }
  | {
      readonly kind: 'opentelemetry';
      readonly service: string;
      readonly port: number;
      readonly maxTagLength?: number;
      /** OTLP/HTTP (path default /v1/traces); absent: OTLP/gRPC. */
      readonly http?: { readonly path: string; readonly timeout?: Duration; readonly headers: readonly ProviderHeader[] };
      /** OTLP/gRPC settings. */
      readonly grpc?: { readonly timeout?: Duration; readonly initialMetadata: readonly ProviderHeader[] };
    };
