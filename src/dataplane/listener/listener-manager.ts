// Owns the proxy's listening sockets. An update binds every new or moved listener first; if any
// bind fails, the ones just opened are closed and the update is rejected with nothing changed
// (the proxy NACKs it and keeps serving). Otherwise listeners that stay get their new filter
// chains swapped in place (open connections keep working), and removed ones stop accepting and
// drain.
//
// A plaintext listener is a Node http.Server. A TLS listener is an HTTP/2 secure server that
// also speaks HTTP/1.1 (ALPN `h2`, `http/1.1`); its filter chain, and so its certificate and
// connection manager, is chosen by SNI, as Envoy's filter_chain_match.server_names.

import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type tls from 'node:tls';
import type { ChainSpec, ListenerSpec } from '../config/compile.js';
import { HttpConnectionManager } from '../http/connection-manager.js';
import type { ProxyContext } from '../http/connection-manager.js';
import { rejectConnect, writeClientError } from '../http/client-error.js';
import { SniTable } from '../tls/sni-table.js';

export type { ListenerSpec } from '../config/compile.js';

interface BoundChain {
  readonly spec: ChainSpec;
  readonly manager: HttpConnectionManager;
}

export interface BoundListener {
  readonly name: string;
  readonly host: string;
  /** The bound port (differs from the spec's when it asked for port 0). */
  readonly port: number;
  readonly specPort: number;
  readonly kind: 'plain' | 'tls';
  readonly server: http.Server | http2.Http2SecureServer;
  /** The connection manager of a plaintext listener (its only chain). */
  readonly manager: HttpConnectionManager;
  /** Chains of a TLS listener by SNI; replaced wholesale on update. */
  chains: SniTable<BoundChain>;
}

export interface PreparedListeners {
  readonly specs: readonly ListenerSpec[];
  readonly opened: readonly BoundListener[];
}

/** Open connections of TLS listeners (http2 servers have no closeAllConnections). */
const tlsSockets = new WeakMap<http2.Http2SecureServer, Set<Socket>>();

/** How long a removed listener's open connections may finish before they are closed. */
const DRAIN_MS = 5_000;

/** HTTP/2 limits at the edge (hardening-and-deps §A3.4): no push, 100 concurrent streams. */
const H2_SETTINGS: http2.Settings = { enablePush: false, maxConcurrentStreams: 100 };

export class ListenerManager {
  private bound = new Map<string, BoundListener>();

  constructor(private readonly ctx: ProxyContext) {}

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
        if (cur && cur.host === spec.host && cur.specPort === spec.port && cur.kind === spec.kind) continue;
        // A listener moving to an address held by another listener of this proxy would fail to
        // bind until that one closes; Strait rejects such updates rather than reorder binds.
        opened.push(await this.bind(spec));
      }
    } catch (e) {
      await Promise.all(opened.map((l) => closeServer(l.server, 0)));
      throw e;
    }
    return { specs, opened };
  }

  /** Swaps configs in place, adopts the new sockets, and drains listeners that went away. */
  commit(p: PreparedListeners): void {
    const next = new Map<string, BoundListener>();
    for (const spec of p.specs) {
      const l = p.opened.find((o) => o.name === spec.name) ?? this.bound.get(spec.name)!;
      if (spec.kind === 'plain') {
        const hcm = spec.chains[0]!.hcm;
        l.manager.config = hcm;
        const server = l.server as http.Server;
        server.keepAliveTimeout = hcm.idleTimeoutMs;
        server.headersTimeout = hcm.requestHeadersTimeoutMs;
      } else {
        l.chains = this.chainTable(spec);
      }
      next.set(spec.name, l);
    }
    const removed = [...this.bound.values()].filter((l) => next.get(l.name) !== l);
    this.bound = next;
    for (const l of removed) void closeServer(l.server, DRAIN_MS);
  }

  private chainTable(spec: ListenerSpec): SniTable<BoundChain> {
    const t = new SniTable<BoundChain>();
    for (const c of spec.chains) t.add(c.serverNames, { spec: c, manager: new HttpConnectionManager(c.hcm, this.ctx) });
    return t;
  }

  private bind(spec: ListenerSpec): Promise<BoundListener> {
    return spec.kind === 'plain' ? this.bindPlain(spec) : this.bindTls(spec);
  }

  private bindPlain(spec: ListenerSpec): Promise<BoundListener> {
    const hcm = spec.chains[0]!.hcm;
    const manager = new HttpConnectionManager(hcm, this.ctx);
    const server = http.createServer({
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
    server.on('request', manager.handle);
    server.on('connection', manager.onConnection);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => writeClientError(manager, err, socket));
    server.on('connect', (req: http.IncomingMessage, socket: Socket) => rejectConnect(manager, req, socket));
    return listen(spec, server, (port) => ({ name: spec.name, host: spec.host, port, specPort: spec.port, kind: 'plain', server, manager, chains: new SniTable() }));
  }

  private bindTls(spec: ListenerSpec): Promise<BoundListener> {
    const alpn = [...new Set(spec.chains.flatMap((c) => c.tls?.alpn ?? []))];
    let bound: BoundListener;
    // OpenSSL keeps the versions and cipher list of the listener's context even when SNI
    // switches certificates, so they are set here (compile checked that chains agree).
    const o = spec.chains[0]!.tls!.options;
    const server = http2.createSecureServer({
      minVersion: o.minVersion,
      maxVersion: o.maxVersion,
      ciphers: o.ciphers,
      ecdhCurve: o.ecdhCurve,
      honorCipherOrder: true,
      allowHTTP1: true,
      ALPNProtocols: alpn.length ? alpn : ['h2', 'http/1.1'],
      settings: H2_SETTINGS,
      // Without SNI (or with an unknown name) the chain without server names serves, if any.
      SNICallback: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
        const chain = bound.chains.match(servername);
        const ctx = chain?.spec.tls?.secureContext;
        if (ctx) cb(null, ctx);
        else cb(new Error(chain ? `no certificate yet for ${servername}` : `no filter chain for server name ${servername}`));
      },
    });
    server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      const chain = bound.chains.match((req.socket as tls.TLSSocket).servername);
      if (!chain) {
        res.stream?.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        req.socket.destroy();
        return;
      }
      // The compatibility API mirrors http's request/response for both HTTP/2 and HTTP/1.1
      // (allowHTTP1); the connection manager reads the few places where they differ.
      chain.manager.handle(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
    });
    const open = new Set<Socket>();
    tlsSockets.set(server, open);
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      bound.chains.match(socket.servername)?.manager.onConnection(socket);
    });
    // TLS handshakes that fail (no shared cipher, unknown SNI without a default chain) are the
    // client's problem; they must never be an uncaught exception of the proxy.
    server.on('tlsClientError', () => undefined);
    server.on('sessionError', () => undefined);
    const first = spec.chains[0]!;
    return listen(spec, server, (port) => {
      bound = { name: spec.name, host: spec.host, port, specPort: spec.port, kind: 'tls', server, manager: new HttpConnectionManager(first.hcm, this.ctx), chains: this.chainTable(spec) };
      return bound;
    });
  }

  async close(): Promise<void> {
    const all = [...this.bound.values()];
    this.bound.clear();
    await Promise.all(all.map((l) => closeServer(l.server, 1_000)));
  }
}

function listen(spec: ListenerSpec, server: http.Server | http2.Http2SecureServer, make: (port: number) => BoundListener): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`listener ${spec.name}: cannot bind ${spec.host}:${spec.port}: ${err.code ?? err.message}`));
    };
    server.once('error', onError);
    server.listen({ host: spec.host, port: spec.port, backlog: 1024 }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(make(typeof addr === 'object' && addr ? addr.port : spec.port));
    });
  });
}

/** Stops accepting, closes idle keep-alive connections now and the rest after `graceMs`. */
function closeServer(server: http.Server | http2.Http2SecureServer, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const plain = server instanceof http.Server ? server : null;
    const t = setTimeout(() => {
      if (plain) plain.closeAllConnections();
      else for (const s of tlsSockets.get(server as http2.Http2SecureServer) ?? []) s.destroy();
    }, graceMs);
    t.unref();
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
    plain?.closeIdleConnections();
  });
}
