// Istio's TCP echo server (samples/tcp-echo, image istio/tcp-echo-server), which the TCP
// traffic-shifting task (TASK-04) runs as v1 (`9000,9001,9002 one`) and v2 (`... two`): every
// line a client sends comes back prefixed with the configured word and a space. As in the Go
// original, a last line without its newline is dropped when the client closes, and the server
// closes the connection once the client has finished sending.

import net from 'node:net';

/** The sample's arguments: a comma-separated port list and the prefix. */
export interface TcpEchoArgs {
  readonly ports: number[];
  readonly prefix: string;
}

/** Parses `9000,9001,9002 one` (the container's args); throws with a message naming the bad part. */
export function parseTcpEchoArgs(ports: string, prefix: string): TcpEchoArgs {
  const list = ports.split(',').map((p) => p.trim());
  const parsed = list.map((p) => {
    const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
    if (!(n <= 65535)) throw new Error(`ports must be a comma-separated list of numbers from 0 to 65535, got ${JSON.stringify(ports)}`);
    return n;
  });
  return { ports: parsed, prefix };
}

/** One connection's echo loop: buffers until '\n', answers `<prefix> <line>\n` per line. */
export function handleEchoConnection(socket: net.Socket, prefix: string): void {
  let pending: Buffer = Buffer.alloc(0);
  const head = Buffer.from(`${prefix} `);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let nl: number;
    while ((nl = pending.indexOf(0x0a)) !== -1) {
      // Bytes, not strings: a line is echoed exactly as sent, whatever its encoding.
      socket.write(Buffer.concat([head, pending.subarray(0, nl + 1)]));
      pending = pending.subarray(nl + 1);
    }
  });
  // The Go server returns (and closes) on EOF; a half-closed client still gets what was written.
  socket.on('end', () => socket.end());
  // A reset by the client is its business; it must not take the server down.
  socket.on('error', () => socket.destroy());
}

/** A server for one port (the runner, serve-tcp.ts, listens it and tracks its connections). */
export function createTcpEchoServer(prefix: string): net.Server {
  return net.createServer((socket) => handleEchoConnection(socket, prefix));
}
