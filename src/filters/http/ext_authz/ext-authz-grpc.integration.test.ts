// ext_authz with a gRPC authorization service through a real proxy, configured exactly as the
// control plane configures Istio's CUSTOM action for an envoyExtAuthzGrpc provider (the istio.io
// authz-custom task's `sample-ext-authz-grpc`), asking the sample authorizer itself
// (src/demo/ext-authz/ext-authz-grpc.ts: allow on `x-ext-authz: allow` or for the `sleep` service
// account, else PERMISSION_DENIED with a 403 denied_response) over real HTTP/2. Also: the
// authorizer behind its own sidecar (the check travels over the cluster's mesh mTLS socket, and
// the caller's mTLS identity reaches the sample as the source principal), a server that never
// answers (timeout), one that is down, one without the Authorization service, fail-open, a
// route with ExtAuthzPerRoute disabled, stats.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { EnvoyExtAuthzGrpcProvider } from '../../../config/types.js';
import { customHttpFilters } from '../../../controlplane/generate/security/ext-authz.js';
import { createExtAuthzGrpcServer, listenGrpc } from '../../../demo/ext-authz/ext-authz-grpc.js';
import { DENY_BODY } from '../../../demo/ext-authz/ext-authz-server.js';
import { DOWNSTREAM_TLS_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE, UPSTREAM_TLS_TYPE } from '../../../xds/resources.js';
import type { Cluster, FilterChain, Route, Secret } from '../../../xds/resources.js';
import { haveOpenssl, makeCa, makeSpiffeCert } from '../../../../test/helpers/certs.js';
import type { TestCert } from '../../../../test/helpers/certs.js';
import { request, startUpstream } from '../../../../test/helpers/http.js';
import type { TestResponse, TestUpstream } from '../../../../test/helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../../../../test/helpers/proxy.js';
import type { RunningProxy } from '../../../../test/helpers/proxy.js';
import { EXT_AUTHZ_FILTER_NAME, EXT_AUTHZ_PER_ROUTE_TYPE_URL } from './config.js';

const SERVICE = 'ext-authz.foo.svc.cluster.local';
const PROVIDER = 'sample-ext-authz-grpc';
const skipTls = haveOpenssl() ? false : 'openssl is not installed (scripts/install-test-deps.sh)';

function provider(port: number, extra: Partial<EnvoyExtAuthzGrpcProvider> = {}): EnvoyExtAuthzGrpcProvider {
  return { service: SERVICE, port, failOpen: false, clearRouteCache: false, ...extra };
}

/** [RBAC (CUSTOM shadow), ext_authz, router] for a CUSTOM policy on `/headers` and `/open/*`. */
function filters(p: EnvoyExtAuthzGrpcProvider) {
  const custom = customHttpFilters([{ name: 'ext-authz', namespace: 'foo', action: 'CUSTOM', provider: PROVIDER, dryRun: false, rules: [{ to: [{ operation: { paths: ['/headers', '/open/*'] } }] }] }], {
    providers: [{ name: PROVIDER, type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: p, path: [] }],
    lookup: (s) => ({ hostname: s }),
    trustDomains: ['cluster.local'],
  });
  return [...custom, { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } }];
}

const routes: Route[] = [
  { name: 'open', match: { prefix: '/open/' }, route: { cluster: 'app', timeout: '0s' }, typedPerFilterConfig: { [EXT_AUTHZ_FILTER_NAME]: { '@type': EXT_AUTHZ_PER_ROUTE_TYPE_URL, disabled: true } } },
  { name: 'app', match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' } },
];

const h2 = { http2ProtocolOptions: {} };

let app: TestUpstream;
let authz: grpc.Server;
let noService: grpc.Server;
let hanging: net.Server;
const hangingSockets = new Set<net.Socket>();
let proxy: RunningProxy;
let ca: TestCert;
let sleep: TestCert;
let stranger: TestCert;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

/** The mesh's sidecar TLS: this proxy's workload certificate, the mesh root, ALPN h2 for gRPC. */
const MESH_TLS = { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' }, alpnProtocols: ['h2', 'http/1.1'] };
const downstreamMeshTls = { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': DOWNSTREAM_TLS_TYPE, commonTlsContext: MESH_TLS, requireClientCertificate: true } } as unknown as FilterChain['transportSocket'];
const upstreamMeshTls = { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': UPSTREAM_TLS_TYPE, commonTlsContext: MESH_TLS } } as unknown as Cluster['transportSocket'];

before(async () => {
  app = await startUpstream();
  authz = createExtAuthzGrpcServer({ allowServiceAccount: 'sleep' });
  const authzPort = await listenGrpc(authz, '127.0.0.1', 0);
  // A gRPC server without the Authorization service: every Check is UNIMPLEMENTED.
  noService = new grpc.Server();
  const noServicePort = await listenGrpc(noService, '127.0.0.1', 0);
  hanging = net.createServer((s) => {
    hangingSockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  const hangingPort = (hanging.address() as net.AddressInfo).port;
  const closedPort = await freePort();
  const timeout = { ms: 300, text: '300ms' };
  const listeners = [
    loopbackListener('custom', [httpChain('inbound_0.0.0.0_8000', routes, { httpFilters: filters(provider(9000)) })]),
    loopbackListener('hanging', [httpChain('hanging', routes, { httpFilters: filters(provider(9001, { timeout })) })]),
    loopbackListener('down', [httpChain('down', routes, { httpFilters: filters(provider(9002)) })]),
    loopbackListener('fail-open', [httpChain('fail_open', routes, { httpFilters: filters(provider(9002, { failOpen: true })) })]),
    loopbackListener('unimplemented', [httpChain('unimplemented', routes, { httpFilters: filters(provider(9003, { statusOnError: 503 })) })]),
  ];
  const clusters: Cluster[] = [
    staticCluster('app', app.port),
    staticCluster(`outbound|9000||${SERVICE}`, authzPort, h2),
    staticCluster(`outbound|9001||${SERVICE}`, hangingPort, h2),
    staticCluster(`outbound|9002||${SERVICE}`, closedPort, h2),
    staticCluster(`outbound|9003||${SERVICE}`, noServicePort, h2),
  ];
  const secrets: Secret[] = [];
  if (!skipTls) {
    ca = makeCa('mesh root');
    const workload = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/foo/sa/httpbin');
    sleep = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/foo/sa/sleep');
    stranger = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/bar/sa/stranger');
    secrets.push(
      { name: 'default', tlsCertificate: { certificateChain: { inlineString: workload.cert }, privateKey: { inlineString: workload.key } } },
      { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: ca.cert } } },
    );
    // The workload's inbound mTLS port, whose CUSTOM check goes to the authorizer's sidecar
    // (cluster 9010 with the mesh TLS socket), which terminates mTLS and hands the h2 stream to
    // the authorizer on its loopback (cluster authz-local).
    const sidecarPort = await freePort();
    listeners.push(
      loopbackListener('custom-mtls', [httpChain('inbound_mtls', routes, { httpFilters: filters(provider(9010)) }, { transportSocket: downstreamMeshTls })]),
      { name: 'authz-sidecar', address: { socketAddress: { address: '127.0.0.1', portValue: sidecarPort } }, filterChains: [httpChain('authz_sidecar', [{ match: { prefix: '/' }, route: { cluster: 'authz-local', timeout: '0s' } }], {}, { transportSocket: downstreamMeshTls })] },
    );
    clusters.push(staticCluster(`outbound|9010||${SERVICE}`, sidecarPort, { ...h2, transportSocket: upstreamMeshTls }), staticCluster('authz-local', authzPort, h2));
  }
  proxy = await startStaticProxy(listeners, clusters, 1, secrets);
});

after(async () => {
  await proxy.stop();
  for (const s of hangingSockets) s.destroy();
  await new Promise<void>((r) => hanging.close(() => r()));
  authz.forceShutdown();
  noService.forceShutdown();
  await app.close();
});

const url = (listener: string, path: string) => `http://127.0.0.1:${proxy.port(listener)}${path}`;

test('x-ext-authz: allow → 200; the workload gets the OkHttpResponse headers, and what the sample received shows the original request', async () => {
  const before = app.requests.length;
  const r = await request(url('custom', '/headers?x=1'), { method: 'POST', body: 'payload', headers: { 'x-ext-authz': 'allow' } });
  assert.equal(r.status, 200);
  assert.equal(app.requests.length, before + 1);
  const seen = app.requests[before]!;
  assert.equal(seen.headers['x-ext-authz-check-result'], 'allowed');
  assert.equal(seen.headers['x-ext-authz-additional-header-override'], 'grpc-additional-header-override-value');
  assert.equal(seen.body, 'payload');
  const received = JSON.parse(String(seen.headers['x-ext-authz-check-received']));
  assert.equal(received.request.http.method, 'POST');
  assert.equal(received.request.http.path, '/headers?x=1');
  assert.equal(received.request.http.host, `127.0.0.1:${proxy.port('custom')}`);
  assert.equal(received.request.http.headers['x-ext-authz'], 'allow');
  assert.equal(received.request.http.headers[':method'], 'POST');
});

test('no x-ext-authz → PERMISSION_DENIED: the denied_response status, body and headers reach the client; the workload never sees the request', async () => {
  const seen = app.requests.length;
  const r = await request(url('custom', '/headers'), { headers: { 'x-ext-authz': 'deny' } });
  assert.equal(r.status, 403);
  assert.equal(r.body, DENY_BODY);
  assert.equal(r.headers['x-ext-authz-check-result'], 'denied');
  assert.equal(r.headers['x-strait-flags'], 'UAEX');
  assert.equal(r.headers['x-strait-details'], 'ext_authz_denied');
  assert.equal(app.requests.length, seen);
});

test('a path no CUSTOM rule selects, and a route with ExtAuthzPerRoute disabled, are not checked', async () => {
  assert.equal((await request(url('custom', '/ip'))).status, 200);
  assert.equal((await request(url('custom', '/open/x'))).status, 200);
  const text = proxy.proxy.stats.envoyText();
  assert.match(text, /^http\.inbound_0\.0\.0\.0_8000\.ext_authz\.disabled: 1$/m, '/ip counted disabled; /open/x not counted at all');
});

test('a server that never answers: after the provider timeout, 403 UAEX ext_authz_error', async () => {
  const r = await request(url('hanging', '/headers'), { headers: { 'x-ext-authz': 'allow' } });
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-strait-flags'], 'UAEX');
  assert.equal(r.headers['x-strait-details'], 'ext_authz_error');
  assert.match(r.body, /no response within 300 ms/);
});

test('a server that is down: 403 ext_authz_error; with failOpen the request goes through', async () => {
  const r = await request(url('down', '/headers'), { headers: { 'x-ext-authz': 'allow' } });
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-strait-details'], 'ext_authz_error');
  assert.equal((await request(url('fail-open', '/headers'))).status, 200);
});

test('a gRPC server without the Authorization service (UNIMPLEMENTED): the provider statusOnError', async () => {
  const r = await request(url('unimplemented', '/headers'), { headers: { 'x-ext-authz': 'allow' } });
  assert.equal(r.status, 503);
  assert.equal(r.headers['x-strait-details'], 'ext_authz_error');
  assert.match(r.body, /grpc-status 12/);
});

function mtlsRequest(port: number, path: string, client: TestCert): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, cert: client.cert, key: client.key, ca: ca.cert, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test("the authorizer behind its sidecar: the check goes over mesh mTLS, and the caller's identity (sa sleep) is allowed without the header; another identity is denied", { skip: skipTls }, async () => {
  const before = app.requests.length;
  const ok = await mtlsRequest(proxy.port('custom-mtls'), '/headers', sleep);
  assert.equal(ok.status, 200);
  const received = JSON.parse(String(app.requests[before]!.headers['x-ext-authz-check-received']));
  assert.equal(received.source.principal, 'spiffe://cluster.local/ns/foo/sa/sleep');
  const no = await mtlsRequest(proxy.port('custom-mtls'), '/headers', stranger);
  assert.equal(no.status, 403);
  assert.equal(no.headers['x-strait-details'], 'ext_authz_denied');
  // The check itself crossed the authorizer's sidecar.
  assert.match(proxy.proxy.stats.envoyText(), /^http\.authz_sidecar\.downstream_rq_total: 2$/m);
});

test('stats under http.<prefix>.ext_authz', () => {
  const text = proxy.proxy.stats.envoyText();
  const stat = (prefix: string, name: string) => text.split('\n').find((l) => l.startsWith(`http.${prefix}.ext_authz.${name}: `))?.split(': ')[1];
  assert.equal(stat('inbound_0.0.0.0_8000', 'ok'), '1');
  assert.equal(stat('inbound_0.0.0.0_8000', 'denied'), '1');
  assert.equal(stat('hanging', 'error'), '1');
  assert.equal(stat('down', 'error'), '1');
  assert.equal(stat('fail_open', 'failure_mode_allowed'), '1');
  assert.equal(stat('unimplemented', 'error'), '1');
});
