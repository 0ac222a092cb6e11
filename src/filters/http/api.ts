// The contract between HTTP filters and the proxy: the only proxy module a filter imports
// (ARCHITECTURE.md §4). A factory validates and compiles the filter's typed config once, when a
// listener's config is applied; the filter it returns is shared by every request of that
// listener and keeps no per-request state on itself. Per request, the connection manager calls
// the phases in order with a FilterStream. A phase returns nothing to continue, or a LocalReply
// to answer now (the remaining request phases and the router are skipped); it may return a
// promise (a delay, an external check) and the request waits for it. Phases never throw.

import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { HeaderMap } from '../../dataplane/http/headers.js';
import type { LocalReply } from '../../dataplane/http/local-reply.js';
import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import type { StatsRegistry } from '../../telemetry/stats/stats.js';

export type { LocalReply } from '../../dataplane/http/local-reply.js';
export { localReply } from '../../dataplane/http/local-reply.js';
export { httpToGrpcStatus, isGrpcRequest } from '../../dataplane/http/grpc.js';
export { ConfigError } from '../../dataplane/config/durations.js';
export { removePathParameters } from '../../dataplane/http/path-normalization.js';

/** The request as filters see and may change it (changes go upstream). */
export interface FilterRequest {
  readonly method: string;
  readonly scheme: string;
  /** :authority (Host). */
  authority: string;
  /** :path, query included. */
  path: string;
  /** Upstream-bound headers, lower-case names; mutate in place. */
  readonly headers: HeaderMap;
  /** The downstream peer's address (no port). */
  readonly remoteAddress: string;
  /**
   * The route configuration sets ignore_path_parameters_in_path_matching: path rules (RBAC
   * url_path, uri_template) then match the path without `;` parameters, as routes do.
   */
  readonly ignorePathParameters?: boolean;
}

/** Response head about to be written (from the upstream, or a local reply). */
export interface FilterResponseHeaders {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  add(name: string, value: string): void;
  remove(name: string): void;
}

export interface FilterStream {
  readonly request: FilterRequest;
  readonly info: StreamInfo;
  /** Aborted when the downstream goes away; cancel timers and outbound calls on it. */
  readonly signal: AbortSignal;
  /** This filter's compiled per-route config (route over virtual host), if the route has one. */
  perRoute<T>(filterName: string): T | undefined;
  /**
   * Envoy's clearRouteCache: once the filters are done, the route is picked again, so routes
   * can match on what this filter learned (dynamic metadata). Filters before this one keep the
   * route they saw.
   */
  clearRouteCache(): void;
}

export type FilterResult = void | LocalReply;

export interface HttpFilter {
  onRequestHeaders?(s: FilterStream): FilterResult | Promise<FilterResult>;
  onResponseHeaders?(s: FilterStream, status: number, headers: FilterResponseHeaders): void;
  /** Always called when the exchange ends, for every filter whose onRequestHeaders ran. */
  onLog?(s: FilterStream): void;
}

export interface FilterFactoryContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly stats: StatsRegistry;
  /** The connection manager's stat prefix (Envoy scopes filter stats under it). */
  readonly statPrefix: string;
  /** Requests to the proxy's clusters (Envoy's async HTTP client); absent outside a proxy. */
  readonly httpClient?: AsyncHttpClient;
}

/** A request a filter sends to a cluster of the proxy (an authorization service, for one). */
export interface AsyncHttpRequest {
  readonly method: string;
  /** :path, query included. */
  readonly path: string;
  readonly authority: string;
  /** Lower-case names; no `host` (the authority) and no framing headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export type AsyncHttpResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** Flat [name, value, ...] in arrival order, names lower-cased. */
      readonly headers: readonly string[];
      readonly body: Buffer;
    }
  /** No response: no such cluster, no healthy host, overflow, connect failure, reset, timeout. */
  | { readonly kind: 'failure'; readonly reason: string };

/** A unary gRPC call a filter makes to a cluster of the proxy (Envoy's envoy_grpc client). */
export interface AsyncGrpcRequest {
  /** `/<package>.<Service>/<Method>`. */
  readonly path: string;
  /** :authority (GrpcService.envoy_grpc.authority, or the cluster name). */
  readonly authority: string;
  /** Initial metadata (GrpcService.initial_metadata): extra request headers, lower-case names. */
  readonly metadata?: readonly (readonly [string, string])[];
  /** The serialized request message (framing is the client's). */
  readonly message: Uint8Array;
}

export type AsyncGrpcResult =
  /** grpc-status 0 and exactly one response message. */
  | { readonly kind: 'ok'; readonly message: Buffer }
  /** No usable answer: the transport failed, the call timed out, or the server said grpc-status ≠ 0. */
  | { readonly kind: 'failure'; readonly reason: string; readonly grpcStatus?: number };

/**
 * Envoy's async HTTP client: one request to a host the cluster's load balancer picks, over the
 * cluster's connections (its TLS, circuit breakers and pools), ending within `timeoutMs` (0: no
 * timeout) or when `signal` aborts. Never rejects. `grpcUnary` is Envoy's async gRPC client on
 * top of it: one unary call over the cluster's HTTP/2 connections.
 */
export interface AsyncHttpClient {
  send(cluster: string, request: AsyncHttpRequest, timeoutMs: number, signal: AbortSignal): Promise<AsyncHttpResult>;
  grpcUnary(cluster: string, request: AsyncGrpcRequest, timeoutMs: number, signal: AbortSignal): Promise<AsyncGrpcResult>;
}

export interface HttpFilterFactory {
  /** Canonical name, e.g. `envoy.filters.http.fault`. */
  readonly name: string;
  /** `@type` of its typed config. */
  readonly typeUrl: string;
  /** `@type` of its per-route config, when it has one (Envoy uses a different message for some). */
  readonly perRouteTypeUrl?: string;
  /** Validates and compiles; throws ConfigError with the reason (the proxy then NACKs). */
  create(config: Readonly<Record<string, unknown>>, ctx: FilterFactoryContext): HttpFilter;
  /** Compiles a route's typed_per_filter_config entry; throws ConfigError. */
  compilePerRoute?(config: Readonly<Record<string, unknown>>): unknown;
}
