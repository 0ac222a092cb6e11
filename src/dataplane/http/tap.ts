// Live tap of the requests a proxy completes (Linkerd's `tap`, LNK-07): the connection manager
// hands each finished request's StreamInfo to the hub, which turns it into one small JSON line
// for every subscriber whose filter it matches. The hub costs nothing while nobody taps: the
// connection manager only checks `subscribers !== null`. Subscribers decide how to deliver (the
// admin endpoint's /tap streams NDJSON, dropping what a slow reader cannot take).

import type { Socket } from 'node:net';
import { localCertificateUri } from '../tls/peer-certificate.js';
import type { StreamInfo } from './stream-info.js';

/** One completed request, as tap shows it. Field names are the stream's, in Envoy's vocabulary. */
export interface TapEvent {
  /** Epoch milliseconds when the request headers arrived. */
  readonly startTime: number;
  /** `inbound` (to this proxy's workload) or `outbound` (from it; gateways are outbound). */
  readonly direction: 'inbound' | 'outbound';
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly protocol: string;
  /** 0 when no response started (the downstream left, or a reset). */
  readonly status: number;
  readonly durationMs: number;
  /** Envoy response flags joined with `,`, `-` when none. */
  readonly flags: string;
  readonly details: string;
  readonly requestId: string;
  readonly route: string;
  readonly upstreamCluster: string;
  readonly upstreamHost: string;
  readonly downstreamRemote: string;
  readonly downstreamLocal: string;
  /** The downstream's verified certificate URI (inbound mutual TLS), `''` when plaintext. */
  readonly sourcePrincipal: string;
  /** This proxy's own certificate URI on the inbound mTLS connection, `''` otherwise. */
  readonly destinationPrincipal: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

export interface TapFilter {
  readonly method?: string;
  /** Exact :authority (port included when the request had one). */
  readonly authority?: string;
  readonly pathPrefix?: string;
  readonly direction?: 'inbound' | 'outbound';
}

export interface TapSubscriber {
  readonly filter: TapFilter;
  /** Called with one JSON line (newline-terminated) per matching request; must not throw. */
  deliver(line: string, event: TapEvent): void;
}

export class TapHub {
  /** null while nobody taps, so the request path's whole cost is one property check. */
  subscribers: TapSubscriber[] | null = null;

  subscribe(s: TapSubscriber): () => void {
    this.subscribers = [...(this.subscribers ?? []), s];
    return () => {
      const rest = (this.subscribers ?? []).filter((x) => x !== s);
      this.subscribers = rest.length > 0 ? rest : null;
    };
  }

  get count(): number {
    return this.subscribers?.length ?? 0;
  }

  /** Called by the connection manager once per finished request while someone taps. */
  publish(info: StreamInfo, statPrefix: string, socket: Socket): void {
    const subs = this.subscribers;
    if (!subs) return;
    let event: TapEvent | null = null;
    let line = '';
    for (const s of subs) {
      const f = s.filter;
      if (f.method !== undefined && f.method !== info.method) continue;
      if (f.authority !== undefined && f.authority !== info.authority) continue;
      if (f.pathPrefix !== undefined && !info.path.startsWith(f.pathPrefix)) continue;
      // Called from the response's close event: nothing here may throw into the request path.
      try {
        if (!event) {
          event = tapEvent(info, statPrefix, socket);
          line = JSON.stringify(event) + '\n';
        }
        if (f.direction !== undefined && f.direction !== event.direction) continue;
        s.deliver(line, event);
      } catch {
        // A tap that cannot be served loses this event; the request is already complete.
      }
    }
  }
}

function header(info: StreamInfo, name: string): string {
  const v = info.requestHeaders[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

export function tapEvent(info: StreamInfo, statPrefix: string, socket: Socket | null): TapEvent {
  const direction = statPrefix.startsWith('inbound') ? 'inbound' : 'outbound';
  const mtls = info.peerCertificate !== null;
  return {
    startTime: info.startTime,
    direction,
    method: info.method,
    scheme: info.scheme,
    authority: info.authority,
    path: info.path,
    protocol: info.protocol,
    status: info.responseCode,
    durationMs: Math.round((info.endMono - info.startMono) * 10) / 10,
    flags: info.responseFlags.length > 0 ? info.responseFlags.join(',') : '-',
    details: info.responseCodeDetails,
    requestId: header(info, 'x-request-id'),
    route: info.routeName,
    upstreamCluster: info.upstreamCluster,
    upstreamHost: info.upstreamHost,
    downstreamRemote: info.downstreamRemoteAddress,
    downstreamLocal: info.downstreamLocalAddress,
    sourcePrincipal: mtls ? (info.peerCertificate!.uriSans[0] ?? '') : '',
    destinationPrincipal: mtls && socket ? (localCertificateUri(socket) ?? '') : '',
    bytesReceived: info.bytesReceived,
    bytesSent: info.bytesSent,
  };
}
