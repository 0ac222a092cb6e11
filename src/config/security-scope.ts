// Where the security policies apply, computed from the ConfigStore alone: the workloads a
// manifest set declares (Deployments, WorkloadEntries and Strait's built-in ingress gateway), the
// policies whose scope covers a workload (PA-02, RA-01, AZ-04), and a workload's effective
// PeerAuthentication mode per port (mesh → namespace → workload, UNSET inherits, port-level last,
// PERMISSIVE when nothing sets a mode), as Istio's ComposePeerAuthentication does. The analyzers
// use it; the control plane has its own view of running workloads and may use the pure parts.

import type { ConfigStore } from './config-store.js';
import type {
  ContainerPort,
  FieldPath,
  MutualTLSMode,
  PeerAuthenticationResource,
  PolicyTargetReference,
  ResourceSource,
  WorkloadSelector,
} from './types.js';

/** Labels and namespace of the ingress gateway that Strait always runs. */
export const BUILTIN_GATEWAY: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> } = {
  namespace: 'istio-system',
  labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
};

/** True when every label the selector asks for is present with the same value. */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/** A workload as the manifests declare it. */
export interface DeclaredWorkload {
  readonly kind: 'Deployment' | 'WorkloadEntry' | 'Gateway';
  /** `namespace/name`, for messages ("the ingress gateway" for the built-in one). */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Declared container ports (Deployments); [] when unknown. */
  readonly ports: readonly ContainerPort[];
  /** Absent for the built-in gateway. */
  readonly source?: ResourceSource;
}

export function declaredWorkloads(store: ConfigStore): DeclaredWorkload[] {
  return [
    ...store.list('Deployment').map((d): DeclaredWorkload => ({
      kind: 'Deployment',
      name: `${d.metadata.namespace}/${d.metadata.name}`,
      namespace: d.metadata.namespace,
      labels: d.spec.template.metadata.labels,
      ports: d.spec.template.spec.containers.flatMap((c) => c.ports),
      source: d.source,
    })),
    ...store.list('WorkloadEntry').map((w): DeclaredWorkload => ({ kind: 'WorkloadEntry', name: `${w.metadata.namespace}/${w.metadata.name}`, namespace: w.metadata.namespace, labels: w.spec.labels, ports: [], source: w.source })),
    { kind: 'Gateway', name: 'the ingress gateway', namespace: BUILTIN_GATEWAY.namespace, labels: BUILTIN_GATEWAY.labels, ports: [] },
  ];
}

/** The scope part every security policy has. */
export interface ScopedPolicy {
  readonly metadata: { readonly namespace: string };
  readonly spec: { readonly selector?: WorkloadSelector; readonly targetRefs?: readonly PolicyTargetReference[] };
}

/**
 * Whether a RequestAuthentication or AuthorizationPolicy applies to a workload (RA-01, AZ-04):
 * policies of the workload's namespace and of the root namespace, narrowed by the selector. A
 * policy with targetRefs attaches to gateways/waypoints Strait does not run, so to no workload.
 */
export function policyAppliesTo(policy: ScopedPolicy, workload: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> }, rootNamespace: string): boolean {
  if ((policy.spec.targetRefs ?? []).length > 0) return false;
  const ns = policy.metadata.namespace;
  if (ns !== workload.namespace && ns !== rootNamespace) return false;
  return selects(policy.spec.selector?.matchLabels ?? {}, workload.labels);
}

// ---- PeerAuthentication --------------------------------------------------------------------------

export type EffectiveMtlsMode = Exclude<MutualTLSMode, 'UNSET'>;

/** A workload's mTLS mode and the policies it comes from. */
export interface EffectivePeerAuthentication {
  /** The workload-wide mode. */
  readonly mode: EffectiveMtlsMode;
  /** The policy that set `mode`: the most specific one whose mode is not UNSET; absent = Istio's default PERMISSIVE. */
  readonly decidedBy?: PeerAuthenticationResource;
  /** The chosen policy of each scope (the first loaded where Istio takes the oldest). */
  readonly mesh?: PeerAuthenticationResource;
  readonly namespace?: PeerAuthenticationResource;
  readonly workload?: PeerAuthenticationResource;
}

/** PA-02: mesh, namespace and workload policies for a workload, the first of each scope winning. */
export function effectivePeerAuthentication(
  policies: readonly PeerAuthenticationResource[],
  workload: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> },
  rootNamespace: string,
): EffectivePeerAuthentication {
  let mesh: PeerAuthenticationResource | undefined;
  let namespace: PeerAuthenticationResource | undefined;
  let selected: PeerAuthenticationResource | undefined;
  for (const p of policies) {
    const ns = p.metadata.namespace;
    if (p.spec.selector === undefined) {
      if (ns === rootNamespace) mesh ??= p;
      else if (ns === workload.namespace) namespace ??= p;
    } else if (ns === workload.namespace && ns !== rootNamespace && selects(p.spec.selector.matchLabels, workload.labels)) {
      // A selector policy in the root namespace is ignored (PA-02).
      selected ??= p;
    }
  }
  let mode: EffectiveMtlsMode = 'PERMISSIVE';
  let decidedBy: PeerAuthenticationResource | undefined;
  for (const p of [mesh, namespace, selected]) {
    if (p && p.spec.mtls.mode !== 'UNSET') {
      mode = p.spec.mtls.mode;
      decidedBy = p;
    }
  }
  return { mode, ...(decidedBy ? { decidedBy } : {}), ...(mesh ? { mesh } : {}), ...(namespace ? { namespace } : {}), ...(selected ? { workload: selected } : {}) };
}

/** PA-03: the mode of one workload (container) port, and the policy field that decided it. */
export function mtlsModeForPort(e: EffectivePeerAuthentication, port: number): { mode: EffectiveMtlsMode; decidedBy?: PeerAuthenticationResource; path?: FieldPath } {
  const pl = e.workload?.spec.portLevelMtls.find((p) => p.port === port);
  if (pl && pl.mode !== 'UNSET') return { mode: pl.mode, decidedBy: e.workload, path: [...pl.path, 'mode'] };
  return { mode: e.mode, ...(e.decidedBy ? { decidedBy: e.decidedBy, path: ['spec', 'mtls', 'mode'] } : {}) };
}
