// Upstream HTTP/1.1 connection pool of one cluster: a keep-alive http.Agent (LIFO, so the
// warmest connection is reused and idle ones age out) that counts connections in the cluster's
// stats. Idle connections are closed before a typical upstream's own keep-alive timeout (Node's
// is 5 s) so that the proxy rarely writes into a connection the upstream is closing.

import http from 'node:http';
import type net from 'node:net';
import type { Counter, Gauge } from '../../telemetry/stats/stats.js';

export interface PoolStats {
  cxTotal: Counter;
  cxActive: Gauge;
  cxConnectFail: Counter;
  cxDestroy: Counter;
}

export interface PoolOptions {
  /** Close idle connections after this many ms. */
  idleTimeoutMs: number;
  /** Per-host connection cap (circuit breaker max_connections). */
  maxConnectionsPerHost: number;
}

class CountingAgent extends http.Agent {
  constructor(opts: http.AgentOptions, private readonly stats: PoolStats) {
    super(opts);
  }

  override createConnection(options: net.NetConnectOpts, cb?: (err: Error | null, socket: net.Socket) => void): net.Socket {
    // http.Agent.createConnection exists at runtime (net.createConnection) but is not in the typings.
    const socket = (http.Agent.prototype as unknown as { createConnection: (o: net.NetConnectOpts, cb?: unknown) => net.Socket }).createConnection.call(this, options, cb);
    this.stats.cxTotal.value++;
    this.stats.cxActive.value++;
    let connected = false;
    socket.once('connect', () => {
      connected = true;
    });
    socket.once('close', () => {
      this.stats.cxActive.value--;
      if (!connected) this.stats.cxConnectFail.value++;
      else this.stats.cxDestroy.value++;
    });
    return socket;
  }
}

export class UpstreamPool {
  readonly agent: http.Agent;

  constructor(opts: PoolOptions, stats: PoolStats) {
    this.agent = new CountingAgent(
      {
        keepAlive: true,
        keepAliveMsecs: 30_000,
        scheduling: 'lifo',
        maxSockets: opts.maxConnectionsPerHost,
        maxFreeSockets: 1024,
        timeout: opts.idleTimeoutMs,
      },
      stats,
    );
  }

  /** Stops pooling: idle connections close now, busy ones as soon as their request ends. */
  drain(): void {
    this.agent.on('free', (socket: net.Socket) => socket.destroy());
    for (const list of Object.values(this.agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }

  /** Closes every connection at once (proxy shutdown). */
  close(): void {
    this.agent.destroy();
  }
}
