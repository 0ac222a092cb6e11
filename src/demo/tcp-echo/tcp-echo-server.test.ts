// Istio's TCP echo server over real sockets: each line comes back after the prefix, several
// lines per connection, split and joined writes, a last line without newline dropped at the end
// (as the Go sample does), every port of the list served, and the args checked.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTcpEchoServer, parseTcpEchoArgs } from './tcp-echo-server.js';
import { serveTcpEcho } from './serve-tcp.js';

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function listen(prefix: string): Promise<number> {
  const server = createTcpEchoServer(prefix);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Sends the chunks (with a pause between them), half-closes, and returns everything read until the server closes. */
function exchange(port: number, chunks: (string | Buffer)[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    s.on('data', (c: Buffer) => got.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got)));
    s.once('connect', async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 10));
      }
      s.end();
    });
  });
}

test('each line comes back prefixed, and the server closes once the client has finished', async () => {
  const port = await listen('one');
  assert.equal((await exchange(port, ['hello\n'])).toString(), 'one hello\n');
  assert.equal((await exchange(port, ['a\nb\n', 'c\n'])).toString(), 'one a\none b\none c\n');
});

test('a line split over several writes is echoed once, whole; bytes are echoed as sent', async () => {
  const port = await listen('two');
  assert.equal((await exchange(port, ['Thu Nov 26 ', '04:44:00 UTC', ' 2026\n'])).toString(), 'two Thu Nov 26 04:44:00 UTC 2026\n');
  const bytes = Buffer.from([0xff, 0x00, 0xc3, 0xa9, 0x0a]);
  assert.deepEqual(await exchange(port, [bytes]), Buffer.concat([Buffer.from('two '), bytes]));
});

test('a last line without its newline is dropped, as the Go sample does', async () => {
  const port = await listen('one');
  assert.equal((await exchange(port, ['done\npartial'])).toString(), 'one done\n');
  assert.equal((await exchange(port, [])).toString(), '');
});

test('serveTcpEcho listens on every port of the list, on the host given', async () => {
  // Free ports first: the sample's list names fixed ports.
  const free = await Promise.all([0, 1].map(() => new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  })));
  const lines: string[] = [];
  const done = serveTcpEcho({ host: '127.0.0.1', ports: free, prefix: 'one', out: (l) => lines.push(l), err: (l) => lines.push(l) });
  const deadline = Date.now() + 5000;
  while (lines.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(lines, free.map((p) => `listening on 127.0.0.1:${p}, prefix: one`));
  for (const p of free) assert.equal((await exchange(p, ['x\n'])).toString(), 'one x\n');
  process.emit('SIGTERM');
  assert.equal(await done, 0);
});

test('serveTcpEcho fails with status 1 when a port is taken', async () => {
  const taken = await listen('x');
  const errs: string[] = [];
  const code = await serveTcpEcho({ host: '127.0.0.1', ports: [taken], prefix: 'one', out: () => undefined, err: (l) => errs.push(l) });
  assert.equal(code, 1);
  assert.match(errs.join('\n'), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`));
});

test('parseTcpEchoArgs: the image\'s `PORTS PREFIX`', () => {
  assert.deepEqual(parseTcpEchoArgs('9000,9001,9002', 'one'), { ports: [9000, 9001, 9002], prefix: 'one' });
  assert.deepEqual(parseTcpEchoArgs('9000', 'hello'), { ports: [9000], prefix: 'hello' });
  for (const bad of ['', '9000,', 'x', '70000', '9000;9001', '-1']) {
    assert.throws(() => parseTcpEchoArgs(bad, 'one'), /ports must be a comma-separated list/, bad);
  }
});
