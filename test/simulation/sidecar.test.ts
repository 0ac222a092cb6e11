// Simulation tables for sidecars in local mode: the workload uses its sidecar as HTTP_PROXY, so
// every outbound request arrives on the `virtualOutbound` listener (15001) and is routed by its
// authority over port-qualified service domains (bare names only for port 80), with unknown hosts
// passed through (ALLOW_ANY); inbound, one listener per served port forwards to 127.0.0.1.
// Also: mesh VirtualServices (VS-02), workload-selecting matches (VS-11), exportTo (VS-04).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Workload } from '../../src/registry/registry.js';
import { pick, pod, resourcesFor, yaml } from './mesh.js';
import { simulate } from './simulate.js';
import type { Call, SimResult } from './simulate.js';

const BACKEND = 'outbound|8080||backend.default.svc.cluster.local';
const BACKEND_VH = 'backend.default.svc.cluster.local:8080';
const CANARY = 'outbound|8080||canary.default.svc.cluster.local';
const WEB = 'outbound|80||web.default.svc.cluster.local';
const DB = 'outbound|80||db.prod.svc.cluster.local';
const PROD_BACKEND = 'outbound|7070||backend.prod.svc.cluster.local';
const PASSTHROUGH = { virtualHost: 'allow_any', route: 'allow_any', cluster: 'PassthroughCluster', clusterExists: true } as const;

const SERVICES = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: prod }
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: backend, namespace: default }
  spec:
    selector: { app: backend }
    ports: [{ name: http, port: 8080, targetPort: 9000 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: canary, namespace: default }
  spec:
    selector: { app: canary }
    ports: [{ name: http, port: 8080 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: web, namespace: default }
  spec:
    selector: { app: web }
    ports: [{ name: http, port: 80, targetPort: 8000 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: frontend, namespace: default }
  spec:
    selector: { app: frontend }
    ports: [{ name: http, port: 80, targetPort: http-app }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: multi, namespace: default }
  spec:
    selector: { app: multi }
    ports: [{ name: http, port: 8080 }, { name: grpc, port: 9090 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: db, namespace: prod }
  spec:
    selector: { app: db }
    ports: [{ name: http, port: 80 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: backend, namespace: prod }
  spec:
    selector: { app: backend }
    ports: [{ name: http, port: 7070 }]
`;

const FRONTEND = pod('frontend-0', 'default', '127.0.0.10', { ports: [{ name: 'http-app', port: 3000 }, { name: 'metrics', port: 9100 }] });
const OTHER = pod('other-0', 'default', '127.0.0.11', { labels: { app: 'other' } });
const OPS = pod('ops-0', 'prod', '127.0.1.10', { labels: { app: 'ops' } });
const BACKEND_0 = pod('backend-0', 'default', '127.0.0.2');

const PODS = [
  FRONTEND,
  OTHER,
  OPS,
  BACKEND_0,
  pod('backend-1', 'default', '127.0.0.3'),
  pod('backend-2', 'default', '127.0.0.4', { ready: false }),
  pod('canary-0', 'default', '127.0.0.5'),
  pod('web-0', 'default', '127.0.0.6'),
  pod('db-0', 'prod', '127.0.1.2'),
  pod('backend-0', 'prod', '127.0.1.3'),
];

/** Gateway `web` in istio-system on port 80, selecting the ingress gateway pod. */
const GATEWAY = yaml`
  ---
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: web, namespace: istio-system }
  spec:
    selector: { istio: ingressgateway }
    servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: ["*"]
`;

interface Row {
  readonly name: string;
  /** Extra manifests (VirtualServices, Gateways), appended to SERVICES. */
  readonly config?: string;
  /** Whose sidecar receives the request (default: frontend-0 in default). */
  readonly from?: Workload;
  readonly call: Partial<Call> & { authority: string };
  readonly want: Partial<SimResult>;
}

function run(rows: readonly Row[]): void {
  for (const row of rows) {
    test(row.name, () => {
      const resources = resourcesFor({ manifests: SERVICES + (row.config ?? ''), pods: PODS }, row.from ?? FRONTEND);
      const got = simulate(resources, { port: 15001, path: '/', ...row.call });
      assert.deepEqual(pick(got, row.want), row.want, `simulated: ${JSON.stringify(got)}`);
    });
  }
}

// ---- outbound: service names as a workload writes them ------------------------------------------

run([
  {
    name: 'outbound backend:8080 routes to the backend cluster over virtualOutbound, with the ready endpoints',
    call: { authority: 'backend:8080' },
    want: { listener: 'virtualOutbound', routeConfig: 'virtualOutbound', virtualHost: BACKEND_VH, cluster: BACKEND, clusterExists: true, endpoints: ['127.0.0.2:9000', '127.0.0.3:9000'] },
  },
  { name: 'outbound backend.default:8080 routes to backend', call: { authority: 'backend.default:8080' }, want: { virtualHost: BACKEND_VH, cluster: BACKEND } },
  { name: 'outbound backend.default.svc:8080 routes to backend', call: { authority: 'backend.default.svc:8080' }, want: { virtualHost: BACKEND_VH, cluster: BACKEND } },
  { name: 'outbound backend.default.svc.cluster.local:8080 routes to backend', call: { authority: 'backend.default.svc.cluster.local:8080' }, want: { virtualHost: BACKEND_VH, cluster: BACKEND } },
  { name: 'outbound authority matching is case-insensitive (Backend.Default:8080)', call: { authority: 'Backend.Default:8080' }, want: { cluster: BACKEND } },
  { name: 'outbound bare backend (implying port 80) does not reach a service on 8080: passthrough', call: { authority: 'backend' }, want: PASSTHROUGH },
  { name: 'outbound backend:9999 (a port the service lacks) passes through', call: { authority: 'backend:9999' }, want: PASSTHROUGH },
  { name: 'outbound bare web routes to a port-80 service', call: { authority: 'web' }, want: { virtualHost: 'web.default.svc.cluster.local:80', cluster: WEB, endpoints: ['127.0.0.6:8000'] } },
  { name: 'outbound web:80 routes to the port-80 service', call: { authority: 'web:80' }, want: { cluster: WEB } },
  { name: 'outbound bare web.default.svc.cluster.local routes to the port-80 service', call: { authority: 'web.default.svc.cluster.local' }, want: { cluster: WEB } },
  { name: 'outbound short name db does not reach prod/db from namespace default: passthrough', call: { authority: 'db' }, want: PASSTHROUGH },
  { name: 'outbound db.prod reaches prod/db from namespace default', call: { authority: 'db.prod' }, want: { cluster: DB, endpoints: ['127.0.1.2:80'] } },
  { name: 'outbound db.prod.svc.cluster.local:80 reaches prod/db', call: { authority: 'db.prod.svc.cluster.local:80' }, want: { cluster: DB } },
  { name: 'outbound short name db reaches prod/db from a proxy in prod', from: OPS, call: { authority: 'db' }, want: { cluster: DB } },
  { name: 'outbound short name backend:7070 from prod means prod/backend', from: OPS, call: { authority: 'backend:7070' }, want: { cluster: PROD_BACKEND } },
  { name: 'outbound short name backend:8080 from prod does not mean default/backend: passthrough', from: OPS, call: { authority: 'backend:8080' }, want: PASSTHROUGH },
  { name: 'outbound backend.default:8080 from prod reaches default/backend', from: OPS, call: { authority: 'backend.default:8080' }, want: { cluster: BACKEND } },
  { name: 'outbound unknown host example.org goes to PassthroughCluster (ALLOW_ANY)', call: { authority: 'example.org' }, want: PASSTHROUGH },
  { name: 'outbound unknown host with a port (example.org:8443) goes to PassthroughCluster', call: { authority: 'example.org:8443', path: '/x?y=1' }, want: PASSTHROUGH },
  { name: 'outbound every port of a multi-port service has its own cluster (multi:9090)', call: { authority: 'multi:9090' }, want: { virtualHost: 'multi.default.svc.cluster.local:9090', cluster: 'outbound|9090||multi.default.svc.cluster.local', clusterExists: true } },
  {
    name: 'the implicit gateway Service (one port per Gateway server port) is reachable by its FQDN from sidecars',
    config: GATEWAY,
    call: { authority: 'istio-ingressgateway.istio-system.svc.cluster.local' },
    want: { cluster: 'outbound|80||istio-ingressgateway.istio-system.svc.cluster.local', endpoints: ['127.0.0.250:8080'] },
  },
]);

// ---- inbound: one listener per served port, forwarding to the workload on 127.0.0.1 -------------

run([
  {
    name: 'inbound: a named targetPort (http-app) resolves to container port 3000, forwarded to 127.0.0.1:3000',
    call: { port: 3000, authority: 'frontend.default.svc.cluster.local' },
    want: { listener: 'inbound_0.0.0.0_3000', routeConfig: 'inbound|3000||', cluster: 'inbound|3000||', clusterExists: true, endpoints: ['127.0.0.1:3000'] },
  },
  {
    name: 'inbound: any Host is accepted on an inbound listener',
    call: { port: 3000, authority: '127.0.0.10:3000', path: '/anything?x=1', method: 'DELETE' },
    want: { cluster: 'inbound|3000||', endpoints: ['127.0.0.1:3000'] },
  },
  {
    name: 'inbound: a declared container port without a Service (metrics 9100) is served too',
    call: { port: 9100, authority: 'frontend-0' },
    want: { listener: 'inbound_0.0.0.0_9100', cluster: 'inbound|9100||', endpoints: ['127.0.0.1:9100'] },
  },
  {
    name: 'inbound: the Service port (80) is not a listener on the pod, only the target port is',
    call: { port: 80, authority: 'frontend' },
    want: { error: 'listener_not_found' },
  },
  {
    name: 'inbound: a numeric targetPort (backend 8080 → 9000) is the inbound port',
    from: BACKEND_0,
    call: { port: 9000, authority: 'backend:8080' },
    want: { listener: 'inbound_0.0.0.0_9000', cluster: 'inbound|9000||', endpoints: ['127.0.0.1:9000'] },
  },
  {
    name: 'inbound: no listener on the Service port 8080 of backend',
    from: BACKEND_0,
    call: { port: 8080, authority: 'backend:8080' },
    want: { error: 'listener_not_found' },
  },
]);

test('inbound: a sidecar gets exactly virtualOutbound plus one inbound listener per served port', () => {
  const r = resourcesFor({ manifests: SERVICES, pods: PODS }, FRONTEND);
  assert.deepEqual(r.listeners.map((l) => `${l.name}@${l.address.socketAddress.portValue}`), ['virtualOutbound@15001', 'inbound_0.0.0.0_3000@3000', 'inbound_0.0.0.0_9100@9100']);
  assert.deepEqual(r.clusters.filter((c) => c.name.startsWith('inbound|')).map((c) => c.name), ['inbound|3000||', 'inbound|9100||']);
});

test('endpoints: only ready workloads are endpoints (backend-2 is not ready)', () => {
  const r = resourcesFor({ manifests: SERVICES, pods: PODS }, FRONTEND);
  const cla = r.endpoints.find((e) => e.clusterName === BACKEND);
  assert.deepEqual(cla?.endpoints.flatMap((l) => l.lbEndpoints.map((e) => e.endpoint.address.socketAddress.address)), ['127.0.0.2', '127.0.0.3']);
  const noneReady = resourcesFor({ manifests: SERVICES, pods: PODS.map((w) => (w.labels.app === 'backend' ? { ...w, ready: false } : w)) }, FRONTEND);
  assert.deepEqual(simulate(noneReady, { port: 15001, authority: 'backend:8080', path: '/' }).endpoints, []);
});

// ---- mesh VirtualServices -----------------------------------------------------------------------

/** A VirtualService for host `backend` in default with the given extra spec lines and http rules. */
function backendVs(spec: string, http: string, name = 'backend', hosts = '[backend]'): string {
  const indent = (s: string) => s.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n');
  return yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: ${name}, namespace: default }
    spec:
      hosts: ${hosts}
  ` + (spec ? indent(spec) + '\n' : '') + '  http:\n' + indent(http) + '\n';
}

const JASON_TO_CANARY = yaml`
  - name: jason
    match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: canary } }]
  - name: rest
    route: [{ destination: { host: backend } }]
`;


run([
  {
    name: 'VS-02 a mesh VirtualService (no gateways) applies on the sidecar: end-user jason → canary',
    config: backendVs('', JASON_TO_CANARY),
    call: { authority: 'backend:8080', headers: { 'end-user': 'jason' } },
    want: { virtualHost: BACKEND_VH, route: 'jason', cluster: CANARY },
  },
  {
    name: 'VS-02 a mesh VirtualService: other users take its later rule to backend',
    config: backendVs('', JASON_TO_CANARY),
    call: { authority: 'backend:8080', headers: { 'end-user': 'mary' } },
    want: { route: 'rest', cluster: BACKEND },
  },
  {
    name: 'VS-01 a mesh VirtualService for short host backend applies to every spelling of the service (FQDN)',
    config: backendVs('', JASON_TO_CANARY),
    call: { authority: 'backend.default.svc.cluster.local:8080', headers: { 'end-user': 'jason' } },
    want: { route: 'jason', cluster: CANARY },
  },
  {
    name: 'VS-02 a gateway-only VirtualService does not apply on the sidecar (default route to backend)',
    config: GATEWAY + backendVs('gateways: [istio-system/web]', JASON_TO_CANARY),
    call: { authority: 'backend:8080', headers: { 'end-user': 'jason' } },
    want: { route: 'default', cluster: BACKEND },
  },
  {
    name: 'VS-02 gateways: [mesh, istio-system/web] applies on the sidecar too',
    config: GATEWAY + backendVs('gateways: [mesh, istio-system/web]', JASON_TO_CANARY),
    call: { authority: 'backend:8080', headers: { 'end-user': 'jason' } },
    want: { route: 'jason', cluster: CANARY },
  },
  {
    name: 'VS-11 a match block limited to gateways: [istio-system/web] is skipped on the sidecar',
    config: GATEWAY + backendVs('gateways: [mesh, istio-system/web]', yaml`
      - name: edge
        match: [{ gateways: [istio-system/web] }]
        route: [{ destination: { host: canary } }]
      - name: rest
        route: [{ destination: { host: backend } }]
    `),
    call: { authority: 'backend:8080' },
    want: { route: 'rest', cluster: BACKEND },
  },
  {
    name: 'VS-11 sourceLabels app: frontend applies on the frontend sidecar',
    config: backendVs('', yaml`
      - name: from-frontend
        match: [{ sourceLabels: { app: frontend } }]
        route: [{ destination: { host: canary } }]
      - name: rest
        route: [{ destination: { host: backend } }]
    `),
    call: { authority: 'backend:8080' },
    want: { route: 'from-frontend', cluster: CANARY },
  },
  {
    name: 'VS-11 sourceLabels app: frontend does not apply on another workload\'s sidecar',
    config: backendVs('', yaml`
      - name: from-frontend
        match: [{ sourceLabels: { app: frontend } }]
        route: [{ destination: { host: canary } }]
      - name: rest
        route: [{ destination: { host: backend } }]
    `),
    from: OTHER,
    call: { authority: 'backend:8080' },
    want: { route: 'rest', cluster: BACKEND },
  },
  {
    name: 'VS-11 sourceNamespace: prod applies only on sidecars in prod',
    config: backendVs('', yaml`
      - name: from-prod
        match: [{ sourceNamespace: prod }]
        route: [{ destination: { host: canary } }]
      - name: rest
        route: [{ destination: { host: backend } }]
    `),
    from: OPS,
    call: { authority: 'backend.default:8080' },
    want: { route: 'from-prod', cluster: CANARY },
  },
  {
    name: 'VS-11 sourceNamespace: prod does not apply on a sidecar in default',
    config: backendVs('', yaml`
      - name: from-prod
        match: [{ sourceNamespace: prod }]
        route: [{ destination: { host: canary } }]
      - name: rest
        route: [{ destination: { host: backend } }]
    `),
    call: { authority: 'backend:8080' },
    want: { route: 'rest', cluster: BACKEND },
  },
  {
    name: 'VS-04 exportTo: ["."] applies in the VirtualService\'s namespace',
    config: backendVs('exportTo: ["."]', JASON_TO_CANARY),
    call: { authority: 'backend:8080', headers: { 'end-user': 'jason' } },
    want: { route: 'jason', cluster: CANARY },
  },
  {
    name: 'VS-04 exportTo: ["."] does not apply from another namespace',
    config: backendVs('exportTo: ["."]', JASON_TO_CANARY),
    from: OPS,
    call: { authority: 'backend.default:8080', headers: { 'end-user': 'jason' } },
    want: { route: 'default', cluster: BACKEND },
  },
  {
    name: 'VS-11 a match port: 9090 block applies only on that service port of a multi-port service',
    config: backendVs('', yaml`
      - name: grpc-only
        match: [{ port: 9090 }]
        route: [{ destination: { host: canary } }]
      - name: rest
        route: [{ destination: { host: multi } }]
    `, 'multi', '[multi]'),
    call: { authority: 'multi:8080' },
    want: { route: 'rest', cluster: 'outbound|8080||multi.default.svc.cluster.local' },
  },
  {
    name: 'VS-12 a destination without a port on a multi-port service keeps the port the request was for (multi:9090)',
    config: backendVs('', yaml`
      - route: [{ destination: { host: multi } }]
    `, 'multi', '[multi]'),
    call: { authority: 'multi:9090' },
    want: { cluster: 'outbound|9090||multi.default.svc.cluster.local', clusterExists: true },
  },
  {
    name: 'VS-01 a mesh VirtualService for an external host (no Service) routes that host on any port',
    config: backendVs('', yaml`
      - route: [{ destination: { host: canary } }]
    `, 'external', '[api.example.com]'),
    call: { authority: 'api.example.com:8443' },
    want: { virtualHost: 'api.example.com:*', cluster: CANARY },
  },
  {
    name: 'sidecars apply only the first VirtualService for a host (no merging): the second one is ignored',
    config: backendVs('', yaml`
      - match: [{ uri: { prefix: /a } }]
        route: [{ destination: { host: backend } }]
    `, 'first') + backendVs('', yaml`
      - match: [{ uri: { prefix: /b } }]
        route: [{ destination: { host: canary } }]
    `, 'second'),
    call: { authority: 'backend:8080', path: '/b' },
    want: { virtualHost: BACKEND_VH, error: 'NR' },
  },
]);

test('§2.13 a container port on the reserved outbound port 15001 does not take over virtualOutbound', () => {
  const clash = pod('clash-0', 'default', '127.0.0.12', { ports: [{ name: 'http', port: 15001 }] });
  const r = resourcesFor({ manifests: SERVICES, pods: [...PODS, clash] }, clash);
  assert.deepEqual(pick(simulate(r, { port: 15001, authority: 'backend:8080', path: '/' }), { listener: 'virtualOutbound', cluster: BACKEND }), { listener: 'virtualOutbound', cluster: BACKEND });
});
