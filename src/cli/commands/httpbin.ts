// `strait httpbin`: runs the httpbin workload (what the httpbin images of Istio's samples run; see
// src/local/images.ts). Listens on $HOST:$PORT (default 127.0.0.1:8080).

import { readListen } from '../../demo/app-env.js';
import { createHttpbinServer } from '../../demo/httpbin/httpbin-server.js';
import { serveUntilStopped } from '../../demo/serve.js';

export interface HttpbinCommandOptions {
  host?: string;
  port?: string;
  exitOnStdinClose?: boolean;
}

/** go-httpbin's default port, also the container port of Istio's current httpbin sample. */
const HTTPBIN_PORT = 8080;

export async function runHttpbin(opts: HttpbinCommandOptions): Promise<number> {
  let listen;
  try {
    listen = readListen(process.env, { host: opts.host, port: opts.port }, HTTPBIN_PORT);
  } catch (e) {
    process.stderr.write(`strait httpbin: ${(e as Error).message}\n`);
    return 1;
  }
  return serveUntilStopped(createHttpbinServer(), { name: 'httpbin', listen, exitOnStdinClose: opts.exitOnStdinClose });
}
