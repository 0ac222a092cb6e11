// ClusterLoadAssignments for the EDS clusters of a proxy (clusters.ts plans them): the endpoints
// of each service port the proxy sees — ready pods at their target port (where the destination's
// sidecar listens), or a STATIC ServiceEntry's endpoints (SE-03) — and, for a subset cluster
// `outbound|<port>|<subset>|<host>`, only those whose labels the subset selects (DR-01). DNS and
// ORIGINAL_DST clusters carry their endpoints themselves, or have none, so they get no assignment.
// Endpoints that take mesh mTLS carry Istio's `tlsMode: istio` label (auto mTLS, mesh-mtls.ts).

import type { ClusterLoadAssignment } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { clusterLbEndpoints, outboundClusters } from './clusters.js';

export function generateEndpoints(snapshot: MeshSnapshot, proxy: ProxyNode): ClusterLoadAssignment[] {
  const out: ClusterLoadAssignment[] = [];
  for (const oc of outboundClusters(snapshot, proxy)) {
    if (oc.type !== 'EDS') continue;
    out.push({ clusterName: oc.name, endpoints: oc.endpoints.length ? [{ lbEndpoints: clusterLbEndpoints(snapshot, oc) }] : [] });
  }
  return out;
}
