// DestinationRule consistentHash on the routes that lead to the host (DR-03): Envoy hashes per
// route, so Istio copies the rule's hash policy onto every route whose destination it governs —
// the sidecar's default route, VirtualService routes (per subset), and gateway routes. Checked on
// the generated resources, with the request path through the data plane's route table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { pod, resourcesFor, yaml } from './mesh.js';
import { simulate } from './simulate.js';

const CLIENT = pod('client-0', 'default', '127.0.0.9', { labels: { app: 'client' } });
const PODS = [CLIENT, pod('reviews-0', 'default', '127.0.0.2', { labels: { app: 'reviews', version: 'v1' } }), pod('reviews-1', 'default', '127.0.0.3', { labels: { app: 'reviews', version: 'v2' } })];

const BASE = yaml`
  apiVersion: v1
  kind: Service
  metadata: { name: reviews, namespace: default }
  spec:
    selector: { app: reviews }
    ports: [{ name: http, port: 9080 }]
  ---
  apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: { name: reviews, namespace: default }
  spec:
    host: reviews
    trafficPolicy:
      loadBalancer:
        consistentHash: { httpHeaderName: x-user }
    subsets:
    - { name: v1, labels: { version: v1 } }
    - name: v2
      labels: { version: v2 }
      trafficPolicy:
        loadBalancer:
          consistentHash:
            httpCookie: { name: session, ttl: 60s }
`;

function routeFor(res: ProxyResources, port: number, authority: string) {
  const r = simulate(res, { port, authority, path: '/reviews/1' });
  assert.equal(r.error, undefined, JSON.stringify(r));
  const rc = res.routes.find((x) => x.name === r.routeConfig)!;
  return { sim: r, route: rc.virtualHosts.find((v) => v.name === r.virtualHost)!.routes[r.routeIndex!]! };
}

test('DR-03 the sidecar default route to a host carries the rule hash policy, and the cluster a hashing balancer', () => {
  const res = resourcesFor({ manifests: BASE, pods: PODS }, CLIENT);
  const { sim, route } = routeFor(res, 15001, 'reviews:9080');
  assert.deepEqual(route.route?.hashPolicy, [{ header: { headerName: 'x-user' } }]);
  assert.equal(res.clusters.find((c) => c.name === sim.cluster)?.lbPolicy, 'RING_HASH');
});

test('DR-03 VirtualService routes take the hash policy of the subset they go to', () => {
  const vs = yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: reviews, namespace: default }
    spec:
      hosts: [reviews]
      http:
      - route: [{ destination: { host: reviews, subset: v2 } }]
  `;
  const { route } = routeFor(resourcesFor({ manifests: BASE + vs, pods: PODS }, CLIENT), 15001, 'reviews:9080');
  assert.equal(route.route?.cluster, 'outbound|9080|v2|reviews.default.svc.cluster.local');
  assert.deepEqual(route.route?.hashPolicy, [{ cookie: { name: 'session', ttl: '60s' } }]);
});

test('DR-03 gateway routes to the host hash too', () => {
  const gw = yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: { name: web, namespace: default }
    spec:
      selector: { istio: ingressgateway }
      servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ['*'] }]
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: edge, namespace: default }
    spec:
      hosts: [reviews.example.com]
      gateways: [web]
      http:
      - route: [{ destination: { host: reviews, subset: v1 } }]
  `;
  const { route } = routeFor(resourcesFor({ manifests: BASE + gw, pods: PODS }), 8080, 'reviews.example.com');
  assert.deepEqual(route.route?.hashPolicy, [{ header: { headerName: 'x-user' } }]);
});
