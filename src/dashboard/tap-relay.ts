// GET /api/tap?pod=<namespace>/<name>[&method=&path=&authority=&direction=&max_rps=]: relays one
// proxy's admin /tap (NDJSON) to a browser as Server-Sent Events, adding what the control plane
// knows and the proxy does not: which pods the addresses belong to and their identities. An
// identity read from the mTLS peer certificate is marked verified; one inferred from the peer's
// address (the pod there and its service account) is not. The relay never buffers for a slow
// browser: while its socket is full, events are dropped and counted (an `event: dropped` line
// says how many once it drains), and the proxy's stream keeps flowing.

import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, Timer } from '../common/clock.js';
import type { TapEvent } from '../dataplane/http/tap.js';
import type { DashboardPod, MeshView } from './mesh-view.js';

const KEEPALIVE_MS = 15_000;
const PASSED = ['method', 'path', 'authority', 'direction', 'max_rps'];

export interface Peer {
  /** `namespace/name` of the pod at that address, '' when none is known. */
  readonly pod: string;
  readonly identity: string;
  /** True when the identity comes from the peer's verified certificate. */
  readonly verified: boolean;
}

export interface RelayedTapEvent extends TapEvent {
  readonly source: Peer;
  readonly destination: Peer;
}

function hostOf(addr: string): string {
  if (addr.startsWith('[')) return addr.slice(1, addr.indexOf(']'));
  const i = addr.lastIndexOf(':');
  return i < 0 ? addr : addr.slice(0, i);
}

function addressIndex(pods: readonly DashboardPod[]): Map<string, DashboardPod> {
  const byAddress = new Map<string, DashboardPod>();
  for (const p of pods) {
    byAddress.set(p.ip, p);
    byAddress.set(p.localAddress, p);
  }
  return byAddress;
}

const indexes = new WeakMap<readonly DashboardPod[], Map<string, DashboardPod>>();

/** Adds the pods and identities at both ends of a tapped request. */
export function enrich(e: TapEvent, tapped: DashboardPod, pods: readonly DashboardPod[], trustDomain: string): RelayedTapEvent {
  let byAddress = indexes.get(pods);
  if (!byAddress) indexes.set(pods, (byAddress = addressIndex(pods)));
  const identity = (p: DashboardPod | undefined) => (p && (p.sidecar || p.gateway) ? `spiffe://${trustDomain}/ns/${p.namespace}/sa/${p.serviceAccount}` : '');
  const peer = (p: DashboardPod | undefined, cert: string): Peer => (cert ? { pod: p ? `${p.namespace}/${p.name}` : '', identity: cert, verified: true } : { pod: p ? `${p.namespace}/${p.name}` : '', identity: identity(p), verified: false });
  const self = tapped;
  if (e.direction === 'inbound') {
    // The downstream address may be a client's behind a trusted gateway (X-Forwarded-For), so a
    // verified identity wins: the one pod holding it, when only one does.
    let from = byAddress.get(hostOf(e.downstreamRemote));
    if (e.sourcePrincipal && identity(from) !== e.sourcePrincipal) {
      const holders = pods.filter((p) => identity(p) === e.sourcePrincipal);
      from = holders.length === 1 ? holders[0] : undefined;
    }
    return { ...e, source: peer(from, e.sourcePrincipal), destination: peer(self, e.destinationPrincipal) };
  }
  // Outbound: the tapped pod sends; the upstream host names the receiver (the gateway's own
  // address is shared with loopback clients, so only the upstream side is looked up).
  const to = e.upstreamHost ? byAddress.get(hostOf(e.upstreamHost)) : undefined;
  return { ...e, source: peer(self, ''), destination: peer(to, '') };
}

export function relayTap(view: MeshView, clock: Clock, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const ref = url.searchParams.get('pod') ?? '';
  const pods = view.pods();
  const pod = pods.find((p) => `${p.namespace}/${p.name}` === ref || p.name === ref);
  const fail = (status: number, error: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error, pods: pods.filter((p) => p.adminUrl).map((p) => `${p.namespace}/${p.name}`) }) + '\n');
  };
  if (!pod) return fail(404, `no pod "${ref}"`);
  if (!pod.adminUrl) return fail(400, `pod ${pod.namespace}/${pod.name} has no proxy to tap`);
  const q = new URLSearchParams();
  for (const k of PASSED) {
    const v = url.searchParams.get(k);
    if (v) q.set(k, v);
  }
  const upstream = http.get(`${pod.adminUrl}/tap?${q}`);
  let keepalive: Timer | null = null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    keepalive?.cancel();
    upstream.destroy();
    res.end();
  };
  req.once('close', close);
  upstream.on('error', (e) => {
    if (closed) return;
    if (!res.headersSent) return fail(502, `cannot tap ${pod.namespace}/${pod.name}: ${e.message}`);
    res.write(`event: error\ndata: ${JSON.stringify({ error: e.message })}\n\n`);
    close();
  });
  upstream.on('response', (up) => {
    if (up.statusCode !== 200) {
      let body = '';
      up.setEncoding('utf8');
      up.on('data', (c: string) => (body += c));
      up.on('end', () => fail(up.statusCode === 400 ? 400 : 502, body.trim() || `tap answered ${up.statusCode}`));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.write(`event: ready\ndata: ${JSON.stringify({ pod: `${pod.namespace}/${pod.name}` })}\n\n`);
    let blocked = false;
    let dropped = 0;
    let buf = '';
    const ping = () => {
      if (closed) return;
      if (!blocked) res.write(': keepalive\n\n');
      keepalive = clock.setTimer(KEEPALIVE_MS, ping);
    };
    keepalive = clock.setTimer(KEEPALIVE_MS, ping);
    // Pods are re-read at most once a second: addresses change only when pods do.
    let known = pods;
    let knownAt = clock.monotonic();
    up.setEncoding('utf8');
    up.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line) continue;
        if (blocked) {
          dropped++;
          continue;
        }
        let e: TapEvent & { end?: boolean };
        try {
          e = JSON.parse(line) as TapEvent & { end?: boolean };
        } catch {
          continue;
        }
        if (e.end) continue;
        if (clock.monotonic() - knownAt > 1000) {
          known = view.pods();
          knownAt = clock.monotonic();
        }
        if (!res.write(`event: request\ndata: ${JSON.stringify(enrich(e, pod, known, view.trustDomain))}\n\n`)) {
          blocked = true;
          res.once('drain', () => {
            blocked = false;
            if (dropped > 0) res.write(`event: dropped\ndata: ${JSON.stringify({ dropped })}\n\n`);
            dropped = 0;
          });
        }
      }
    });
    up.on('end', () => {
      if (!closed) res.write('event: end\ndata: {}\n\n');
      close();
    });
  });
}
