// Memory per idle keep-alive connection (issue 7, performance.md §8 step 5): open N client
// connections to the system, send one request on each (so every connection has been used, as a
// pooled keep-alive connection is), leave them idle, and read VmRSS of the process that holds
// them before and after. The difference per connection is what an idle client costs.

import net from 'node:net';
import { processRssBytes } from '../lib/cpu.js';
import type { SystemName, SystemUnderTest } from '../lib/systems.js';

export interface MemoryRecord {
  system: SystemName;
  connections: number;
  opened: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  perConnectionBytes: number;
}

const SETTLE_MS = 1000;

function openOne(url: URL): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const s = net.connect({ host: url.hostname, port: Number(url.port) });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(null);
    }, 10_000);
    s.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    s.on('connect', () => s.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      // One small response: wait for its end (the 1 KiB body after the head).
      const he = got.indexOf('\r\n\r\n');
      const cl = /content-length:\s*(\d+)/i.exec(got);
      const complete = he >= 0 && (cl ? got.length >= he + 4 + Number(cl[1]) : got.endsWith('\r\n0\r\n\r\n'));
      if (complete) {
        clearTimeout(timer);
        s.removeAllListeners('data');
        resolve(s);
      }
    });
  });
}

export async function idleConnections(sut: SystemUnderTest, n: number): Promise<MemoryRecord> {
  const url = new URL(sut.url);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const before = processRssBytes(sut.front.pid);
  const sockets: net.Socket[] = [];
  try {
    // In batches, so that the listen backlog never overflows.
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => openOne(url)));
      for (const s of batch) if (s) sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const after = processRssBytes(sut.front.pid);
    return { system: sut.name, connections: n, opened: sockets.length, rssBeforeBytes: before, rssAfterBytes: after, perConnectionBytes: sockets.length ? (after - before) / sockets.length : Number.NaN };
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
  }
}
