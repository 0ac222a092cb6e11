// Envoy's async HTTP client for filters that call a service on the side of a request (ext_authz's
// HTTP authorization service): one request to a host the cluster's load balancer picks, sent the
// way the router sends attempts (the cluster's protocol, connections, TLS origination and circuit
// breaker, through upstream-request.ts), answered with the whole response or a failure reason.
// No retries and no outlier reporting, as Envoy's async client does neither by default. The
// timer comes from the injected clock, so tests can time a check out without sleeping.

import type { AsyncHttpClient, AsyncHttpRequest, AsyncHttpResult } from '../../filters/http/api.js';
import type { Clock, Timer } from '../../common/clock.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { admitRequest, sendUpstream } from '../router/upstream-request.js';
import type { UpstreamRequest } from '../router/upstream-request.js';
import type { HeaderMap } from './headers.js';

/** Responses larger than this are a failure: a side call answers with a verdict, not a payload. */
export const MAX_ASYNC_RESPONSE_BYTES = 1024 * 1024;

function failure(reason: string): AsyncHttpResult {
  return { kind: 'failure', reason };
}

export class ClusterHttpClient implements AsyncHttpClient {
  constructor(
    private readonly clusters: ClusterManager,
    private readonly clock: Clock,
  ) {}

  send(clusterName: string, request: AsyncHttpRequest, timeoutMs: number, signal: AbortSignal): Promise<AsyncHttpResult> {
    if (signal.aborted) return Promise.resolve(failure('the downstream request went away'));
    const cluster = this.clusters.get(clusterName);
    if (!cluster) return Promise.resolve(failure(`cluster "${clusterName}" is not known to this proxy`));
    const host = cluster.chooseHost(request.authority);
    if (!host) return Promise.resolve(failure(`cluster "${clusterName}" has no healthy host`));
    const release = admitRequest(cluster, host);
    if (!release) return Promise.resolve(failure(`cluster "${clusterName}" is at its max_requests circuit-breaker limit`));
    const body = request.body ?? Buffer.alloc(0);
    const headers: HeaderMap = { ...request.headers, host: request.authority, 'content-length': String(body.length) };
    return new Promise((resolve) => {
      let up: UpstreamRequest | null = null;
      let timer: Timer | null = null;
      let done = false;
      const finish = (r: AsyncHttpResult): void => {
        if (done) return;
        done = true;
        timer?.cancel();
        signal.removeEventListener('abort', onAbort);
        release();
        resolve(r);
      };
      const abort = (reason: string): void => {
        up?.abort();
        finish(failure(reason));
      };
      const onAbort = (): void => abort('the downstream request went away');
      up = sendUpstream(cluster, host, { method: request.method, path: request.path, headers, hasBody: body.length > 0 }, {
        connected: () => undefined,
        response: (head, stream) => {
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_ASYNC_RESPONSE_BYTES) abort(`the response body is larger than ${MAX_ASYNC_RESPONSE_BYTES} bytes`);
            else chunks.push(c);
          });
          stream.on('end', () => {
            const flat: string[] = [];
            for (let i = 0; i < head.raw.length; i += 2) flat.push(head.raw[i]!.toLowerCase(), head.raw[i + 1]!);
            finish({ kind: 'response', status: head.status, headers: flat, body: Buffer.concat(chunks) });
          });
          stream.on('error', (err: NodeJS.ErrnoException) => finish(failure(`the response was reset (${err.code ?? err.message})`)));
        },
        error: (err) => finish(failure(`${host.key}: ${err.code ?? err.message}`)),
      });
      if (timeoutMs > 0) timer = this.clock.setTimer(timeoutMs, () => abort(`no response within ${timeoutMs} ms`));
      signal.addEventListener('abort', onAbort, { once: true });
      if (body.length > 0) up.write(body);
      up.end();
    });
  }
}
