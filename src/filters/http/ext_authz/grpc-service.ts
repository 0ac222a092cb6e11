// envoy.config.core.v3.GrpcService as the ext_authz filters (HTTP and network) use it: an Envoy
// gRPC client (`envoy_grpc`) to one of the proxy's clusters, the call's timeout and its initial
// metadata. That is what Istio writes for an `envoyExtAuthzGrpc` extension provider
// ({envoyGrpc: {clusterName: outbound|<port>||<host>, authority: <host>}, timeout}). The Google
// gRPC client (its own channel, credentials and TLS outside the cluster) and retries of the check
// are ConfigErrors.

import { ConfigError } from '../api.js';
import { checkFields, list, object, optString } from '../rbac/proto-json.js';

export interface CompiledGrpcService {
  readonly cluster: string;
  /** :authority of the call; Envoy uses the cluster name when envoy_grpc.authority is empty. */
  readonly authority: string;
  /** 0: no timeout. */
  readonly timeoutMs: number;
  readonly metadata: readonly (readonly [string, string])[];
}

/** ext_authz's timeout when grpc_service.timeout is not set (Envoy's DefaultTimeout). */
export const DEFAULT_GRPC_TIMEOUT_MS = 200;

const DURATION = /^\d+(\.\d{1,9})?s$/;

export function compileGrpcService(v: unknown, at: string): CompiledGrpcService {
  const o = object(v, at, 'a GrpcService object {envoyGrpc, timeout}');
  checkFields(o, at, 'GrpcService', ['envoyGrpc', 'timeout', 'initialMetadata'], {
    googleGrpc: 'the Google gRPC client is not supported; use envoyGrpc (a cluster of the proxy)',
    retryPolicy: 'retries of the check call are not supported',
  });
  if (o.envoyGrpc === undefined) throw new ConfigError(`${at}.envoyGrpc: required (the authorization service's cluster)`);
  const e = object(o.envoyGrpc, `${at}.envoyGrpc`, 'an EnvoyGrpc object {clusterName, authority}');
  // max_receive_message_length and skip_envoy_headers change nothing here: answers are capped at
  // 1 MiB and the call carries no x-envoy-* headers.
  checkFields(e, `${at}.envoyGrpc`, 'EnvoyGrpc', ['clusterName', 'authority', 'maxReceiveMessageLength', 'skipEnvoyHeaders'], { retryPolicy: 'retries of the check call are not supported' });
  const cluster = optString(e.clusterName, `${at}.envoyGrpc.clusterName`);
  if (!cluster) throw new ConfigError(`${at}.envoyGrpc.clusterName: required`);
  let timeoutMs = DEFAULT_GRPC_TIMEOUT_MS;
  if (o.timeout !== undefined) {
    if (typeof o.timeout !== 'string' || !DURATION.test(o.timeout)) throw new ConfigError(`${at}.timeout: expected a duration like "0.25s", got ${JSON.stringify(o.timeout)}`);
    timeoutMs = Math.round(Number(o.timeout.slice(0, -1)) * 1000);
  }
  const metadata = list(o.initialMetadata, `${at}.initialMetadata`, 'HeaderValue').map((h, i): [string, string] => {
    const where = `${at}.initialMetadata[${i}]`;
    const hv = object(h, where, 'a HeaderValue object {key, value}');
    checkFields(hv, where, 'HeaderValue', ['key', 'value']);
    const key = optString(hv.key, `${where}.key`).toLowerCase();
    if (!key || key.startsWith(':') || key === 'host') throw new ConfigError(`${where}.key: expected a header name, got ${JSON.stringify(hv.key)}`);
    return [key, optString(hv.value, `${where}.value`)];
  });
  return { cluster, authority: optString(e.authority, `${at}.envoyGrpc.authority`) || cluster, timeoutMs, metadata };
}
