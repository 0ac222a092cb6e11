// X-Forwarded-Client-Cert, as Envoy's connection manager sets it (forward_client_cert_details
// and set_current_client_cert_details): how the proxy tells its workload who called it over
// mutual TLS. Istio's sidecars use APPEND_FORWARD with Subject, URI and DNS, so the workload
// sees `By=<its own identity>;Hash=...;Subject="...";URI=spiffe://.../sa/<caller>`.

import type { HeaderMap } from './headers.js';
import type { PeerCertificate } from './stream-info.js';

export type ForwardClientCertDetails = 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';

export interface SetCurrentClientCertDetails {
  readonly subject: boolean;
  readonly cert: boolean;
  readonly dns: boolean;
  readonly uri: boolean;
}

export interface ClientCertConfig {
  readonly forward: ForwardClientCertDetails;
  readonly set: SetCurrentClientCertDetails;
}

const XFCC = 'x-forwarded-client-cert';

/** The current connection's element: By, Hash, Cert, Subject, URI, DNS, in Envoy's order. */
export function currentElement(set: SetCurrentClientCertDetails, peer: PeerCertificate, localUri: string | undefined): string {
  const parts: string[] = [];
  if (localUri) parts.push(`By=${localUri}`);
  parts.push(`Hash=${peer.sha256}`);
  if (set.cert) parts.push(`Cert="${peer.pem()}"`);
  // Quotes inside a subject are escaped; the value is quoted because it holds commas.
  if (set.subject) parts.push(`Subject="${peer.subject.replace(/"/g, '\\"')}"`);
  if (set.uri) for (const u of peer.uriSans) parts.push(`URI=${u}`);
  if (set.dns) for (const d of peer.dnsSans) parts.push(`DNS=${d}`);
  return parts.join(';');
}

/**
 * Applies the policy to the upstream-bound headers. `peer` is the verified client certificate
 * of this connection (null without mTLS); `localUri` the proxy's own certificate URI SAN.
 */
export function applyClientCertHeader(c: ClientCertConfig, headers: HeaderMap, peer: PeerCertificate | null, localUri: string | undefined): void {
  const mtls = peer !== null;
  switch (c.forward) {
    case 'ALWAYS_FORWARD_ONLY':
      return;
    case 'FORWARD_ONLY':
      if (!mtls) delete headers[XFCC];
      return;
    case 'APPEND_FORWARD': {
      if (!mtls) {
        delete headers[XFCC];
        return;
      }
      const prior = headers[XFCC];
      const cur = currentElement(c.set, peer, localUri);
      headers[XFCC] = prior === undefined ? cur : `${Array.isArray(prior) ? prior.join(',') : prior},${cur}`;
      return;
    }
    case 'SANITIZE_SET':
      if (mtls) headers[XFCC] = currentElement(c.set, peer, localUri);
      else delete headers[XFCC];
      return;
    default:
      delete headers[XFCC];
  }
}
