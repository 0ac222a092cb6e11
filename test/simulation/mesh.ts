// Test fixtures for the simulation tables: manifests (inline YAML) plus explicit pods become a
// MeshSnapshot the way `strait up` builds one (the implicit istio-ingressgateway Service with
// ports below 1024 bound at +8000, i.e. 80 → 8080), and proxies are described as the ProxyNode
// the control plane would parse from their xDS node.

import assert from 'node:assert/strict';
import { ConfigStore } from '../../src/config/config-store.js';
import { loadConfigText } from '../../src/config/load-config.js';
import { generateProxyResources } from '../../src/controlplane/generate/generate.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { DEFAULT_MESH_CONFIG, MeshSnapshot } from '../../src/controlplane/model/mesh-snapshot.js';
import type { MeshConfig } from '../../src/controlplane/model/mesh-snapshot.js';
import { proxyNodeId } from '../../src/controlplane/model/proxy-node.js';
import type { ProxyNode } from '../../src/controlplane/model/proxy-node.js';
import { DEFAULT_GATEWAY, offsetBelow1024, servicesFromConfig } from '../../src/registry/config-services.js';
import type { Workload, WorkloadPort } from '../../src/registry/registry.js';

/** Removes the common leading indentation of a template literal, so YAML can be indented in code. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indents = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return `${lines.map((l) => l.slice(cut)).join('\n').trimEnd()}\n`;
}

/** The gateway pod `strait up` runs (labels select the implicit gateway Service). */
export const GATEWAY_POD: Workload = {
  name: `${DEFAULT_GATEWAY.name}-local-0`,
  namespace: DEFAULT_GATEWAY.namespace,
  labels: DEFAULT_GATEWAY.labels,
  serviceAccount: `${DEFAULT_GATEWAY.name}-service-account`,
  ip: '127.0.0.250',
  ready: true,
  ports: [],
  hasSidecar: false,
};

export interface PodOptions {
  readonly labels?: Readonly<Record<string, string>>;
  readonly ready?: boolean;
  readonly ports?: readonly WorkloadPort[];
  readonly serviceAccount?: string;
}

/** A pod with a sidecar; labels default to `app: <name without its -<n> suffix>`. */
export function pod(name: string, namespace: string, ip: string, o: PodOptions = {}): Workload {
  return {
    name,
    namespace,
    labels: o.labels ?? { app: name.replace(/-\d+$/, '') },
    serviceAccount: o.serviceAccount ?? 'default',
    ip,
    ready: o.ready ?? true,
    ports: o.ports ?? [],
    hasSidecar: true,
  };
}

export interface MeshInput {
  /** Manifests; any error diagnostic fails the test (warnings are allowed). */
  readonly manifests: string;
  /** Pods besides the gateway pod, which is always present. */
  readonly pods?: readonly Workload[];
  /** Where the gateway binds a server port (default: `strait up`'s +8000 below 1024). */
  readonly bindPort?: (port: number) => number;
  readonly mesh?: MeshConfig;
}

export function buildSnapshot(input: MeshInput, version = 1): MeshSnapshot {
  const { resources, diagnostics } = loadConfigText(input.manifests, 'sim.yaml');
  const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.col} ${d.code}: ${d.message}`);
  assert.deepEqual(errors, [], 'the fixture manifests must load without errors');
  const store = new ConfigStore(resources);
  const mesh = input.mesh ?? DEFAULT_MESH_CONFIG;
  const services = servicesFromConfig(store, mesh.domainSuffix, { ...DEFAULT_GATEWAY, bindPort: input.bindPort ?? offsetBelow1024(8000) });
  return new MeshSnapshot(version, store, { services, workloads: [GATEWAY_POD, ...(input.pods ?? [])] }, mesh);
}

/** The ProxyNode of a pod's proxy: `router` for the gateway pod, `sidecar` otherwise. */
export function proxyOf(w: Workload, type: ProxyNode['type'] = w === GATEWAY_POD ? 'router' : 'sidecar'): ProxyNode {
  return {
    id: proxyNodeId(type, w.ip, w.name, w.namespace, DEFAULT_MESH_CONFIG.domainSuffix),
    type,
    ip: w.ip,
    podName: w.name,
    namespace: w.namespace,
    labels: w.labels,
    serviceAccount: w.serviceAccount,
  };
}

export const GATEWAY_PROXY: ProxyNode = proxyOf(GATEWAY_POD, 'router');

/** Everything the proxy of `w` (default: the gateway) receives. */
export function resourcesFor(input: MeshInput, w: Workload = GATEWAY_POD): ProxyResources {
  return generateProxyResources(buildSnapshot(input), proxyOf(w));
}

/** The fields of `actual` named by `expected`, for partial deep-equality in table tests. */
export function pick<T extends object>(actual: T, expected: Partial<T>): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(expected) as (keyof T)[]) out[k] = actual[k];
  return out;
}
