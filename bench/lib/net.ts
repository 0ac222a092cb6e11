// Loopback helpers for the benchmark: find a free port (bind to port 0, read it, close), and
// check that a system under test answers GET / with 200 and the origin's body before it is
// measured (a benchmark of errors is worthless).

import http from 'node:http';
import net from 'node:net';
import type { Managed } from './processes.js';

export const HOST = '127.0.0.1';

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

export interface Probe {
  status: number;
  bodyBytes: number;
  headers: http.IncomingHttpHeaders;
}

/** One GET on a fresh connection. */
export function probe(url: string, timeoutMs = 2000): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let bodyBytes = 0;
      res.on('data', (c: Buffer) => (bodyBytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bodyBytes, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Polls `url` until it answers (any status), the process dies, or `timeoutMs` passes. */
export async function waitUntilAnswering(url: string, proc: Managed, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    proc.assertAlive();
    try {
      await probe(url, 1000);
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${proc.name}: ${url} not answering after ${timeoutMs} ms (${last}):\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `count` GETs and throws unless every one is 200 with exactly `bodyBytes` of body. */
export async function assertAnswers200(name: string, url: string, bodyBytes: number, count = 5): Promise<Probe> {
  let p: Probe | undefined;
  for (let i = 0; i < count; i++) {
    p = await probe(url);
    if (p.status !== 200 || p.bodyBytes !== bodyBytes) {
      throw new Error(`${name}: GET ${url} answered ${p.status} with ${p.bodyBytes} body bytes (want 200 with ${bodyBytes}); refusing to benchmark errors`);
    }
  }
  return p!;
}
