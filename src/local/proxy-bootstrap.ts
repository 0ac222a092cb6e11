// The bootstrap file the runner writes for each proxy it starts: Istio's node identity and
// metadata, the admin address (pod-local, as 127.0.0.1:15000 is inside an Istio pod), and the
// control plane's ADS address. The proxy's bootstrap token for the mesh CA is not in this file
// (files in the run directory outlive the process): local-pod.ts puts it in the proxy process's
// environment only.

import type { Bootstrap } from '../xds/resources.js';
import { proxyNodeId } from '../controlplane/model/proxy-node.js';
import type { PodSpec } from './pod-plan.js';

export const ADMIN_PORT = 15000;

/**
 * Istio's ISTIO_PROMETHEUS_ANNOTATIONS for the proxy: the pod's prometheus.io/scrape, port and
 * path annotations, which tell the merged metrics endpoint (:15020) where the app's metrics are.
 */
export function prometheusAnnotationsEnv(annotations: Readonly<Record<string, string>>): Record<string, string> {
  const port = annotations['prometheus.io/port'];
  if (!port || annotations['prometheus.io/scrape'] === 'false') return {};
  return { ISTIO_PROMETHEUS_ANNOTATIONS: JSON.stringify({ scrape: annotations['prometheus.io/scrape'] ?? 'true', port, path: annotations['prometheus.io/path'] ?? '/metrics' }) };
}

export function proxyBootstrap(pod: PodSpec, ip: string, adsServer: string, domainSuffix: string): Bootstrap {
  const type = pod.kind === 'gateway' ? 'router' : 'sidecar';
  return {
    node: {
      id: proxyNodeId(type, ip, pod.name, pod.namespace, domainSuffix),
      cluster: pod.labels.app ? `${pod.labels.app}.${pod.namespace}` : pod.name,
      metadata: {
        NAME: pod.name,
        NAMESPACE: pod.namespace,
        LABELS: { ...pod.labels },
        SERVICE_ACCOUNT: pod.serviceAccount,
        INSTANCE_IPS: ip,
        CLUSTER_ID: 'Kubernetes',
        WORKLOAD_NAME: pod.owner.split('/')[1] ?? pod.name,
      },
    },
    admin: { address: { socketAddress: { address: '127.0.0.1', portValue: ADMIN_PORT } } },
    dynamicResources: { adsServer },
  };
}
