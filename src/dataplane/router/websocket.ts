// WebSocket (HTTP/1.1 Upgrade) through the proxy, as Envoy's upgrade_configs do it: the upgrade
// request is routed like any request, sent to one host on a connection of its own, and when the
// upstream answers 101 the two connections are spliced into a byte tunnel until either side
// closes. Any other answer is an ordinary response. No retries: an upgrade is not replayable.

import http from 'node:http';
import type { Socket } from 'node:net';
import type { DownstreamRequest, ProxyContext } from '../http/connection-manager.js';
import { forwardableResponseHeaders } from '../http/headers.js';
import { localReply } from '../http/local-reply.js';
import type { LocalReply } from '../http/local-reply.js';
import type { Cluster } from '../upstream/cluster.js';
import { admitRequest, overflowReply } from './upstream-request.js';

type Reply = (r: LocalReply) => void;

export function proxyUpgrade(d: DownstreamRequest, cluster: Cluster, ctx: ProxyContext, reply: Reply, hashKey: number | undefined, timeoutMs: number): void {
  const downstream = d.upgrade!.socket;
  const host = cluster.chooseHost(d.authority, { hashKey });
  if (!host) {
    cluster.stats.noHealthyHost.value++;
    reply(localReply(503, 'UH', 'no_healthy_upstream', `cluster "${cluster.name}" has no healthy endpoints`));
    return;
  }
  const release = admitRequest(cluster, host);
  if (!release) {
    reply(overflowReply(cluster));
    return;
  }
  d.info.upstreamHost = host.key;
  d.info.upstreamMetadata = host.metadata ?? null;

  // A connection of its own (it never returns to a pool once upgraded).
  const localAddress = cluster.sourceAddress !== undefined && host.address.startsWith('127.') ? cluster.sourceAddress : undefined;
  const upReq = http.request({ host: host.address, port: host.port, localAddress, agent: false, method: d.method, path: d.fullPath, headers: d.headers, setHost: false });
  const sentAt = ctx.clock.monotonic();
  // The route timeout covers the wait for the upgrade answer (Envoy), and the connect.
  const limit = timeoutMs > 0 ? timeoutMs : cluster.connectTimeoutMs + 15_000;
  const timer = ctx.clock.setTimer(limit, () => {
    upReq.destroy();
    release();
    reply(localReply(504, 'UT', 'response_timeout', `upstream ${host.key} did not answer the upgrade within ${limit} ms`));
  });
  let connected = false;
  upReq.on('socket', (s: Socket) => s.once('connect', () => (connected = true)));
  d.onDownstreamClose = () => {
    timer.cancel();
    upReq.destroy();
    release();
  };

  upReq.on('upgrade', (upRes: http.IncomingMessage, upSocket: Socket, upHead: Buffer) => {
    timer.cancel();
    if (d.done) {
      upSocket.destroy();
      release();
      return;
    }
    d.upgraded = true;
    d.info.upstreamServiceTime = ctx.clock.monotonic() - sentAt;
    d.info.upstreamLocalAddress = `${upSocket.localAddress}:${upSocket.localPort}`;
    d.info.responseCodeDetails = 'via_upstream';
    d.info.responseHeaders = upRes.headers;
    // Connection and Upgrade are hop-by-hop everywhere else; on a 101 they are the point.
    const headers = forwardableResponseHeaders(upRes.rawHeaders);
    headers.push('connection', 'upgrade', 'upgrade', String(upRes.headers.upgrade ?? 'websocket'));
    if (d.cfg.serverHeaderTransformation === 'OVERWRITE' || (d.cfg.serverHeaderTransformation === 'APPEND_IF_ABSENT' && upRes.headers.server === undefined)) headers.push('server', d.cfg.serverName);
    d.filters?.runResponseHeaders(101, headers);
    let head = `HTTP/1.1 101 ${upRes.statusMessage || 'Switching Protocols'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    downstream.write(`${head}\r\n`);
    if (upHead.length > 0) downstream.write(upHead);
    upSocket.on('data', (c: Buffer) => (d.info.bytesSent += c.length));
    downstream.on('data', (c: Buffer) => (d.info.bytesReceived += c.length));
    upSocket.pipe(downstream);
    downstream.pipe(upSocket);
    const close = () => {
      release();
      upSocket.destroy();
      downstream.destroy();
    };
    upSocket.once('close', close);
    upSocket.on('error', close);
    downstream.once('close', close);
    // WebSocket closes with its own handshake; a FIN from either side ends the whole tunnel once
    // what is in flight to the other side is flushed (listeners accept half-open connections
    // for the TCP proxy's sake, so this does not happen by itself).
    downstream.once('end', () => upSocket.end(close));
    upSocket.once('end', () => downstream.end(close));
  });

  upReq.on('response', (upRes: http.IncomingMessage) => {
    // The upstream declined the upgrade: its answer goes back as a normal response.
    timer.cancel();
    if (d.done) {
      upRes.resume();
      release();
      return;
    }
    d.info.upstreamServiceTime = ctx.clock.monotonic() - sentAt;
    d.info.responseCodeDetails = 'via_upstream';
    const headers = forwardableResponseHeaders(upRes.rawHeaders);
    d.filters?.runResponseHeaders(upRes.statusCode ?? 502, headers);
    // Upgrade requests always come through node's server (the lean one hands them over).
    const res = d.res as http.ServerResponse;
    res.writeHead(upRes.statusCode ?? 502, headers);
    upRes.on('data', (c: Buffer) => (d.info.bytesSent += c.length));
    upRes.pipe(res);
    upRes.once('close', release);
  });

  upReq.on('error', (err: NodeJS.ErrnoException) => {
    timer.cancel();
    release();
    if (d.done || d.upgraded) return;
    if (!connected) {
      cluster.outlier.report(host, { localOrigin: 'connect_failed' });
      reply(localReply(503, 'UF', 'upstream_reset_before_response_started{connection_failure}', `cannot connect to ${host.key} (${err.code ?? err.message}) for cluster "${cluster.name}"`));
    } else {
      reply(localReply(503, 'UC', 'upstream_reset_before_response_started{connection_termination}', `${host.key} closed the connection before answering the upgrade`));
    }
  });
  upReq.end();
}
