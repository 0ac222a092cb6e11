// The Node peers of the benchmark (issue 7, performance.md §4.2): `http-proxy` and
// `@fastify/http-proxy`, each a small plain-JS server in bench/peers/ run by plain `node` (no
// TypeScript loader in the measured process), pinned like every system under test.

import { fileURLToPath } from 'node:url';
import { HOST, waitUntilAnswering } from './net.js';
import { spawnManaged, type Managed } from './processes.js';

const PEERS = { 'http-proxy': 'http-proxy.mjs', fastify: 'fastify-proxy.mjs' } as const;
export type NodePeer = keyof typeof PEERS;

export async function startNodePeer(peer: NodePeer, originUrl: string, cpu: string | undefined): Promise<{ proc: Managed; port: number }> {
  const script = fileURLToPath(new URL(`../peers/${PEERS[peer]}`, import.meta.url));
  const proc = spawnManaged({ name: peer, command: process.execPath, args: [script, originUrl], cpu });
  const m = await proc.waitForLine(/^listening (\d+)$/, 15_000);
  const port = Number(m[1]);
  await waitUntilAnswering(`http://${HOST}:${port}/`, proc);
  return { proc, port };
}
