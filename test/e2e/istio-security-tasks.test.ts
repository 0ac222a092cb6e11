// Istio's security tasks end to end on one real `strait up` of the tasks' workloads
// (test/fixtures/config/istio-security/workloads.yaml: httpbin and sleep in `foo` and `bar` with
// sidecars, sleep in `legacy` without one, and the sample ext-authz server): mutual TLS migration
// (TASK-11), JWT (TASK-13), explicit deny (TASK-15), authorization on the ingress by client IP
// (TASK-14) and the CUSTOM action (authz-custom). Each step applies the task's manifest unchanged,
// except where the task itself says to put in a value of the reader's (the client IP, and the JWKS
// address: the key set is served here, since tests do not reach the Internet).
//
// A meshed sleep calls through its sidecar, as `kubectl exec sleep -- curl` does; the legacy sleep
// has no sidecar, so its call goes straight to the httpbin pod's address, where httpbin's
// sidecar answers, as kube-proxy would route it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { testKey } from '../../src/filters/http/jwt_authn/test-support.js';
import type { TestKey } from '../../src/filters/http/jwt_authn/test-support.js';
import { eventually, request } from '../helpers/http.js';
import type { TestResponse } from '../helpers/http.js';
import { applyAndSync, ManifestDir, readyPods, viaSidecar } from '../helpers/istio-tasks.js';
import { CLI, ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';
import type { PodStatus } from '../../src/local/api-server.js';

const run = promisify(execFile);
const FIX = 'test/fixtures/config/istio-security';
const ISSUER = 'testing@secure.istio.io';
const DENIED = 'RBAC: access denied';

let files: ManifestDir;
let mesh: RunningMesh;
let jwks: http.Server;
let jwksUri: string;
let oidcIssuer: string;
/** The task's key pair (its jwks.json and key.pem), made here. */
let key: TestKey;

before(async () => {
  key = await testKey('RS256', 'task-13');
  jwks = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // An OIDC issuer at /realm publishes where its keys are; every other path is the key set.
    if (req.url === '/realm/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: oidcIssuer, jwks_uri: jwksUri }));
    else res.end(JSON.stringify({ keys: [key.jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  jwksUri = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  oidcIssuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/realm`;

  files = new ManifestDir('istio-security');
  files.apply(`${FIX}/workloads.yaml`);
  mesh = await startMesh([files.dir]);
  await readyPods(mesh, ['httpbin', 'ext-authz']);
});

after(async () => {
  await mesh?.stop();
  files?.remove();
  jwks?.close();
});

/** The pod of an app in a namespace (sleep has no port, so it is found once its proxy connected, ready or not). */
async function pod(namespace: string, app: string): Promise<PodStatus> {
  return eventually(async () => (await mesh.status()).pods.find((p) => p.namespace === namespace && p.labels.app === app && p.phase === 'Running' && (!p.sidecar || p.proxy?.connected)), `pod ${app}.${namespace}`);
}

/** `kubectl exec sleep -n FROM -- curl http://httpbin.TO:8000/PATH`, through sleep's sidecar. */
async function fromSleep(from: string, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> {
  return viaSidecar(await pod(from, 'sleep'), url, opts);
}

/** The legacy sleep's call: no sidecar, so straight to httpbin's pod (targetPort 8080), plaintext. */
async function fromLegacy(to: string, urlPath: string): Promise<TestResponse | Error> {
  const target = await pod(to, 'httpbin');
  return request(`http://${target.ip}:8080${urlPath}`, { headers: { host: `httpbin.${to}:8000` } }).catch((e: Error) => e);
}

/** What a refused plaintext caller sees on a STRICT port: Istio's connection reset, or Strait's 503 that says why. */
function refusedPlaintext(r: TestResponse | Error): boolean {
  if (r instanceof Error) return /ECONNRESET|socket hang up|EPIPE/.test(r.message);
  return r.status === 503 && /filter_chain_not_found|plaintext/.test(JSON.stringify(r.headers) + r.body);
}

function headersOf(r: TestResponse): Record<string, string> {
  return (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
}

/** A token like the task's demo.jwt (iss = sub = testing@secure.istio.io), valid for an hour. */
function token(claims: Record<string, unknown>, sub = ISSUER): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return key.sign({ iss: ISSUER, sub, iat: now, exp: now + 3600, ...claims }, { typ: 'JWT' });
}

/** A fixture with the values the task asks the reader to fill in replaced. */
function fixture(name: string, replace: [string, string][] = []): string {
  let text = fs.readFileSync(path.join(ROOT, FIX, name), 'utf8');
  for (const [from, to] of replace) text = text.split(from).join(to);
  return text;
}

const DISABLE_DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: foo}
spec:
  host: httpbin.foo.svc.cluster.local
  trafficPolicy:
    tls: {mode: DISABLE}
`;

const GITHUB_JWKS = 'https://raw.githubusercontent.com/istio/istio/master/security/tools/jwt/samples/jwks.json';

test('TASK-11, PERMISSIVE (the default): every pair answers 200; meshed callers use mTLS (XFCC names them), legacy stays plaintext', async () => {
  for (const from of ['foo', 'bar']) {
    for (const to of ['foo', 'bar']) {
      const r = await fromSleep(from, `http://httpbin.${to}:8000/headers`);
      assert.equal(r.status, 200, `sleep.${from} -> httpbin.${to}`);
      const xfcc = headersOf(r)['X-Forwarded-Client-Cert'] ?? '';
      assert.match(xfcc, new RegExp(`By=spiffe://cluster\\.local/ns/${to}/sa/httpbin;Hash=[0-9a-f]{64};Subject="";URI=spiffe://cluster\\.local/ns/${from}/sa/sleep$`), `sleep.${from} -> httpbin.${to} is mutual TLS with both identities`);
    }
  }
  for (const to of ['foo', 'bar']) {
    const r = await fromLegacy(to, '/headers');
    assert.ok(!(r instanceof Error), `sleep.legacy -> httpbin.${to}: ${String(r)}`);
    assert.equal(r.status, 200, `sleep.legacy -> httpbin.${to}`);
    assert.equal(headersOf(r)['X-Forwarded-Client-Cert'], undefined, 'a plaintext caller has no client certificate to forward');
  }
});

test('TASK-11, namespace foo STRICT: legacy -> foo is refused, legacy -> bar and every meshed pair still answer 200', async () => {
  await applyAndSync(mesh, () => files.apply(`${FIX}/task-11-step1-namespace-strict.yaml`), 'PeerAuthentication foo/default STRICT');
  const refused = await eventually(async () => {
    const r = await fromLegacy('foo', '/ip');
    return refusedPlaintext(r) ? r : undefined;
  }, 'httpbin.foo to refuse plaintext');
  assert.ok(refusedPlaintext(refused));
  const bar = await fromLegacy('bar', '/ip');
  assert.ok(!(bar instanceof Error) && bar.status === 200, 'legacy -> bar is still PERMISSIVE');
  for (const from of ['foo', 'bar']) for (const to of ['foo', 'bar']) assert.equal((await fromSleep(from, `http://httpbin.${to}:8000/ip`)).status, 200, `sleep.${from} -> httpbin.${to}`);
});

test('TASK-11, a DestinationRule DISABLE against STRICT: strait validate names both, the caller gets a 503 that says why', async () => {
  // Reported, but not blocking: the rest of the configuration applies.
  await applyAndSync(mesh, () => files.applyText(DISABLE_DR, 'DestinationRule httpbin DISABLE'), 'the conflicting DestinationRule');
  const validate = await run(process.execPath, [CLI, 'validate', files.dir]).catch((e: { stdout: string; code: number }) => e);
  assert.match(validate.stdout, /destinationrule\.foo\.httpbin\.yaml:\d+:\d+: error: .*sends plaintext to httpbin\.foo\.svc\.cluster\.local port 8000.*STRICT.*fix: .*ISTIO_MUTUAL/);
  const r = await eventually(async () => {
    const res = await fromSleep('foo', 'http://httpbin.foo:8000/ip');
    return res.status === 503 ? res : undefined;
  }, 'the plaintext call to a STRICT port to fail');
  assert.match(r.body, /plaintext_on_tls_only_listener|mutual TLS/);
  await applyAndSync(mesh, () => files.deleteText(DISABLE_DR), 'removing the DestinationRule');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/ip')).status, 200);
});

test('TASK-11, mesh-wide STRICT (istio-system): legacy -> foo and -> bar are refused; meshed pairs answer 200; removing both policies restores plaintext', async () => {
  await applyAndSync(mesh, () => files.apply(`${FIX}/task-11-step2-mesh-strict.yaml`), 'PeerAuthentication istio-system/default STRICT');
  await eventually(async () => (refusedPlaintext(await fromLegacy('bar', '/ip')) ? true : undefined), 'httpbin.bar to refuse plaintext');
  assert.ok(refusedPlaintext(await fromLegacy('foo', '/ip')));
  for (const from of ['foo', 'bar']) for (const to of ['foo', 'bar']) assert.equal((await fromSleep(from, `http://httpbin.${to}:8000/ip`)).status, 200, `sleep.${from} -> httpbin.${to}`);
  await applyAndSync(mesh, () => files.delete(`${FIX}/task-11-step1-namespace-strict.yaml`, `${FIX}/task-11-step2-mesh-strict.yaml`), 'removing both PeerAuthentications');
  const back = await fromLegacy('foo', '/ip');
  assert.ok(!(back instanceof Error) && back.status === 200, 'PERMISSIVE again');
});

test('TASK-13, RequestAuthentication: an invalid token is 401, no token 200, a valid token 200', async () => {
  await applyAndSync(mesh, () => files.applyText(fixture('task-13-step1-jwt-example.yaml', [[GITHUB_JWKS, jwksUri]]), 'jwt-example'), 'RequestAuthentication jwt-example');
  const bad = await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { authorization: 'Bearer invalidToken' } });
  assert.equal(bad.status, 401);
  assert.equal(bad.body, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/headers')).status, 200, 'no token is no identity, not an error');
  const ok = await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { authorization: `Bearer ${await token({})}` } });
  assert.equal(ok.status, 200);
  const expired = await token({ exp: Math.floor(Date.now() / 1000) - 3600 });
  const late = await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { authorization: `Bearer ${expired}` } });
  assert.equal(late.status, 401);
  assert.equal(late.body, 'Jwt is expired');
});

test('TASK-13, require-jwt: a valid token is 200, no token 403; with the groups condition, group1 passes and a token without groups is 403', async () => {
  await applyAndSync(mesh, () => files.applyText(fixture('task-13-step2-require-jwt.yaml', [[GITHUB_JWKS, jwksUri]]), 'require-jwt'), 'AuthorizationPolicy require-jwt');
  const demo = await token({});
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { authorization: `Bearer ${demo}` } })).status, 200);
  const none = await fromSleep('foo', 'http://httpbin.foo:8000/headers');
  assert.equal(none.status, 403);
  assert.equal(none.body, DENIED);
  const stranger = await token({}, 'someone-else');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { authorization: `Bearer ${stranger}` } })).status, 403, 'another subject is another request principal');

  await applyAndSync(mesh, () => files.applyText(fixture('task-13-step3-require-group.yaml', [[GITHUB_JWKS, jwksUri]]), 'require-group'), 'require-jwt with request.auth.claims[groups]');
  const groups = await token({ groups: ['group1', 'group2'], scope: ['scope1', 'scope2'] });
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { authorization: `Bearer ${groups}` } })).status, 200, 'a list claim matches when one element does');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { authorization: `Bearer ${demo}` } })).status, 403, 'no groups claim');
  await applyAndSync(mesh, () => files.deleteText(fixture('task-13-step3-require-group.yaml')), 'the task\'s cleanup');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/headers')).status, 200);
});

test('RA-04: a rule with only an issuer finds its keys by OIDC discovery; its tokens verify, others do not', async () => {
  const rule = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: oidc-only, namespace: bar}
spec:
  selector: {matchLabels: {app: httpbin}}
  jwtRules:
  - issuer: "${oidcIssuer}"
`;
  await applyAndSync(mesh, () => files.applyText(rule, 'issuer only'), 'RequestAuthentication with only an issuer');
  const now = Math.floor(Date.now() / 1000);
  const good = await key.sign({ iss: oidcIssuer, sub: 'alice', iat: now, exp: now + 600 });
  // Discovery runs in the background; the rule fails closed until its key set URI is known.
  await eventually(async () => ((await fromSleep('bar', 'http://httpbin.bar:8000/headers', { headers: { authorization: `Bearer ${good}` } })).status === 200 ? true : undefined), 'the discovered key set to verify the token');
  assert.equal((await fromSleep('bar', 'http://httpbin.bar:8000/headers', { headers: { authorization: `Bearer ${await token({})}` } })).status, 401, 'another issuer');
  await applyAndSync(mesh, () => files.deleteText(rule), 'removing it');
});

test('TASK-15, explicit deny: GET is 403 and POST 200; x-token admin is let through; once an ALLOW for /ip exists, the rest is denied', async () => {
  await applyAndSync(mesh, () => files.apply(`${FIX}/task-15-step1-deny-get.yaml`), 'deny-method-get');
  const get = await fromSleep('foo', 'http://httpbin.foo:8000/get');
  assert.equal(get.status, 403);
  assert.equal(get.body, DENIED);
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/post', { method: 'POST', body: 'x' })).status, 200);

  await applyAndSync(mesh, () => files.apply(`${FIX}/task-15-step2-deny-get-unless-admin.yaml`), 'deny-method-get unless x-token admin');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/get', { headers: { 'x-token': 'admin' } })).status, 200);
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/get', { headers: { 'x-token': 'guest' } })).status, 403);

  await applyAndSync(mesh, () => files.apply(`${FIX}/task-15-step3-allow-path-ip.yaml`), 'allow-path-ip');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/ip', { headers: { 'x-token': 'guest' } })).status, 403, 'DENY wins');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/ip', { headers: { 'x-token': 'admin' } })).status, 200);
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/get', { headers: { 'x-token': 'admin' } })).status, 403, 'not allowed by the ALLOW policy');
  await applyAndSync(mesh, () => files.delete(`${FIX}/task-15-step3-allow-path-ip.yaml`), 'the task\'s cleanup');
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/get')).status, 200);
});

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: httpbin-gateway, namespace: foo}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: ["*"]
  gateways: [httpbin-gateway]
  http:
  - route:
    - destination: {host: httpbin.foo.svc.cluster.local, port: {number: 8000}}
`;

const TRUSTED_ONE_PROXY = `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    defaultConfig:
      gatewayTopology:
        numTrustedProxies: 1
`;

test('TASK-14, ingress by client IP: outside ipBlocks 403, inside 200; remoteIpBlocks ignores a forged X-Forwarded-For; DENY of the client IP 403', async () => {
  await applyAndSync(mesh, () => files.applyText(GATEWAY, 'httpbin-gateway (foo)'), 'httpbin-gateway');
  const viaGateway = (headers: Record<string, string> = {}) => request(`${mesh.gatewayUrlFor(80)}/headers`, { headers });
  const first = await viaGateway();
  assert.equal(first.status, 200);
  // What the task calls $CLIENT_IP: the address the gateway sees us connect from.
  // The gateway (use_remote_address) appended it to X-Forwarded-For.
  const clientIp = (headersOf(first)['X-Forwarded-For'] ?? '').split(',').at(-1)!.trim();
  assert.match(clientIp, /^127\./);

  await applyAndSync(mesh, () => files.apply(`${FIX}/task-14-step1-allow-ipblocks.yaml`), 'ingress-policy ipBlocks');
  const out = await viaGateway();
  assert.equal(out.status, 403);
  assert.equal(out.body, DENIED);
  await applyAndSync(mesh, () => files.applyText(fixture('task-14-step1-allow-ipblocks.yaml', [['"5.6.7.0/24"', `"5.6.7.0/24", "${clientIp}"`]]), 'ipBlocks + CLIENT_IP'), 'ingress-policy with the client IP');
  assert.equal((await viaGateway()).status, 200);

  await applyAndSync(mesh, () => files.apply(`${FIX}/task-14-step2-allow-remote-ipblocks.yaml`), 'ingress-policy remoteIpBlocks');
  assert.equal((await viaGateway({ 'x-forwarded-for': '5.6.7.8' })).status, 403, 'no trusted proxies: the forged X-Forwarded-For is not the client');
  // Behind one trusted load balancer (meshConfig.defaultConfig.gatewayTopology.numTrustedProxies: 1),
  // the address it appended is the client.
  await applyAndSync(mesh, () => files.applyText(TRUSTED_ONE_PROXY, 'numTrustedProxies: 1'), 'the mesh config with one trusted proxy');
  assert.equal((await viaGateway({ 'x-forwarded-for': '9.9.9.9, 5.6.7.8' })).status, 200, 'the load balancer says the client is 5.6.7.8');
  assert.equal((await viaGateway({ 'x-forwarded-for': '5.6.7.8, 9.9.9.9' })).status, 403, 'only the entry the trusted proxy appended counts');
  assert.equal((await viaGateway()).status, 403, 'no X-Forwarded-For: the peer is the client');
  await applyAndSync(mesh, () => files.deleteText(TRUSTED_ONE_PROXY), 'the default mesh config');
  await applyAndSync(mesh, () => files.applyText(fixture('task-14-step2-allow-remote-ipblocks.yaml', [['"5.6.7.0/24"', `"5.6.7.0/24", "${clientIp}"`]]), 'remoteIpBlocks + CLIENT_IP'), 'remoteIpBlocks with the client IP');
  assert.equal((await viaGateway()).status, 200);

  await applyAndSync(mesh, () => files.applyText(fixture('task-14-step3-deny-client-ip.yaml', [['203.0.113.7', clientIp]]), 'DENY CLIENT_IP'), 'ingress-policy DENY');
  assert.equal((await viaGateway()).status, 403);
  await applyAndSync(mesh, () => files.deleteText(fixture('task-14-step3-deny-client-ip.yaml')), 'the task\'s cleanup');
  assert.equal((await viaGateway()).status, 200);
});

test('jwt-route: the ingress gateway routes on a verified claim (@request.auth.claims.groups); no route without it', async () => {
  // security/authentication/jwt-route: a RequestAuthentication on the gateway and a VirtualService
  // that matches the claim; the gateway picks the route again once the token is verified.
  const ra = fixture('task-13-step1-jwt-example.yaml', [[GITHUB_JWKS, jwksUri], ['name: jwt-example, namespace: foo', 'name: ingress-jwt, namespace: istio-system'], ['{app: httpbin}', '{istio: ingressgateway}']]);
  const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: ["*"]
  gateways: [httpbin-gateway]
  http:
  - match:
    - uri: {prefix: /headers}
      headers:
        "@request.auth.claims.groups": {exact: group1}
    route:
    - destination: {host: httpbin.foo.svc.cluster.local, port: {number: 8000}}
`;
  await applyAndSync(mesh, () => files.applyText(GATEWAY + '---\n' + ra + '---\n' + vs, 'jwt-route'), 'ingress-jwt and the claim-matching VirtualService');
  const viaGateway = (headers: Record<string, string> = {}) => request(`${mesh.gatewayUrlFor(80)}/headers`, { headers });
  const none = await viaGateway();
  assert.equal(none.status, 404, 'no token: no claim, no route');
  assert.equal(none.headers['x-strait-flags'], 'NR');
  const group1 = await viaGateway({ authorization: `Bearer ${await token({ groups: ['group1', 'group2'] })}` });
  assert.equal(group1.status, 200);
  assert.equal(headersOf(group1).Authorization, undefined, 'the verified token is not forwarded');
  assert.equal((await viaGateway({ authorization: `Bearer ${await token({ groups: 'group1' })}` })).status, 200, 'a string claim matches too');
  assert.equal((await viaGateway({ authorization: `Bearer ${await token({ groups: ['group2'] })}` })).status, 404);
  assert.equal((await viaGateway({ authorization: 'Bearer invalidToken' })).status, 401);
  await applyAndSync(mesh, () => {
    files.deleteText(ra);
    files.applyText(GATEWAY, 'httpbin-gateway (foo)');
  }, 'the task\'s cleanup');
});

test('authz-custom: /headers asks the sample ext-authz over HTTP, then over gRPC (deny 403 with its body, allow 200); /ip is not checked', async () => {
  await applyAndSync(mesh, () => files.apply(`${FIX}/task-ext-authz-custom.yaml`), 'the ext-authz providers and the CUSTOM policy');
  const denied = await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { 'x-ext-authz': 'deny' } });
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'denied by ext_authz for not found header `x-ext-authz: allow` in the request');
  const allowed = await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { 'x-ext-authz': 'allow' } });
  assert.equal(allowed.status, 200);
  // httpbin echoes the request: it got through. The HTTP provider names no headersToUpstreamOnAllow,
  // so the check's own headers stay with the proxy (the gRPC provider's would be added).
  assert.equal(headersOf(allowed)['X-Ext-Authz'], 'allow');
  assert.equal(headersOf(allowed)['X-Ext-Authz-Check-Result'], undefined);
  assert.equal((await fromSleep('foo', 'http://httpbin.foo:8000/ip', { headers: { 'x-ext-authz': 'deny' } })).status, 200);

  // The task's default: the gRPC provider. Its OK answer's headers reach the workload.
  const grpc = fs.readFileSync(path.join(ROOT, FIX, 'task-ext-authz-custom.yaml'), 'utf8').replace('provider: {name: sample-ext-authz-http}', 'provider: {name: sample-ext-authz-grpc}');
  assert.match(grpc, /sample-ext-authz-grpc\}/);
  await applyAndSync(mesh, () => files.applyText(grpc, 'CUSTOM with the gRPC provider'), 'the CUSTOM policy with sample-ext-authz-grpc');
  const deniedGrpc = await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { 'x-ext-authz': 'deny' } });
  assert.equal(deniedGrpc.status, 403);
  assert.equal(deniedGrpc.body, 'denied by ext_authz for not found header `x-ext-authz: allow` in the request');
  assert.equal(deniedGrpc.headers['x-ext-authz-check-result'], 'denied');
  const allowedGrpc = await fromSleep('foo', 'http://httpbin.foo:8000/headers', { headers: { 'x-ext-authz': 'allow' } });
  assert.equal(allowedGrpc.status, 200);
  assert.equal(headersOf(allowedGrpc)['X-Ext-Authz-Check-Result'], 'allowed');
  // The sample saw the caller's identity (the source principal of the check).
  assert.match(headersOf(allowedGrpc)['X-Ext-Authz-Check-Received'] ?? '', /spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep/);
  await applyAndSync(mesh, () => files.delete(`${FIX}/task-ext-authz-custom.yaml`), 'the task\'s cleanup');
});
