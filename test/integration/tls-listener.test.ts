// A TLS listener of a real proxy process-less (in this test process) on loopback, checked with
// the clients a user would use: curl (--resolve, --http1.1/--http2) and openssl s_client. SNI
// picks the certificate and the filter chain; the Host header picks the route; TLS 1.2+ with
// AEAD suites only; ALPN offers h2 and http/1.1.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { systemClock } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import { Proxy } from '../../src/dataplane/proxy.js';
import { DOWNSTREAM_TLS_TYPE, HCM_TYPE, ROUTER_TYPE, TLS_TRANSPORT_SOCKET } from '../../src/xds/resources.js';
import type { FilterChain, RouteConfiguration } from '../../src/xds/resources.js';
import { haveOpenssl, makeCert } from '../helpers/certs.js';
import type { TestCert } from '../helpers/certs.js';
import { startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';

const run = promisify(execFile);
const skip = haveOpenssl() ? false : 'openssl is not installed (scripts/install-system-deps.sh)';

let upstream: TestUpstream;
let proxy: Proxy;
let port: number;
let foo: TestCert;
let wild: TestCert;

function chain(serverNames: string[], cert: TestCert, rc: RouteConfiguration): FilterChain {
  return {
    filterChainMatch: { serverNames },
    transportSocket: {
      name: TLS_TRANSPORT_SOCKET,
      typedConfig: {
        '@type': DOWNSTREAM_TLS_TYPE,
        commonTlsContext: { tlsCertificates: [{ certificateChain: { inlineString: cert.cert }, privateKey: { inlineString: cert.key } }], alpnProtocols: ['h2', 'http/1.1'] },
      },
    },
    filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typedConfig: { '@type': HCM_TYPE, statPrefix: 'https', routeConfig: rc, httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } }] },
    }],
  };
}

before(async () => {
  if (skip) return;
  upstream = await startUpstream();
  foo = makeCert('foo.bar.com');
  wild = makeCert('*.foo.com');
  const rc: RouteConfiguration = {
    name: 'https',
    virtualHosts: [
      { name: 'foo', domains: ['foo.bar.com', 'foo.bar.com:*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '0s' } }] },
      { name: 'wild', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '0s' } }] },
    ],
  };
  proxy = new Proxy({
    bootstrap: {
      node: { id: 'tls-test' },
      staticResources: {
        listeners: [{ name: 'https', address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [chain(['foo.bar.com'], foo, rc), chain(['*.foo.com'], wild, rc)] }],
        clusters: [{ name: 'up', type: 'STATIC', loadAssignment: { clusterName: 'up', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstream.port } } } }] }] } }],
      },
    },
    addresses: { wildcard: '127.0.0.1', localhost: '127.0.0.1' },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(1),
    log: () => undefined,
  });
  await proxy.start();
  port = proxy.listeners.list()[0]!.port;
});

after(async () => {
  if (skip) return;
  await proxy.stop();
  await upstream.close();
});

async function curl(host: string, ...args: string[]): Promise<{ head: string; body: string }> {
  const { stdout } = await run('curl', ['-s', '-i', '--cacert', host.endsWith('foo.com') ? wild.certFile : foo.certFile, '--resolve', `${host}:${port}:127.0.0.1`, ...args, `https://${host}:${port}/hello?x=1`]);
  const i = stdout.indexOf('\r\n\r\n');
  return { head: stdout.slice(0, i), body: stdout.slice(i + 4) };
}

test('SNI picks the certificate: curl verifies foo.bar.com against its own certificate', { skip }, async () => {
  const r = await curl('foo.bar.com', '--http1.1');
  assert.match(r.head, /^HTTP\/1\.1 200/);
  const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/hello?x=1');
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
  assert.equal(seen.headers.host, `foo.bar.com:${port}`);
});

test('a wildcard server name serves its certificate; HTTP/2 is negotiated with ALPN', { skip }, async () => {
  const r = await curl('api.foo.com', '--http2');
  assert.match(r.head, /^HTTP\/2 200/);
  const seen = JSON.parse(r.body) as { headers: Record<string, string> };
  assert.equal(seen.headers.host, `api.foo.com:${port}`);
});

test('openssl s_client sees the certificate chosen by -servername', { skip }, async () => {
  for (const [sni, cn] of [['foo.bar.com', 'foo.bar.com'], ['x.foo.com', '*.foo.com']]) {
    const { stdout } = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${port} -servername ${sni} 2>/dev/null | openssl x509 -noout -subject`]);
    assert.match(stdout, new RegExp(`CN ?= ?${cn!.replace('.', '\\.').replace('*', '\\*')}`));
  }
});

test('TLS 1.1 and CBC suites are refused; TLS 1.2 with an AEAD suite is accepted', { skip }, async () => {
  const tls11 = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${port} -servername foo.bar.com -tls1_1 2>&1; true`]);
  assert.doesNotMatch(tls11.stdout, /Cipher is ECDHE/);
  const cbc = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${port} -servername foo.bar.com -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA 2>&1; true`]);
  assert.doesNotMatch(cbc.stdout, /Cipher is ECDHE-ECDSA-AES128-SHA\b/);
  const ok = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${port} -servername foo.bar.com -tls1_2 2>&1; true`]);
  assert.match(ok.stdout, /Cipher is ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)/);
});

test('an unknown server name gets no certificate (no filter chain), and the proxy keeps serving', { skip }, async () => {
  const bad = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${port} -servername nope.example.org 2>&1; true`]);
  assert.doesNotMatch(bad.stdout, /BEGIN CERTIFICATE/);
  assert.match((await curl('foo.bar.com')).head, /^HTTP\/\S+ 200/);
});

test('a request body is forwarded from HTTP/2 to the HTTP/1.1 upstream', { skip }, async () => {
  const { stdout } = await run('curl', ['-s', '--http2', '--cacert', foo.certFile, '--resolve', `foo.bar.com:${port}:127.0.0.1`, '-H', 'cookie: a=1', '-H', 'cookie: b=2', '--data-binary', 'payload-123', `https://foo.bar.com:${port}/post`]);
  const seen = JSON.parse(stdout) as { method: string; body: string; headers: Record<string, string> };
  assert.equal(seen.method, 'POST');
  assert.equal(seen.body, 'payload-123');
  assert.equal(seen.headers.cookie, 'a=1; b=2');
});

/** Writes `requests` one after the other on one TLS connection (ALPN http/1.1) and returns each response. */
async function overTls(requests: string[]): Promise<string[]> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'foo.bar.com', ca: foo.cert, ALPNProtocols: ['http/1.1'] });
  await once(socket, 'secureConnect');
  assert.equal(socket.alpnProtocol, 'http/1.1');
  const out: string[] = [];
  let buf = '';
  let wake: (() => void) | null = null;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    wake?.();
  });
  for (const r of requests) {
    socket.write(r);
    // A response ends at its content-length, or at the last chunk (the echo upstream streams).
    for (;;) {
      const headEnd = buf.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: (\d+)\r\n/i.exec(buf.slice(0, headEnd + 2));
      const end = headEnd < 0 ? -1 : len ? headEnd + 4 + Number(len[1]) : buf.indexOf('\r\n0\r\n\r\n', headEnd) + 7;
      if (headEnd >= 0 && end > headEnd && buf.length >= end) {
        out.push(buf.slice(0, end));
        buf = buf.slice(end);
        break;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  socket.destroy();
  return out;
}

test('HTTP/1.1 over TLS keeps the connection alive, counts it once, and rejects malformed requests with 400', { skip }, async () => {
  const cx = () => proxy.stats.valueOf('envoy_http_downstream_cx_total', { http_conn_manager_prefix: 'https' }) ?? 0;
  const before = cx();
  const [a, b] = await overTls(['GET /one HTTP/1.1\r\nHost: foo.bar.com\r\n\r\n', 'GET /two HTTP/1.1\r\nHost: foo.bar.com\r\n\r\n']);
  assert.match(a!, /^HTTP\/1\.1 200/);
  assert.match(b!, /^HTTP\/1\.1 200/);
  assert.match(b!, /"url":"\/two"/);
  assert.match(b!, /"x-forwarded-proto":"https"/);
  assert.equal(cx() - before, 1);
  const [bad] = await overTls(['GET /x HTTP/1.1\r\nHost: foo.bar.com\r\nbad header\r\n\r\n']);
  assert.match(bad!, /^HTTP\/1\.1 400/);
  assert.equal(cx() - before, 2);
});
