// Istio's mesh config (istio/api mesh/v1alpha1/config.proto, MeshConfig), as Istio reads it: the
// YAML text under key `mesh` of ConfigMap `istio` in namespace `istio-system`. Strait parses that
// text into a typed MeshConfigResource (kind 'MeshConfig' in the ConfigStore; at most one), with
// Istio's defaults applied. Implemented: outboundTrafficPolicy.mode, defaultHttpRetryPolicy,
// rootNamespace, trustDomain, accessLogFile, accessLogEncoding, accessLogFormat, enableTracing,
// defaultConfig.tracing.sampling, connectTimeout, the default exportTo lists, extensionProviders
// (the ext-authz ones typed; extension-providers.ts) and pathNormalization. Every other
// MeshConfig field is known and warned about (or, for installation plumbing that has no meaning
// when Strait starts its own proxies, accepted silently); anything else is an unknown field, as in
// Istio, which reads the mesh config strictly.
//
// Positions: when `mesh: |` is a literal block (how every Istio install writes it), findings and
// the resource's `source.at(path)` point into the embedded text at its real line and column;
// otherwise at the value of the `mesh` key.

import { LineCounter, parseDocument } from 'yaml';
import { INVALID, WalkContext, anyValue, bool, enumOf, field, ignored, listOf, mapped, num, obj, str, unsupported, walk } from '../schema.js';
import type { Refiner } from '../schema.js';
import { DEFAULT_MESH_CONFIG } from '../types.js';
import type { FieldPath, MeshConfig, MeshConfigResource, ResourceSource, SourcePosition } from '../types.js';
import { checkDns1123Label, checkDns1123Subdomain } from '../names.js';
import { makeSource } from '../yaml-source.js';
import type { ResourceBase } from './common.js';
import { extensionProvidersSchema } from './extension-providers.js';
import { formatProblem } from '../../telemetry/access-log/format.js';
import { checkExportTo, durationSchema, retrySchema } from './istio-common.js';

export const MESH_CONFIG_MAP = { name: 'istio', namespace: 'istio-system', key: 'mesh' } as const;

const later = (note?: string) => unsupported(anyValue(), note);
const plumbing = (what: string) => ignored(`${what}; Strait starts and configures its own proxies`);

/** defaultConfig.tracing (ProxyConfig.Tracing): only the sampling rate is implemented. */
const tracingSchema = obj({
  sampling: field(num(), 'percent of requests traced (0-100); default 1'),
  zipkin: later('Strait exports spans with OTLP (telemetry)'),
  lightstep: later(),
  datadog: later(),
  stackdriver: later(),
  openCensusAgent: later(),
  customTags: later(),
  maxPathTagLength: later(),
  tlsSettings: later(),
  enableIstioTags: later(),
});

/** defaultConfig.gatewayTopology: how many proxies stand in front of the gateways. */
const gatewayTopologySchema = obj({
  numTrustedProxies: field(num(), 'trusted proxies in front of the gateways; their X-Forwarded-For entries name the client (remoteIpBlocks); default 0'),
  forwardClientCertDetails: later('gateways use SANITIZE_SET'),
  proxyProtocol: later(),
});

/** defaultConfig (ProxyConfig): tracing.sampling and gatewayTopology.numTrustedProxies implemented; bootstrap plumbing ignored; the rest warned. */
const proxyConfigSchema = obj({
  tracing: field(tracingSchema),
  configPath: plumbing('a path inside the proxy container'),
  binaryPath: plumbing('a path inside the proxy container'),
  serviceCluster: plumbing('a bootstrap setting'),
  tracingServiceName: later(),
  drainDuration: later(),
  parentShutdownDuration: later(),
  discoveryAddress: plumbing('the address of istiod'),
  discoveryRefreshDelay: plumbing('a deprecated bootstrap setting'),
  zipkinAddress: later(),
  statsdUdpAddress: later(),
  envoyMetricsServiceAddress: later(),
  proxyAdminPort: plumbing('the proxy admin port'),
  availabilityZone: later(),
  controlPlaneAuthPolicy: plumbing('how proxies authenticate to istiod'),
  customConfigFile: plumbing('a bootstrap file inside the proxy container'),
  statNameLength: later(),
  concurrency: later(),
  proxyBootstrapTemplatePath: plumbing('a bootstrap file inside the proxy container'),
  interceptionMode: plumbing('how iptables captures traffic'),
  sds: later(),
  envoyAccessLogService: later(),
  envoyMetricsService: later(),
  proxyMetadata: later(),
  runtimeValues: later(),
  statusPort: plumbing('the health port of the proxy container'),
  extraStatTags: later(),
  gatewayTopology: field(gatewayTopologySchema),
  terminationDrainDuration: later(),
  meshId: later(),
  readinessProbe: later(),
  proxyStatsMatcher: later(),
  holdApplicationUntilProxyStarts: later(),
  caCertificatesPem: later(),
  image: plumbing('the proxy container image'),
  privateKeyProvider: later(),
  proxyHeaders: later(),
  fileFlushInterval: later(),
  fileFlushMinSizeKb: later(),
  statsCompression: later(),
  connectionSettings: later(),
});

const exportToList = () => listOf(str({ nonEmpty: true }));

export const meshConfigFields = {
  outboundTrafficPolicy: field(obj({ mode: field(enumOf(['ALLOW_ANY', 'REGISTRY_ONLY']), 'default ALLOW_ANY') })),
  defaultHttpRetryPolicy: field(retrySchema, 'replaces the default of 2 attempts'),
  rootNamespace: field(str({ rule: checkDns1123Label }), 'default istio-system'),
  trustDomain: field(str({ rule: checkDns1123Subdomain }), 'default cluster.local'),
  accessLogFile: field(str(), "default /dev/stdout in Strait (Istio's demo profile; Istio's default profile has ''); '' turns the access log off"),
  accessLogEncoding: field(enumOf(['TEXT', 'JSON']), 'default TEXT'),
  accessLogFormat: field(str(), "Envoy format string (TEXT) or a JSON object of labels (JSON); default: Istio's format"),
  enableTracing: field(bool(), 'default true'),
  defaultConfig: field(proxyConfigSchema),
  connectTimeout: field(durationSchema(), 'default 10s'),
  defaultServiceExportTo: field(exportToList(), 'default ["*"]'),
  defaultVirtualServiceExportTo: field(exportToList(), 'default ["*"]'),
  defaultDestinationRuleExportTo: field(exportToList(), 'default ["*"]'),
  proxyListenPort: later('Strait assigns proxy ports itself'),
  proxyInboundListenPort: later('Strait assigns proxy ports itself'),
  proxyHttpPort: later(),
  hboneIdleTimeout: later(),
  protocolDetectionTimeout: later(),
  tcpKeepalive: later(),
  ingressClass: later('Strait selects Ingresses by IngressClass (see compat.md)'),
  ingressService: later(),
  ingressControllerMode: later('Strait selects Ingresses by IngressClass (see compat.md)'),
  ingressSelector: later(),
  enableEnvoyAccessLogService: later(),
  disableEnvoyListenerLog: later(),
  inboundTrafficPolicy: later(),
  configSources: ignored('where istiod reads config; Strait reads files or the Kubernetes API'),
  enableAutoMtls: later(),
  trustDomainAliases: later(),
  caCertificates: later(),
  localityLbSetting: later('Strait runs one locality'),
  zoneAwareLbSetting: later(),
  dnsRefreshRate: later(),
  h2UpgradePolicy: later(),
  inboundClusterStatName: later(),
  outboundClusterStatName: later(),
  certificates: later('deprecated in Istio'),
  serviceSettings: later(),
  serviceScopeConfigs: later(),
  enablePrometheusMerge: later(),
  verifyCertificateAtClient: later('deprecated in Istio'),
  ca: later('Strait runs its own CA'),
  extensionProviders: field(extensionProvidersSchema, 'ext-authz providers for CUSTOM AuthorizationPolicies; other kinds kept by name'),
  defaultProviders: field(
    obj({
      metrics: field(listOf(str({ nonEmpty: true })), 'default [prometheus] (Istio\'s installation default): the standard metrics'),
      tracing: field(listOf(str({ nonEmpty: true })), 'default []: tracing follows enableTracing and defaultConfig.tracing'),
      accessLogging: field(listOf(str({ nonEmpty: true })), 'default []: the access log follows accessLogFile'),
    }),
    'providers used where no Telemetry names one (TEL-01)',
  ),
  discoverySelectors: later(),
  pathNormalization: field(
    obj({ normalization: field(enumOf(['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']), 'default BASE (RFC 3986 normalisation)') }),
    'how proxies normalise request paths before routing and AuthorizationPolicy (docs/compat.md)',
  ),
  meshMTLS: later(),
  tlsDefaults: later(),
  defaultTrafficPolicy: later(),
  serviceEntryVisibility: later(),
};

function checkMesh(m: { readonly defaultConfig?: { readonly tracing?: { readonly sampling?: number }; readonly gatewayTopology?: { readonly numTrustedProxies?: number } } } & Record<string, unknown>, r: Refiner): void {
  const sampling = m.defaultConfig?.tracing?.sampling;
  if (sampling !== undefined && (sampling < 0 || sampling > 100)) {
    r.error(['defaultConfig', 'tracing', 'sampling'], 'invalid-value', `${sampling} is out of range: sampling is a percentage between 0 and 100`, 'write a number between 0 and 100 (1 traces 1% of requests)');
  }
  const hops = m.defaultConfig?.gatewayTopology?.numTrustedProxies;
  if (hops !== undefined && !(Number.isInteger(hops) && hops >= 0 && hops <= 4294967295)) {
    r.error(['defaultConfig', 'gatewayTopology', 'numTrustedProxies'], 'invalid-value', `${hops} is not a count of proxies`, 'write a whole number: 0 (the default) when clients connect to the gateway directly, 1 behind one load balancer that appends X-Forwarded-For');
  }
  checkAccessLogFormat(m.accessLogEncoding as string | undefined, m.accessLogFormat as string | undefined, r);
  // The defaults apply to resources of every namespace: `.` would mean each resource's own.
  for (const k of ['defaultServiceExportTo', 'defaultVirtualServiceExportTo', 'defaultDestinationRuleExportTo'] as const) {
    checkExportTo(m[k] as readonly string[] | undefined, MESH_CONFIG_MAP.namespace, r, [k], k === 'defaultServiceExportTo');
  }
}

/**
 * accessLogFormat is a format string for TEXT and a JSON object for JSON. Istio logs an error and
 * uses its default JSON labels when the JSON does not parse; Strait warns and does the same, and
 * also for formats its formatter cannot write (Envoy would reject every listener over them).
 */
function checkAccessLogFormat(encoding: string | undefined, format: string | undefined, r: Refiner): void {
  if (!format) return;
  let parsed: string | Record<string, unknown> = format;
  if (encoding === 'JSON') {
    let v: unknown;
    try {
      v = JSON.parse(format);
    } catch (e) {
      r.warn(['accessLogFormat'], 'invalid-log-format', `with accessLogEncoding JSON, accessLogFormat must be a JSON object (${(e as Error).message}); Istio's default JSON labels are used instead`, 'write a JSON object of labels, e.g. {"code": "%RESPONSE_CODE%", "path": "%REQ(:PATH)%"}');
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      r.warn(['accessLogFormat'], 'invalid-log-format', "with accessLogEncoding JSON, accessLogFormat must be a JSON object; Istio's default JSON labels are used instead", 'write a JSON object of labels, e.g. {"code": "%RESPONSE_CODE%"}');
      return;
    }
    parsed = v as Record<string, unknown>;
  }
  const problem = formatProblem(parsed);
  if (problem) r.warn(['accessLogFormat'], 'unsupported-log-format', `${problem}: Strait's proxies cannot write this format, so Istio's default format is used instead`, 'use the command operators listed in docs/observability.md (Access logs)');
}

export const meshConfigSchema = mapped(
  obj(meshConfigFields, { refine: checkMesh, expected: 'a map (the mesh config)' }),
  (m): MeshConfig => {
    const d = DEFAULT_MESH_CONFIG;
    return {
      outboundTrafficPolicy: { mode: m.outboundTrafficPolicy?.mode ?? d.outboundTrafficPolicy.mode },
      ...(m.defaultHttpRetryPolicy !== undefined ? { defaultHttpRetryPolicy: m.defaultHttpRetryPolicy } : {}),
      rootNamespace: m.rootNamespace || d.rootNamespace,
      trustDomain: m.trustDomain || d.trustDomain,
      accessLogFile: m.accessLogFile ?? d.accessLogFile,
      accessLogEncoding: m.accessLogEncoding ?? d.accessLogEncoding,
      ...(m.accessLogFormat ? { accessLogFormat: m.accessLogFormat } : {}),
      enableTracing: m.enableTracing ?? d.enableTracing,
      defaultConfig: {
        tracing: { sampling: m.defaultConfig?.tracing?.sampling ?? d.defaultConfig.tracing.sampling },
        gatewayTopology: { numTrustedProxies: m.defaultConfig?.gatewayTopology?.numTrustedProxies ?? d.defaultConfig.gatewayTopology.numTrustedProxies },
      },
      connectTimeout: m.connectTimeout ?? d.connectTimeout,
      defaultServiceExportTo: m.defaultServiceExportTo ?? d.defaultServiceExportTo,
      defaultVirtualServiceExportTo: m.defaultVirtualServiceExportTo ?? d.defaultVirtualServiceExportTo,
      defaultDestinationRuleExportTo: m.defaultDestinationRuleExportTo ?? d.defaultDestinationRuleExportTo,
      extensionProviders: m.extensionProviders ?? d.extensionProviders,
      defaultProviders: {
        metrics: m.defaultProviders?.metrics ?? d.defaultProviders.metrics,
        tracing: m.defaultProviders?.tracing ?? d.defaultProviders.tracing,
        accessLogging: m.defaultProviders?.accessLogging ?? d.defaultProviders.accessLogging,
      },
      pathNormalization: { normalization: m.pathNormalization?.normalization ?? d.pathNormalization.normalization },
    };
  },
);

/** True for the ConfigMap Istio reads its mesh config from. */
export function isMeshConfigMap(name: string, namespace: string): boolean {
  return name === MESH_CONFIG_MAP.name && namespace === MESH_CONFIG_MAP.namespace;
}

/**
 * Parses the mesh config text of ConfigMap istio/istio-system (`data.mesh`), reporting into `ctx`
 * at positions inside the embedded text. Returns undefined when it has errors.
 */
export function parseMeshConfig(text: string, base: ResourceBase, ctx: WalkContext, source: ResourceSource): MeshConfigResource | undefined {
  const keyPath: FieldPath = ['data', MESH_CONFIG_MAP.key];
  const block = source.blockAt?.(keyPath);
  const fallback = source.at(keyPath);
  // Inner (1-based) line/col to the file: exact inside a literal block, else the `mesh` value.
  const outer = (p: SourcePosition): SourcePosition => (block ? { file: fallback.file, line: block.line + p.line - 1, col: block.indent + p.col } : fallback);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const [syntax] = doc.errors;
  if (syntax) {
    const { line, col } = lineCounter.linePos(syntax.pos[0]);
    const position = outer({ file: fallback.file, line, col });
    ctx.report({ severity: 'error', code: 'yaml-syntax', path: keyPath, anchor: 'value', message: `mesh config: ${syntax.message}`, fix: 'fix the YAML of the mesh config', position });
    return undefined;
  }
  const inner = makeSource(doc, lineCounter, fallback.file, source.docIndex, []);
  const raw: unknown = doc.toJS() ?? {};
  const innerCtx = new WalkContext('MeshConfig');
  const value = walk(meshConfigSchema, raw, innerCtx, 'Istio');
  for (const f of innerCtx.findings) {
    const position = outer(f.anchor === 'key' ? inner.keyAt(f.path) : inner.at(f.path));
    ctx.report({ ...f, path: [...keyPath, ...f.path], message: `mesh config: ${f.message}`, position });
  }
  if (value === INVALID || innerCtx.errors > 0) return undefined;
  const meshSource: ResourceSource = {
    ...fallback,
    docIndex: source.docIndex,
    at: (path) => (path.length === 0 ? fallback : outer(inner.at(path))),
  };
  return { apiVersion: base.apiVersion, kind: 'MeshConfig', metadata: base.metadata, source: meshSource, spec: value };
}
