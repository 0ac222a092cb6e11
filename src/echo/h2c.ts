// Lets one plain-text port speak both HTTP/1.1 and HTTP/2 with prior knowledge (h2c), the way a
// sidecar talks to its workload when the Service port is `http2`/`grpc`. Node's http.Server only
// speaks HTTP/1, so the server's connection handling is wrapped: each new connection is sniffed
// for the HTTP/2 client preface, then handed, bytes intact, to an http2 server or to the original
// HTTP/1 handling. The same request handler serves both through Node's compatibility API.

import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export type CompatHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export function acceptH2cPriorKnowledge(server: http.Server, handler: CompatHandler): void {
  const h2 = http2.createServer({}, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  // Connections still being sniffed belong to neither server yet: shutdown must see them too.
  const sniffing = new Set<net.Socket>();

  const http1Listeners = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: net.Socket) => {
    sniffing.add(socket);
    socket.once('close', () => sniffing.delete(socket));
    let seen = Buffer.alloc(0);
    const handOff = (toH2: boolean): void => {
      sniffing.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('error', onEarlyEnd);
      socket.removeListener('end', onEarlyEnd);
      socket.removeListener('timeout', onEarlyEnd);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      if (toH2) {
        h2.emit('connection', socket);
      } else {
        for (const l of http1Listeners) l.call(server, socket);
        // The HTTP/1 parser reads from the socket's handle; the unshifted bytes only reach it as a
        // 'data' event once the stream flows again.
        socket.resume();
      }
    };
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const prefixMatches = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (prefixMatches && n < PREFACE.length) return; // `P`, `PR`, ...: could be POST or PRI
      handOff(prefixMatches);
    };
    const onEarlyEnd = (): void => {
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('error', onEarlyEnd);
    socket.on('end', onEarlyEnd);
    // A client that connects and says nothing gets the same allowance as for its headers.
    socket.setTimeout(server.headersTimeout || 60_000);
    socket.on('timeout', onEarlyEnd);
  });

  // http.Server.close() calls closeIdleConnections() (Node >= 19), so shutdown reaches HTTP/2
  // sessions and undecided sockets through these two methods.
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    closeIdle();
    for (const s of sniffing) s.destroy();
    // GOAWAY: streams in flight finish, then the session closes.
    for (const s of sessions) s.close();
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAll();
    for (const s of sniffing) s.destroy();
    for (const s of sessions) s.destroy();
  };
}
