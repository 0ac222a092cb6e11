// Clusters for a proxy: an EDS cluster per HTTP service port (`outbound|<port>||<host>`), the
// passthrough and black-hole clusters, and for a sidecar one static inbound cluster per inbound
// port pointing at the workload on the pod-local address.

import { isHttpProtocol } from '../../registry/registry.js';
import type { Cluster } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { socketAddress } from './common.js';
import { BLACKHOLE_CLUSTER, inboundClusterName, outboundClusterName, PASSTHROUGH_CLUSTER } from './names.js';
import { inboundPorts } from './sidecar.js';

/** Istio's default connect timeout (MeshConfig connectTimeout). */
const CONNECT_TIMEOUT = '10s';

export function generateClusters(snapshot: MeshSnapshot, proxy: ProxyNode): Cluster[] {
  const clusters: Cluster[] = [];
  const services = [...snapshot.registry.services].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  for (const s of services) {
    for (const p of s.ports) {
      if (!isHttpProtocol(p.protocol)) continue;
      const name = outboundClusterName(p.port, '', s.hostname);
      clusters.push({
        name,
        type: 'EDS',
        edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: name },
        connectTimeout: CONNECT_TIMEOUT,
        lbPolicy: 'ROUND_ROBIN',
        metadata: { filterMetadata: { istio: { services: [{ host: s.hostname, name: s.name, namespace: s.namespace }] } } },
      });
    }
  }
  clusters.push({ name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: CONNECT_TIMEOUT });
  clusters.push({ name: BLACKHOLE_CLUSTER, type: 'STATIC', connectTimeout: CONNECT_TIMEOUT });
  if (proxy.type === 'sidecar') {
    for (const { port } of inboundPorts(snapshot, proxy)) {
      clusters.push({
        name: inboundClusterName(port),
        type: 'STATIC',
        connectTimeout: CONNECT_TIMEOUT,
        lbPolicy: 'ROUND_ROBIN',
        loadAssignment: { clusterName: inboundClusterName(port), endpoints: [{ lbEndpoints: [{ endpoint: { address: socketAddress('127.0.0.1', port) } }] }] },
      });
    }
  }
  return clusters;
}
