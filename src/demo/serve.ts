// Runs one built-in sample server as a process would: listen, print one "listening" line, and
// stop cleanly on SIGTERM/SIGINT or, with --exit-on-stdin-close, when the runner that started it
// goes away (its stdin closes), so a killed `strait up` never leaves one behind.

import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from './app-env.js';

/** How long requests in flight may hold up a shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 1000;

export interface ServeOptions {
  /** Names the program in messages: `bookinfo reviews v2`. */
  name: string;
  listen: ListenAddress;
  exitOnStdinClose?: boolean;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Resolves with the exit status: 0 once the server has closed, 1 at once if it cannot listen. */
export async function serveUntilStopped(server: http.Server, opts: ServeOptions): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { host, port } = opts.listen;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    err(`strait ${opts.name}: cannot listen on ${host}:${port}: ${(e as Error).message}`);
    return 1;
  }
  const closed = new Promise<void>((resolve) => server.once('close', resolve));
  let forceTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (forceTimer) return;
    server.close();
    server.closeIdleConnections();
    forceTimer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    forceTimer.unref();
  };
  // A second signal means "now": do not wait for requests in flight.
  const onSignal = (): void => (forceTimer ? server.closeAllConnections() : stop());
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (opts.exitOnStdinClose) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.on('error', stop);
    process.stdin.resume(); // stdin only reports its end while it is being read
  }

  // Announced only once the signal handlers are in place: whoever waits for this line may stop
  // the program at once (stdout pipes are synchronous on Linux), and must not meet the default
  // SIGTERM action.
  const bound = (server.address() as AddressInfo).port;
  out(`${opts.name} listening on http://${host.includes(':') ? `[${host}]` : host}:${bound}`);

  await closed;
  clearTimeout(forceTimer);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (opts.exitOnStdinClose) {
    // A stdin still being read would keep the process alive after the server is gone.
    process.stdin.off('end', stop);
    process.stdin.off('close', stop);
    process.stdin.destroy();
  }
  return 0;
}
