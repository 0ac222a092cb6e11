// What the dashboard reads from the running mesh, as an interface so the dashboard does not
// depend on how the mesh runs (the local runner today; Kubernetes later) and tests can hand it
// a fixed mesh. localMeshView adapts the local runner.

import type { LocalRunner } from '../local/runner.js';
import { workloadNameOf } from '../telemetry/metrics/labels.js';

export interface DashboardPod {
  readonly namespace: string;
  readonly name: string;
  /** Istio's workload name, as the proxies' istio_* labels name it (the Deployment's). */
  readonly workload: string;
  /** The proxy's admin endpoint; null for a pod without a proxy. */
  readonly adminUrl: string | null;
  readonly ip: string;
  /** The pod-local address (the sidecar's and app's own loopback address). */
  readonly localAddress: string;
  readonly serviceAccount: string;
  readonly gateway: boolean;
  readonly sidecar: boolean;
  readonly ready: boolean;
}

export interface ConfigResourceView {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly file: string;
  readonly line: number;
  /** The normalised resource as the control plane holds it (defaults applied). */
  readonly spec: unknown;
}

export interface ConfigView {
  readonly generation: number;
  readonly snapshot: number;
  readonly lastReload: { at: number; ok: boolean; message: string } | null;
  readonly files: readonly string[];
  readonly resources: readonly ConfigResourceView[];
  readonly diagnostics: readonly { severity: string; file: string; line: number; col: number; code: string; message: string; fix?: string }[];
}

export interface MeshView {
  pods(): DashboardPod[];
  /**
   * True when every proxy was started after the control plane (the local runner starts them
   * all), so a proxy's first scrape counts everything it saw; false for proxies that may have
   * run for long before (their first scrape is a baseline).
   */
  readonly proxiesStartAfterControlPlane: boolean;
  config(): ConfigView;
  readonly trustDomain: string;
}

export function localMeshView(runner: LocalRunner): MeshView {
  return {
    proxiesStartAfterControlPlane: true,
    get trustDomain() {
      return runner.cp.mesh.trustDomain;
    },
    pods: () =>
      runner.listPods().map((p) => ({
        namespace: p.spec.namespace,
        name: p.spec.name,
        workload: workloadNameOf(p.spec.name),
        adminUrl: p.adminUrl ?? null,
        ip: p.addresses.ip,
        localAddress: p.addresses.local,
        serviceAccount: p.spec.serviceAccount,
        gateway: p.spec.kind === 'gateway',
        sidecar: p.spec.sidecar,
        ready: p.ready(),
      })),
    config: () => {
      const snap = runner.cp.snapshot();
      return {
        generation: runner.configGeneration,
        snapshot: snap.version,
        lastReload: runner.lastReload,
        files: runner.configFiles(),
        resources: snap.store.all().map((r) => {
          const { source, metadata, kind, apiVersion, ...rest } = r;
          return { kind, apiVersion, namespace: metadata.namespace, name: metadata.name, file: source.file, line: source.line, spec: { metadata: { labels: metadata.labels, annotations: metadata.annotations }, ...rest } };
        }),
        diagnostics: runner.diagnostics().map((d) => ({ severity: d.severity, file: d.file, line: d.line, col: d.col, code: d.code, message: d.message, ...(d.fix ? { fix: d.fix } : {}) })),
      };
    },
  };
}
