// Runs the TCP echo servers as a process would: listen on every port of the sample's port list,
// print one line per port once listening (the Go sample's own words), and stop on SIGTERM/SIGINT
// or, with --exit-on-stdin-close, when the runner that started it goes away. Unlike HTTP servers
// there are no idle connections to wait for: open connections get a short grace, then are cut.

import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTcpEchoServer } from './tcp-echo-server.js';

/** How long open connections may hold up a shutdown before they are destroyed. */
const SHUTDOWN_GRACE_MS = 1000;

export interface TcpEchoServeOptions {
  host: string;
  ports: readonly number[];
  prefix: string;
  exitOnStdinClose?: boolean;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Resolves with the exit status: 0 once every server has closed, 1 at once if one cannot listen. */
export async function serveTcpEcho(opts: TcpEchoServeOptions): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  for (const port of opts.ports) {
    const server = createTcpEchoServer(opts.prefix);
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      // The Go sample exits when one port cannot be bound; so do we, closing the others.
      err(`strait tcp-echo: cannot listen on ${opts.host}:${port}: ${(e as Error).message}`);
      for (const s of servers) s.close();
      return 1;
    }
    servers.push(server);
    const bound = (server.address() as AddressInfo).port;
    out(`listening on ${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${bound}, prefix: ${opts.prefix}`);
  }

  const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.once('close', resolve))));
  let forceTimer: NodeJS.Timeout | undefined;
  const cutAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  const stop = (): void => {
    if (forceTimer) return;
    for (const s of servers) s.close();
    // Half-close first so clients see a clean end; whatever is still open after the grace is cut.
    for (const s of sockets) s.end();
    forceTimer = setTimeout(cutAll, SHUTDOWN_GRACE_MS);
    forceTimer.unref();
  };
  const onSignal = (): void => (forceTimer ? cutAll() : stop());
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (opts.exitOnStdinClose) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.on('error', stop);
    process.stdin.resume(); // stdin only reports its end while it is being read
  }

  await closed;
  clearTimeout(forceTimer);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (opts.exitOnStdinClose) {
    process.stdin.off('end', stop);
    process.stdin.off('close', stop);
    process.stdin.destroy();
  }
  return 0;
}
