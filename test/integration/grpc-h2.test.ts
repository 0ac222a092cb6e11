// HTTP/2 end to end through a real proxy: an h2c client, the proxy, and an h2c upstream cluster
// (http2ProtocolOptions), with gRPC framing. Trailers (grpc-status) reach the client, a
// trailers-only UNAVAILABLE answer is retried under retryOn: unavailable, a request body streams
// through in both directions, and the proxy's own replies to gRPC requests are gRPC replies.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Route } from '../../src/xds/resources.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

let upstream: http2.Http2Server;
let proxy: RunningProxy;
let base: string;
const calls = new Map<string, number>();

/** A gRPC message frame: compressed flag, 4-byte length, payload. */
function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

before(async () => {
  upstream = http2.createServer();
  upstream.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    const n = (calls.get(path) ?? 0) + 1;
    calls.set(path, n);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (path === '/echo.Echo/Flaky' && n === 1) {
        // Trailers-only: the status travels in the one HEADERS frame.
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'try again' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-te-seen': String(headers.te ?? '') }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': `call ${n}` }));
      stream.end(Buffer.concat([frame(`echo:${Buffer.concat(chunks).subarray(5).toString()}`)]));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;

  const routes: Route[] = [
    { name: 'flaky', match: { prefix: '/echo.Echo/Flaky' }, route: { cluster: 'grpc', timeout: '0s', retryPolicy: { retryOn: 'unavailable', numRetries: 2, retryBackOff: { baseInterval: '0.001s' } } } },
    { name: 'nowhere', match: { prefix: '/missing.Service/' }, route: { cluster: 'not-configured', timeout: '0s' } },
    { name: 'grpc', match: { prefix: '/' }, route: { cluster: 'grpc', timeout: '0s' } },
  ];
  proxy = await startStaticProxy([loopbackListener('edge', [httpChain('edge', routes)])], [staticCluster('grpc', port, { http2ProtocolOptions: {} })], 5);
  base = proxy.base;
});

after(async () => {
  await proxy.stop();
  await new Promise<void>((r) => upstream.close(() => r()));
});

interface GrpcResult {
  /** The response ended with its HEADERS frame (trailers-only). */
  trailersOnly: boolean;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function grpcCall(path: string, message: string): Promise<GrpcResult> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(base);
    client.on('error', reject);
    const req = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let trailersOnly = false;
    req.on('response', (h, flags) => {
      headers = h;
      trailersOnly = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      client.close();
      resolve({ trailersOnly, headers, trailers, body: Buffer.concat(chunks) });
    });
    req.on('error', reject);
    req.end(frame(message));
  });
}

test('gRPC over h2c both sides: the message streams through and grpc-status arrives as a trailer', async () => {
  const r = await grpcCall('/echo.Echo/Say', 'hello');
  assert.equal(r.headers[':status'], 200);
  assert.equal(r.headers['content-type'], 'application/grpc');
  assert.equal(r.body.subarray(5).toString(), 'echo:hello');
  assert.equal(r.trailers['grpc-status'], '0');
  assert.equal(r.trailers['grpc-message'], 'call 1');
  // The upstream saw te: trailers, which gRPC servers rely on.
  assert.equal(r.headers['x-te-seen'], 'trailers');
});

test('retryOn unavailable: a trailers-only UNAVAILABLE answer is retried and the retry answers', async () => {
  const r = await grpcCall('/echo.Echo/Flaky', 'again');
  assert.equal(r.trailers['grpc-status'], '0');
  assert.equal(r.trailers['grpc-message'], 'call 2');
  assert.equal(calls.get('/echo.Echo/Flaky'), 2);
});

test('a local reply to a gRPC request is gRPC: 200 trailers-only with grpc-status mapped from the HTTP status', async () => {
  const r = await grpcCall('/missing.Service/Call', 'x');
  assert.equal(r.headers[':status'], 200);
  assert.ok(r.trailersOnly, 'the reply ends with its headers');
  assert.equal(r.headers['content-type'], 'application/grpc');
  // 503 NC → UNAVAILABLE (14), with the explanation in grpc-message and the flag in its header.
  assert.equal(r.headers['grpc-status'], '14');
  assert.match(String(r.headers['grpc-message']), /not-configured/);
  assert.equal(r.headers['x-strait-flags'], 'NC');
});
