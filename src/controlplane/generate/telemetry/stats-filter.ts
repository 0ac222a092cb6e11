// The istio.stats filters of a proxy (telemetry/metrics/stats-config.ts): Istio's standard
// metrics, configured by the Telemetry API (TEL-03, telemetry-scope.ts) and labelled from what
// the control plane knows:
//
//   - this proxy's own workload labels (`local`), from its node (pod name, namespace, labels,
//     service account → principal when the mesh runs mTLS); a sending proxy also passes them to
//     in-mesh destinations in Istio's metadata exchange header (peer-exchange.ts);
//   - inbound (reporter destination): the port's Service; on a TCP port also the mesh's
//     workloads by IP (`peers`), since a TCP caller sends no headers;
//   - outbound (reporter source, sidecars and gateways): nothing more; the chosen endpoint's
//     metadata names the destination (endpointPeerMetadata, written into EDS by clusters.ts).
//
// A direction whose metrics the Telemetry API disables gets no filter at all.

import type { IstioMetricName } from '../../../config/types.js';
import type { MeshService, Workload } from '../../../registry/registry.js';
import type { Metadata } from '../../../xds/resources.js';
import { istioWorkloadMetadata, workloadLabels } from '../../../telemetry/metrics/labels.js';
import type { WorkloadLabels } from '../../../telemetry/metrics/labels.js';
import { METRIC_NAMES, statsFilter } from '../../../telemetry/metrics/stats-config.js';
import type { MetricOverride, PeerEntry, StatsFilterResource } from '../../../telemetry/metrics/stats-config.js';
import type { MeshSnapshot } from '../../model/mesh-snapshot.js';
import type { ProxyNode } from '../../model/proxy-node.js';
import type { ResolvedMetricsDirection } from '../../model/telemetry-scope.js';
import { spiffeId } from '../mesh-mtls.js';

/** The SPIFFE id a workload presents over mesh mTLS, or undefined (no mesh CA, no sidecar). */
function principalOf(snapshot: MeshSnapshot, w: { readonly namespace: string; readonly serviceAccount: string }, hasProxy: boolean): string | undefined {
  return snapshot.mesh.meshMtls && hasProxy ? spiffeId(snapshot.meshConfig.trustDomain, w.namespace, w.serviceAccount) : undefined;
}

/** This proxy's labels (the gateway's workload is `istio-ingressgateway`, as in Istio). */
export function proxyWorkloadLabels(snapshot: MeshSnapshot, proxy: ProxyNode): WorkloadLabels {
  return workloadLabels({ name: proxy.podName, namespace: proxy.namespace, labels: proxy.labels }, principalOf(snapshot, proxy, true));
}

/** The Telemetry overrides of one direction in the stats plugin's shape (only metrics that change). */
function overrides(m: ResolvedMetricsDirection): MetricOverride[] {
  const out: MetricOverride[] = [];
  for (const [metric, o] of Object.entries(m.metrics) as [IstioMetricName, ResolvedMetricsDirection['metrics'][IstioMetricName]][]) {
    if (!o.disabled && o.tagOverrides.length === 0) continue;
    const remove = o.tagOverrides.filter((t) => t.operation === 'REMOVE').map((t) => t.name);
    const dimensions: Record<string, string> = {};
    for (const t of o.tagOverrides) if (t.operation === 'UPSERT') dimensions[t.name] = t.value;
    out.push({ name: METRIC_NAMES[metric], ...(o.disabled ? { drop: true } : {}), ...(remove.length ? { tagsToRemove: remove } : {}), ...(Object.keys(dimensions).length ? { dimensions } : {}) });
  }
  return out;
}

const peerTables = new WeakMap<MeshSnapshot, PeerEntry[]>();

/** Every workload of the registry by IP, with the principal it presents over mTLS (one per snapshot). */
function peerTable(snapshot: MeshSnapshot): PeerEntry[] {
  let t = peerTables.get(snapshot);
  if (!t) peerTables.set(snapshot, (t = computePeerTable(snapshot)));
  return t;
}

function computePeerTable(snapshot: MeshSnapshot): PeerEntry[] {
  const out: PeerEntry[] = [];
  const seen = new Set<string>();
  const sorted = [...snapshot.registry.workloads].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  for (const w of sorted) {
    if (!w.ip || seen.has(w.ip)) continue;
    seen.add(w.ip);
    // The gateway pod is a proxy without a sidecar flag: it has a certificate all the same.
    out.push({ ip: w.ip, ...workloadLabels(w, principalOf(snapshot, w, w.hasSidecar || isGatewayWorkload(w))) });
  }
  return out;
}

function isGatewayWorkload(w: Workload): boolean {
  return w.labels.istio === 'ingressgateway' || w.labels.istio === 'egressgateway';
}

/** Telemetry for this proxy (its namespace and labels). */
function metricsFor(snapshot: MeshSnapshot, proxy: ProxyNode) {
  return snapshot.telemetryFor({ namespace: proxy.namespace, labels: proxy.labels }).metrics;
}

/** The outbound (sidecar) or gateway filter: reporter source; undefined when CLIENT metrics are off. */
export function outboundStatsFilter(snapshot: MeshSnapshot, proxy: ProxyNode): StatsFilterResource | undefined {
  const m = metricsFor(snapshot, proxy).client;
  if (!m.enabled) return undefined;
  const metrics = overrides(m);
  return statsFilter({ reporter: 'source', local: proxyWorkloadLabels(snapshot, proxy), ...(metrics.length ? { metrics } : {}) });
}

/**
 * An inbound port's filter: reporter destination; undefined when SERVER metrics are off. A TCP
 * port's carries the mesh's workloads by IP; an HTTP port's learns callers from their metadata
 * exchange header instead, which keeps a sidecar's config independent of the mesh's pod count.
 */
export function inboundStatsFilter(snapshot: MeshSnapshot, proxy: ProxyNode, service: MeshService | undefined, tcp: boolean): StatsFilterResource | undefined {
  const m = metricsFor(snapshot, proxy).server;
  if (!m.enabled) return undefined;
  const metrics = overrides(m);
  return statsFilter({
    reporter: 'destination',
    local: proxyWorkloadLabels(snapshot, proxy),
    ...(service ? { service: { host: service.hostname, name: service.name, namespace: service.namespace } } : {}),
    ...(tcp ? { peers: peerTable(snapshot) } : {}),
    ...(metrics.length ? { metrics } : {}),
  });
}

/**
 * Endpoint metadata naming the workload behind an endpoint: Istio's `istio.workload`
 * (`<workload>;<namespace>;<canonical service>;<canonical revision>;<cluster>`) and Strait's
 * `strait.peer` (app, version, and the principal when the proxy reaches it over mTLS).
 */
export function endpointPeerMetadata(snapshot: MeshSnapshot, w: Workload, mtls: boolean): Metadata {
  let byWorkload = peerMetadata.get(snapshot);
  if (!byWorkload) peerMetadata.set(snapshot, (byWorkload = new WeakMap()));
  let pair = byWorkload.get(w);
  if (!pair) byWorkload.set(w, (pair = [undefined, undefined]));
  const i = mtls ? 1 : 0;
  return (pair[i] ??= computeEndpointPeerMetadata(snapshot, w, mtls));
}

/** endpointPeerMetadata by snapshot and workload, [plaintext, mTLS]: every endpoint list of a push shares them. */
const peerMetadata = new WeakMap<MeshSnapshot, WeakMap<Workload, [Metadata | undefined, Metadata | undefined]>>();

function computeEndpointPeerMetadata(snapshot: MeshSnapshot, w: Workload, mtls: boolean): Metadata {
  const l = workloadLabels(w, mtls ? principalOf(snapshot, w, true) : undefined);
  const peer: Record<string, string> = { app: l.app, version: l.version };
  if (mtls) peer.principal = l.principal;
  return { filterMetadata: { istio: { workload: istioWorkloadMetadata(l) }, strait: { peer } } };
}
