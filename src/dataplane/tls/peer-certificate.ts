// The downstream's TLS client certificate, as the HTTP and TCP paths need it (source principal
// for authorization, X-Forwarded-Client-Cert): parsed once per connection and cached on the
// socket, since every request of a kept-alive connection has the same peer.

import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { PeerCertificate } from '../http/stream-info.js';

const cache = new WeakMap<object, PeerCertificate | null>();

/** The verified peer certificate of a TLS socket; null for plaintext or no certificate. */
export function peerCertificateOf(socket: Socket | TLSSocket): PeerCertificate | null {
  const tls = socket as TLSSocket;
  if (typeof tls.getPeerX509Certificate !== 'function' || !tls.encrypted) return null;
  const hit = cache.get(socket);
  if (hit !== undefined) return hit;
  let pc: PeerCertificate | null = null;
  // Only a certificate the TLS layer verified is an identity (OPTIONAL_MUTUAL may pass none).
  const x = tls.authorized ? tls.getPeerX509Certificate() : undefined;
  if (x) pc = fromX509(x);
  cache.set(socket, pc);
  return pc;
}

export function fromX509(x: X509Certificate): PeerCertificate {
  const uriSans: string[] = [];
  const dnsSans: string[] = [];
  // subjectAltName: "DNS:a.example, URI:spiffe://td/ns/x/sa/y"
  for (const part of (x.subjectAltName ?? '').split(/,\s*/)) {
    if (part.startsWith('URI:')) uriSans.push(part.slice(4));
    else if (part.startsWith('DNS:')) dnsSans.push(part.slice(4));
  }
  // Node gives `undefined` for an empty subject, which mesh workload certificates have (as
  // Istio's: the identity is only the URI SAN).
  const subject = (x.subject ?? '')
    .split('\n')
    .filter((l) => l)
    .join(',');
  const sha256 = x.fingerprint256.replace(/:/g, '').toLowerCase();
  return { uriSans, dnsSans, subject, sha256, pem: () => encodeURIComponent(x.toString()) };
}

const localCache = new WeakMap<object, string | undefined>();

/** The first URI SAN of this proxy's own certificate on a TLS socket (XFCC `By`), cached. */
export function localCertificateUri(socket: Socket | TLSSocket): string | undefined {
  const tls = socket as TLSSocket;
  if (typeof tls.getX509Certificate !== 'function' || !tls.encrypted) return undefined;
  if (localCache.has(socket)) return localCache.get(socket);
  const x = tls.getX509Certificate();
  const uri = x ? fromX509(x).uriSans[0] : undefined;
  localCache.set(socket, uri);
  return uri;
}

const principalCache = new WeakMap<object, string>();

/**
 * This proxy's principal on a TLS socket as Envoy's ext_authz names the destination: the first
 * URI SAN of its certificate, else the first DNS SAN, else the subject; '' for plaintext. Cached.
 */
export function localPrincipalOf(socket: Socket | TLSSocket): string {
  const tls = socket as TLSSocket;
  if (typeof tls.getX509Certificate !== 'function' || !tls.encrypted) return '';
  const hit = principalCache.get(socket);
  if (hit !== undefined) return hit;
  const x = tls.getX509Certificate();
  const c = x ? fromX509(x) : null;
  const p = c ? (c.uriSans[0] ?? c.dnsSans[0] ?? c.subject) : '';
  principalCache.set(socket, p);
  return p;
}
