// ClusterLoadAssignments for the EDS clusters of a proxy (clusters.ts plans them): the endpoints
// of each service port the proxy sees — ready pods at their target port (where the destination's
// sidecar listens), or a STATIC ServiceEntry's endpoints (SE-03) — and, for a subset cluster
// `outbound|<port>|<subset>|<host>`, only those whose labels the subset selects (DR-01). DNS and
// ORIGINAL_DST clusters carry their endpoints themselves, or have none, so they get no assignment.
// Endpoints that take mesh mTLS carry Istio's `tlsMode: istio` label (auto mTLS, mesh-mtls.ts).
// Proxies that see a cluster alike get the same assignment object, which the control plane
// encodes once per push (control-plane.ts): assignments are shared, never mutated.

import type { ClusterLoadAssignment, LbEndpoint } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { clusterLbEndpoints, outboundClusters } from './clusters.js';

/** Assignments by their endpoint list (clusters.ts shares those between proxies): shared too. */
const assignments = new WeakMap<readonly LbEndpoint[], Map<string, ClusterLoadAssignment>>();
const EMPTY: readonly LbEndpoint[] = [];

export function generateEndpoints(snapshot: MeshSnapshot, proxy: ProxyNode): ClusterLoadAssignment[] {
  const out: ClusterLoadAssignment[] = [];
  for (const oc of outboundClusters(snapshot, proxy)) {
    if (oc.type !== 'EDS') continue;
    const lbEndpoints = oc.endpoints.length ? clusterLbEndpoints(snapshot, oc) : EMPTY;
    let byName = assignments.get(lbEndpoints);
    if (!byName) assignments.set(lbEndpoints, (byName = new Map()));
    let cla = byName.get(oc.name);
    if (!cla) byName.set(oc.name, (cla = { clusterName: oc.name, endpoints: lbEndpoints.length ? [{ lbEndpoints: lbEndpoints as LbEndpoint[] }] : [] }));
    out.push(cla);
  }
  return out;
}
