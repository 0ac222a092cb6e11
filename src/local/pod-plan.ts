// What pods the manifests ask for: every Deployment's replicas, named like a ReplicaSet's pods
// (`<deployment>-<template-hash>-<n>`, so a changed template means new pods), plus the ingress
// gateway pod Strait always runs. Pure: a ConfigStore in, pod specs out.

import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ConfigStore } from '../config/config-store.js';
import type { Container, DeploymentResource } from '../config/types.js';
import { DEFAULT_GATEWAY } from '../registry/config-services.js';

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  /** `namespace/name` of the Deployment; empty for the gateway. */
  readonly owner: string;
  readonly templateHash: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The pod template's annotations (prometheus.io/* name the app's metrics for the merged endpoint). */
  readonly annotations: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** The container that runs; undefined for the gateway (it is only a proxy). */
  readonly container?: Container;
  /** Directory of the manifest, the working directory of relative commands. */
  readonly manifestDir: string;
  readonly sidecar: boolean;
  readonly kind: 'workload' | 'gateway';
}

const INJECT = 'sidecar.istio.io/inject';

/**
 * Strait gives every workload a sidecar unless it opts out the Istio way: the pod annotation or
 * label `sidecar.istio.io/inject: "false"`, or the namespace label `istio-injection: disabled`.
 */
export function wantsSidecar(d: DeploymentResource, store: ConfigStore): boolean {
  const t = d.spec.template.metadata;
  if (t.annotations[INJECT] === 'false' || t.labels[INJECT] === 'false') return false;
  const ns = store.list('Namespace').find((n) => n.metadata.name === d.metadata.namespace);
  if (ns?.metadata.labels['istio-injection'] === 'disabled') return false;
  return true;
}

export function templateHash(d: DeploymentResource): string {
  return createHash('sha256').update(JSON.stringify(d.spec.template)).digest('hex').slice(0, 10);
}

export function planPods(store: ConfigStore): PodSpec[] {
  const pods: PodSpec[] = [];
  for (const d of store.list('Deployment')) {
    const hash = templateHash(d);
    const container = d.spec.template.spec.containers[0];
    if (!container) continue;
    const sidecar = wantsSidecar(d, store);
    for (let i = 0; i < d.spec.replicas; i++) {
      pods.push({
        name: `${d.metadata.name}-${hash}-${i}`,
        namespace: d.metadata.namespace,
        owner: `${d.metadata.namespace}/${d.metadata.name}`,
        templateHash: hash,
        labels: d.spec.template.metadata.labels,
        annotations: d.spec.template.metadata.annotations,
        serviceAccount: d.spec.template.spec.serviceAccountName,
        container,
        manifestDir: path.dirname(d.source.file),
        sidecar,
        kind: 'workload',
      });
    }
  }
  return pods;
}

export function gatewayPod(): PodSpec {
  return {
    name: `${DEFAULT_GATEWAY.name}-local-0`,
    namespace: DEFAULT_GATEWAY.namespace,
    owner: '',
    templateHash: 'local',
    labels: DEFAULT_GATEWAY.labels,
    annotations: {},
    serviceAccount: `${DEFAULT_GATEWAY.name}-service-account`,
    manifestDir: process.cwd(),
    sidecar: false,
    kind: 'gateway',
  };
}
