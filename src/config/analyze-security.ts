// Cross-resource checks of the Istio security kinds, in the spirit of `istioctl analyze`:
// DestinationRules whose client TLS mode cannot talk to the server side's effective
// PeerAuthentication (plaintext or SIMPLE TLS to STRICT workloads, mTLS to DISABLE ones), CUSTOM
// AuthorizationPolicies whose provider is missing from the mesh config or resolves to no service
// (Istio then denies what they match), several CUSTOM providers on one workload, policies whose
// selector selects no declared workload or that Istio ignores, port-level mTLS keyed by a port
// the workloads do not declare, and principals of another trust domain. Every resource is valid on
// its own by now and Kubernetes accepts all of these, so none blocks a run (load-config marks
// analyzer findings non-blocking); errors are the ones that make traffic fail. jwksUri
// reachability is a runtime matter and is not checked here.

import { canonicalHost } from './analyze-istio.js';
import type { ConfigStore } from './config-store.js';
import { displayPath } from './format.js';
import { hostMatches } from './kinds/istio-common.js';
import { declaredWorkloads, effectivePeerAuthentication, mtlsModeForPort, policyAppliesTo, selects } from './security-scope.js';
import type { DeclaredWorkload } from './security-scope.js';
import { DEFAULT_MESH_CONFIG } from './types.js';
import type {
  AuthorizationPolicyResource,
  ClientTLSSettings,
  DeploymentResource,
  Diagnostic,
  FieldPath,
  MeshConfig,
  PeerAuthenticationResource,
  ResourceSource,
  ServiceResource,
  Severity,
  TrafficPolicy,
} from './types.js';
import type { EffectivePeerAuthentication } from './security-scope.js';

function at(source: ResourceSource, path: FieldPath, severity: Severity, code: string, message: string, fix: string): Diagnostic {
  const pos = source.at(path);
  return { severity, file: pos.file, line: pos.line, col: pos.col, code, message, fix };
}

function name(r: { metadata: { namespace: string; name: string } }): string {
  return `${r.metadata.namespace}/${r.metadata.name}`;
}

function place(source: ResourceSource): string {
  return `${displayPath(source.file)}:${source.line}`;
}

function showLabels(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

function meshOf(store: ConfigStore): MeshConfig {
  return store.list('MeshConfig')[0]?.spec ?? DEFAULT_MESH_CONFIG;
}

// ---- DestinationRule TLS versus PeerAuthentication ---------------------------------------------

interface TlsSetting {
  readonly tls: ClientTLSSettings;
  readonly path: FieldPath;
  /** A port-level setting's service port; absent = every port not overridden at the same level. */
  readonly port?: number;
  readonly overridden: ReadonlySet<number>;
  /** Subset labels narrowing the endpoints; {} for the rule's top level. */
  readonly labels: Readonly<Record<string, string>>;
}

function tlsSettings(policy: TrafficPolicy | undefined, base: FieldPath, labels: Readonly<Record<string, string>>): TlsSetting[] {
  if (!policy) return [];
  const out: TlsSetting[] = [];
  const overridden = new Set(policy.portLevelSettings.filter((p) => p.tls).map((p) => p.port.number));
  if (policy.tls) out.push({ tls: policy.tls, path: [...base, 'tls', 'mode'], overridden, labels });
  for (const p of policy.portLevelSettings) if (p.tls) out.push({ tls: p.tls, path: [...p.path, 'tls', 'mode'], port: p.port.number, overridden: new Set(), labels });
  return out;
}

/** What the client sends and the server mode that refuses it. */
const REFUSED_BY: Readonly<Partial<Record<ClientTLSSettings['mode'], { readonly server: 'STRICT' | 'DISABLE'; readonly sends: string; readonly fix: string }>>> = {
  DISABLE: { server: 'STRICT', sends: 'plaintext', fix: 'use tls.mode: ISTIO_MUTUAL (or remove tls and let auto mTLS choose), or make the PeerAuthentication PERMISSIVE for that port' },
  SIMPLE: { server: 'STRICT', sends: 'TLS without the mesh client certificate (SIMPLE)', fix: 'use tls.mode: ISTIO_MUTUAL for mesh workloads (SIMPLE is for servers outside the mesh), or make the PeerAuthentication PERMISSIVE for that port' },
  ISTIO_MUTUAL: { server: 'DISABLE', sends: 'mTLS (ISTIO_MUTUAL)', fix: 'remove tls (auto mTLS sends plaintext to DISABLE workloads), or make the PeerAuthentication PERMISSIVE' },
};

/** A DestinationRule whose client TLS the selected workloads' effective PeerAuthentication refuses. */
export function checkMtlsConflicts(store: ConfigStore): Diagnostic[] {
  const peerAuthentications = store.list('PeerAuthentication');
  if (peerAuthentications.length === 0) return [];
  const root = meshOf(store).rootNamespace;
  const namespaces = store.namespaces();
  const deployments = store.list('Deployment');
  const out: Diagnostic[] = [];
  for (const dr of store.list('DestinationRule')) {
    const host = canonicalHost(dr.spec.host, dr.metadata.namespace, namespaces);
    const services = store.list('Service').filter((s) => s.spec.selector !== undefined && hostMatches(host, `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`));
    const settings = [
      ...tlsSettings(dr.spec.trafficPolicy, ['spec', 'trafficPolicy'], {}),
      ...dr.spec.subsets.flatMap((s) => tlsSettings(s.trafficPolicy, [...s.path, 'trafficPolicy'], s.labels)),
    ];
    for (const setting of settings) {
      const refused = REFUSED_BY[setting.tls.mode];
      if (!refused) continue;
      const conflict = findConflict(services, deployments, setting, refused.server, (w) => effectivePeerAuthentication(peerAuthentications, w, root));
      if (!conflict) continue;
      const pa = conflict.decidedBy;
      out.push(
        at(
          dr.source,
          setting.path,
          'error',
          'mtls-conflict',
          `DestinationRule ${name(dr)} sends ${refused.sends} to ${host} port ${conflict.servicePort}, but PeerAuthentication ${name(pa)} (${place(pa.source)}) makes ${conflict.workload} accept ${refused.server === 'STRICT' ? 'only mTLS (STRICT)' : 'only plaintext (DISABLE)'} on port ${conflict.containerPort}: those connections fail (503, upstream connect error)`,
          refused.fix,
        ),
      );
    }
  }
  return out;
}

interface Conflict {
  readonly workload: string;
  readonly servicePort: number;
  readonly containerPort: number;
  readonly decidedBy: PeerAuthenticationResource;
}

/** The first workload behind `services` (narrowed by the setting's subset and port) whose port mode is `server`. */
function findConflict(
  services: readonly ServiceResource[],
  deployments: readonly DeploymentResource[],
  setting: TlsSetting,
  server: 'STRICT' | 'DISABLE',
  effective: (w: { namespace: string; labels: Readonly<Record<string, string>> }) => EffectivePeerAuthentication,
): Conflict | undefined {
  for (const svc of services) {
    const ports = svc.spec.ports.filter((p) => (setting.port !== undefined ? p.port === setting.port : !setting.overridden.has(p.port)));
    for (const d of deployments) {
      if (d.metadata.namespace !== svc.metadata.namespace) continue;
      const labels = d.spec.template.metadata.labels;
      if (!selects(svc.spec.selector ?? {}, labels) || !selects(setting.labels, labels)) continue;
      const eff = effective({ namespace: d.metadata.namespace, labels });
      for (const p of ports) {
        const containerPort = typeof p.targetPort === 'number' ? p.targetPort : d.spec.template.spec.containers.flatMap((c) => c.ports).find((c) => c.name === p.targetPort)?.containerPort;
        if (containerPort === undefined) continue;
        const m = mtlsModeForPort(eff, containerPort);
        if (m.mode === server && m.decidedBy) return { workload: `Deployment ${name(d)}`, servicePort: p.port, containerPort, decidedBy: m.decidedBy };
      }
    }
  }
  return undefined;
}

// ---- selectors and scopes ----------------------------------------------------------------------

/** PeerAuthentications Istio ignores or overrides, selectors that select nothing, unknown port keys. */
export function checkPeerAuthenticationScopes(store: ConfigStore): Diagnostic[] {
  const root = meshOf(store).rootNamespace;
  const workloads = declaredWorkloads(store);
  const out: Diagnostic[] = [];
  const firstOfScope = new Map<string, { metadata: { namespace: string; name: string }; source: ResourceSource }>();
  for (const pa of store.list('PeerAuthentication')) {
    const ns = pa.metadata.namespace;
    if (pa.spec.selector === undefined) {
      const first = firstOfScope.get(ns);
      if (first) {
        const scope = ns === root ? 'mesh-wide' : `namespace-wide in ${ns}`;
        out.push(at(pa.source, ['metadata', 'name'], 'warning', 'duplicate-peer-authentication', `PeerAuthentication ${name(first)} (${place(first.source)}) is also ${scope}: Istio uses the oldest one and ignores the others (Strait: the first loaded), so this one has no effect`, 'keep one PeerAuthentication without selector per namespace (one mesh-wide in the root namespace)'));
      } else firstOfScope.set(ns, pa);
      continue;
    }
    if (ns === root) {
      out.push(at(pa.source, ['spec', 'selector'], 'warning', 'ignored-peer-authentication', `a PeerAuthentication with a selector in the root namespace ${root} is ignored by Istio (PA-02): it applies to no workload`, `move it to the namespace of the workloads it selects, or remove the selector to make it mesh-wide`));
      continue;
    }
    const labels = pa.spec.selector.matchLabels;
    const selected = workloads.filter((w) => w.namespace === ns && selects(labels, w.labels));
    if (selected.length === 0) {
      out.push(selectsNothing(pa.source, 'PeerAuthentication', labels, `namespace ${ns}`));
      continue;
    }
    out.push(...checkPortKeys(store, pa, selected));
  }
  return out;
}

/** PA-03: portLevelMtls keys are container ports; a Service port there is the classic slip. */
function checkPortKeys(store: ConfigStore, pa: PeerAuthenticationResource, selected: readonly DeclaredWorkload[]): Diagnostic[] {
  const declared = new Set(selected.flatMap((w) => w.ports.map((p) => p.containerPort)));
  // Judge only when every selected workload declares its ports.
  if (selected.some((w) => w.ports.length === 0)) return [];
  const out: Diagnostic[] = [];
  for (const pl of pa.spec.portLevelMtls) {
    if (declared.has(pl.port)) continue;
    const svcPort = store
      .list('Service')
      .filter((s) => s.metadata.namespace === pa.metadata.namespace && s.spec.selector !== undefined && selected.some((w) => selects(s.spec.selector ?? {}, w.labels)))
      .flatMap((s) => s.spec.ports)
      .find((p) => p.port === pl.port);
    const target = svcPort && (typeof svcPort.targetPort === 'number' ? svcPort.targetPort : selected.flatMap((w) => w.ports).find((c) => c.name === svcPort.targetPort)?.containerPort);
    out.push(
      at(
        pa.source,
        pl.path,
        'warning',
        'unknown-workload-port',
        `port ${pl.port} is not a container port of the selected workloads (${selected.map((w) => w.name).join(', ')} declare ${[...declared].sort((a, b) => a - b).join(', ')})${target !== undefined ? `; it is a Service port, and portLevelMtls is keyed by the container port (${target})` : ''}, so this setting applies to nothing`,
        target !== undefined ? `use ${target}, the targetPort of Service port ${pl.port}` : 'use the containerPort the workload listens on',
      ),
    );
  }
  return out;
}

function selectsNothing(source: ResourceSource, kind: string, labels: Readonly<Record<string, string>>, where: string): Diagnostic {
  return at(source, ['spec', 'selector', 'matchLabels'], 'warning', 'selector-selects-nothing', `selector ${showLabels(labels)} matches no workload in ${where} (Deployments, WorkloadEntries, the ingress gateway), so this ${kind} applies to nothing yet`, "make the labels equal to the pods' labels (spec.template.metadata.labels), or correct the namespace");
}

/** RequestAuthentications and AuthorizationPolicies whose selector selects no declared workload. */
export function checkPolicySelectors(store: ConfigStore): Diagnostic[] {
  const root = meshOf(store).rootNamespace;
  const workloads = declaredWorkloads(store);
  const out: Diagnostic[] = [];
  for (const p of [...store.list('RequestAuthentication'), ...store.list('AuthorizationPolicy')]) {
    if (p.spec.selector === undefined || p.spec.targetRefs.length > 0) continue;
    if (workloads.some((w) => policyAppliesTo(p, w, root))) continue;
    out.push(selectsNothing(p.source, p.kind, p.spec.selector.matchLabels, p.metadata.namespace === root ? 'any namespace' : `namespace ${p.metadata.namespace}`));
  }
  return out;
}

// ---- CUSTOM action and ext-authz providers -----------------------------------------------------

/** Istio's LookupCluster: `ns/host` or a host that exactly one namespace serves. */
function providerServiceFound(store: ConfigStore, service: string): boolean {
  const slash = service.indexOf('/');
  const ns = slash < 0 ? undefined : service.slice(0, slash);
  const host = (slash < 0 ? service : service.slice(slash + 1)).toLowerCase();
  const owners = new Set<string>();
  for (const s of store.list('Service')) if (`${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local` === host) owners.add(s.metadata.namespace);
  for (const se of store.list('ServiceEntry')) if (se.spec.hosts.some((h) => h.toLowerCase() === host)) owners.add(se.metadata.namespace);
  return ns !== undefined ? owners.has(ns) : owners.size === 1;
}

/** CUSTOM policies whose provider is missing, not an ext-authz one, unresolvable, or one of several on a workload. */
export function checkCustomProviders(store: ConfigStore): Diagnostic[] {
  const meshResource = store.list('MeshConfig')[0];
  const mesh = meshOf(store);
  const out: Diagnostic[] = [];
  const custom = store.list('AuthorizationPolicy').filter((p) => p.spec.action === 'CUSTOM' && p.spec.provider !== undefined);
  const denies = 'Istio turns the policy into a DENY of the requests its rules match';
  const reportedServices = new Set<number>();
  for (const p of custom) {
    const wanted = p.spec.provider?.name ?? '';
    const provider = mesh.extensionProviders.find((e) => e.name === wanted);
    const path: FieldPath = ['spec', 'provider', 'name'];
    const extAuthz = mesh.extensionProviders.filter((e) => e.type !== 'other').map((e) => e.name);
    if (!provider) {
      out.push(at(p.source, path, 'error', 'unknown-extension-provider', `provider ${wanted} is not among the mesh config's extensionProviders (${extAuthz.length > 0 ? extAuthz.join(', ') : 'none defined'}): ${denies}`, extAuthz.length > 0 ? `use one of ${extAuthz.join(', ')}, or add ${wanted} to extensionProviders` : `add an extensionProviders entry named ${wanted} (envoyExtAuthzHttp or envoyExtAuthzGrpc) to the mesh config (ConfigMap istio in istio-system, key mesh)`));
      continue;
    }
    if (provider.type === 'other') {
      out.push(at(p.source, path, 'error', 'not-an-authorizer', `extension provider ${wanted} is a ${provider.kind} provider, not an external authorizer: ${denies}`, 'name an envoyExtAuthzHttp or envoyExtAuthzGrpc provider'));
      continue;
    }
    const config = provider.type === 'envoyExtAuthzHttp' ? provider.envoyExtAuthzHttp : provider.envoyExtAuthzGrpc;
    const index = mesh.extensionProviders.indexOf(provider);
    if (meshResource && !reportedServices.has(index) && !providerServiceFound(store, config.service)) {
      reportedServices.add(index);
      out.push(at(meshResource.source, [...provider.path, provider.type, 'service'], 'error', 'unknown-provider-service', `extension provider ${wanted}: service ${config.service} is no Service or ServiceEntry host (Istio needs the FQDN, with namespace/ when several namespaces serve it), so AuthorizationPolicy ${name(p)} and every CUSTOM policy naming ${wanted} fail: ${denies}`, 'write the FQDN of the authorizer Service, e.g. ext-authz.foo.svc.cluster.local'));
    }
  }
  out.push(...checkProvidersPerWorkload(store, custom));
  return out;
}

/** Istio allows one CUSTOM provider per workload unless PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS is set. */
function checkProvidersPerWorkload(store: ConfigStore, custom: readonly AuthorizationPolicyResource[]): Diagnostic[] {
  const root = meshOf(store).rootNamespace;
  const out: Diagnostic[] = [];
  const reported = new Set<AuthorizationPolicyResource>();
  for (const w of declaredWorkloads(store)) {
    const applied = custom.filter((p) => policyAppliesTo(p, w, root));
    const first = applied[0];
    for (const p of applied.slice(1)) {
      if (reported.has(p) || p.spec.provider?.name === first.spec.provider?.name) continue;
      reported.add(p);
      out.push(
        at(p.source, ['spec', 'provider', 'name'], 'error', 'several-extension-providers', `${w.name === 'the ingress gateway' ? w.name : `workload ${w.name}`} also gets CUSTOM provider ${first.spec.provider?.name} from AuthorizationPolicy ${name(first)} (${place(first.source)}): Istio allows one provider per workload, and denies the requests both policies match`, 'use one extension provider for all CUSTOM policies of a workload'),
      );
    }
  }
  return out;
}

// ---- principals -------------------------------------------------------------------------------

/** Principals naming a trust domain other than the mesh's never match a Strait workload identity. */
export function checkPrincipalTrustDomains(store: ConfigStore): Diagnostic[] {
  const td = meshOf(store).trustDomain;
  const out: Diagnostic[] = [];
  for (const p of store.list('AuthorizationPolicy')) {
    for (const rule of p.spec.rules) {
      for (const f of rule.from) {
        for (const k of ['principals', 'notPrincipals'] as const) {
          f.source[k].forEach((v, i) => {
            const m = /^([^/*]+)\/ns\/[^/]+\/sa\/[^/]+$/.exec(v);
            if (!m || m[1] === td) return;
            out.push(at(p.source, [...f.path, 'source', k, i], 'warning', 'foreign-trust-domain', `principal ${v} is in trust domain ${m[1]}, but the mesh's trust domain is ${td} (meshConfig.trustDomain): it ${k === 'principals' ? 'never matches' : 'excludes no'} workload of this mesh`, `write ${td}${v.slice(m[1].length)}, or use serviceAccounts: ["<ns>/<sa>"], which has no trust domain`));
          });
        }
      }
    }
  }
  return out;
}

/** All security analyzers, in a stable order. */
export function analyzeSecurity(store: ConfigStore): Diagnostic[] {
  return [...checkMtlsConflicts(store), ...checkPeerAuthenticationScopes(store), ...checkPolicySelectors(store), ...checkCustomProviders(store), ...checkPrincipalTrustDomains(store)];
}
