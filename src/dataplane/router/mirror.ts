// Request mirroring (Envoy request_mirror_policies; Istio mirror/mirrors): a fire-and-forget copy
// of the request to another cluster, its Host suffixed with `-shadow`, its response discarded,
// never retried, and never able to affect the original request. A request with a body is
// mirrored once the body has arrived, if it fits the replay limit.

import type { Timer } from '../../common/clock.js';
import type { DownstreamRequest, ProxyContext } from '../http/connection-manager.js';
import type { HeaderMap } from '../http/headers.js';
import type { RequestBody } from './request-body.js';
import type { MirrorTarget } from './route-entry.js';
import { admitRequest, sendUpstream } from './upstream-request.js';

const MIRROR_TIMEOUT_MS = 15_000;

/** `httpbin:8000` → `httpbin-shadow:8000` (Envoy appends to the host, before the port). */
export function shadowAuthority(authority: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(authority);
  return m ? `${m[1]}-shadow${m[2] ?? ''}` : `${authority}-shadow`;
}

export function sendMirrors(d: DownstreamRequest, mirrors: readonly MirrorTarget[], ctx: ProxyContext, body: RequestBody | null): void {
  for (const m of mirrors) {
    if (m.fraction < 1 && ctx.random.next() >= m.fraction) continue;
    const cluster = ctx.clusters.get(m.cluster);
    if (!cluster) continue;
    const host = cluster.chooseHost(d.authority);
    if (!host) continue;
    const headers: HeaderMap = { ...d.headers, host: shadowAuthority(d.authority) };
    const send = (payload: Buffer[] | null) => {
      // The shadow goes through the cluster's circuit breaker like any request; over the
      // limit it is simply not sent.
      const release = admitRequest(cluster, host);
      if (!release) return;
      let timer: Timer | null = null;
      const done = () => {
        timer?.cancel();
        release();
      };
      const up = sendUpstream(cluster, host, { method: d.method, path: d.fullPath, headers, hasBody: payload !== null }, {
        connected: () => undefined,
        response: (_head, res) => {
          res.resume();
          res.once('end', done);
          res.once('close', done);
        },
        error: done,
      });
      timer = ctx.clock.setTimer(MIRROR_TIMEOUT_MS, () => {
        up.abort();
        done();
      });
      if (payload) for (const c of payload) up.write(c);
      up.end();
    };
    if (!d.hasBody || !body) {
      send(null);
      continue;
    }
    const chunks: Buffer[] = [];
    const sink = {
      write: (c: Buffer) => (chunks.push(c), true),
      end: () => send(chunks),
      once: () => undefined,
    };
    body.attach(sink, false);
  }
}
