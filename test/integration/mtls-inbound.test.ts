// A sidecar-style inbound listener with mesh mTLS, through a real proxy: the certificate and CA
// come as SDS secrets `default` and `ROOTCA` (Istio's names), a PERMISSIVE port takes mTLS and
// plaintext side by side (chosen by the TLS inspector), the workload gets X-Forwarded-Client-Cert
// with the caller's SPIFFE id (APPEND_FORWARD, as Istio sets it), a spoofed header from a
// plaintext caller is dropped, and a TCP port terminates mTLS in front of its TCP proxy.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { DOWNSTREAM_TLS_TYPE, TCP_PROXY_TYPE } from '../../src/xds/resources.js';
import type { FilterChain, Secret } from '../../src/xds/resources.js';
import { haveOpenssl, makeCa, makeSpiffeCert } from '../helpers/certs.js';
import type { TestCert } from '../helpers/certs.js';
import { request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

const skip = haveOpenssl() ? false : 'openssl is not installed (scripts/install-test-deps.sh)';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/httpbin';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/sleep';
let ca: TestCert;
let client: TestCert;
let stranger: TestCert;
let app: TestUpstream;
let echo: net.Server;
let proxy: RunningProxy;

const meshTls = {
  name: 'envoy.transport_sockets.tls',
  typedConfig: {
    '@type': DOWNSTREAM_TLS_TYPE,
    commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } },
    requireClientCertificate: true,
  },
} as unknown as FilterChain['transportSocket'];

before(async () => {
  if (skip) return;
  ca = makeCa('mesh root');
  const server = makeSpiffeCert(ca, SERVER_ID);
  client = makeSpiffeCert(ca, CLIENT_ID);
  stranger = makeSpiffeCert(makeCa('other root'), CLIENT_ID);
  app = await startUpstream();
  echo = net.createServer((s) => s.on('data', (c: Buffer) => s.write(`echo ${c.toString()}`)));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const routes = [{ match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' } }];
  const xfcc = { forwardClientCertDetails: 'APPEND_FORWARD' as const, setCurrentClientCertDetails: { subject: true, dns: true, uri: true } };
  const secrets: Secret[] = [
    { name: 'default', tlsCertificate: { certificateChain: { inlineString: server.cert }, privateKey: { inlineString: server.key } } },
    { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: ca.cert } } },
  ];
  const tcpChain: FilterChain = {
    name: 'tcp-mtls',
    filterChainMatch: { transportProtocol: 'tls' },
    transportSocket: meshTls,
    filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_PROXY_TYPE, statPrefix: 'inbound_tcp', cluster: 'echo' } }],
  };
  proxy = await startStaticProxy(
    [
      loopbackListener('inbound_http', [
        httpChain('inbound_mtls', routes, xfcc, { name: 'mtls', filterChainMatch: { transportProtocol: 'tls' }, transportSocket: meshTls }),
        httpChain('inbound_plain', routes, xfcc, { name: 'plaintext', filterChainMatch: { transportProtocol: 'raw_buffer' } }),
      ]),
      loopbackListener('inbound_tcp', [tcpChain]),
    ],
    [staticCluster('app', app.port), staticCluster('echo', (echo.address() as AddressInfo).port)],
    1,
    // What a proxy gets from SDS or from its identity agent.
    secrets,
  );
});

after(async () => {
  if (skip) return;
  await proxy.stop();
  await app.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

function mtlsGet(cert: TestCert | null, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: proxy.port('inbound_http'),
        path: '/whoami',
        ca: ca.cert,
        ...(cert ? { cert: cert.cert, key: cert.key } : {}),
        // Mesh certificates carry SPIFFE ids, not DNS names: secure naming checks the URI SAN.
        checkServerIdentity: (_h, c) => (c.subjectaltname === `URI:${SERVER_ID}` ? undefined : new Error(`unexpected server ${c.subjectaltname}`)),
        headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('mTLS caller: the workload gets X-Forwarded-Client-Cert naming the server (By) and the caller (URI)', { skip }, async () => {
  const r = await mtlsGet(client);
  assert.equal(r.status, 200);
  const xfcc = (JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-forwarded-client-cert'];
  assert.match(xfcc, new RegExp(`^By=${SERVER_ID};Hash=[0-9a-f]{64};Subject="[^"]*";URI=${CLIENT_ID}$`));
});

test('PERMISSIVE: plaintext is served on the same port, and a spoofed X-Forwarded-Client-Cert is dropped', { skip }, async () => {
  const r = await request(`${proxy.base}/whoami`, { headers: { 'x-forwarded-client-cert': `By=x;URI=${CLIENT_ID}` } });
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-forwarded-client-cert'], undefined);
});

test('mTLS requires a client certificate from the mesh CA: none, or another CA, fails the handshake', { skip }, async () => {
  await assert.rejects(mtlsGet(null));
  await assert.rejects(mtlsGet(stranger));
});

test('a TCP port terminates mTLS in front of its TCP proxy; without a client certificate it refuses', { skip }, async () => {
  const line = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: proxy.port('inbound_tcp'), ca: ca.cert, cert: client.cert, key: client.key, checkServerIdentity: () => undefined }, () => s.write('ping\n'));
    s.once('data', (c: Buffer) => {
      s.destroy();
      resolve(c.toString());
    });
    s.on('error', reject);
  });
  assert.equal(line, 'echo ping\n');
  await assert.rejects(
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: proxy.port('inbound_tcp'), ca: ca.cert, checkServerIdentity: () => undefined }, () => s.write('ping\n'));
      s.once('data', resolve);
      s.on('error', reject);
      s.on('close', () => reject(new Error('closed')));
    }),
  );
});

test('a plaintext HTTP caller on a STRICT (TLS-only) listener is told why in a 503, not just cut off', { skip }, async () => {
  const r = await request(`http://127.0.0.1:${proxy.port('inbound_tcp')}/`);
  assert.equal(r.status, 503);
  assert.equal(r.headers['x-strait-details'], 'filter_chain_not_found{plaintext_on_tls_only_listener}');
  assert.match(r.body, /accepts only TLS .*PeerAuthentication STRICT.*DestinationRule tls mode/);
});
