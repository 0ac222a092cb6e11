// Envoy's async HTTP client for filters that call a service on the side of a request (ext_authz's
// authorization service): one request to a host the cluster's load balancer picks, sent the
// way the router sends attempts (the cluster's protocol, connections, TLS origination and circuit
// breaker, through upstream-request.ts), answered with the whole response or a failure reason.
// No retries and no outlier reporting, as Envoy's async client does neither by default. The
// timer comes from the injected clock, so tests can time a check out without sleeping.
//
// `grpcUnary` is Envoy's async gRPC client (envoy_grpc) on the same path: one unary call over the
// cluster's HTTP/2 connections, so a sidecar'd gRPC service is reached with the mesh mTLS socket
// like any other upstream (grpc-frame.ts has the framing and the status rules).

import type { AsyncGrpcRequest, AsyncGrpcResult, AsyncHttpClient, AsyncHttpRequest, AsyncHttpResult } from '../../filters/http/api.js';
import type { Clock, Timer } from '../../common/clock.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { admitRequest, sendUpstream } from '../router/upstream-request.js';
import type { UpstreamCall, UpstreamRequest } from '../router/upstream-request.js';
import { grpcFrame, grpcTimeout, grpcUnaryAnswer } from './grpc-frame.js';
import type { HeaderMap } from './headers.js';

/** Responses larger than this are a failure: a side call answers with a verdict, not a payload. */
export const MAX_ASYNC_RESPONSE_BYTES = 1024 * 1024;

/** What came back, whole: the head, the body and (HTTP/2) the trailers, names lower-cased. */
type Exchange =
  | { readonly kind: 'response'; readonly status: number; readonly headers: readonly string[]; readonly body: Buffer; readonly trailers: readonly string[] }
  | { readonly kind: 'failure'; readonly reason: string };

function failure(reason: string): { kind: 'failure'; reason: string } {
  return { kind: 'failure', reason };
}

function lowerFlat(raw: readonly string[]): string[] {
  const flat: string[] = [];
  for (let i = 0; i < raw.length; i += 2) flat.push(raw[i]!.toLowerCase(), raw[i + 1]!);
  return flat;
}

export class ClusterHttpClient implements AsyncHttpClient {
  constructor(
    private readonly clusters: ClusterManager,
    private readonly clock: Clock,
  ) {}

  async send(clusterName: string, request: AsyncHttpRequest, timeoutMs: number, signal: AbortSignal): Promise<AsyncHttpResult> {
    const body = request.body ?? Buffer.alloc(0);
    const headers: HeaderMap = { ...request.headers, host: request.authority, 'content-length': String(body.length) };
    const r = await this.exchange(clusterName, { method: request.method, path: request.path, headers, hasBody: body.length > 0 }, body, timeoutMs, signal, false);
    return r.kind === 'failure' ? r : { kind: 'response', status: r.status, headers: r.headers, body: r.body };
  }

  async grpcUnary(clusterName: string, request: AsyncGrpcRequest, timeoutMs: number, signal: AbortSignal): Promise<AsyncGrpcResult> {
    const headers: HeaderMap = {};
    for (const [k, v] of request.metadata ?? []) headers[k] = v;
    headers.host = request.authority;
    headers['content-type'] = 'application/grpc';
    // The deadline travels with the call, as Envoy's gRPC client sends it (the server may stop early).
    if (timeoutMs > 0) headers['grpc-timeout'] = grpcTimeout(timeoutMs);
    const r = await this.exchange(clusterName, { method: 'POST', path: request.path, headers, hasBody: true }, grpcFrame(request.message), timeoutMs, signal, true);
    return r.kind === 'failure' ? r : grpcUnaryAnswer(r.status, r.headers, r.body, r.trailers);
  }

  private exchange(clusterName: string, call: UpstreamCall, body: Buffer, timeoutMs: number, signal: AbortSignal, http2: boolean): Promise<Exchange> {
    if (signal.aborted) return Promise.resolve(failure('the downstream request went away'));
    const cluster = this.clusters.get(clusterName);
    if (!cluster) return Promise.resolve(failure(`cluster "${clusterName}" is not known to this proxy`));
    // gRPC needs HTTP/2 end to end (trailers); Istio gives a grpc-named port's cluster http2_protocol_options.
    if (http2 && cluster.protocol !== 'http2') return Promise.resolve(failure(`cluster "${clusterName}" does not speak HTTP/2 (gRPC needs http2ProtocolOptions; name the service port grpc)`));
    const host = cluster.chooseHost(String(call.headers.host ?? ''));
    if (!host) return Promise.resolve(failure(`cluster "${clusterName}" has no healthy host`));
    const release = admitRequest(cluster, host);
    if (!release) return Promise.resolve(failure(`cluster "${clusterName}" is at its max_requests circuit-breaker limit`));
    return new Promise((resolve) => {
      let up: UpstreamRequest | null = null;
      let timer: Timer | null = null;
      let done = false;
      const finish = (r: Exchange): void => {
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
      up = sendUpstream(cluster, host, call, {
        connected: () => undefined,
        response: (head, stream) => {
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_ASYNC_RESPONSE_BYTES) abort(`the response body is larger than ${MAX_ASYNC_RESPONSE_BYTES} bytes`);
            else chunks.push(c);
          });
          stream.on('end', () => finish({ kind: 'response', status: head.status, headers: lowerFlat(head.raw), body: Buffer.concat(chunks), trailers: lowerFlat(up!.trailers()) }));
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
