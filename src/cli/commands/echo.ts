// `strait echo`: runs the echo workload (what a Deployment with `image: strait/echo` runs; the
// local runner starts it as its own process with the pod's environment). Prints one line once
// listening, and stops cleanly on SIGTERM/SIGINT or, with --exit-on-stdin-close, when the runner
// that started it goes away.

import type { AddressInfo } from 'node:net';
import { readEchoEnv } from '../../echo/echo-env.js';
import { createEchoServer } from '../../echo/echo-server.js';

/** How long requests in flight (a long /delay) may hold up a shutdown before being cut. */
const SHUTDOWN_GRACE_MS = 1000;

export interface EchoCommandOptions {
  host?: string;
  port?: string;
  exitOnStdinClose?: boolean;
}

/** Resolves with the exit status once the server has closed (0), or at once on a startup error (1). */
export async function runEcho(opts: EchoCommandOptions): Promise<number> {
  let config;
  try {
    config = readEchoEnv(process.env, { host: opts.host, port: opts.port });
  } catch (err) {
    process.stderr.write(`strait echo: ${(err as Error).message}\n`);
    return 1;
  }
  const server = createEchoServer({
    ...config.echo,
    log: config.logRequests ? (line) => process.stdout.write(`${line}\n`) : undefined,
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    process.stderr.write(`strait echo: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(`echo listening on http://${shownHost}:${port}\n`);

  const closed = new Promise<void>((resolve) => server.once('close', resolve));
  let forceTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (forceTimer) return;
    server.close(); // also closes idle keep-alive connections (Node >= 19)
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
