// The bridge between node:http's client and Strait's pools. ClientRequest hands every request
// to `agent.addRequest(req, options)` (Node's agent contract: undocumented but stable since
// Node 0.x, and what libraries such as agent-base build on); the pool answers with
// `req.onSocket(socket)`, or `req.onSocket(null, error)` to fail the request at once — which is
// exactly how Node's own Agent reports a failed connection.

import http from 'node:http';

export class PoolAgent extends http.Agent {
  constructor(
    private readonly dispatch: (req: http.ClientRequest, options: http.RequestOptions) => void,
    private readonly onDestroy: () => void,
  ) {
    // keepAlive tells ClientRequest the connection may be reused (it then keeps it open).
    super({ keepAlive: true });
  }

  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    this.dispatch(req, options);
  }

  override destroy(): void {
    this.onDestroy();
  }
}

export function failRequest(req: { onSocket(s: null, e: Error): void }, err: Error): void {
  req.onSocket(null, err);
}
