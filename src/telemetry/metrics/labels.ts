// The label vocabulary of Istio's standard metrics (istio.io reference/config/metrics, MET-01..08)
// and the per-workload values behind them. A workload's eight values (workload, namespace,
// principal, app, version, canonical service and revision, cluster) are computed once, by the
// control plane from the registry (workloadLabels), and travel to proxies in the istio.stats
// filter config (this proxy's own) and in endpoint metadata (the upstream peer's). Every value
// comes from a bounded set (workloads, services, status codes, flags); missing ones are
// `unknown`, as in Istio.

export const UNKNOWN = 'unknown';

/** Istio's default cluster id, which Strait's single-cluster mesh reports everywhere. */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

/** One side (source or destination) of a request, as the metrics label it. */
export interface WorkloadLabels {
  readonly workload: string;
  readonly namespace: string;
  /** `spiffe://<trust domain>/ns/<ns>/sa/<sa>`; `unknown` when the hop had no mTLS. */
  readonly principal: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
}

export const UNKNOWN_WORKLOAD: WorkloadLabels = {
  workload: UNKNOWN,
  namespace: UNKNOWN,
  principal: UNKNOWN,
  app: UNKNOWN,
  version: UNKNOWN,
  canonicalService: UNKNOWN,
  canonicalRevision: UNKNOWN,
  cluster: UNKNOWN,
};

/** The destination service: `destination_service` (FQDN), `_name` and `_namespace`. */
export interface ServiceLabels {
  readonly host: string;
  readonly name: string;
  readonly namespace: string;
}

export const UNKNOWN_SERVICE: ServiceLabels = { host: UNKNOWN, name: UNKNOWN, namespace: UNKNOWN };

/**
 * The Deployment behind a pod name `<deployment>-<template hash>-<suffix>` (how ReplicaSets and
 * the local runner name pods), as Istio's workload name; other names are kept whole.
 */
export function workloadNameOf(podName: string): string {
  const m = /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{1,5}$/.exec(podName);
  return m ? m[1]! : podName;
}

/** Istio's canonical service: the canonical-name label, app.kubernetes.io/name, app, else the workload. */
export function canonicalServiceOf(labels: Readonly<Record<string, string>>, workload: string): string {
  return labels['service.istio.io/canonical-name'] || labels['app.kubernetes.io/name'] || labels.app || workload;
}

/** Istio's canonical revision: the canonical-revision label, app.kubernetes.io/version, version, else `latest`. */
export function canonicalRevisionOf(labels: Readonly<Record<string, string>>): string {
  return labels['service.istio.io/canonical-revision'] || labels['app.kubernetes.io/version'] || labels.version || 'latest';
}

/** The eight values of a workload from its pod's name, namespace, labels and (mTLS) principal. */
export function workloadLabels(pod: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> }, principal: string | undefined): WorkloadLabels {
  return labelsOfWorkload(workloadNameOf(pod.name), pod.namespace, pod.labels, principal);
}

/** The eight values of a workload already named (a metadata exchange peer names its workload itself). */
export function labelsOfWorkload(workload: string, namespace: string, l: Readonly<Record<string, string>>, principal: string | undefined): WorkloadLabels {
  return {
    workload,
    namespace,
    principal: principal ?? UNKNOWN,
    app: l.app || l['app.kubernetes.io/name'] || UNKNOWN,
    version: l.version || l['app.kubernetes.io/version'] || UNKNOWN,
    canonicalService: canonicalServiceOf(l, workload),
    canonicalRevision: canonicalRevisionOf(l),
    cluster: DEFAULT_CLUSTER_ID,
  };
}

/**
 * Endpoint metadata `filterMetadata.istio.workload` in Istio's format,
 * `<workload>;<namespace>;<canonical service>;<canonical revision>;<cluster>`.
 */
export function istioWorkloadMetadata(w: WorkloadLabels): string {
  return [w.workload, w.namespace, w.canonicalService, w.canonicalRevision, w.cluster].join(';');
}

/**
 * A peer from endpoint metadata: Istio's `istio.workload` string, and Strait's `strait.peer`
 * extras (app, version, principal — the last only when the proxy reaches the endpoint over mTLS).
 * Fields Istio's short form (`name;namespace`) leaves out are derived as Istio derives them.
 */
export function peerFromMetadata(istio: Readonly<Record<string, unknown>> | undefined, strait: Readonly<Record<string, unknown>> | undefined): WorkloadLabels {
  const w = typeof istio?.workload === 'string' ? istio.workload.split(';') : [];
  if (w.length < 2 || !w[0]) return UNKNOWN_WORKLOAD;
  const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const peer = (strait?.peer ?? {}) as Record<string, unknown>;
  return {
    workload: w[0],
    namespace: w[1] || UNKNOWN,
    principal: s(peer.principal) ?? UNKNOWN,
    app: s(peer.app) ?? UNKNOWN,
    version: s(peer.version) ?? UNKNOWN,
    canonicalService: w[2] || w[0],
    canonicalRevision: w[3] || 'latest',
    cluster: w[4] || DEFAULT_CLUSTER_ID,
  };
}

/** The label names of the request metrics, in Istio's order (`response_code`, `grpc_response_status` are HTTP only). */
export const REQUEST_LABELS = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_service_name',
  'destination_service_namespace',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;

export type RequestLabel = (typeof REQUEST_LABELS)[number];

/** The labels shared by every series of one (source, destination, service) triple, in order. */
export function peerLabelPairs(reporter: 'source' | 'destination', src: WorkloadLabels, dst: WorkloadLabels, svc: ServiceLabels): [string, string][] {
  return [
    ['reporter', reporter],
    ['source_workload', src.workload],
    ['source_canonical_service', src.canonicalService],
    ['source_canonical_revision', src.canonicalRevision],
    ['source_workload_namespace', src.namespace],
    ['source_principal', src.principal],
    ['source_app', src.app],
    ['source_version', src.version],
    ['source_cluster', src.cluster],
    ['destination_workload', dst.workload],
    ['destination_workload_namespace', dst.namespace],
    ['destination_principal', dst.principal],
    ['destination_app', dst.app],
    ['destination_version', dst.version],
    ['destination_service', svc.host],
    ['destination_canonical_service', dst.canonicalService],
    ['destination_canonical_revision', dst.canonicalRevision],
    ['destination_service_name', svc.name],
    ['destination_service_namespace', svc.namespace],
    ['destination_cluster', dst.cluster],
  ];
}
