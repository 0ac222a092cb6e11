// `strait bookinfo <app> [--version vN]`: runs one service of Istio's Bookinfo sample (what the
// `istio/examples-bookinfo-<app>-<version>` images run; see src/local/images.ts). Listens on
// $HOST:$PORT (default 127.0.0.1:9080) and calls the other services through $HTTP_PROXY.

import { readListen } from '../../demo/app-env.js';
import { createBookinfoApp } from '../../demo/bookinfo/bookinfo-app.js';
import { BOOKINFO_PORT } from '../../demo/bookinfo/bookinfo-env.js';
import { serveUntilStopped } from '../../demo/serve.js';

export interface BookinfoCommandOptions {
  version?: string;
  host?: string;
  port?: string;
  exitOnStdinClose?: boolean;
}

export async function runBookinfo(app: string, opts: BookinfoCommandOptions): Promise<number> {
  let built;
  let listen;
  try {
    listen = readListen(process.env, { host: opts.host, port: opts.port }, BOOKINFO_PORT);
    built = createBookinfoApp(app, opts.version, process.env);
  } catch (e) {
    process.stderr.write(`strait bookinfo: ${(e as Error).message}\n`);
    return 1;
  }
  return serveUntilStopped(built.server, { name: built.name, listen, exitOnStdinClose: opts.exitOnStdinClose });
}
