// The semantics table: AuthorizationPolicies go through the generators, and the RBAC filters
// they produce are run by the real RBAC filter (src/filters/http/rbac) over one request, in the
// order the HCM lists them; the first 403 wins (TCP chains: the network RBAC rules through the
// same engine, with no request). So each row checks Istio's documented meaning
// (AZ-02 evaluation order, AZ-03 empty policies, AZ-05..09 matching, AZ-12 dry run) end to end,
// not the shape of the config.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClockForTest } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { newStreamInfo } from '../../src/dataplane/http/stream-info.js';
import { rbacFilterFactory } from '../../src/filters/http/rbac/config.js';
import { compileRbacEngine, engineAllows } from '../../src/filters/http/rbac/engine.js';
import { FakeFilterStream } from '../../src/filters/http/test-support.js';
import type { Workload } from '../../src/registry/registry.js';
import { StatsRegistry } from '../../src/telemetry/stats/stats.js';
import { FOO_SERVICES, HTTPBIN, httpFilters, MYSQL, networkFilters, networkRbacConfigs, SLEEP } from './authz-fixtures.js';
import { GATEWAY_POD, resourcesFor, yaml } from './mesh.js';

interface Request {
  readonly method?: string;
  readonly path?: string;
  readonly authority?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The peer's SPIFFE identity (mTLS), e.g. `cluster.local/ns/foo/sa/sleep`. */
  readonly peer?: string;
  /** The socket peer's address. */
  readonly ip?: string;
  /** The original client address (X-Forwarded-For / PROXY protocol), default `ip`. */
  readonly clientIp?: string;
  /** The verified JWT payload, as the jwt_authn filter leaves it. */
  readonly jwt?: Readonly<Record<string, unknown>>;
  /** The listener's port, default 8000 (httpbin). */
  readonly port?: number;
}

/** 200 when every RBAC filter lets the request through, else the filter's 403. */
function decide(res: ProxyResources, req: Request, stats = new StatsRegistry()): { status: number; details?: string; metadata: Record<string, unknown> } {
  const port = req.port ?? 8000;
  const s = new FakeFilterStream({ method: req.method ?? 'GET', path: req.path ?? '/', authority: req.authority ?? 'httpbin.foo:8000', headers: { ...req.headers }, remoteAddress: req.ip ?? '10.0.0.9' });
  s.info.downstreamRemoteAddress = req.clientIp ?? req.ip ?? '10.0.0.9';
  s.info.downstreamLocalAddress = `127.0.1.2:${port}`;
  if (req.peer) s.info.peerCertificate = { uriSans: [`spiffe://${req.peer}`], dnsSans: [], subject: '', sha256: '', pem: () => '' };
  if (req.jwt) s.info.dynamicMetadata['envoy.filters.http.jwt_authn'] = { payload: req.jwt };
  const ctx = { clock: new ManualClockForTest(), random: seededRandom(1), stats, statPrefix: `inbound_0.0.0.0_${port}` };
  for (const f of httpFilters(res, port)) {
    if (f.name !== 'envoy.filters.http.rbac') continue;
    const reply = rbacFilterFactory.create(f.typedConfig, ctx).onRequestHeaders!(s);
    if (reply && !(reply instanceof Promise)) return { status: reply.status, details: reply.details, metadata: s.info.dynamicMetadata['envoy.filters.http.rbac'] ?? {} };
  }
  return { status: 200, metadata: s.info.dynamicMetadata['envoy.filters.http.rbac'] ?? {} };
}

/** A policy on httpbin; `spec` lines after the first are indented to match. */
const policy = (name: string, spec: string, extra = '') => yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: ${name}, namespace: foo${extra} }
  spec:
    selector: { matchLabels: { app: httpbin } }
    ${spec.replaceAll('\n', '\n    ')}
`;

function httpbinWith(policies: readonly string[], w: Workload = HTTPBIN): ProxyResources {
  return resourcesFor({ manifests: [FOO_SERVICES, ...policies].join('---\n'), pods: [HTTPBIN, SLEEP] }, w);
}

type Row = readonly [string, Request, number];

function table(policies: readonly string[], rows: readonly Row[]): void {
  const res = httpbinWith(policies);
  for (const [name, req, status] of rows) assert.equal(decide(res, req).status, status, name);
}

const SLEEP_ID = 'cluster.local/ns/foo/sa/sleep';
const LEGACY_ID = 'cluster.local/ns/legacy/sa/sleep';

test('no policy: everything is allowed (AZ-02 step 3)', () => {
  table([], [['anything', { method: 'DELETE', path: '/admin' }, 200]]);
});

test('empty policies (AZ-03): spec {} allows nothing; rules [{}] allows everything; an empty ALLOW beside a matching one is harmless', () => {
  table([policy('allow-nothing', 'action: ALLOW')], [['any request', {}, 403]]);
  table([policy('allow-all', 'rules: [{}]')], [['any request', { method: 'POST', path: '/x' }, 200]]);
  table([policy('allow-nothing', 'action: ALLOW'), policy('get', 'rules: [{ to: [{ operation: { methods: ["GET"] } }] }]')], [
    ['GET', {}, 200],
    ['POST', { method: 'POST' }, 403],
  ]);
});

test('principals, namespaces and service accounts need the peer identity (AZ-06)', () => {
  table([policy('p', `rules: [{ from: [{ source: { principals: ["${SLEEP_ID}"] } }] }]`)], [
    ['sleep', { peer: SLEEP_ID }, 200],
    ['other identity', { peer: LEGACY_ID }, 403],
    ['plaintext (no identity)', {}, 403],
  ]);
  table([policy('p', 'rules: [{ from: [{ source: { namespaces: ["foo"] } }] }]')], [
    ['from foo', { peer: SLEEP_ID }, 200],
    ['from legacy', { peer: LEGACY_ID }, 403],
  ]);
  table([policy('p', 'rules: [{ from: [{ source: { serviceAccounts: ["sleep"] } }] }]')], [
    ['foo/sleep', { peer: SLEEP_ID }, 200],
    ['legacy/sleep', { peer: LEGACY_ID }, 403],
    ['foo/sleep-v2', { peer: 'cluster.local/ns/foo/sa/sleep-v2' }, 403],
  ]);
  table([policy('p', 'rules: [{ from: [{ source: { principals: ["*/ns/foo/sa/*"] } }] }]')], [
    // Only the leading `*` is a wildcard (Istio): the trailing one is a literal star.
    ['* at both ends matches no real account', { peer: 'cluster.local/ns/foo/sa/x' }, 403],
    ['not even sleep', { peer: SLEEP_ID }, 403],
    ['only a literal * account', { peer: 'cluster.local/ns/foo/sa/*' }, 200],
  ]);
  table([policy('p', 'rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/*"] } }] }]')], [
    ['prefix match', { peer: SLEEP_ID }, 200],
    ['other namespace', { peer: LEGACY_ID }, 403],
  ]);
  table([policy('p', 'rules: [{ from: [{ source: { principals: ["*"] } }] }]')], [
    ['any identity', { peer: LEGACY_ID }, 200],
    ['no identity', {}, 403],
  ]);
});

test('paths, methods, hosts, ports and their not* forms (AZ-07, AZ-08)', () => {
  table([policy('p', 'rules: [{ to: [{ operation: { paths: ["/ip", "/status/*", "*/json"], methods: ["GET", "HEAD"] } }] }]')], [
    ['GET /ip', { path: '/ip' }, 200],
    ['GET /ip?x=1 (query ignored)', { path: '/ip?x=1' }, 200],
    ['HEAD /status/200', { method: 'HEAD', path: '/status/200' }, 200],
    ['GET /a/json', { path: '/a/json' }, 200],
    ['POST /ip', { method: 'POST', path: '/ip' }, 403],
    ['GET /headers', { path: '/headers' }, 403],
  ]);
  table([policy('p', 'rules: [{ to: [{ operation: { notPaths: ["/admin*"], notMethods: ["DELETE"] } }] }]')], [
    ['GET /', {}, 200],
    ['GET /admin/x', { path: '/admin/x' }, 403],
    ['DELETE /', { method: 'DELETE' }, 403],
  ]);
  table([policy('p', 'rules: [{ to: [{ operation: { hosts: ["HTTPBIN.example.com", "*.foo.svc.cluster.local"] } }] }]')], [
    ['host, other case', { authority: 'httpbin.example.com' }, 200],
    ['suffix', { authority: 'httpbin.foo.svc.cluster.local' }, 200],
    // Istio matches hosts as written: a port in the Host header needs `host:*` in the policy.
    ['host with a port', { authority: 'httpbin.example.com:8000' }, 403],
  ]);
  table([policy('p', 'rules: [{ to: [{ operation: { ports: ["8000"] } }] }]')], [['port 8000', {}, 200]]);
  table([policy('p', 'rules: [{ to: [{ operation: { ports: ["9000"] } }] }]')], [['port 8000 is not 9000', {}, 403]]);
});

test('when: headers with values and notValues, source.ip, source.namespace (AZ-09)', () => {
  table([policy('p', 'rules: [{ when: [{ key: "request.headers[x-token]", values: ["admin", "ops*"] }] }]')], [
    ['x-token: admin', { headers: { 'x-token': 'admin' } }, 200],
    ['x-token: ops-1', { headers: { 'x-token': 'ops-1' } }, 200],
    ['x-token: guest', { headers: { 'x-token': 'guest' } }, 403],
    ['no x-token', {}, 403],
  ]);
  table([policy('p', 'rules: [{ when: [{ key: "source.ip", values: ["10.1.0.0/16"] }, { key: "source.namespace", notValues: ["legacy"] }] }]')], [
    ['10.1.2.3 from foo', { ip: '10.1.2.3', peer: SLEEP_ID }, 200],
    ['10.2.0.1 from foo', { ip: '10.2.0.1', peer: SLEEP_ID }, 403],
    ['10.1.2.3 from legacy', { ip: '10.1.2.3', peer: LEGACY_ID }, 403],
  ]);
});

test('TASK-15 explicit deny: DENY wins over ALLOW; notValues exempts admin; an ALLOW policy denies the rest (AZ-02)', () => {
  const deny = policy('deny-method-get', 'action: DENY\nrules: [{ to: [{ operation: { methods: ["GET"] } }], when: [{ key: "request.headers[x-token]", notValues: ["admin"] }] }]');
  table([deny], [
    ['GET /get, x-token: guest', { path: '/get', headers: { 'x-token': 'guest' } }, 403],
    ['GET /get, x-token: admin', { path: '/get', headers: { 'x-token': 'admin' } }, 200],
    ['POST /post', { method: 'POST', path: '/post' }, 200],
  ]);
  table([deny, policy('allow-path-ip', 'action: ALLOW\nrules: [{ to: [{ operation: { paths: ["/ip"] } }] }]')], [
    ['GET /ip, x-token: guest', { path: '/ip', headers: { 'x-token': 'guest' } }, 403],
    ['GET /ip, x-token: admin', { path: '/ip', headers: { 'x-token': 'admin' } }, 200],
    ['GET /get, x-token: admin', { path: '/get', headers: { 'x-token': 'admin' } }, 403],
  ]);
  // A DENY that matches also beats an allow-all.
  table([policy('allow-all', 'rules: [{}]'), policy('deny-admin', 'action: DENY\nrules: [{ to: [{ operation: { paths: ["/admin"] } }] }]')], [
    ['/admin', { path: '/admin' }, 403],
    ['/', {}, 200],
  ]);
});

test('TASK-13 requestPrincipals and claims read the verified JWT payload', () => {
  const requireJwt = policy('require-jwt', 'rules: [{ from: [{ source: { requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"] } }], when: [{ key: "request.auth.claims[groups]", values: ["group1"] }] }]');
  const demo = { iss: 'testing@secure.istio.io', sub: 'testing@secure.istio.io' };
  table([requireJwt], [
    ['groups-scope.jwt (groups list holds group1)', { jwt: { ...demo, groups: ['group1', 'group2'] } }, 200],
    ['a string claim equal to group1', { jwt: { ...demo, groups: 'group1' } }, 200],
    ['demo.jwt (no groups claim)', { jwt: demo }, 403],
    ['no token', {}, 403],
    ['another subject', { jwt: { ...demo, sub: 'someone', groups: ['group1'] } }, 403],
  ]);
  table([policy('any-jwt', 'rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }]')], [
    ['any token', { jwt: { iss: 'a', sub: 'b' } }, 200],
    ['no token', {}, 403],
  ]);
  table([policy('aud', 'rules: [{ when: [{ key: "request.auth.audiences", values: ["bookstore"] }, { key: "request.auth.presenter", values: ["web*"] }] }]')], [
    ['aud list + azp prefix', { jwt: { aud: ['x', 'bookstore'], azp: 'web-app' } }, 200],
    ['aud string', { jwt: { aud: 'bookstore', azp: 'web' } }, 200],
    ['wrong azp', { jwt: { aud: 'bookstore', azp: 'cli' } }, 403],
  ]);
  table([policy('deny-no-jwt', 'action: DENY\nrules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }]')], [
    ['no token is denied', {}, 403],
    ['any verified token passes', { jwt: { iss: 'a', sub: 'b' } }, 200],
  ]);
});

test('dry run (AZ-12): never enforced, but the shadow result is recorded', () => {
  const res = httpbinWith([policy('deny-all-dry', 'action: DENY\nrules: [{}]', ', annotations: { istio.io/dry-run: "true" }')]);
  const d = decide(res, {});
  assert.equal(d.status, 200);
  assert.equal(d.metadata['istio_dry_run_deny_shadow_effective_policy_id'], 'ns[foo]-policy[deny-all-dry]-rule[0]');
  assert.equal(d.metadata['istio_dry_run_deny_shadow_engine_result'], 'denied');
  const allow = decide(httpbinWith([policy('allow-get-dry', 'rules: [{ to: [{ operation: { methods: ["GET"] } }] }]', ', annotations: { istio.io/dry-run: "true" }')]), { method: 'POST' });
  assert.equal(allow.status, 200);
  assert.equal(allow.metadata['istio_dry_run_allow_shadow_engine_result'], 'denied');
});

test('AUDIT never denies', () => {
  table([policy('audit', 'action: AUDIT\nrules: [{}]')], [['audited request passes', {}, 200]]);
});

test('the denial names the DENY policy that matched, or none for an unmatched ALLOW', () => {
  const res = httpbinWith([policy('deny-admin', 'action: DENY\nrules: [{ to: [{ operation: { paths: ["/admin"] } }] }]'), policy('get', 'rules: [{ to: [{ operation: { methods: ["GET"] } }] }]')]);
  assert.equal(decide(res, { path: '/admin' }).details, 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]');
  assert.equal(decide(res, { method: 'POST' }).details, 'rbac_access_denied_matched_policy[none]');
});

test('TASK-14 on the gateway: ipBlocks read the socket peer, remoteIpBlocks the original client', () => {
  const gateway = yaml`
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: { name: gw, namespace: foo }
    spec:
      selector: { istio: ingressgateway }
      servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: httpbin, namespace: foo }
    spec:
      hosts: ["*"]
      gateways: [gw]
      http: [{ route: [{ destination: { host: httpbin, port: { number: 8000 } } }] }]
  `;
  const ingress = (action: string, field: string) => yaml`
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: { name: ingress-policy, namespace: istio-system }
    spec:
      selector: { matchLabels: { app: istio-ingressgateway } }
      action: ${action}
      rules: [{ from: [{ source: { ${field}: ["1.2.3.4", "5.6.7.0/24"] } }] }]
  `;
  const gw = (p: string) => resourcesFor({ manifests: [FOO_SERVICES, gateway, p].join('---\n'), pods: [HTTPBIN] }, GATEWAY_POD);
  const allowIp = gw(ingress('ALLOW', 'ipBlocks'));
  assert.equal(decide(allowIp, { port: 8080, ip: '9.9.9.9' }).status, 403, 'client not listed');
  assert.equal(decide(allowIp, { port: 8080, ip: '5.6.7.8' }).status, 200, 'client in 5.6.7.0/24');
  assert.equal(decide(gw(ingress('DENY', 'ipBlocks')), { port: 8080, ip: '1.2.3.4' }).status, 403, 'DENY of the client');
  const allowRemote = gw(ingress('ALLOW', 'remoteIpBlocks'));
  assert.equal(decide(allowRemote, { port: 8080, ip: '10.0.0.1', clientIp: '1.2.3.4' }).status, 200, 'original client behind a load balancer');
  assert.equal(decide(allowRemote, { port: 8080, ip: '1.2.3.4', clientIp: '9.9.9.9' }).status, 403, 'the load balancer itself is listed, not the client');
});

test('TCP chains (AZ-10): the network RBAC rules, run by the RBAC engine over a connection (no request)', () => {
  const mysql = (policies: readonly string[]) => resourcesFor({ manifests: [FOO_SERVICES, ...policies].join('---\n'), pods: [MYSQL, SLEEP] }, MYSQL);
  const tcpPolicy = (name: string, spec: string) => policy(name, spec).replace('app: httpbin', 'app: mysql');
  /** Whether a connection from `peer` passes every network RBAC filter of port 3306. */
  const connects = (res: ProxyResources, peer?: string): boolean => {
    const info = newStreamInfo(0, 0);
    info.downstreamRemoteAddress = '10.0.0.9';
    info.downstreamLocalAddress = '127.0.1.4:3306';
    if (peer) info.peerCertificate = { uriSans: [`spiffe://${peer}`], dnsSans: [], subject: '', sha256: '', pem: () => '' };
    return networkRbacConfigs(networkFilters(res, 3306)).every((c) => {
      if (!c.rules) return true;
      const engine = compileRbacEngine(c.rules, 'tcp');
      return engineAllows(engine, engine.firstMatch(null, info));
    });
  };
  // ALLOW: a rule with an HTTP-only field is dropped (so it cannot allow); the principal rule still does.
  const allow = mysql([tcpPolicy('allow', `rules: [{ from: [{ source: { principals: ["${SLEEP_ID}"] } }] }, { to: [{ operation: { methods: ["GET"] } }] }]`)]);
  assert.equal(connects(allow, SLEEP_ID), true, 'sleep is allowed');
  assert.equal(connects(allow, LEGACY_ID), false, 'the GET rule does not allow everyone on TCP');
  // DENY: the HTTP-only condition is removed, so the deny is broader: every connection from legacy.
  const deny = mysql([tcpPolicy('deny', 'action: DENY\nrules: [{ from: [{ source: { namespaces: ["legacy"] } }], to: [{ operation: { paths: ["/admin"] } }] }]')]);
  assert.equal(connects(deny, LEGACY_ID), false);
  assert.equal(connects(deny, SLEEP_ID), true);
});
