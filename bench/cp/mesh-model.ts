// A synthetic mesh for the control-plane benchmark, made in memory: N Services with one HTTP port
// each, a VirtualService per Service (a timeout and a retry policy, so every service has its own
// route), and P pods (the Deployments' replicas) spread over the services, each with a sidecar.
// No Sidecar resource scopes visibility, so every sidecar sees every service (Istio's default),
// unless `scoped`: then the namespace's Sidecar resource limits egress to one service (what a
// large mesh uses to keep each sidecar's config small, CPL-02).

import { ConfigStore } from '../../src/config/config-store.js';
import { loadConfigText } from '../../src/config/load-config.js';
import { DEFAULT_MESH_CONFIG } from '../../src/controlplane/model/mesh-snapshot.js';
import { proxyNodeId } from '../../src/controlplane/model/proxy-node.js';
import { servicesFromConfig } from '../../src/registry/config-services.js';
import type { Registry, Workload } from '../../src/registry/registry.js';
import type { Node } from '../../src/xds/resources.js';

export const NAMESPACE = 'bench';

export function manifests(services: number, timeoutS = 5, scoped = false): string {
  const docs: string[] = [];
  if (scoped) {
    docs.push(`apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: ${NAMESPACE}}
spec:
  egress:
  - hosts: ["./svc-${services > 1 ? 1 : 0}.${NAMESPACE}.svc.cluster.local", "istio-system/*"]`);
  }
  for (let i = 0; i < services; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: ${NAMESPACE}}
spec:
  selector: {app: svc-${i}}
  ports: [{name: http, port: 80, targetPort: 8080}]`);
    docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc-${i}, namespace: ${NAMESPACE}}
spec:
  hosts: [svc-${i}]
  http:
  - timeout: ${timeoutS}s
    retries: {attempts: 2, perTryTimeout: 1s}
    route: [{destination: {host: svc-${i}}}]`);
  }
  return `${docs.join('\n---\n')}\n`;
}

export function store(services: number, timeoutS = 5, scoped = false): ConfigStore {
  const { resources, diagnostics } = loadConfigText(manifests(services, timeoutS, scoped), 'bench-mesh.yaml');
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`synthetic mesh does not load: ${errors.map((d) => `${d.line}:${d.col} ${d.message}`).join('; ')}`);
  return new ConfigStore(resources);
}

/** Pod k of the mesh: belongs to service k mod N, address 10.(k/65536).(k/256).(k%256). */
export function pod(k: number, services: number): Workload {
  const app = `svc-${k % services}`;
  return {
    name: `${app}-${k}`,
    namespace: NAMESPACE,
    labels: { app },
    serviceAccount: app,
    ip: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
    ready: true,
    ports: [{ name: 'http', port: 8080 }],
    hasSidecar: true,
  };
}

export function registry(s: ConfigStore, services: number, pods: number): Registry {
  return { services: servicesFromConfig(s, DEFAULT_MESH_CONFIG.domainSuffix), workloads: Array.from({ length: Math.max(pods, services) }, (_, k) => pod(k, services)) };
}

/** The xDS node a sidecar of pod k sends (what the local runner's bootstrap holds). */
export function nodeOf(k: number, services: number): Node {
  const w = pod(k, services);
  return {
    id: proxyNodeId('sidecar', w.ip, w.name, w.namespace, DEFAULT_MESH_CONFIG.domainSuffix),
    metadata: { NAME: w.name, NAMESPACE: w.namespace, LABELS: w.labels, SERVICE_ACCOUNT: w.serviceAccount },
  } as Node;
}
