// `strait tcp-echo PORTS PREFIX`: runs Istio's TCP echo server (what the istio/tcp-echo-server
// image of samples/tcp-echo runs; see src/local/images.ts). The arguments are the image's own:
// `9000,9001,9002 one` listens on the three ports and echoes each line as `one <line>`. Listens
// on $HOST (the pod's address under `strait up`; default 127.0.0.1), not on every interface as
// the container does, because local pods share the machine's network.

import { envValue } from '../../demo/app-env.js';
import { serveTcpEcho } from '../../demo/tcp-echo/serve-tcp.js';
import { parseTcpEchoArgs } from '../../demo/tcp-echo/tcp-echo-server.js';

export interface TcpEchoCommandOptions {
  host?: string;
  exitOnStdinClose?: boolean;
}

export async function runTcpEcho(ports: string, prefix: string, opts: TcpEchoCommandOptions): Promise<number> {
  let args;
  try {
    args = parseTcpEchoArgs(ports, prefix);
  } catch (e) {
    process.stderr.write(`strait tcp-echo: ${(e as Error).message}\n`);
    return 1;
  }
  const host = opts.host ?? envValue(process.env, 'HOST') ?? '127.0.0.1';
  return serveTcpEcho({ host, ports: args.ports, prefix: args.prefix, exitOnStdinClose: opts.exitOnStdinClose });
}
