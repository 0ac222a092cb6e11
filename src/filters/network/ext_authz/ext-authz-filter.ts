// The network ext_authz filter's connection check (Envoy's NetworkFilters::ExtAuthz::Filter):
//   1. filter_enabled_metadata does not match (for Istio: no CUSTOM rule of this provider matched
//      the connection, as recorded by the network RBAC shadow rules before it): the connection
//      goes on, counted `disabled`;
//   2. otherwise one Check call to the gRPC service with the connection's attributes (source and
//      destination addresses and principals, SNI; grpc-check.ts), counted `total`, `active`
//      while in flight; the connection waits, its bytes unread;
//   3. status OK: it goes on (`ok`). Any other status: `denied`. A failed call (transport error,
//      timeout, grpc-status ≠ 0, an answer that does not decode): `error`, and with
//      failure_mode_allow it goes on (`failure_mode_allowed`). A denied or failed connection is
//      closed without flushing (`cx_closed`), with flag UAEX, details ext_authz_denied /
//      ext_authz_error and termination details `ext_authz_close`, as in Envoy.
// Strait checks when the connection reaches the chain, before tcp_proxy connects upstream;
// Envoy checks on the connection's first bytes, after tcp_proxy has connected.

import type { AsyncGrpcResult, AsyncHttpClient } from '../../http/api.js';
import type { CloseConnection, NetworkFilter, NetworkFilterConnection } from '../api.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { CHECK_PATH, checkResponseAllows, tcpCheckRequest } from '../../http/ext_authz/grpc-check.js';
import type { CompiledNetworkExtAuthz } from './config.js';
import type { NetworkExtAuthzStats } from './stats.js';

export const NETWORK_EXT_AUTHZ_FILTER_NAME = 'envoy.filters.network.ext_authz';

const CLOSE: CloseConnection = { details: 'ext_authz_close' };

export class NetworkExtAuthzFilter implements NetworkFilter {
  constructor(
    private readonly cfg: CompiledNetworkExtAuthz,
    private readonly stats: NetworkExtAuthzStats,
    private readonly client: AsyncHttpClient,
  ) {}

  onNewConnection(info: StreamInfo, conn: NetworkFilterConnection): CloseConnection | undefined | Promise<CloseConnection | undefined> {
    const cfg = this.cfg;
    if (cfg.enabled !== null && !cfg.enabled(info)) {
      this.stats.disabled.value++;
      return undefined;
    }
    this.stats.total.value++;
    this.stats.active.value++;
    const svc = cfg.service;
    const signal = conn.signal;
    return this.client
      .grpcUnary(svc.cluster, { path: CHECK_PATH, authority: svc.authority, metadata: svc.metadata, message: tcpCheckRequest(cfg, info) }, svc.timeoutMs, signal)
      .then((r) => {
        this.stats.active.value--;
        // The connection went away meanwhile: the check was cancelled, not failed (Envoy's onEvent).
        return signal.aborted ? undefined : this.decide(info, r);
      });
  }

  private decide(info: StreamInfo, r: AsyncGrpcResult): CloseConnection | undefined {
    let allowed: boolean;
    try {
      allowed = r.kind === 'ok' && checkResponseAllows(r.message);
    } catch {
      // An answer that does not decode is a failed call.
      r = { kind: 'failure', reason: 'the CheckResponse does not decode' };
      allowed = false;
    }
    if (allowed) {
      this.stats.ok.value++;
      return undefined;
    }
    const error = r.kind === 'failure';
    if (error) {
      this.stats.error.value++;
      if (this.cfg.failureModeAllow) {
        this.stats.failure_mode_allowed.value++;
        return undefined;
      }
    } else this.stats.denied.value++;
    this.stats.cx_closed.value++;
    info.responseFlags.push('UAEX');
    info.responseCodeDetails = error ? 'ext_authz_error' : 'ext_authz_denied';
    return CLOSE;
  }
}
