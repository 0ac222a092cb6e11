// Benchmark peer (issue 7, performance.md §4.2): @fastify/http-proxy, the fastest maintained
// Node proxy (Fastify 5, @fastify/reply-from over undici pools), with its defaults. Plain
// JavaScript run by plain `node`, so neither a TypeScript loader nor its memory is part of what
// is measured. Usage: node fastify-proxy.mjs ORIGIN_URL; prints `listening <port>`.

import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: node fastify-proxy.mjs ORIGIN_URL');
// Idle client connections stay open as long as nginx's (keepalive_timeout 300s in the bench).
const app = Fastify({ logger: false, keepAliveTimeout: 300_000 });
await app.register(proxy, { upstream });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${app.server.address().port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
