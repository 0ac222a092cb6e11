// Typed, normalised configuration resources: what src/config/ produces from YAML and what the
// registry and the control plane read. Defaults are already applied here (namespace "default",
// replicas 1, service account "default", ...), so later stages never re-derive them.

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

export type StringMatch =
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly regex: string };

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
  /** Kept as written; TLS arrives with a later issue. */
  readonly tls?: Readonly<Record<string, unknown>>;
}

export interface GatewayResource extends ResourceBase<'Gateway'> {
  readonly spec: {
    readonly selector: Readonly<Record<string, string>>;
    readonly servers: readonly GatewayServer[];
  };
}

export interface PortSelector {
  readonly number?: number;
}

export interface Destination {
  readonly host: string;
  readonly subset?: string;
  readonly port?: PortSelector;
}

export interface HTTPRouteDestination {
  readonly destination: Destination;
  /** Absent when the route has a single destination (it then gets everything). */
  readonly weight?: number;
}

export interface HTTPMatchRequest {
  readonly name?: string;
  readonly uri?: StringMatch;
  readonly scheme?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  readonly headers?: Readonly<Record<string, StringMatch | Record<string, never>>>;
  readonly withoutHeaders?: Readonly<Record<string, StringMatch | Record<string, never>>>;
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  readonly ignoreUriCase?: boolean;
  readonly port?: number;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly sourceNamespace?: string;
  readonly gateways?: readonly string[];
}

export interface HTTPRoute {
  readonly name?: string;
  readonly match: readonly HTTPMatchRequest[];
  readonly route: readonly HTTPRouteDestination[];
  /** Path of this rule inside its VirtualService, for diagnostics. */
  readonly path: FieldPath;
  /**
   * Every other field of the rule (redirect, rewrite, retries, fault, ...) as written. The
   * loader has already warned about each one that Strait does not implement yet.
   */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface VirtualServiceResource extends ResourceBase<'VirtualService'> {
  readonly spec: {
    readonly hosts: readonly string[];
    /** As written; an empty list means `mesh` (VS-02). */
    readonly gateways: readonly string[];
    readonly http: readonly HTTPRoute[];
    readonly exportTo?: readonly string[];
  };
}

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
  | IngressResource
  | IngressClassResource;

export type ConfigKind = ConfigResource['kind'];

export type ResourceOf<K extends ConfigKind> = Extract<ConfigResource, { kind: K }>;

/** Namespace/name key of a resource. */
export function resourceKey(r: { metadata: { namespace: string; name: string } }): string {
  return `${r.metadata.namespace}/${r.metadata.name}`;
}
