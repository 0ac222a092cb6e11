// ClusterLoadAssignments for the EDS clusters of a proxy: the ready endpoints of each service
// port, at the pod address and target port (where the destination's sidecar listens).

import { isHttpProtocol } from '../../registry/registry.js';
import type { ClusterLoadAssignment } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import { socketAddress } from './common.js';
import { outboundClusterName } from './names.js';

export function generateEndpoints(snapshot: MeshSnapshot): ClusterLoadAssignment[] {
  const out: ClusterLoadAssignment[] = [];
  const services = [...snapshot.registry.services].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  for (const s of services) {
    for (const p of s.ports) {
      if (!isHttpProtocol(p.protocol)) continue;
      const eps = snapshot.endpoints(s, p);
      out.push({
        clusterName: outboundClusterName(p.port, '', s.hostname),
        endpoints: eps.length
          ? [{ lbEndpoints: eps.map((e) => ({ endpoint: { address: socketAddress(e.address, e.port) }, healthStatus: 'HEALTHY' as const, metadata: { filterMetadata: { istio: { workload: `${e.workload.name};${e.workload.namespace}` } } } })) }]
          : [],
      });
    }
  }
  return out;
}
