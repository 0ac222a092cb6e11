// Memory per idle keep-alive connection (issue 7, performance.md §8 step 5): open client
// connections to the system, send one request on each (so every connection has been used, as a
// pooled keep-alive connection is), leave them idle, and read VmRSS of the process that holds
// them. The cost per connection is the slope between N and 2N open connections: the first N
// also bring a garbage-collected process's heap to its working size (a young generation that
// grows to its cap while those requests are served would otherwise be charged to the
// connections: up to 8 MB, 8 KB per connection at N = 1000).

import net from 'node:net';
import { processRssBytes } from '../lib/cpu.js';
import type { SystemName, SystemUnderTest } from '../lib/systems.js';

export interface MemoryRecord {
  system: SystemName;
  connections: number;
  opened: number;
  /** Before any connection, with N open, with 2N open. */
  rssBeforeBytes: number;
  rssMidBytes: number;
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
  const openMore = async (count: number): Promise<number> => {
    let opened = 0;
    // In batches, so that the listen backlog never overflows.
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => openOne(url)));
      for (const s of batch) {
        if (!s) continue;
        sockets.push(s);
        opened++;
      }
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return opened;
  };
  try {
    await openMore(n);
    const mid = processRssBytes(sut.front.pid);
    const opened = await openMore(n);
    const after = processRssBytes(sut.front.pid);
    return { system: sut.name, connections: n, opened, rssBeforeBytes: before, rssMidBytes: mid, rssAfterBytes: after, perConnectionBytes: opened ? (after - mid) / opened : Number.NaN };
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
  }
}
