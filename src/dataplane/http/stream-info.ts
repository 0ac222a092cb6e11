// What the proxy knows about one request once it is done: the input of access logs, stats and
// (later) spans. Filled in by the connection manager and the router as the request progresses.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export interface StreamInfo {
  /** Epoch milliseconds when the request headers arrived. */
  startTime: number;
  /** Monotonic milliseconds at start and at the end (last byte sent or reset). */
  startMono: number;
  endMono: number;
  method: string;
  /** The path as received (before any rewrite). */
  path: string;
  /** HTTP/1.0, HTTP/1.1 or HTTP/2. */
  protocol: string;
  scheme: string;
  authority: string;
  requestHeaders: IncomingHttpHeaders;
  responseHeaders: OutgoingHttpHeaders | null;
  /** 0 until a response started. */
  responseCode: number;
  /** Envoy response flags (UH, UF, NR, ...), in the order they were set. */
  responseFlags: string[];
  responseCodeDetails: string;
  connectionTerminationDetails: string;
  upstreamTransportFailureReason: string;
  bytesReceived: number;
  bytesSent: number;
  upstreamHost: string;
  upstreamCluster: string;
  /** The chosen upstream host's endpoint metadata (`filterMetadata`), or null: who the peer is, for istio.stats. */
  upstreamMetadata: Readonly<Record<string, Readonly<Record<string, unknown>>>> | null;
  /** gRPC status from the response trailers (or a trailers-only head), '' when none. */
  grpcStatus: string;
  /** gRPC messages in each direction (length-prefixed frames), counted for gRPC requests only. */
  grpcRequestMessages: number;
  grpcResponseMessages: number;
  upstreamLocalAddress: string;
  /** Milliseconds from sending upstream to the upstream's response headers (-1 if none). */
  upstreamServiceTime: number;
  downstreamLocalAddress: string;
  downstreamRemoteAddress: string;
  requestedServerName: string;
  routeName: string;
  /** The downstream's TLS client certificate (mutual TLS), or null: source identity for RBAC and XFCC. */
  peerCertificate: PeerCertificate | null;
  /** This proxy's own principal on a TLS downstream connection (URI SAN, else DNS SAN, else subject), or '': ext_authz's destination principal. */
  localPrincipal: string;
  /** What filters tell later filters and the access log, by filter name (Envoy's dynamic metadata). */
  dynamicMetadata: Record<string, Record<string, unknown>>;
  /** Inbound: the caller's `x-envoy-peer-metadata` (metadata exchange), '' when none. */
  downstreamPeerMetadata: string;
}

/** The parts of a peer certificate the proxy uses, read once per connection. */
export interface PeerCertificate {
  /** URI SANs, e.g. `spiffe://cluster.local/ns/default/sa/sleep` (the peer's principal is the first, without `spiffe://`). */
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** Subject as Envoy prints it (`CN=...,O=...`). */
  readonly subject: string;
  /** Hex SHA-256 of the DER certificate (XFCC `Hash`). */
  readonly sha256: string;
  /** PEM, URL-encoded as XFCC `Cert` wants it, computed on demand. */
  readonly pem: () => string;
}

export function newStreamInfo(startTime: number, startMono: number): StreamInfo {
  return {
    startTime,
    startMono,
    endMono: startMono,
    method: '',
    path: '',
    protocol: 'HTTP/1.1',
    scheme: 'http',
    authority: '',
    requestHeaders: {},
    responseHeaders: null,
    responseCode: 0,
    responseFlags: [],
    responseCodeDetails: '',
    connectionTerminationDetails: '',
    upstreamTransportFailureReason: '',
    bytesReceived: 0,
    bytesSent: 0,
    upstreamHost: '',
    upstreamCluster: '',
    upstreamMetadata: null,
    grpcStatus: '',
    grpcRequestMessages: 0,
    grpcResponseMessages: 0,
    upstreamLocalAddress: '',
    upstreamServiceTime: -1,
    downstreamLocalAddress: '',
    downstreamRemoteAddress: '',
    requestedServerName: '',
    routeName: '',
    peerCertificate: null,
    localPrincipal: '',
    dynamicMetadata: {},
    downstreamPeerMetadata: '',
  };
}
