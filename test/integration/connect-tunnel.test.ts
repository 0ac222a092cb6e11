// CONNECT tunnels on a sidecar-style outbound listener, through a real proxy: what an HTTP_PROXY
// client sends for https:// URLs and for non-HTTP protocols. The tunnel's bytes are dispatched
// like a new connection: TLS by SNI and port to a passthrough chain (HTTPS egress, TASK-10),
// plain TCP by the tunnel's host and port to a TCP chain (two services on one port told apart),
// and plain HTTP to the listener's own connection manager.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { TCP_PROXY_TYPE } from '../../src/xds/resources.js';
import type { FilterChain } from '../../src/xds/resources.js';
import { haveOpenssl, makeCert } from '../helpers/certs.js';
import type { TestCert } from '../helpers/certs.js';
import { startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

const skip = haveOpenssl() ? false : 'openssl is not installed (scripts/install-test-deps.sh)';
const servers: net.Server[] = [];
let web: TestUpstream;
let cert: TestCert;
let proxy: RunningProxy;
let port: number;

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A line echo server that prefixes what it echoes (like Istio's tcp-echo). */
const echo = (prefix: string) => net.createServer((s) => s.on('data', (c: Buffer) => s.write(`${prefix} ${c.toString()}`)));

const tcpChain = (name: string, match: FilterChain['filterChainMatch'], target: string): FilterChain => ({
  name,
  filterChainMatch: match,
  filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_PROXY_TYPE, statPrefix: name, cluster: target } }],
});

before(async () => {
  if (skip) return;
  cert = makeCert('secure.example');
  const a = await listen(echo('one'));
  const b = await listen(echo('two'));
  const secure = await listen(
    https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      res.end(`tls upstream saw ${req.url}`);
    }),
  );
  web = await startUpstream();
  const webRoutes = [{ match: { prefix: '/' }, route: { cluster: 'web', timeout: '0s' } }];
  proxy = await startStaticProxy(
    [
      loopbackListener('virtualOutbound', [
        httpChain('outbound', webRoutes, { upgradeConfigs: [{ upgradeType: 'CONNECT' }] }, { name: 'http', filterChainMatch: { transportProtocol: 'raw_buffer' } }),
        tcpChain('tcp-one', { transportProtocol: 'raw_buffer', destinationPort: 9000, serverNames: ['echo-one', 'echo-one.default'] }, 'one'),
        tcpChain('tcp-two', { transportProtocol: 'raw_buffer', destinationPort: 9000, serverNames: ['echo-two'] }, 'two'),
        tcpChain('tls-secure', { transportProtocol: 'tls', destinationPort: 443, serverNames: ['secure.example'] }, 'secure'),
      ]),
    ],
    [staticCluster('one', a), staticCluster('two', b), staticCluster('secure', secure), staticCluster('web', web.port)],
    2,
  );
  port = proxy.port();
});

after(async () => {
  if (skip) return;
  await proxy.stop();
  await web.close();
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

/** Opens a CONNECT tunnel through the proxy; resolves with the socket once it is established. */
function tunnel(target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`));
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      if (!/^HTTP\/1\.1 200 /.test(head)) {
        reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`));
        return;
      }
      resolve(s);
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

function exchangeLine(s: net.Socket, line: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (c: Buffer) => {
      s.destroy();
      resolve(c.toString());
    });
    s.write(line);
  });
}

test('plain TCP in a tunnel goes to the service the tunnel names, even with two services on one port', { skip }, async () => {
  assert.equal(await exchangeLine(await tunnel('echo-one:9000'), 'hello\n'), 'one hello\n');
  assert.equal(await exchangeLine(await tunnel('echo-two:9000'), 'hello\n'), 'two hello\n');
  assert.equal(await exchangeLine(await tunnel('ECHO-ONE.default:9000'), 'again\n'), 'one again\n');
});

test('TLS in a tunnel is passed through by SNI and port: the client handshakes with the upstream itself', { skip }, async () => {
  const s = await tunnel('secure.example:443');
  const body = await new Promise<string>((resolve, reject) => {
    const t = tls.connect({ socket: s, servername: 'secure.example', ca: cert.cert }, () => {
      t.write('GET /through HTTP/1.1\r\nhost: secure.example\r\nconnection: close\r\n\r\n');
    });
    let out = '';
    t.on('data', (c: Buffer) => (out += c.toString()));
    t.on('end', () => resolve(out));
    t.on('error', reject);
  });
  assert.match(body, /^HTTP\/1\.1 200 /);
  assert.match(body, /tls upstream saw \/through/);
});

test('plain HTTP in a tunnel is served by the listener\'s connection manager', { skip }, async () => {
  const s = await tunnel('web.example:8080');
  const out = await new Promise<string>((resolve) => {
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('end', () => resolve(got));
    s.write('GET /in-tunnel HTTP/1.1\r\nhost: web.example:8080\r\nconnection: close\r\n\r\n');
  });
  assert.match(out, /^HTTP\/1\.1 200 /);
  assert.match(out, /"url":"\/in-tunnel"/);
});

test('half-close: a client that shuts its side right after its line still gets the answer (nc -N)', { skip }, async () => {
  const s = await tunnel('echo-two:9000');
  const got = await new Promise<string>((resolve) => {
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString()));
    s.on('end', () => resolve(out));
    s.end('bye\n');
  });
  assert.equal(got, 'two bye\n');
});
