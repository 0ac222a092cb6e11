// Entry point of config generation: every xDS resource one proxy needs, from one snapshot. Pure:
// the same snapshot and proxy always give the same, sorted output.

import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration, Secret } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { generateClusters } from './clusters.js';
import { hashPolicyFor } from './destination-policy.js';
import { generateEndpoints } from './endpoints.js';
import { gatewayListeners, gatewayRoutes, gatewaySecrets } from './gateway.js';
import type { RouteContext } from './http-routes.js';
import { sidecarListeners, sidecarRoutes } from './sidecar.js';

export interface ProxyResources {
  readonly listeners: Listener[];
  readonly routes: RouteConfiguration[];
  readonly clusters: Cluster[];
  readonly endpoints: ClusterLoadAssignment[];
  readonly secrets: Secret[];
}

export function generateProxyResources(snapshot: MeshSnapshot, proxy: ProxyNode): ProxyResources {
  // A DestinationRule's consistentHash becomes the routes' hash policy (Envoy hashes per route).
  const hash: RouteContext['hashPolicy'] = (fqdn, port, subset) => hashPolicyFor(snapshot, proxy, fqdn, port, subset);
  return {
    listeners: proxy.type === 'router' ? gatewayListeners(snapshot, proxy, hash) : sidecarListeners(snapshot, proxy),
    routes: proxy.type === 'router' ? gatewayRoutes(snapshot, proxy, hash) : sidecarRoutes(snapshot, proxy, hash),
    clusters: generateClusters(snapshot, proxy),
    endpoints: generateEndpoints(snapshot, proxy),
    secrets: proxy.type === 'router' ? gatewaySecrets(snapshot, proxy) : [],
  };
}
