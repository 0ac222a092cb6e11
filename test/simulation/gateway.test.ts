// Simulation tables for the ingress gateway (Istio `router` proxy): Gateway/VirtualService
// binding (IG-03, VS-02), listener ports as `strait up` binds them (80 → 8080), and HTTP route
// matching (VS-03 … VS-12). Each row feeds manifests to the generators and sends one simulated
// request through the data plane's own route table (see simulate.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY_POD, buildSnapshot, pick, pod, resourcesFor, yaml } from './mesh.js';
import { simulate } from './simulate.js';
import type { Call, SimResult } from './simulate.js';

const BACKEND = 'outbound|8080||backend.default.svc.cluster.local';
const CANARY = 'outbound|8080||canary.default.svc.cluster.local';
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';
const PROD_BACKEND = 'outbound|7070||backend.prod.svc.cluster.local';

/** Services and pods every row shares; rows add Gateways and VirtualServices. */
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
  metadata: { name: reviews, namespace: default }
  spec:
    selector: { app: reviews }
    ports: [{ name: http, port: 9080 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: multi, namespace: default }
  spec:
    selector: { app: multi }
    ports: [{ name: http, port: 8080 }, { name: http-admin, port: 8081 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: backend, namespace: prod }
  spec:
    selector: { app: backend }
    ports: [{ name: http, port: 7070 }]
`;

const PODS = [
  pod('backend-0', 'default', '127.0.0.2'),
  pod('backend-1', 'default', '127.0.0.3'),
  pod('backend-2', 'default', '127.0.0.4', { ready: false }),
  pod('canary-0', 'default', '127.0.0.5'),
  pod('reviews-0', 'default', '127.0.0.6'),
  pod('backend-0', 'prod', '127.0.1.2'),
];

/** Gateway `web` in `ns` on port 80 (bound as 8080) with the given server hosts. */
function gateway(hosts: string[], ns = 'default', name = 'web', selector = 'ingressgateway'): string {
  return yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: { name: ${name}, namespace: ${ns} }
    spec:
      selector: { istio: ${selector} }
      servers:
      - port: { number: 80, name: http, protocol: HTTP }
        hosts: ${JSON.stringify(hosts)}
  `;
}

/** A VirtualService with one catch-all rule to `dest`. */
function vs(name: string, ns: string, hosts: string[], gateways: string[] | undefined, dest = 'backend'): string {
  return yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: ${name}, namespace: ${ns} }
    spec:
      hosts: ${JSON.stringify(hosts)}
      ${gateways ? `gateways: ${JSON.stringify(gateways)}` : ''}
      http:
      - route: [{ destination: { host: ${dest} } }]
  `;
}

interface Row {
  readonly name: string;
  /** Gateways and VirtualServices, appended to SERVICES. */
  readonly config: string;
  readonly call: Partial<Call> & { authority: string };
  readonly want: Partial<SimResult>;
  /** Set when the row shows a generator bug (reported, not fixed here). */
  readonly todo?: string;
}

function run(rows: readonly Row[]): void {
  for (const row of rows) {
    const opts = row.todo ? { todo: row.todo } : {};
    test(row.name, opts, () => {
      const resources = resourcesFor({ manifests: SERVICES + row.config, pods: PODS });
      const got = simulate(resources, { port: 8080, path: '/', ...row.call });
      assert.deepEqual(pick(got, row.want), row.want, `simulated: ${JSON.stringify(got)}`);
    });
  }
}

// ---- IG-03 / VS-02: which VirtualServices a gateway server serves ------------------------------

run([
  {
    name: 'IG-03 server host "*" binds a VirtualService host; the virtual host is named host:serverPort',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { listener: '0.0.0.0_8080', routeConfig: 'http.8080', virtualHost: 'shop.example.com:80', cluster: BACKEND, clusterExists: true },
  },
  {
    name: 'IG-03 server host "*" does not serve hosts no VirtualService names (NR)',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'blog.example.com' },
    want: { error: 'NR', virtualHost: undefined, cluster: undefined },
  },
  {
    name: 'IG-03 an exact server host binds the same VirtualService host',
    config: gateway(['shop.example.com']) + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { virtualHost: 'shop.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-03 an exact server host does not bind a VirtualService for another host (NR)',
    config: gateway(['shop.example.com']) + vs('blog', 'default', ['blog.example.com'], ['web']),
    call: { authority: 'blog.example.com' },
    want: { error: 'NR', cluster: undefined },
  },
  {
    name: 'IG-03 server host *.example.com accepts VirtualService host dev.example.com',
    config: gateway(['*.example.com']) + vs('dev', 'default', ['dev.example.com'], ['web']),
    call: { authority: 'dev.example.com' },
    want: { virtualHost: 'dev.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-03 server host *.example.com does not accept VirtualService host example.com (NR)',
    config: gateway(['*.example.com']) + vs('apex', 'default', ['example.com'], ['web']),
    call: { authority: 'example.com' },
    want: { error: 'NR', cluster: undefined },
  },
  {
    name: 'IG-03 VirtualService host "*" on server *.example.com serves the server wildcard (dev.example.com)',
    config: gateway(['*.example.com']) + vs('any', 'default', ['*'], ['web']),
    call: { authority: 'dev.example.com' },
    want: { virtualHost: '*.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-03 VirtualService host "*" on server *.example.com does not serve example.org (NR)',
    config: gateway(['*.example.com']) + vs('any', 'default', ['*'], ['web']),
    call: { authority: 'example.org' },
    want: { error: 'NR' },
  },
  {
    name: 'IG-03 VirtualService host *.example.com on server "*" matches a one-label-deeper host',
    config: gateway(['*']) + vs('wild', 'default', ['*.example.com'], ['web']),
    call: { authority: 'a.b.example.com' },
    want: { virtualHost: '*.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-03 VirtualService host "*" on a server with hosts [a.example.com, b.example.com] serves the first',
    config: gateway(['a.example.com', 'b.example.com']) + vs('any', 'default', ['*'], ['web']),
    call: { authority: 'a.example.com' },
    want: { virtualHost: 'a.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-03 VirtualService host "*" on a server with hosts [a.example.com, b.example.com] serves the second too',
    config: gateway(['a.example.com', 'b.example.com']) + vs('any', 'default', ['*'], ['web']),
    call: { authority: 'b.example.com' },
    want: { virtualHost: 'b.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-03 VirtualService host *.example.com on server hosts [a.example.com, b.example.com] serves b.example.com too',
    config: gateway(['a.example.com', 'b.example.com']) + vs('wild', 'default', ['*.example.com'], ['web']),
    call: { authority: 'b.example.com' },
    want: { virtualHost: 'b.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-03 "prod/*" binds a VirtualService in namespace prod (short destination resolved in prod)',
    config: gateway(['prod/*'], 'istio-system') + vs('shop', 'prod', ['shop.example.com'], ['istio-system/web']),
    call: { authority: 'shop.example.com' },
    want: { cluster: PROD_BACKEND, endpoints: ['127.0.1.2:7070'] },
  },
  {
    name: 'IG-03 "prod/*" does not bind a VirtualService in namespace default (NR)',
    config: gateway(['prod/*'], 'istio-system') + vs('shop', 'default', ['shop.example.com'], ['istio-system/web']),
    call: { authority: 'shop.example.com' },
    want: { error: 'NR' },
  },
  {
    name: 'IG-03 "prod/shop.example.com" needs both the namespace and the host to agree',
    config: gateway(['prod/shop.example.com'], 'istio-system') + vs('blog', 'prod', ['blog.example.com'], ['istio-system/web']),
    call: { authority: 'blog.example.com' },
    want: { error: 'NR' },
  },
  {
    name: 'IG-03 "./*" binds a VirtualService in the Gateway\'s own namespace',
    config: gateway(['./*'], 'default') + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { cluster: BACKEND },
  },
  {
    name: 'IG-03 "./*" does not bind a VirtualService from another namespace (NR)',
    config: gateway(['./*'], 'default') + vs('shop', 'prod', ['shop.example.com'], ['default/web']),
    call: { authority: 'shop.example.com' },
    want: { error: 'NR' },
  },
  {
    name: 'IG-03 "*/shop.example.com" binds from any namespace',
    config: gateway(['*/shop.example.com'], 'istio-system') + vs('shop', 'prod', ['shop.example.com'], ['istio-system/web']),
    call: { authority: 'shop.example.com' },
    want: { cluster: PROD_BACKEND },
  },
  {
    name: 'VS-02 gateways: [web] binds to Gateway web of the VirtualService\'s namespace',
    config: gateway(['*'], 'default') + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { cluster: BACKEND },
  },
  {
    name: 'VS-02 gateways: [istio-system/web] binds across namespaces',
    config: gateway(['*'], 'istio-system') + vs('shop', 'default', ['shop.example.com'], ['istio-system/web']),
    call: { authority: 'shop.example.com' },
    want: { cluster: BACKEND },
  },
  {
    name: 'VS-02 gateways: [web] does not find Gateway web in another namespace (NR)',
    config: gateway(['*'], 'istio-system') + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { error: 'NR' },
  },
  {
    name: 'VS-02 a VirtualService without gateways (mesh only) is not served by the gateway (NR)',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], undefined),
    call: { authority: 'shop.example.com' },
    want: { error: 'NR' },
  },
  {
    name: 'VS-02 gateways: [mesh, web] is served by the gateway too',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], ['mesh', 'web']),
    call: { authority: 'shop.example.com' },
    want: { cluster: BACKEND },
  },
  {
    name: 'IG-01 a VirtualService bound to a second Gateway that also selects this proxy is served on the shared port',
    config: gateway(['*']) + gateway(['*'], 'default', 'other') + vs('shop', 'default', ['shop.example.com'], ['other']),
    call: { authority: 'shop.example.com' },
    want: { cluster: BACKEND },
  },
  {
    name: 'IG-01 a Gateway without a selector applies to the ingress gateway (Istio: every gateway proxy)',
    config: yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: { name: web, namespace: default }
      spec:
        servers:
        - port: { number: 80, name: http, protocol: HTTP }
          hosts: ["*"]
    ` + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { listener: '0.0.0.0_8080', cluster: BACKEND },
  },
  {
    name: 'VS-02 a VirtualService bound to a Gateway that selects other proxies is not served here (NR)',
    config: gateway(['*']) + gateway(['*'], 'default', 'other', 'eastwestgateway') + vs('shop', 'default', ['shop.example.com'], ['other']) + vs('blog', 'default', ['blog.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { error: 'NR' },
  },
]);

// ---- listener ports: servers by bind port, Host headers with ports -----------------------------

const TWO_SERVERS = yaml`
  ---
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: web, namespace: default }
  spec:
    selector: { istio: ingressgateway }
    servers:
    - port: { number: 80, name: http-a, protocol: HTTP }
      hosts: [a.example.com]
    - port: { number: 80, name: http-b, protocol: HTTP }
      hosts: [b.example.com]
    - port: { number: 9000, name: http-admin, protocol: HTTP }
      hosts: [admin.example.com]
` + vs('a', 'default', ['a.example.com', 'b.example.com'], ['web'], 'backend')
  + vs('b', 'default', ['b.example.com'], ['web'], 'reviews')
  + vs('admin', 'default', ['admin.example.com'], ['web'], 'canary');

run([
  {
    name: 'IG-02 two servers on port 80: the first server\'s host routes on the shared listener',
    config: TWO_SERVERS,
    call: { authority: 'a.example.com' },
    want: { listener: '0.0.0.0_8080', routeConfig: 'http.8080', virtualHost: 'a.example.com:80', cluster: BACKEND },
  },
  {
    name: 'IG-02 two servers on port 80: the second server\'s host routes on the same listener (VS hosts outside the server are ignored)',
    config: TWO_SERVERS,
    call: { authority: 'b.example.com' },
    // VirtualService `a` also names b.example.com, and both servers are on port 80: `a` binds
    // b.example.com through server http-b, merged before `b` in load order (first match wins).
    want: { virtualHost: 'b.example.com:80', cluster: BACKEND },
  },
  {
    name: 'port 80 is bound as 8080 by the gateway Service: nothing listens on 80',
    config: TWO_SERVERS,
    call: { port: 80, authority: 'a.example.com' },
    want: { error: 'listener_not_found', listener: undefined },
  },
  {
    name: 'port 9000 (not below 1024) is bound as itself, with route config http.9000',
    config: TWO_SERVERS,
    call: { port: 9000, authority: 'admin.example.com' },
    want: { listener: '0.0.0.0_9000', routeConfig: 'http.9000', virtualHost: 'admin.example.com:9000', cluster: CANARY },
  },
  {
    name: 'a host served on port 9000 is not served on 8080 (NR)',
    config: TWO_SERVERS,
    call: { port: 8080, authority: 'admin.example.com' },
    want: { error: 'NR', routeConfig: 'http.8080' },
  },
  {
    name: 'Host with a port (shop.example.com:8080) matches through the shop.example.com:* domain',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com:8080' },
    want: { virtualHost: 'shop.example.com:80', cluster: BACKEND },
  },
  {
    name: 'Host with the server port (shop.example.com:80) matches too',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com:80' },
    want: { virtualHost: 'shop.example.com:80', cluster: BACKEND },
  },
  {
    name: 'Host matching is case-insensitive (SHOP.Example.COM)',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'SHOP.Example.COM' },
    want: { cluster: BACKEND },
  },
  {
    name: 'a VirtualService host "*" on server "*" catches any Host, with or without a port',
    config: gateway(['*']) + vs('any', 'default', ['*'], ['web']),
    call: { authority: 'whatever.test:8080' },
    want: { virtualHost: '*:80', cluster: BACKEND },
  },
  {
    name: 'Host with a port on a wildcard host (dev.example.com:8080 against *.example.com) routes',
    config: gateway(['*.example.com']) + vs('dev', 'default', ['*.example.com'], ['web']),
    call: { authority: 'dev.example.com:8080' },
    want: { virtualHost: '*.example.com:80', cluster: BACKEND },
  },
  {
    name: 'servers on ports 80 and 8080 both bind listener 8080 and still compile into one valid route table',
    config: yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: { name: web, namespace: default }
      spec:
        selector: { istio: ingressgateway }
        servers:
        - port: { number: 80, name: http, protocol: HTTP }
          hosts: ["*"]
        - port: { number: 8080, name: http-alt, protocol: HTTP }
          hosts: ["*"]
    ` + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { error: undefined, cluster: BACKEND },
  },
]);

test('two servers on one port give one listener and one route configuration', () => {
  const r = resourcesFor({ manifests: SERVICES + TWO_SERVERS, pods: PODS });
  assert.deepEqual(r.listeners.map((l) => l.name), ['0.0.0.0_8080', '0.0.0.0_9000']);
  assert.deepEqual(r.routes.map((rc) => rc.name), ['http.8080', 'http.9000']);
  assert.deepEqual(r.routes[0]!.virtualHosts.map((vh) => vh.name), ['a.example.com:80', 'b.example.com:80']);
});

test('a gateway proxy whose labels no Gateway selects gets no listeners', () => {
  const input = { manifests: SERVICES + gateway(['*'], 'default', 'web', 'eastwestgateway') + vs('shop', 'default', ['shop.example.com'], ['web']), pods: PODS };
  assert.equal(buildSnapshot(input).gateways.length, 1, 'the Gateway itself is loaded');
  const r = resourcesFor(input);
  assert.deepEqual(r.listeners, []);
  assert.deepEqual(r.routes, []);
  assert.equal(simulate(r, { port: 8080, authority: 'shop.example.com', path: '/' }).error, 'listener_not_found');
});

// ---- VS-03 … VS-12: HTTP matching and destinations ---------------------------------------------

/** A VirtualService `shop` on Gateway web (host *) with the given http rules, indented as YAML. */
function rules(http: string): string {
  const body = http.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n');
  return gateway(['*']) + yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: shop, namespace: default }
    spec:
      hosts: [shop.example.com]
      gateways: [web]
      http:
  ` + body + '\n';
}

const URI_RULES = rules(yaml`
  - name: login
    match: [{ uri: { exact: /login } }]
    route: [{ destination: { host: canary } }]
  - name: api
    match: [{ uri: { prefix: /api } }]
    route: [{ destination: { host: reviews } }]
  - name: admin
    match: [{ uri: { prefix: /Admin }, ignoreUriCase: true }, { uri: { exact: /ADMIN.html }, ignoreUriCase: true }]
    route: [{ destination: { host: multi, port: { number: 8081 } } }]
  - name: default
    route: [{ destination: { host: backend } }]
`);

const MULTI_ADMIN = 'outbound|8081||multi.default.svc.cluster.local';

run([
  { name: 'VS-06 uri exact /login matches /login', config: URI_RULES, call: { authority: 'shop.example.com', path: '/login' }, want: { route: 'login', cluster: CANARY } },
  { name: 'VS-06 uri exact /login ignores the query string (/login?next=/home)', config: URI_RULES, call: { authority: 'shop.example.com', path: '/login?next=/home' }, want: { route: 'login', cluster: CANARY } },
  { name: 'VS-06 uri exact /login does not match /login/extra', config: URI_RULES, call: { authority: 'shop.example.com', path: '/login/extra' }, want: { route: 'default', cluster: BACKEND } },
  { name: 'VS-06 uri exact /login does not match /Login (case-sensitive)', config: URI_RULES, call: { authority: 'shop.example.com', path: '/Login' }, want: { route: 'default', cluster: BACKEND } },
  { name: 'VS-06 uri prefix /api matches /api/v1/items', config: URI_RULES, call: { authority: 'shop.example.com', path: '/api/v1/items' }, want: { route: 'api', cluster: REVIEWS } },
  { name: 'VS-06 uri prefix /api is a string prefix, so it matches /apiv2 too (as in Istio)', config: URI_RULES, call: { authority: 'shop.example.com', path: '/apiv2' }, want: { route: 'api', cluster: REVIEWS } },
  { name: 'VS-06 uri prefix /api is case-sensitive: /API/v1 falls through', config: URI_RULES, call: { authority: 'shop.example.com', path: '/API/v1' }, want: { route: 'default', cluster: BACKEND } },
  { name: 'VS-10 ignoreUriCase makes prefix /Admin match /admin/users', config: URI_RULES, call: { authority: 'shop.example.com', path: '/admin/users' }, want: { route: 'admin', cluster: MULTI_ADMIN } },
  { name: 'VS-10 ignoreUriCase makes exact /ADMIN.html match /admin.HTML', config: URI_RULES, call: { authority: 'shop.example.com', path: '/admin.HTML' }, want: { route: 'admin', cluster: MULTI_ADMIN } },
  { name: 'VS-03 a rule without match catches everything else', config: URI_RULES, call: { authority: 'shop.example.com', path: '/other' }, want: { route: 'default', routeIndex: 4, cluster: BACKEND } },
]);

const HEADER_RULES = rules(yaml`
  - name: jason
    match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: canary } }]
  - name: beta
    match: [{ headers: { x-version: { prefix: v2 } } }]
    route: [{ destination: { host: reviews } }]
  - name: debug
    match: [{ headers: { x-debug: {} } }]
    route: [{ destination: { host: backend.prod } }]
  - name: post
    match: [{ method: { exact: POST } }]
    route: [{ destination: { host: multi, port: { number: 8081 } } }]
  - name: and
    match: [{ uri: { prefix: /both }, headers: { x-a: { exact: "1" } } }]
    route: [{ destination: { host: reviews } }]
  - name: or
    match: [{ uri: { prefix: /either } }, { headers: { x-b: { exact: "1" } } }]
    route: [{ destination: { host: canary } }]
  - name: default
    route: [{ destination: { host: backend } }]
`);

run([
  { name: 'VS-07 header exact end-user: jason matches', config: HEADER_RULES, call: { authority: 'shop.example.com', headers: { 'end-user': 'jason' } }, want: { route: 'jason', cluster: CANARY } },
  { name: 'VS-07 header names match case-insensitively (End-User: jason)', config: HEADER_RULES, call: { authority: 'shop.example.com', headers: { 'End-User': 'jason' } }, want: { route: 'jason', cluster: CANARY } },
  { name: 'VS-06 header values are case-sensitive (end-user: Jason falls through)', config: HEADER_RULES, call: { authority: 'shop.example.com', headers: { 'end-user': 'Jason' } }, want: { route: 'default', cluster: BACKEND } },
  { name: 'VS-07 header prefix x-version: v2 matches v2-beta', config: HEADER_RULES, call: { authority: 'shop.example.com', headers: { 'x-version': 'v2-beta' } }, want: { route: 'beta', cluster: REVIEWS } },
  { name: 'VS-07 header prefix x-version: v2 does not match v1', config: HEADER_RULES, call: { authority: 'shop.example.com', headers: { 'x-version': 'v1' } }, want: { route: 'default', cluster: BACKEND } },
  { name: 'VS-07 header presence {} matches any value, even empty', config: HEADER_RULES, call: { authority: 'shop.example.com', headers: { 'x-debug': '' } }, want: { route: 'debug', cluster: PROD_BACKEND } },
  { name: 'VS-07 header presence {} does not match when the header is absent', config: HEADER_RULES, call: { authority: 'shop.example.com', headers: {} }, want: { route: 'default', cluster: BACKEND } },
  { name: 'VS-06 method exact POST matches POST', config: HEADER_RULES, call: { authority: 'shop.example.com', method: 'POST' }, want: { route: 'post', cluster: MULTI_ADMIN } },
  { name: 'VS-06 method exact POST does not match GET', config: HEADER_RULES, call: { authority: 'shop.example.com', method: 'GET' }, want: { route: 'default', cluster: BACKEND } },
  { name: 'VS-05 conditions in one match block are ANDed (uri without header falls through)', config: HEADER_RULES, call: { authority: 'shop.example.com', path: '/both' }, want: { route: 'default' } },
  { name: 'VS-05 conditions in one match block are ANDed (uri and header match)', config: HEADER_RULES, call: { authority: 'shop.example.com', path: '/both', headers: { 'x-a': '1' } }, want: { route: 'and', cluster: REVIEWS } },
  { name: 'VS-05 match blocks are ORed (first block)', config: HEADER_RULES, call: { authority: 'shop.example.com', path: '/either' }, want: { route: 'or', cluster: CANARY } },
  { name: 'VS-05 match blocks are ORed (second block)', config: HEADER_RULES, call: { authority: 'shop.example.com', path: '/x', headers: { 'x-b': '1' } }, want: { route: 'or', cluster: CANARY } },
  { name: 'VS-03 first match wins: a request matching two rules takes the earlier one', config: HEADER_RULES, call: { authority: 'shop.example.com', method: 'POST', headers: { 'end-user': 'jason' } }, want: { route: 'jason', cluster: CANARY } },
]);

run([
  {
    name: 'VS-03 first match wins: a catch-all first rule shadows a later /api rule',
    config: rules(yaml`
      - name: all
        route: [{ destination: { host: backend } }]
      - name: api
        match: [{ uri: { prefix: /api } }]
        route: [{ destination: { host: reviews } }]
    `),
    call: { authority: 'shop.example.com', path: '/api/x' },
    want: { route: 'all', routeIndex: 0, cluster: BACKEND },
  },
  {
    name: 'VS-03 a request that matches no rule gets NR, inside the virtual host',
    config: rules(yaml`
      - match: [{ uri: { prefix: /api } }]
        route: [{ destination: { host: reviews } }]
    `),
    call: { authority: 'shop.example.com', path: '/web' },
    want: { virtualHost: 'shop.example.com:80', error: 'NR', cluster: undefined },
  },
  {
    name: 'VS-12 weighted destinations list every cluster with its weight',
    config: rules(yaml`
      - route:
        - { destination: { host: backend }, weight: 90 }
        - { destination: { host: canary }, weight: 10 }
    `),
    call: { authority: 'shop.example.com' },
    want: { weightedClusters: [{ name: BACKEND, weight: 90 }, { name: CANARY, weight: 10 }], cluster: undefined, clusterExists: true },
  },
  {
    name: 'VS-12 weights are relative: 1/1/2 across three destinations',
    config: rules(yaml`
      - route:
        - { destination: { host: backend }, weight: 1 }
        - { destination: { host: canary }, weight: 1 }
        - { destination: { host: reviews }, weight: 2 }
    `),
    call: { authority: 'shop.example.com' },
    want: { weightedClusters: [{ name: BACKEND, weight: 1 }, { name: CANARY, weight: 1 }, { name: REVIEWS, weight: 2 }] },
  },
  {
    name: 'VS-12 a destination without a weight among weighted ones receives no traffic (weight 0)',
    config: rules(yaml`
      - route:
        - { destination: { host: backend }, weight: 100 }
        - { destination: { host: canary } }
    `),
    call: { authority: 'shop.example.com' },
    want: { weightedClusters: [{ name: BACKEND, weight: 100 }, { name: CANARY, weight: 0 }] },
  },
  {
    name: 'VS-12 destination port defaults to the service\'s only port (reviews → 9080)',
    config: rules(yaml`
      - route: [{ destination: { host: reviews } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: REVIEWS, clusterExists: true, endpoints: ['127.0.0.6:9080'] },
  },
  {
    name: 'VS-12 an explicit destination port picks that port of a multi-port service',
    config: rules(yaml`
      - route: [{ destination: { host: multi, port: { number: 8081 } } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: MULTI_ADMIN, clusterExists: true },
  },
  {
    name: 'VS-12 a multi-port service without a destination port gets the gateway server port, as in Istio (no such cluster)',
    config: rules(yaml`
      - route: [{ destination: { host: multi } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: 'outbound|80||multi.default.svc.cluster.local', clusterExists: false },
  },
  {
    name: 'VS-01 a short destination name resolves in the VirtualService namespace (default → backend.default)',
    config: rules(yaml`
      - route: [{ destination: { host: backend } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: BACKEND, endpoints: ['127.0.0.2:9000', '127.0.0.3:9000'] },
  },
  {
    name: 'VS-01 destination name.namespace resolves to that namespace (backend.prod)',
    config: rules(yaml`
      - route: [{ destination: { host: backend.prod } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: PROD_BACKEND, clusterExists: true },
  },
  {
    name: 'VS-01 a fully qualified destination is taken as written',
    config: rules(yaml`
      - route: [{ destination: { host: backend.prod.svc.cluster.local } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: PROD_BACKEND, clusterExists: true },
  },
  {
    name: 'VS-12 a destination subset names the subset cluster, which no DestinationRule defines (clusterExists false)',
    config: rules(yaml`
      - route: [{ destination: { host: backend, subset: v1 } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: 'outbound|8080|v1|backend.default.svc.cluster.local', clusterExists: false, endpoints: undefined },
  },
  {
    name: 'VS-12 a destination that is no service names a cluster that does not exist (clusterExists false)',
    config: rules(yaml`
      - route: [{ destination: { host: nowhere } }]
    `),
    call: { authority: 'shop.example.com' },
    want: { cluster: 'outbound|80||nowhere.default.svc.cluster.local', clusterExists: false },
  },
  {
    name: 'endpoints are the ready pods of the service at their target port (backend-2 is not ready)',
    config: gateway(['*']) + vs('shop', 'default', ['shop.example.com'], ['web']),
    call: { authority: 'shop.example.com' },
    want: { endpoints: ['127.0.0.2:9000', '127.0.0.3:9000'] },
  },
  {
    name: 'two VirtualServices for one host on one gateway are merged in load order (second one\'s rule reachable)',
    config: gateway(['*']) + yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: { name: shop-api, namespace: default }
      spec:
        hosts: [shop.example.com]
        gateways: [web]
        http:
        - match: [{ uri: { prefix: /api } }]
          route: [{ destination: { host: reviews } }]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: { name: shop-web, namespace: default }
      spec:
        hosts: [shop.example.com]
        gateways: [web]
        http:
        - match: [{ uri: { prefix: /web } }]
          route: [{ destination: { host: canary } }]
    `,
    call: { authority: 'shop.example.com', path: '/web/index.html' },
    want: { virtualHost: 'shop.example.com:80', routeIndex: 1, cluster: CANARY },
  },
]);

test('the gateway pod itself is the implicit gateway Service\'s endpoint, at the bind port', () => {
  const r = resourcesFor({ manifests: SERVICES + gateway(['*']), pods: PODS });
  const cla = r.endpoints.find((e) => e.clusterName === 'outbound|80||istio-ingressgateway.istio-system.svc.cluster.local');
  assert.deepEqual(cla?.endpoints.flatMap((l) => l.lbEndpoints.map((e) => e.endpoint.address.socketAddress)), [{ address: GATEWAY_POD.ip, portValue: 8080 }]);
});
