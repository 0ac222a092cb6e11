// WebSocket upgrades through a real proxy listener (upgradeConfigs: websocket, as Istio writes
// it): the handshake reaches the upstream with its Upgrade headers, the 101 comes back, and bytes
// then flow both ways through the tunnel; an upstream that declines answers normally; other
// upgrade types are refused with 403 upgrade_failed. Raw sockets on both sides, so what is
// checked is exactly what crosses the wire.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MemorySink } from '../../src/telemetry/access-log/sink.js';
import { FILE_ACCESS_LOG_TYPE } from '../../src/xds/resources.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
let upstream: http.Server;
let proxy: RunningProxy;
let port: number;
const sink = new MemorySink();
const seen: http.IncomingHttpHeaders[] = [];

before(async () => {
  upstream = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('plain');
  });
  upstream.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    seen.push(req.headers);
    if (req.url === '/decline') {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 8\r\nconnection: close\r\n\r\ndeclined');
      return;
    }
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
    // Echo with a prefix, so the test sees the bytes went through the upstream.
    socket.on('data', (c: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), c])));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as AddressInfo).port;
  const routes = [{ match: { prefix: '/' }, route: { cluster: 'ws', timeout: '0s' } }];
  const accessLog = [{ name: 'envoy.access_loggers.file', typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout' } }];
  proxy = await startStaticProxy([loopbackListener('edge', [httpChain('edge', routes, { upgradeConfigs: [{ upgradeType: 'websocket' }], accessLog })])], [staticCluster('ws', upPort)], 3);
  for (const l of proxy.proxy.listeners.list()) for (const a of l.manager!.config.accessLogs) a.sink = sink;
  port = proxy.port();
});

after(async () => {
  await proxy.stop();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

/** Sends a raw request and collects what comes back until `until` matches (or the close). */
function rawExchange(request: string, until: RegExp, then?: (s: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let sentFollowUp = false;
    s.on('data', (c: Buffer) => {
      got += c.toString();
      if (then && !sentFollowUp && got.includes('\r\n\r\n')) {
        sentFollowUp = true;
        then(s);
      }
      if (until.test(got)) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(request);
  });
}

const handshake = (path: string, upgrade = 'websocket') =>
  `GET ${path} HTTP/1.1\r\nhost: chat.example\r\nconnection: Upgrade\r\nupgrade: ${upgrade}\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

test('WebSocket: 101 with the upstream accept key, then bytes flow both ways through the tunnel', async () => {
  const got = await rawExchange(handshake('/chat'), /echo:hello/, (s) => s.write('hello'));
  assert.match(got, /^HTTP\/1\.1 101 /);
  assert.match(got, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  assert.match(got, /\r\nupgrade: websocket\r\n/i);
  assert.match(got, /echo:hello/);
  const h = seen.at(-1)!;
  assert.equal(h.upgrade, 'websocket');
  assert.equal(h.connection, 'upgrade');
  assert.equal(h['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
  assert.ok(h['x-request-id'], 'the upgrade request is a routed request, with a request id');
  await eventuallyLogged(/"GET \/chat HTTP\/1\.1" 101 /);
});

test('an upstream that declines the upgrade answers as a normal response', async () => {
  const got = await rawExchange(handshake('/decline'), /declined/);
  assert.match(got, /^HTTP\/1\.1 400 /);
  assert.match(got, /declined$/);
});

test('an upgrade type the listener does not enable is refused with 403 upgrade_failed', async () => {
  const got = await rawExchange(handshake('/chat', 'spdy/3'), /\r\n\r\n[\s\S]*\n$/);
  assert.match(got, /^HTTP\/1\.1 403 /);
  assert.match(got, /x-strait-details: upgrade_failed/);
});

async function eventuallyLogged(re: RegExp): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (sink.lines.some((l) => re.test(l))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`no access-log line matches ${re}: ${sink.lines.join('\n')}`);
}
