// The floor of any Node.js proxy on this machine: a TCP relay that pairs each downstream
// connection with its own upstream connection and copies bytes both ways (no HTTP parsing, no
// routing, no headers, no pooling). Whatever a Node HTTP proxy does per request comes on top of
// these reads and writes, so its req/s on one core bounds what a Node proxy can reach there
// (docs/benchmarks.md, "The Node floor"). Not a system of the benchmark: run by hand, pinned
// like the others, with wrk against it.
// Usage: node bench/peers/pipe-floor.mjs UPSTREAM_PORT   (prints `listening PORT`)

import net from 'node:net';

const upstreamPort = Number(process.argv[2]);
if (!upstreamPort) throw new Error('usage: pipe-floor.mjs UPSTREAM_PORT');
const server = net.createServer({ noDelay: true }, (down) => {
  const up = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
  down.pipe(up);
  up.pipe(down);
  const close = () => {
    down.destroy();
    up.destroy();
  };
  down.on('error', close).on('close', close);
  up.on('error', close).on('close', close);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
