// Envoy's tcp_proxy network filter: a connection is proxied byte for byte to one host of a
// cluster (chosen once per connection; weighted clusters pick per connection, as Istio's TCP
// traffic shifting expects). Serves VirtualService `tcp` routes, Gateway TCP servers, TLS
// passthrough by SNI, and HTTPS egress through a sidecar. One access-log line per connection
// (`"- - -"` in Istio's format), written when it closes. The chain's network filters before it
// (network RBAC, ext_authz) decide first, ext_authz after asking its service while the connection
// waits unread; a connection one of them closes never reaches an upstream.

import type net from 'node:net';
import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { StatsRegistry, Counter, Gauge } from '../../telemetry/stats/stats.js';
import type { TcpProxy } from '../../xds/resources.js';
import { ConfigError, optionalDurationMs } from '../config/durations.js';
import { compileAccessLogs } from '../http/hcm-config.js';
import type { CompiledAccessLog } from '../http/hcm-config.js';
import { newStreamInfo } from '../http/stream-info.js';
import { localPrincipalOf, peerCertificateOf } from '../tls/peer-certificate.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { CloseConnection, NetworkFilter } from '../../filters/network/api.js';
import { runNetworkFilters } from './network-filters.js';
import type { IstioMetrics, TcpConnectionStats } from '../../telemetry/metrics/istio-metrics.js';
import { writeAccessLogs } from '../../telemetry/access-log/access-logs.js';

export interface TcpProxyConfig {
  readonly statPrefix: string;
  readonly clusters: readonly { readonly name: string; readonly weight: number }[];
  readonly total: number;
  /** Envoy's default tcp_proxy idle timeout is 1 hour; 0 disables. */
  readonly idleTimeoutMs: number;
  readonly accessLogs: readonly CompiledAccessLog[];
  /** The chain's network filters before tcp_proxy, in order; null when there are none. */
  readonly filters: readonly NetworkFilter[] | null;
  /** Istio's TCP metrics (the chain's istio.stats network filter); null without one. */
  readonly istioStats: IstioMetrics | null;
  readonly stats: { cxTotal: Counter; cxActive: Gauge; cxNoRoute: Counter; bytesRx: Counter; bytesTx: Counter };
}

export function compileTcpProxy(listener: string, t: TcpProxy, stats: StatsRegistry, filters: readonly NetworkFilter[] = [], istioStats: IstioMetrics | null = null): TcpProxyConfig {
  const at = `listener ${listener} tcp_proxy`;
  if (!t.statPrefix) throw new ConfigError(`${at}: needs a statPrefix`);
  const clusters = t.cluster ? [{ name: t.cluster, weight: 1 }] : (t.weightedClusters?.clusters ?? []).map((c) => ({ name: c.name, weight: c.weight ?? 0 }));
  const total = clusters.reduce((s, c) => s + c.weight, 0);
  if (clusters.length === 0 || total <= 0) throw new ConfigError(`${at}: needs a cluster or weighted clusters with weight`);
  const scope = stats.scope('tcp', { tcp_prefix: t.statPrefix });
  return {
    statPrefix: t.statPrefix,
    clusters,
    total,
    idleTimeoutMs: optionalDurationMs(t.idleTimeout, `${at} idleTimeout`, 3_600_000),
    accessLogs: compileAccessLogs(at, t.accessLog, false),
    filters: filters.length ? filters : null,
    istioStats,
    stats: {
      cxTotal: scope.counter('downstream_cx_total'),
      cxActive: scope.gauge('downstream_cx_active'),
      cxNoRoute: scope.counter('downstream_cx_no_route'),
      bytesRx: scope.counter('downstream_cx_rx_bytes_total'),
      bytesTx: scope.counter('downstream_cx_tx_bytes_total'),
    },
  };
}

export interface TcpContext {
  readonly clusters: ClusterManager;
  readonly clock: Clock;
  readonly random: Random;
}

/**
 * Proxies `socket` (whose first bytes may already be unshifted back into it). `destination` is
 * the host:port the client wanted, when known (CONNECT tunnels, original destination): it is
 * what ORIGINAL_DST clusters connect to.
 */
export function proxyTcp(cfg: TcpProxyConfig, ctx: TcpContext, socket: net.Socket, destination: string, sni: string): void {
  const info = newStreamInfo(ctx.clock.now(), ctx.clock.monotonic());
  info.method = '';
  info.path = '';
  info.protocol = '';
  info.requestedServerName = sni;
  // A TLS-terminating chain hands over the decrypted socket: its peer is the source identity.
  info.peerCertificate = peerCertificateOf(socket);
  info.localPrincipal = localPrincipalOf(socket);
  info.downstreamLocalAddress = `${socket.localAddress}:${socket.localPort}`;
  info.downstreamRemoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
  cfg.stats.cxTotal.value++;
  cfg.stats.cxActive.value++;
  // Nothing may flow before the upstream is there to receive it (pipe resumes the socket).
  socket.pause();

  let point = ctx.random.next() * cfg.total;
  let clusterName = cfg.clusters[cfg.clusters.length - 1]!.name;
  for (const c of cfg.clusters) {
    point -= c.weight;
    if (point < 0) {
      clusterName = c.name;
      break;
    }
  }
  info.upstreamCluster = clusterName;
  let upstream: net.Socket | null = null;
  let logged = false;
  // Istio's TCP metrics: opened once the upstream host is chosen (or refused), closed at the end.
  let istio: TcpConnectionStats | null = null;
  const finish = (flag?: string, details?: string) => {
    if (logged) return;
    logged = true;
    if (flag) info.responseFlags.push(flag);
    if (details) info.responseCodeDetails = details;
    info.endMono = ctx.clock.monotonic();
    cfg.stats.cxActive.value--;
    if (cfg.istioStats) {
      istio ??= cfg.istioStats.openTcp(info, socket.remoteAddress, ctx.clusters, null);
      cfg.istioStats.closeTcp(istio, info);
    }
    writeAccessLogs(cfg.accessLogs, info);
  };
  socket.on('error', () => socket.destroy());
  if (cfg.filters) {
    const verdict = runNetworkFilters(cfg.filters, info, socket);
    if (verdict instanceof Promise) {
      // An external check (ext_authz): the connection waits, its bytes unread, for the answer.
      void verdict.then((close) => {
        if (socket.destroyed) finish('DC', 'downstream_remote_disconnect');
        else if (close) closeByFilter(ctx, socket, close, info, finish);
        else connect();
      });
      return;
    }
    if (verdict) {
      closeByFilter(ctx, socket, verdict, info, finish);
      return;
    }
  }
  connect();

  /** Picks the upstream host and pipes the connection to it (once the filters let it go on). */
  function connect(): void {
    const cluster = ctx.clusters.get(clusterName);
    const host = cluster?.chooseHost(destination);
    if (!cluster || !host) {
      cfg.stats.cxNoRoute.value++;
      socket.destroy();
      finish(cluster ? 'UH' : 'NC', cluster ? 'no_healthy_upstream' : 'cluster_not_found');
      return;
    }
    info.upstreamHost = host.key;
    info.upstreamMetadata = host.metadata ?? null;
    if (cfg.istioStats) istio = cfg.istioStats.openTcp(info, socket.remoteAddress, ctx.clusters, info.upstreamMetadata);
    let connected = false;
    const up = cluster.connectTcp(host, {
      onReady: () => {
        connected = true;
        info.upstreamLocalAddress = `${up!.localAddress}:${up!.localPort}`;
        // Byte counters join only now: a 'data' listener added earlier would start the flow
        // (Node resumes a stream with 'data' listeners once its 'readable' listener is gone)
        // and bytes would be read before the upstream could take them.
        const received = istio?.series.received ?? null;
        const sent = istio?.series.sent ?? null;
        socket.on('data', (c: Buffer) => {
          info.bytesReceived += c.length;
          cfg.stats.bytesRx.value += c.length;
          if (received) received.value += c.length;
        });
        up!.on('data', (c: Buffer) => {
          info.bytesSent += c.length;
          cfg.stats.bytesTx.value += c.length;
          if (sent) sent.value += c.length;
        });
        socket.pipe(up!);
        up!.pipe(socket);
      },
      onClose: () => undefined,
    });
    if (!up) {
      socket.destroy();
      finish('UO', 'upstream_cx_overflow');
      return;
    }
    upstream = up;
    if (cfg.idleTimeoutMs > 0) {
      socket.setTimeout(cfg.idleTimeoutMs, () => {
        socket.destroy();
        upstream?.destroy();
        finish('', 'idle_timeout');
      });
    }
    up.on('error', () => {
      if (!connected) cluster.outlier.report(host, { localOrigin: 'connect_failed' });
      socket.destroy();
      finish(connected ? 'UR' : 'UF', connected ? 'upstream_reset' : 'upstream_connection_failure');
    });
    up.on('close', () => {
      socket.end();
      finish();
    });
    socket.on('close', () => {
      up.end();
      if (!connected) up.destroy();
      finish(connected ? '' : 'DC', connected ? '' : 'downstream_remote_disconnect');
    });
  }
}

/** A network filter refused the connection: close it without flushing (after its delay, reads paused). */
function closeByFilter(ctx: TcpContext, socket: net.Socket, close: CloseConnection, info: { connectionTerminationDetails: string }, finish: () => void): void {
  info.connectionTerminationDetails = close.details;
  if (!close.delayMs) {
    socket.destroy();
    finish();
    return;
  }
  const timer = ctx.clock.setTimer(close.delayMs, () => socket.destroy());
  socket.once('close', () => {
    timer.cancel();
    finish();
  });
}
