import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { H2_PREFACE, inspectClientHello, sniffPlaintext } from './tls-inspector.js';

/** Captures the real ClientHello Node's TLS client sends. */
async function clientHello(servername: string, alpn: string[]): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => {
    resolve(d);
    s.destroy();
  })));
  const c = tls.connect({ host: '127.0.0.1', port, servername, ALPNProtocols: alpn, rejectUnauthorized: false });
  c.on('error', () => undefined);
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

test('reads SNI and ALPN from a real ClientHello', async () => {
  const hello = await clientHello('api.example.com', ['h2', 'http/1.1']);
  const r = inspectClientHello(hello);
  assert.deepEqual(r, { complete: true, tls: true, sni: 'api.example.com', alpn: ['h2', 'http/1.1'] });
});

test('asks for more bytes while the record is incomplete', async () => {
  const hello = await clientHello('a.b', []);
  assert.equal(inspectClientHello(hello.subarray(0, 3)).complete, false);
  assert.equal(inspectClientHello(hello.subarray(0, hello.length - 1)).complete, false);
});

test('plaintext is not TLS; the h2c preface is told from HTTP/1.1', () => {
  assert.deepEqual(inspectClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { complete: true, tls: false });
  assert.equal(sniffPlaintext(H2_PREFACE), 'h2c');
  assert.equal(sniffPlaintext(H2_PREFACE.subarray(0, 5)), undefined);
  assert.equal(sniffPlaintext(Buffer.from('POST /x HTTP/1.1\r\n')), 'http1');
  assert.equal(sniffPlaintext(Buffer.from('PRX')), 'http1');
});
