// Owns the proxy's listening sockets. An update binds every new or moved listener first; if any
// bind fails, the ones just opened are closed and the update is rejected with nothing changed
// (the proxy NACKs it and keeps serving). Otherwise listeners that stay get their new HTTP
// connection manager config swapped in place (open connections keep working), and removed ones
// stop accepting and drain.

import http from 'node:http';
import type { Socket } from 'node:net';
import type { HcmConfig } from '../http/hcm-config.js';
import { HttpConnectionManager } from '../http/connection-manager.js';
import type { ProxyContext } from '../http/connection-manager.js';
import { rejectConnect, writeClientError } from '../http/client-error.js';

export interface ListenerSpec {
  readonly name: string;
  /** The address actually bound (after the proxy's wildcard/localhost mapping). */
  readonly host: string;
  readonly port: number;
  readonly hcm: HcmConfig;
}

export interface BoundListener {
  readonly name: string;
  readonly host: string;
  /** The bound port (differs from the spec's when it asked for port 0). */
  readonly port: number;
  readonly specPort: number;
  readonly server: http.Server;
  readonly manager: HttpConnectionManager;
}

export interface PreparedListeners {
  readonly specs: readonly ListenerSpec[];
  readonly opened: readonly BoundListener[];
}

/** How long a removed listener's open connections may finish before they are closed. */
const DRAIN_MS = 5_000;

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
        if (cur && cur.host === spec.host && cur.specPort === spec.port) continue;
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
      l.manager.config = spec.hcm;
      l.server.keepAliveTimeout = spec.hcm.idleTimeoutMs;
      l.server.headersTimeout = spec.hcm.requestHeadersTimeoutMs;
      next.set(spec.name, l);
    }
    const removed = [...this.bound.values()].filter((l) => next.get(l.name) !== l);
    this.bound = next;
    for (const l of removed) void closeServer(l.server, DRAIN_MS);
  }

  private bind(spec: ListenerSpec): Promise<BoundListener> {
    const manager = new HttpConnectionManager(spec.hcm, this.ctx);
    const server = http.createServer({
      keepAliveTimeout: spec.hcm.idleTimeoutMs,
      headersTimeout: spec.hcm.requestHeadersTimeoutMs,
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
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new Error(`listener ${spec.name}: cannot bind ${spec.host}:${spec.port}: ${err.code ?? err.message}`));
      };
      server.once('error', onError);
      server.listen({ host: spec.host, port: spec.port, backlog: 1024 }, () => {
        server.off('error', onError);
        const addr = server.address();
        const port = typeof addr === 'object' && addr ? addr.port : spec.port;
        resolve({ name: spec.name, host: spec.host, port, specPort: spec.port, server, manager });
      });
    });
  }

  async close(): Promise<void> {
    const all = [...this.bound.values()];
    this.bound.clear();
    await Promise.all(all.map((l) => closeServer(l.server, 1_000)));
  }
}

/** Stops accepting, closes idle keep-alive connections now and the rest after `graceMs`. */
function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const t = setTimeout(() => server.closeAllConnections(), graceMs);
    t.unref();
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
    server.closeIdleConnections();
  });
}
