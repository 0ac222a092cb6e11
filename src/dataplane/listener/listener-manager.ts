// Owns the proxy's listening sockets and gives each accepted connection to a filter chain, as
// Envoy's listener does: when chains differ, the TLS inspector reads the ClientHello (without
// terminating it) and the chain is chosen by original destination port, TLS or not, and SNI.
// The chain then terminates TLS (its own certificate) and serves HTTP/1.1 or HTTP/2, serves
// plaintext HTTP/1.1 or h2c (told apart by the HTTP/2 preface), or proxies TCP.
//
// An update binds every new or moved listener first; if a bind fails, the sockets just opened
// are closed and the update is rejected with nothing changed (the proxy NACKs it). Otherwise
// chains are swapped: a chain that keeps its name keeps its servers and connection manager, so
// open connections see the new routes; removed listeners stop accepting and drain.

import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { ChainSpec, ListenerSpec } from '../config/compile.js';
import { HttpConnectionManager } from '../http/connection-manager.js';
import type { ProxyContext } from '../http/connection-manager.js';
import { rejectConnect, writeClientError } from '../http/client-error.js';
import { proxyTcp } from '../tcp/tcp-proxy.js';
import { serverTlsOptions } from '../tls/tls-context.js';
import { inspectClientHello, sniffPlaintext } from './tls-inspector.js';
import { defaultHttp1Codec } from '../http1/codec.js';
import { LeanHttp1Server, wasHandedOver } from '../http1/lean-server.js';
import type { Counter, Gauge, StatsRegistry } from '../../telemetry/stats/stats.js';

export type { ListenerSpec } from '../config/compile.js';

interface ChainRuntime {
  spec: ChainSpec;
  readonly manager: HttpConnectionManager | null;
  readonly h1: http.Server | null;
  /** The lean HTTP/1.1 server in front of h1 (which takes what it hands over), when enabled. */
  readonly lean: LeanHttp1Server | null;
  readonly h2c: http2.Http2Server | null;
  /** Terminates TLS for an HTTP chain and passes the socket on by ALPN (h2 → h2c, else HTTP/1.1). */
  readonly secure: tls.Server | null;
  /** A TCP chain that terminates TLS (mesh mTLS in front of tcp_proxy): decrypted sockets go to tcp_proxy. */
  readonly tcpTls: tls.Server | null;
}

/** Where a tunnelled connection was headed (CONNECT), for original-destination routing. */
interface Destination {
  readonly authority: string;
  readonly port: number;
}

export interface BoundListener {
  readonly name: string;
  readonly host: string;
  /** The bound port (differs from the spec's when it asked for port 0). */
  readonly port: number;
  readonly specPort: number;
  readonly server: net.Server;
  spec: ListenerSpec;
  chains: ChainRuntime[];
  readonly sockets: Set<net.Socket>;
  /** The connection manager of the first HTTP chain (null when all chains are TCP). */
  manager: HttpConnectionManager | null;
  /** Envoy's listener stats (`listener.<address>.*`), set once bound; absent without a registry. */
  stats?: ListenerStats;
}

/** Envoy's per-listener counters, `envoy_listener_*{listener_address="<ip>_<port>"}` in Prometheus. */
interface ListenerStats {
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxDestroy: Counter;
  readonly noFilterChainMatch: Counter;
}

export interface PreparedListeners {
  readonly specs: readonly ListenerSpec[];
  readonly opened: readonly BoundListener[];
}

/** How long a removed listener's open connections may finish before they are closed. */
const DRAIN_MS = 5_000;
/** Envoy's listener_filters_timeout: give up waiting for a ClientHello after this long. */
const INSPECT_TIMEOUT_MS = 5_000;
/** HTTP/2 limits at the edge (hardening-and-deps §A3.4): no push, 100 concurrent streams. */
const H2_SETTINGS: http2.Settings = { enablePush: false, maxConcurrentStreams: 100 };

export class ListenerManager {
  private bound = new Map<string, BoundListener>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly registry?: StatsRegistry,
    /** Plaintext HTTP/1.1 is served by the lean server (src/dataplane/http1/) before node's. */
    private readonly leanHttp1 = defaultHttp1Codec() === 'lean',
  ) {}

  list(): BoundListener[] {
    return [...this.bound.values()];
  }

  /**
   * Binds what the update adds or moves. Rejects (with every socket it opened closed again) if
   * a bind fails; nothing visible changes until commit().
   */
  async prepare(specs: readonly ListenerSpec[]): Promise<PreparedListeners> {
    const opened: BoundListener[] = [];
    try {
      for (const spec of specs) {
        const cur = this.bound.get(spec.name);
        if (cur && cur.host === spec.host && cur.specPort === spec.port) continue;
        // A listener moving to an address held by another listener of this proxy would fail to
        // bind until that one closes; Strait rejects such updates rather than reorder binds.
        opened.push(await this.bind(spec));
      }
    } catch (e) {
      await Promise.all(opened.map((l) => closeListener(l, 0)));
      throw e;
    }
    return { specs, opened };
  }

  /** Swaps chains in place, adopts the new sockets, and drains listeners that went away. */
  commit(p: PreparedListeners): void {
    const next = new Map<string, BoundListener>();
    for (const spec of p.specs) {
      const l = p.opened.find((o) => o.name === spec.name) ?? this.bound.get(spec.name)!;
      l.spec = spec;
      l.chains = this.updateChains(l, spec);
      l.manager = l.chains.find((c) => c.manager)?.manager ?? null;
      next.set(spec.name, l);
    }
    const removed = [...this.bound.values()].filter((l) => next.get(l.name) !== l);
    this.bound = next;
    for (const l of removed) void closeListener(l, DRAIN_MS);
  }

  /** Keeps the runtime of chains that keep their name and kind; builds the others. */
  private updateChains(l: BoundListener, spec: ListenerSpec): ChainRuntime[] {
    return spec.chains.map((c) => {
      const cur = l.chains.find((x) => x.spec.name === c.name) ?? (spec.chains.length === 1 && l.chains.length === 1 ? l.chains[0] : undefined);
      // A TLS server's client-certificate policy is fixed when it is created (Node cannot change
      // requestCert later), so a chain whose CA arrives over SDS after the listener, or whose
      // mode changes, gets a new server; certificate rotation alone keeps the server.
      const verify = (t: ChainSpec['tls']) => (t === null ? 'plain' : t.clientCa ? (t.requireClientCertificate ? 'require' : 'request') : 'none');
      const sameKind = cur && cur.spec.network.kind === c.network.kind && verify(cur.spec.tls) === verify(c.tls);
      if (cur && sameKind) {
        if (c.network.kind === 'http') {
          cur.manager!.config = c.network.hcm;
          cur.h1!.keepAliveTimeout = c.network.hcm.idleTimeoutMs;
          cur.h1!.headersTimeout = c.network.hcm.requestHeadersTimeoutMs;
        }
        const t = c.tls;
        if (cur.secure && t?.pair && JSON.stringify([t.pair, t.options, t.clientCa]) !== JSON.stringify([cur.spec.tls?.pair, cur.spec.tls?.options, cur.spec.tls?.clientCa])) {
          // A new certificate or CA (rotation) applies to new handshakes without a restart.
          cur.secure.setSecureContext({ ...serverTlsOptions(t.pair, t.options), ...(t.clientCa ? { ca: t.clientCa } : {}) });
        }
        if (cur.tcpTls && t?.pair && JSON.stringify([t.pair, t.options, t.clientCa]) !== JSON.stringify([cur.spec.tls?.pair, cur.spec.tls?.options, cur.spec.tls?.clientCa])) {
          cur.tcpTls.setSecureContext({ ...serverTlsOptions(t.pair, t.options), ...(t.clientCa ? { ca: t.clientCa } : {}) });
        }
        cur.spec = c;
        return cur;
      }
      return this.chainRuntime(l, c);
    });
  }

  private chainRuntime(l: BoundListener, c: ChainSpec): ChainRuntime {
    if (c.network.kind === 'tcp') return { spec: c, manager: null, h1: null, lean: null, h2c: null, secure: null, tcpTls: this.tcpTlsServer(c) };
    const hcm = c.network.hcm;
    const manager = new HttpConnectionManager(hcm, this.ctx);
    const h1 = http.createServer({
      keepAliveTimeout: hcm.idleTimeoutMs,
      headersTimeout: hcm.requestHeadersTimeoutMs,
      // Route timeouts govern requests; Node's whole-request timer would cut long streams.
      requestTimeout: 0,
      // Absolute-form requests carry their authority in the target; the manager checks Host.
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      noDelay: true,
      connectionsCheckingInterval: 2_000,
    });
    h1.on('request', manager.handle);
    h1.on('upgrade', manager.handleUpgrade);
    // A connection the lean server handed over was counted when it arrived there.
    h1.on('connection', (socket: net.Socket) => {
      if (!wasHandedOver(socket)) manager.onConnection(socket);
    });
    const lean = this.leanHttp1 ? new LeanHttp1Server(manager, h1, this.ctx.clock) : null;
    h1.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => writeClientError(manager, err, socket));
    h1.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onConnect(l, manager, req, socket, head));
    const h2c = http2.createServer({ settings: H2_SETTINGS });
    h2c.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => manager.handle(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse));
    h2c.on('sessionError', () => undefined);
    let secure: tls.Server | null = null;
    if (c.tls) {
      const t = c.tls;
      // TLS is terminated by a plain TLS server and the decrypted socket goes where its ALPN
      // says: h2 to the HTTP/2 server, anything else (http/1.1, or no ALPN) to the same HTTP/1.1
      // path as plaintext — the lean server first. (node's http2 secure server with allowHTTP1
      // would serve HTTP/1.1 through node's http parser and ServerResponse, the slow path.)
      secure = tls.createServer({
        ...(t.pair ? serverTlsOptions(t.pair, t.options) : { minVersion: t.options.minVersion, maxVersion: t.options.maxVersion, ciphers: t.options.ciphers }),
        ...(t.clientCa ? { ca: t.clientCa, requestCert: true, rejectUnauthorized: t.requireClientCertificate } : {}),
        ALPNProtocols: [...t.alpn],
      });
      secure.on('secureConnection', (socket: tls.TLSSocket) => {
        // OPTIONAL_MUTUAL: no certificate is fine, but one that does not verify is refused.
        if (t.clientCa && !socket.authorized && Object.keys(socket.getPeerCertificate() ?? {}).length > 0) {
          socket.destroy();
          return;
        }
        if (socket.alpnProtocol === 'h2') {
          manager.onConnection(socket);
          h2c.emit('connection', socket);
        } else if (lean) lean.accept(socket);
        else h1.emit('connection', socket);
      });
      // Failed handshakes (no shared cipher, no certificate yet) are the client's problem; they
      // must never be an uncaught exception of the proxy.
      secure.on('tlsClientError', () => undefined);
    }
    return { spec: c, manager, h1, lean, h2c, secure, tcpTls: null };
  }

  /** A TLS server (never listening) that verifies clients as the chain says and hands decrypted sockets to tcp_proxy. */
  private tcpTlsServer(c: ChainSpec): tls.Server | null {
    const t = c.tls;
    if (!t || c.network.kind !== 'tcp') return null;
    const tcp = c.network.tcp;
    const server = tls.createServer({
      ...(t.pair ? serverTlsOptions(t.pair, t.options) : { minVersion: t.options.minVersion, maxVersion: t.options.maxVersion, ciphers: t.options.ciphers }),
      ...(t.clientCa ? { ca: t.clientCa, requestCert: true, rejectUnauthorized: t.requireClientCertificate } : {}),
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      // OPTIONAL_MUTUAL: no certificate is fine, but one that does not verify is refused.
      if (t.clientCa && !socket.authorized && Object.keys(socket.getPeerCertificate() ?? {}).length > 0) {
        socket.destroy();
        return;
      }
      proxyTcp(tcp, { clusters: this.ctx.clusters, clock: this.ctx.clock, random: this.ctx.random }, socket, '', socket.servername || '');
    });
    server.on('tlsClientError', () => undefined);
    return server;
  }

  private bind(spec: ListenerSpec): Promise<BoundListener> {
    // Half-open like Envoy: a TCP client may shut its side and still read the answer (`nc -N`);
    // the HTTP servers the sockets go to end them on FIN themselves, as they always do.
    const server = net.createServer({ noDelay: true, allowHalfOpen: true });
    const l: BoundListener = { name: spec.name, host: spec.host, port: 0, specPort: spec.port, server, spec, chains: [], sockets: new Set(), manager: null };
    server.on('connection', (socket: net.Socket) => {
      l.sockets.add(socket);
      const stats = l.stats;
      if (stats) {
        stats.cxTotal.value++;
        stats.cxActive.value++;
      }
      socket.once('close', () => {
        l.sockets.delete(socket);
        if (stats) {
          stats.cxActive.value--;
          stats.cxDestroy.value++;
        }
      });
      this.dispatch(l, socket, undefined);
    });
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new Error(`listener ${spec.name}: cannot bind ${spec.host}:${spec.port}: ${err.code ?? err.message}`));
      };
      server.once('error', onError);
      server.listen({ host: spec.host, port: spec.port, backlog: 1024 }, () => {
        server.off('error', onError);
        const addr = server.address();
        (l as { port: number }).port = typeof addr === 'object' && addr ? addr.port : spec.port;
        if (this.registry) {
          const scope = this.registry.scope('listener', { listener_address: `${l.host}_${l.port}` });
          l.stats = { cxTotal: scope.counter('downstream_cx_total'), cxActive: scope.gauge('downstream_cx_active'), cxDestroy: scope.counter('downstream_cx_destroy'), noFilterChainMatch: scope.counter('no_filter_chain_match') };
        }
        resolve(l);
      });
    });
  }

  /** Picks the chain for a new connection (inspecting its first bytes when needed) and hands it over. */
  private dispatch(l: BoundListener, socket: net.Socket, dst: Destination | undefined): void {
    socket.on('error', () => socket.destroy());
    const chains = l.chains;
    if (!l.spec.inspectTls && chains.length === 1) {
      this.handOff(chains[0]!, socket, false, '', dst);
      return;
    }
    peek(socket, (buf) => inspectClientHello(buf).complete, (buf) => {
      const r = buf.length ? inspectClientHello(buf) : { complete: true, tls: false as boolean, sni: undefined };
      // Plain bytes in a CONNECT tunnel have no SNI; the tunnel's host names the destination
      // instead, so TCP services on one port are told apart (Istio uses the destination IP).
      const name = r.tls ? r.sni : dst ? connectHost(dst.authority) : undefined;
      const chain = selectChain(chains, r.tls, name, dst?.port);
      if (!chain) {
        if (l.stats) l.stats.noFilterChainMatch.value++;
        // Envoy closes connections no filter chain takes. Strait first tells a plaintext HTTP/1
        // caller why when the listener only takes TLS (a STRICT mTLS port called without mTLS,
        // e.g. a DestinationRule with tls.mode DISABLE): the calling proxy relays the answer.
        if (!r.tls && buf.length > 0 && /^[A-Z]{3,10} \S+ HTTP\/1\.[01]\r?\n/.test(buf.subarray(0, 256).toString('latin1')) && chains.every((c) => c.spec.tls !== null)) {
          const body = `listener ${l.name} accepts only TLS (mutual TLS: PeerAuthentication STRICT); this connection was plaintext. Check the caller's DestinationRule tls mode (DISABLE) or its sidecar.\n`;
          socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-strait-flags: NR\r\nx-strait-details: filter_chain_not_found{plaintext_on_tls_only_listener}\r\nconnection: close\r\n\r\n${body}`);
          return;
        }
        socket.destroy();
        return;
      }
      this.handOff(chain, socket, r.tls, r.sni ?? '', dst);
    });
  }

  private handOff(c: ChainRuntime, socket: net.Socket, isTls: boolean, sni: string, dst: Destination | undefined): void {
    const n = c.spec.network;
    if (n.kind === 'tcp') {
      const t = c.spec.tls;
      if (!t) {
        proxyTcp(n.tcp, { clusters: this.ctx.clusters, clock: this.ctx.clock, random: this.ctx.random }, socket, dst?.authority ?? '', sni);
        return;
      }
      // TLS terminated here, then the plaintext bytes are proxied (mesh mTLS on a TCP port).
      if (!c.tcpTls || !t.pair) {
        socket.destroy();
        return;
      }
      c.tcpTls.emit('connection', socket);
      return;
    }
    if (c.secure) {
      c.secure.emit('connection', socket);
      return;
    }
    if (isTls) {
      // TLS arriving at a plaintext HTTP chain cannot be served.
      socket.destroy();
      return;
    }
    peek(socket, (buf) => sniffPlaintext(buf) !== undefined, (buf) => {
      if (sniffPlaintext(buf) === 'h2c') {
        c.manager!.onConnection(socket);
        c.h2c!.emit('connection', socket);
      } else if (c.lean) c.lean.accept(socket);
      else c.h1!.emit('connection', socket);
    });
  }

  /**
   * CONNECT: when the connection manager allows it (a workload's sidecar, for HTTP_PROXY clients
   * such as gRPC and HTTPS ones), the tunnel is accepted and its bytes are handled by this same
   * listener as a new connection to the requested host and port; otherwise 405.
   */
  private onConnect(l: BoundListener, manager: HttpConnectionManager, req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const target = req.url ?? '';
    const m = /^(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(target);
    if (!manager.config.allowConnect || !m) {
      rejectConnect(manager, req, socket);
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    this.dispatch(l, socket, { authority: target, port: Number(m[2]) });
  }

  async close(): Promise<void> {
    const all = [...this.bound.values()];
    this.bound.clear();
    await Promise.all(all.map((l) => closeListener(l, 1_000)));
  }
}

/**
 * Reads from `socket` until `enough(bytes)` says a decision can be made (or a timeout / end),
 * then puts the bytes back and calls `then` with them. Reading happens through `read()`, so the
 * socket never flows before its new owner attaches.
 */
function peek(socket: net.Socket, enough: (b: Buffer) => boolean, then: (b: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('end', finish);
    if (buf.length) socket.unshift(buf);
    then(buf);
  };
  const onReadable = () => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    if (enough(buf)) finish();
  };
  const timer = setTimeout(finish, INSPECT_TIMEOUT_MS);
  timer.unref();
  socket.on('readable', onReadable);
  socket.once('end', finish);
}

/** `host` of a CONNECT `host:port` (IPv6 brackets removed), lower-cased. */
function connectHost(authority: string): string {
  const end = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':');
  const host = end > 0 ? authority.slice(0, end) : authority;
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** Envoy's order: destination port, then server name (exact, wildcard, none), then transport. */
export function selectChain<T extends { spec: ChainSpec }>(chains: readonly T[], isTls: boolean, sni: string | undefined, dstPort: number | undefined): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (const c of chains) {
    const s = c.spec;
    if (s.destinationPort !== undefined && s.destinationPort !== dstPort) continue;
    const transport = s.transportProtocol ?? (s.tls ? 'tls' : undefined);
    if (transport !== undefined && transport !== (isTls ? 'tls' : 'raw_buffer')) continue;
    let nameScore = 0;
    if (s.serverNames.length) {
      if (!sni) continue;
      const exact = s.serverNames.some((n) => n.toLowerCase() === sni);
      const wild = !exact && s.serverNames.some((n) => n.startsWith('*.') && sni.length > n.length - 1 && sni.endsWith(n.slice(1).toLowerCase()));
      if (!exact && !wild) continue;
      nameScore = exact ? 2 : 1;
    }
    const score = (s.destinationPort !== undefined ? 100 : 0) + nameScore * 10 + (transport !== undefined ? 1 : 0);
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** Stops accepting, and closes open connections after `graceMs`. */
function closeListener(l: BoundListener, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!l.server.listening) {
      resolve();
      return;
    }
    for (const c of l.chains) {
      c.h1?.closeIdleConnections();
      c.lean?.closeIdleConnections();
    }
    const t = setTimeout(() => {
      for (const s of l.sockets) s.destroy();
    }, graceMs);
    t.unref();
    l.server.close(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
