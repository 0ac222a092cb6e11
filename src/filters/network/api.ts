// The contract between network (L4) filters and the proxy, the TCP counterpart of
// src/filters/http/api.ts: a factory validates and compiles a filter's typed config once, when a
// listener's config is applied; the filter it returns is shared by every connection of that
// filter chain. Network filters run, in order, when a connection is handed to a TCP chain, before
// tcp_proxy picks an upstream; each lets the connection go on or closes it. Strait's network
// filters decide from what is known when the connection arrives (addresses, SNI, the peer
// certificate, dynamic metadata), so they need no data phase. A filter that asks a service
// (ext_authz) returns a promise: the connection waits, its bytes unread, until it settles.

import type { Clock } from '../../common/clock.js';
import type { AsyncHttpClient } from '../http/api.js';
import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import type { StatsRegistry } from '../../telemetry/stats/stats.js';

export { ConfigError } from '../../dataplane/config/durations.js';

/** Close the connection: why, for the access log's connection termination details. */
export interface CloseConnection {
  readonly details: string;
  /** Wait this long before closing (reads paused meanwhile), e.g. network RBAC delay_deny. */
  readonly delayMs?: number;
}

/** The connection a filter decides on, beyond its StreamInfo. */
export interface NetworkFilterConnection {
  /** Aborted when the connection goes away before the filters have decided; cancel outbound calls on it. */
  readonly signal: AbortSignal;
}

export interface NetworkFilter {
  /** `info` describes the connection (no HTTP fields); undefined lets it go on. */
  onNewConnection(info: StreamInfo, conn: NetworkFilterConnection): CloseConnection | undefined | Promise<CloseConnection | undefined>;
}

export interface NetworkFilterFactoryContext {
  readonly clock: Clock;
  readonly stats: StatsRegistry;
  /** Calls to the proxy's clusters (ext_authz's gRPC service); absent outside a proxy. */
  readonly httpClient?: AsyncHttpClient;
}

export interface NetworkFilterFactory {
  /** Canonical name, e.g. `envoy.filters.network.rbac`. */
  readonly name: string;
  /** `@type` of its typed config. */
  readonly typeUrl: string;
  /** Validates and compiles; throws ConfigError with the reason (the proxy then NACKs). */
  create(config: Readonly<Record<string, unknown>>, ctx: NetworkFilterFactoryContext): NetworkFilter;
}
