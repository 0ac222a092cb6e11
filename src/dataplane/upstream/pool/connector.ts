// Opens upstream connections for a cluster's pools: TCP or TLS (the cluster's shared
// SecureContext, SNI, ALPN, session resumption), bound to the pod's source address for loopback
// hosts, with TCP keep-alive when configured and the cluster's connect timeout on the injected
// clock. A connection is "ready" when TCP connects, or when the TLS handshake completes; errors
// before that are marked as connect failures. Connection stats are counted here for every pool.

import net from 'node:net';
import tls from 'node:tls';
import type { LookupFunction } from 'node:net';
import type { Clock } from '../../../common/clock.js';
import type { ClusterStats } from '../cluster-stats.js';
import { hostKey } from '../host.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';
import { CONNECT_TIMEOUT, markConnectFailure, TLS_NOT_READY, upstreamError } from './errors.js';
import type { UpstreamError } from './errors.js';

export interface ConnectorSettings {
  readonly connectTimeoutMs: number;
  /** Pod address to bind for loopback destinations (every pod is a loopback address locally). */
  readonly sourceAddress: string | undefined;
  /** TCP keep-alive idle time before the first probe (ms), or null when not configured. */
  readonly keepaliveDelayMs: number | null;
  readonly tls: UpstreamTls | null;
  /** LOGICAL_DNS: resolve the host name at connect with the cluster's resolver. */
  readonly lookup: LookupFunction | undefined;
}

export interface ConnectionEvents {
  onReady(): void;
  /** `wasReady` tells a failed attempt from a connection that served. */
  onClose(wasReady: boolean): void;
}

export class Connector {
  constructor(
    private readonly s: ConnectorSettings,
    private readonly clock: Clock,
    private readonly stats: ClusterStats,
  ) {}

  /** Per-host transport sockets (transportSocketMatches), by host key; others use the cluster's. */
  private byHost: ReadonlyMap<string, UpstreamTls | null> = new Map();

  get tls(): UpstreamTls | null {
    return this.s.tls;
  }

  setHostTls(byHost: ReadonlyMap<string, UpstreamTls | null>): void {
    this.byHost = byHost;
  }

  /** The TLS context connections to `address:port` use (null: plaintext). */
  tlsFor(address: string, port: number): UpstreamTls | null {
    if (this.byHost.size === 0) return this.s.tls;
    const t = this.byHost.get(hostKey(address, port));
    return t === undefined ? this.s.tls : t;
  }

  /** Why no connection can be opened at all right now (a missing SDS secret), or null. */
  unavailable(): UpstreamError | null {
    const t = this.s.tls;
    if (t && t.secureContext === null) {
      const e = upstreamError(TLS_NOT_READY, `upstream TLS is not ready: secret "${t.missingSecret}" has not arrived`);
      markConnectFailure(e);
      return e;
    }
    return null;
  }

  localAddressFor(address: string): string | undefined {
    return this.s.sourceAddress !== undefined && address.startsWith('127.') ? this.s.sourceAddress : undefined;
  }

  /** A socket that fails at once as a connect failure: this host's TLS secret has not arrived. */
  private notReady(t: UpstreamTls, events: ConnectionEvents): net.Socket {
    const socket = new net.Socket();
    const e = upstreamError(TLS_NOT_READY, `upstream TLS is not ready: secret "${t.missingSecret}" has not arrived`);
    markConnectFailure(e);
    socket.once('close', () => events.onClose(false));
    process.nextTick(() => socket.destroy(e));
    return socket;
  }

  /** Starts a connection; `session` resumes an earlier TLS session with the same host. */
  connect(host: string, port: number, session: Buffer | undefined, events: ConnectionEvents, onSession?: (s: Buffer) => void): net.Socket {
    const { s, stats } = this;
    const localAddress = this.localAddressFor(host);
    const t = this.tlsFor(host, port);
    if (t && t.secureContext === null) return this.notReady(t, events);
    let socket: net.Socket;
    if (t) {
      // tls.connect hands these to the TCP connect; its typings omit localAddress.
      const o: tls.ConnectionOptions & { localAddress?: string } = {
        host,
        port,
        localAddress,
        lookup: s.lookup,
        secureContext: t.secureContext!,
        servername: t.servername,
        ALPNProtocols: t.alpn as string[],
        rejectUnauthorized: t.rejectUnauthorized,
        checkServerIdentity: t.checkServerIdentity,
        session,
      };
      socket = tls.connect(o);
      // Node 20's tls.connect drops a noDelay option (strace shows no TCP_NODELAY): without
      // this, Nagle holds a request written in two records until the peer's delayed ACK.
      socket.setNoDelay(true);
    } else {
      socket = net.connect({ host, port, localAddress, lookup: s.lookup, noDelay: true });
    }
    stats.cxTotal.value++;
    stats.cxActive.value++;
    if (s.keepaliveDelayMs !== null) socket.setKeepAlive(true, s.keepaliveDelayMs);
    let ready = false;
    const timer = this.clock.setTimer(s.connectTimeoutMs, () => {
      if (ready) return;
      stats.cxConnectTimeout.value++;
      socket.destroy(upstreamError(CONNECT_TIMEOUT, `connect timeout after ${s.connectTimeoutMs} ms to ${host}:${port}`));
    });
    socket.once(t ? 'secureConnect' : 'connect', () => {
      ready = true;
      timer.cancel();
      if (t) countHandshake(socket as tls.TLSSocket, stats);
      events.onReady();
    });
    // Registered before any request's listener, so the router sees the mark.
    socket.on('error', (err) => {
      if (!ready) markConnectFailure(err);
    });
    if (t && onSession) socket.on('session', onSession);
    socket.once('close', () => {
      timer.cancel();
      stats.cxActive.value--;
      if (ready) stats.cxDestroy.value++;
      else stats.cxConnectFail.value++;
      events.onClose(ready);
    });
    return socket;
  }
}

function countHandshake(socket: tls.TLSSocket, stats: ClusterStats): void {
  stats.sslHandshake.value++;
  if (socket.isSessionReused()) stats.sslSessionReused.value++;
  const v = socket.getProtocol();
  if (v === 'TLSv1.2' || v === 'TLSv1.3') stats.sslVersions[v].value++;
}
