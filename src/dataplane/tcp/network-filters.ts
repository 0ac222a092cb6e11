// Runs a TCP chain's network filters for one connection, in order, the first close winning. Most
// filters decide at once (network RBAC), and then nothing is allocated beyond the verdict; a
// filter that asks a service (ext_authz) returns a promise, and the rest of the chain runs when
// it settles. Its abort signal is made only when a filter asks for it, and fires if the
// connection closes while the filters are deciding.

import type net from 'node:net';
import type { CloseConnection, NetworkFilter, NetworkFilterConnection } from '../../filters/network/api.js';
import type { StreamInfo } from '../http/stream-info.js';

class Connection implements NetworkFilterConnection {
  private controller: AbortController | null = null;

  constructor(private readonly socket: net.Socket) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      const c = (this.controller = new AbortController());
      if (this.socket.destroyed) c.abort();
      else this.socket.once('close', () => c.abort());
    }
    return this.controller.signal;
  }
}

/** A filter that throws or rejects closes the connection rather than letting it through unchecked. */
const FILTER_FAILED: CloseConnection = { details: 'network_filter_error' };

type Verdict = CloseConnection | undefined;

function runFrom(filters: readonly NetworkFilter[], start: number, info: StreamInfo, conn: Connection): Verdict | Promise<Verdict> {
  for (let i = start; i < filters.length; i++) {
    let r: Verdict | Promise<Verdict>;
    try {
      r = filters[i]!.onNewConnection(info, conn);
    } catch {
      return FILTER_FAILED;
    }
    if (r === undefined) continue;
    if (r instanceof Promise) {
      return r.then(
        (close) => close ?? runFrom(filters, i + 1, info, conn),
        () => FILTER_FAILED,
      );
    }
    return r;
  }
  return undefined;
}

/** The verdict of the chain's filters: now when all decided at once, else a promise of it (never rejected). */
export function runNetworkFilters(filters: readonly NetworkFilter[], info: StreamInfo, socket: net.Socket): Verdict | Promise<Verdict> {
  return runFrom(filters, 0, info, new Connection(socket));
}
