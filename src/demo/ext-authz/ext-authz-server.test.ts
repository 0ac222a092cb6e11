// The sample external authorizer over its two real APIs on loopback: the HTTP check (as an
// ext_authz HTTP service calls it) and the gRPC Check (as envoy.service.auth.v3 calls it).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type http from 'node:http';
import { AUTHORIZATION_SERVICE, createExtAuthzGrpcServer, listenGrpc } from './ext-authz-grpc.js';
import type { CheckRequest, CheckResponse } from './ext-authz-grpc.js';
import { createExtAuthzHttpServer, DENY_BODY, serviceAccountOf, xfccUri } from './ext-authz-server.js';

let httpServer: http.Server;
let base: string;
let grpcServer: grpc.Server;
let client: grpc.Client;

before(async () => {
  httpServer = createExtAuthzHttpServer();
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  grpcServer = createExtAuthzGrpcServer({ allowServiceAccount: 'sleep' });
  const port = await listenGrpc(grpcServer, '127.0.0.1', 0);
  const Client = grpc.makeGenericClientConstructor(AUTHORIZATION_SERVICE, 'Authorization');
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(() => {
  client.close();
  grpcServer.forceShutdown();
  httpServer.close();
});

function grpcCheck(req: CheckRequest): Promise<CheckResponse> {
  return new Promise((resolve, reject) =>
    (client as unknown as { Check(r: CheckRequest, cb: (e: Error | null, v: CheckResponse) => void): void }).Check(req, (e, v) => (e ? reject(e) : resolve(v))),
  );
}

test('HTTP: x-ext-authz: allow is 200 with check-result allowed and the override echoed', async () => {
  const res = await fetch(`${base}/headers`, { headers: { 'x-ext-authz': 'allow', 'x-ext-authz-additional-header-override': 'mine' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-ext-authz-check-result'), 'allowed');
  assert.equal(res.headers.get('x-ext-authz-additional-header-override'), 'mine');
  assert.match(res.headers.get('x-ext-authz-check-received') ?? '', /GET .*\/headers/);
});

test('HTTP: any other value, or none, is 403 with the sample\'s body', async () => {
  for (const headers of [{ 'x-ext-authz': 'deny' }, {}] as Record<string, string>[]) {
    const res = await fetch(`${base}/headers`, { headers });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-ext-authz-check-result'), 'denied');
    assert.equal(await res.text(), DENY_BODY);
  }
});

test('HTTP: a caller of the allowed service account (sa "a" by default, from XFCC) passes without the header', async () => {
  const xfcc = 'By=spiffe://cluster.local/ns/foo/sa/httpbin;Hash=ab;URI=spiffe://cluster.local/ns/foo/sa/a';
  assert.equal((await fetch(`${base}/`, { headers: { 'x-forwarded-client-cert': xfcc } })).status, 200);
  assert.equal((await fetch(`${base}/`, { headers: { 'x-forwarded-client-cert': xfcc.replace('sa/a', 'sa/b') } })).status, 403);
});

test('gRPC: allow and deny as the sample answers them', async () => {
  const ok = await grpcCheck({ attributes: { request: { http: { method: 'GET', path: '/headers', host: 'httpbin', headers: { 'x-ext-authz': 'allow' } } } } });
  assert.equal(ok.status.code, 0);
  assert.deepEqual(ok.okResponse?.headers.find((h) => h.header.key === 'x-ext-authz-check-result')?.header.value, 'allowed');
  assert.equal(ok.okResponse?.headers.find((h) => h.header.key === 'x-ext-authz-additional-header-override')?.header.value, 'grpc-additional-header-override-value');
  const no = await grpcCheck({ attributes: { request: { http: { method: 'GET', path: '/headers', headers: { 'x-ext-authz': 'deny' } } } } });
  assert.equal(no.status.code, 7, 'PERMISSION_DENIED');
  assert.equal(no.deniedResponse?.status.code, 403);
  assert.equal(no.deniedResponse?.body, DENY_BODY);
  const bySa = await grpcCheck({ attributes: { source: { principal: 'spiffe://cluster.local/ns/foo/sa/sleep' }, request: { http: { headers: {} } } } });
  assert.equal(bySa.status.code, 0, 'the allowed service account (sleep here) needs no header');
});

test('principal parsing: SPIFFE service accounts and the nearest XFCC element', () => {
  assert.equal(serviceAccountOf('spiffe://td/ns/foo/sa/a'), 'a');
  assert.equal(serviceAccountOf('spiffe://td/ns/foo/a'), undefined);
  assert.equal(serviceAccountOf(undefined), undefined);
  assert.equal(xfccUri('By=x;URI=spiffe://td/ns/n/sa/one,By=y;Hash=h;URI=spiffe://td/ns/n/sa/two'), 'spiffe://td/ns/n/sa/two');
  assert.equal(xfccUri('By=x;Hash=h'), undefined);
});
