// Benchmark peer (issue 7, performance.md §4.2): node-http-proxy as most Node projects use it,
// a node:http server forwarding every request to the origin through a keep-alive http.Agent.
// Plain JavaScript run by plain `node`, so neither a TypeScript loader nor its memory is part of
// what is measured. Usage: node http-proxy.mjs ORIGIN_URL; prints `listening <port>`.

import http from 'node:http';
import httpProxy from 'http-proxy';

const target = process.argv[2];
if (!target) throw new Error('usage: node http-proxy.mjs ORIGIN_URL');
// As in @fastify/http-proxy's comparison benchmark: keep-alive to the origin, many sockets.
const agent = new http.Agent({ keepAlive: true, maxSockets: 2048 });
const proxy = httpProxy.createProxyServer({ target, agent });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
// Idle client connections stay open as long as nginx's (keepalive_timeout 300s in the bench).
server.keepAliveTimeout = 300_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
