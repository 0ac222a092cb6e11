// The gRPC authorization API's messages: the CheckRequest built for a request and for a TCP
// connection (decoded back with the same protos to read what a service receives), and the
// CheckResponse read into a verdict (OK with mutations, denied with status / headers / body,
// answers that cannot be applied). AZ-01, AZ-02: CUSTOM with an envoyExtAuthzGrpc provider.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStreamInfo } from '../../../dataplane/http/stream-info.js';
import type { PeerCertificate } from '../../../dataplane/http/stream-info.js';
import { FakeFilterStream } from '../test-support.js';
import { ADD_IF_ABSENT, APPEND_IF_EXISTS_OR_ADD, checkTypes, httpCheckRequest, OVERWRITE_IF_EXISTS, OVERWRITE_IF_EXISTS_OR_ADD, parseCheckResponse, principalOf, tcpCheckRequest } from './grpc-check.js';
import type { CheckSettings } from './grpc-check.js';

const ALL: CheckSettings = { headerFilter: null, includePeerCertificate: false, includeTlsSession: false, metadataContextNamespaces: [] };

const SLEEP: PeerCertificate = { uriSans: ['spiffe://cluster.local/ns/foo/sa/sleep'], dnsSans: [], subject: '', sha256: 'ab', pem: () => '-----BEGIN%20CERTIFICATE-----' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function decode(bytes: Uint8Array): any {
  const t = checkTypes().request;
  return t.toObject(t.decode(bytes), { longs: Number });
}

function stream(): FakeFilterStream {
  const s = new FakeFilterStream({ method: 'POST', path: '/headers?a=1', authority: 'httpbin.foo:8000', scheme: 'http', headers: { 'x-ext-authz': 'allow', cookie: ['a=1', 'b=2'], 'x-envoy-downstream-service-cluster': 'sleep' }, startTime: 1_700_000_000_250 });
  s.info.downstreamRemoteAddress = '10.0.0.7:41000';
  s.info.downstreamLocalAddress = '[::1]:8000';
  s.info.protocol = 'HTTP/1.1';
  s.info.peerCertificate = SLEEP;
  s.info.localPrincipal = 'spiffe://cluster.local/ns/foo/sa/httpbin';
  return s;
}

test('HTTP CheckRequest: source and destination peers, request time, http attributes with every header (pseudo-headers, Host as :authority, repeats joined)', () => {
  const a = decode(httpCheckRequest(ALL, stream(), { route: 'headers' })).attributes;
  assert.deepEqual(a.source, { address: { socketAddress: { address: '10.0.0.7', portValue: 41000 } }, principal: 'spiffe://cluster.local/ns/foo/sa/sleep', service: 'sleep' });
  assert.deepEqual(a.destination, { address: { socketAddress: { address: '::1', portValue: 8000 } }, principal: 'spiffe://cluster.local/ns/foo/sa/httpbin' });
  assert.deepEqual(a.request.time, { seconds: 1_700_000_000, nanos: 250_000_000 });
  const h = a.request.http;
  assert.equal(h.method, 'POST');
  assert.equal(h.path, '/headers?a=1');
  assert.equal(h.host, 'httpbin.foo:8000');
  assert.equal(h.scheme, 'http');
  assert.equal(h.protocol, 'HTTP/1.1');
  assert.match(h.id, /^\d+$/);
  assert.deepEqual(h.headers, {
    ':authority': 'httpbin.foo:8000',
    ':path': '/headers?a=1',
    ':method': 'POST',
    ':scheme': 'http',
    'x-ext-authz': 'allow',
    cookie: 'a=1,b=2',
    'x-envoy-downstream-service-cluster': 'sleep',
  });
  assert.deepEqual(a.contextExtensions, { route: 'headers' });
  assert.equal(a.tlsSession, undefined);
  assert.equal(a.source.certificate, undefined, 'only with include_peer_certificate');
});

test('HTTP CheckRequest options: header lists, the peer certificate, the TLS session, metadata namespaces', () => {
  const s = stream();
  s.info.requestedServerName = 'httpbin.foo';
  s.info.dynamicMetadata['envoy.filters.http.jwt_authn'] = { payload: { sub: 'alice', groups: ['a', 'b'], n: 1, ok: true, none: null } };
  const settings: CheckSettings = { headerFilter: (n) => n.startsWith('x-') || n === ':path', includePeerCertificate: true, includeTlsSession: true, metadataContextNamespaces: ['envoy.filters.http.jwt_authn', 'absent'] };
  const a = decode(httpCheckRequest(settings, s, null)).attributes;
  assert.deepEqual(Object.keys(a.request.http.headers).sort(), [':path', 'x-envoy-downstream-service-cluster', 'x-ext-authz']);
  assert.equal(a.request.http.method, 'POST', 'method, path and host are set whatever the header list');
  assert.equal(a.source.certificate, '-----BEGIN%20CERTIFICATE-----');
  assert.deepEqual(a.tlsSession, { sni: 'httpbin.foo' });
  // protos.ts maps Struct back to its JSON form, so the round trip shows the values kept their kinds.
  assert.deepEqual(a.metadataContext.filterMetadata['envoy.filters.http.jwt_authn'], { payload: { sub: 'alice', groups: ['a', 'b'], n: 1, ok: true, none: null } });
  assert.deepEqual(Object.keys(a.metadataContext.filterMetadata), ['envoy.filters.http.jwt_authn']);
});

test('TCP CheckRequest: only the peers (destination service = SNI); plaintext has no principals', () => {
  const info = newStreamInfo(0, 0);
  info.downstreamRemoteAddress = '127.0.0.9:5000';
  info.downstreamLocalAddress = '127.0.0.1:9000';
  info.peerCertificate = SLEEP;
  info.requestedServerName = 'tcp.example';
  const a = decode(tcpCheckRequest(ALL, info)).attributes;
  assert.deepEqual(a.source, { address: { socketAddress: { address: '127.0.0.9', portValue: 5000 } }, principal: 'spiffe://cluster.local/ns/foo/sa/sleep' });
  assert.deepEqual(a.destination, { address: { socketAddress: { address: '127.0.0.1', portValue: 9000 } }, service: 'tcp.example' });
  assert.equal(a.request, undefined);
  info.peerCertificate = null;
  assert.equal(decode(tcpCheckRequest(ALL, info)).attributes.source.principal, undefined);
});

test('principal: URI SAN, else DNS SAN, else subject', () => {
  assert.equal(principalOf(SLEEP), 'spiffe://cluster.local/ns/foo/sa/sleep');
  assert.equal(principalOf({ ...SLEEP, uriSans: [], dnsSans: ['a.example'] }), 'a.example');
  assert.equal(principalOf({ ...SLEEP, uriSans: [], subject: 'CN=a' }), 'CN=a');
  assert.equal(principalOf(null), '');
});

function response(o: Record<string, unknown>): Uint8Array {
  const t = checkTypes().response;
  return t.encode(t.fromObject(o)).finish();
}

test('CheckResponse OK: header mutations by append action (deprecated append too), headers to remove, client headers, query parameters', () => {
  const v = parseCheckResponse(
    response({
      status: { code: 0 },
      okResponse: {
        headers: [
          { header: { key: 'X-Ext-Authz-Check-Result', value: 'allowed' } },
          { header: { key: 'x-a', value: '1' }, appendAction: 'ADD_IF_ABSENT' },
          { header: { key: 'x-b', value: '2' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          { header: { key: 'x-c', value: '3' }, appendAction: 'OVERWRITE_IF_EXISTS' },
          { header: { key: 'x-d', value: '4' }, append: { value: true } },
          { header: { key: 'x-e', value: '5' }, append: { value: false } },
        ],
        headersToRemove: ['Authorization'],
        responseHeadersToAdd: [{ header: { key: 'set-cookie', value: 's=1' } }],
        queryParametersToSet: [{ key: 'k', value: 'v' }],
        queryParametersToRemove: ['drop'],
      },
    }),
  );
  assert.equal(v.kind, 'ok');
  if (v.kind !== 'ok') return;
  assert.deepEqual(
    v.headers.map((m) => [m.name, m.value, m.action, m.combine]),
    [
      ['x-ext-authz-check-result', 'allowed', APPEND_IF_EXISTS_OR_ADD, false],
      ['x-a', '1', ADD_IF_ABSENT, false],
      ['x-b', '2', OVERWRITE_IF_EXISTS_OR_ADD, false],
      ['x-c', '3', OVERWRITE_IF_EXISTS, false],
      ['x-d', '4', APPEND_IF_EXISTS_OR_ADD, true],
      ['x-e', '5', OVERWRITE_IF_EXISTS_OR_ADD, false],
    ],
  );
  assert.deepEqual(v.headersToRemove, ['authorization']);
  assert.deepEqual(v.responseHeaders.map((m) => [m.name, m.value]), [['set-cookie', 's=1']]);
  assert.deepEqual(v.queryToSet, [['k', 'v']]);
  assert.deepEqual(v.queryToRemove, ['drop']);
  assert.deepEqual(parseCheckResponse(response({})), { kind: 'ok', headers: [], headersToRemove: [], responseHeaders: [], queryToSet: [], queryToRemove: [] }, 'no status is OK');
});

test("CheckResponse denied: PERMISSION_DENIED (or any code) with denied_response's status, headers and body; 403 when unset", () => {
  const v = parseCheckResponse(response({ status: { code: 7, message: 'no' }, deniedResponse: { status: { code: 401 }, headers: [{ header: { key: 'www-authenticate', value: 'Bearer' } }], body: 'who are you' } }));
  assert.deepEqual(v, { kind: 'denied', status: 401, headers: [{ name: 'www-authenticate', value: 'Bearer', action: APPEND_IF_EXISTS_OR_ADD, combine: false }], body: 'who are you' });
  assert.deepEqual(parseCheckResponse(response({ status: { code: 16 } })), { kind: 'denied', status: 403, headers: [], body: '' });
});

test('CheckResponse that cannot be applied: a header name or value HTTP forbids, an unknown append action; bytes that are not a CheckResponse throw', () => {
  assert.equal(parseCheckResponse(response({ okResponse: { headers: [{ header: { key: 'bad name', value: 'v' } }] } })).kind, 'invalid');
  assert.equal(parseCheckResponse(response({ status: { code: 7 }, deniedResponse: { headers: [{ header: { key: 'x', value: 'a\r\nb' } }] } })).kind, 'invalid');
  assert.equal(parseCheckResponse(response({ okResponse: { headers: [{ header: { key: 'x', value: 'v' }, appendAction: 9 }] } })).kind, 'invalid');
  assert.throws(() => parseCheckResponse(Buffer.from([0x0a, 0xff])));
});
