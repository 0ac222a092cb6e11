// `strait ext-authz`: runs Istio's sample external authorizer (what the ext-authz image of
// samples/extauthz runs; see src/local/images.ts): the HTTP check API on $HOST:8000 and the gRPC
// one on $HOST:9000, the image's ports. Flags as the image's: --http, --grpc,
// --allow-service-account.

import { envValue, parsePort } from '../../demo/app-env.js';
import { createExtAuthzGrpcServer, listenGrpc } from '../../demo/ext-authz/ext-authz-grpc.js';
import { createExtAuthzHttpServer } from '../../demo/ext-authz/ext-authz-server.js';
import { serveUntilStopped } from '../../demo/serve.js';

export interface ExtAuthzCommandOptions {
  host?: string;
  http?: string;
  grpc?: string;
  allowServiceAccount?: string;
  exitOnStdinClose?: boolean;
}

export async function runExtAuthz(opts: ExtAuthzCommandOptions): Promise<number> {
  let httpPort: number;
  let grpcPort: number;
  try {
    httpPort = parsePort(opts.http ?? '8000');
    grpcPort = parsePort(opts.grpc ?? '9000');
  } catch (e) {
    process.stderr.write(`strait ext-authz: ${(e as Error).message}\n`);
    return 1;
  }
  const host = opts.host ?? envValue(process.env, 'HOST') ?? '127.0.0.1';
  const sample = { allowServiceAccount: opts.allowServiceAccount };
  const grpcServer = createExtAuthzGrpcServer(sample);
  try {
    const bound = await listenGrpc(grpcServer, host, grpcPort);
    process.stdout.write(`ext-authz gRPC listening on ${host}:${bound}\n`);
  } catch (e) {
    process.stderr.write(`strait ext-authz: cannot listen on ${host}:${grpcPort}: ${(e as Error).message}\n`);
    return 1;
  }
  // The HTTP server's lifetime (signals, stdin) is the program's; gRPC stops with it.
  const code = await serveUntilStopped(createExtAuthzHttpServer(sample), { name: 'ext-authz', listen: { host, port: httpPort }, exitOnStdinClose: opts.exitOnStdinClose });
  grpcServer.forceShutdown();
  return code;
}
