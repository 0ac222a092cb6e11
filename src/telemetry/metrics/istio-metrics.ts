// Records Istio's standard metrics (MET-01..08) for one istio.stats config: the HTTP ones when a
// request ends (connection-manager.ts), the TCP ones when a proxied connection opens, moves
// bytes and closes (tcp-proxy.ts). Labels are resolved once per combination and cached: the
// peer (an inbound caller by IP and certificate, an outbound endpoint by its metadata object),
// the destination service (by cluster), then status code, flags and protocol. A request costs a
// few map lookups and counter bumps; a new combination builds its label set once.
//
// Who the peer is (docs/compat.md, Telemetry and metrics): the receiving side of an HTTP request
// reads the caller's `x-envoy-peer-metadata` (Istio's metadata exchange, peer-exchange.ts), with
// the principal from the mTLS certificate; without it (TCP, a caller without a sidecar) it looks
// the caller's IP up in its `peers` table, else the principal. The sending side reads the chosen
// endpoint's metadata. Unknown peers are labelled `unknown`.

import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import type { Counter, Histogram, StatsRegistry } from '../stats/stats.js';
import { DEFAULT_BUCKETS_MS } from '../stats/stats.js';
import { peerFromMetadata, peerLabelPairs, UNKNOWN, UNKNOWN_SERVICE, UNKNOWN_WORKLOAD } from './labels.js';
import type { ServiceLabels, WorkloadLabels } from './labels.js';
import type { CompiledStatsConfig, MetricName } from './stats-config.js';
import { MAX_DISTINCT } from './tag-expressions.js';
import { decodePeerMetadata, MAX_EXCHANGED_PEERS } from './peer-exchange.js';

/** Filter metadata of an endpoint or cluster (`filterMetadata` of Envoy's Metadata). */
export type FilterMetadata = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** What the recorder needs of the proxy's clusters: their metadata, by name. */
export interface ClusterMetadataLookup {
  get(name: string): { readonly resource: { readonly metadata?: { readonly filterMetadata?: FilterMetadata } } } | undefined;
}

const HELP: Readonly<Record<MetricName, string>> = {
  requests_total: 'Requests handled by a proxy (Istio standard metric REQUEST_COUNT).',
  request_duration_milliseconds: 'Request duration in milliseconds (Istio standard metric REQUEST_DURATION).',
  request_bytes: 'Request body size in bytes (Istio standard metric REQUEST_SIZE).',
  response_bytes: 'Response body size in bytes (Istio standard metric RESPONSE_SIZE).',
  request_messages_total: 'gRPC messages sent by clients (Istio standard metric GRPC_REQUEST_MESSAGES).',
  response_messages_total: 'gRPC messages sent by servers (Istio standard metric GRPC_RESPONSE_MESSAGES).',
  tcp_connections_opened_total: 'TCP connections opened (Istio standard metric TCP_OPENED_CONNECTIONS).',
  tcp_connections_closed_total: 'TCP connections closed (Istio standard metric TCP_CLOSED_CONNECTIONS).',
  tcp_sent_bytes_total: 'Bytes sent in the response direction of TCP connections (Istio standard metric TCP_SENT_BYTES).',
  tcp_received_bytes_total: 'Bytes received in the request direction of TCP connections (Istio standard metric TCP_RECEIVED_BYTES).',
};

/** Envoy's default buckets, which Istio's proxies use for every standard histogram. */
const BUCKETS = DEFAULT_BUCKETS_MS;

interface HttpSeries {
  readonly requests: Counter | null;
  readonly duration: Histogram | null;
  readonly requestBytes: Histogram | null;
  readonly responseBytes: Histogram | null;
  readonly requestMessages: Counter | null;
  readonly responseMessages: Counter | null;
}

interface TcpSeries {
  readonly opened: Counter | null;
  readonly closed: Counter | null;
  readonly sent: Counter | null;
  readonly received: Counter | null;
}

/** One (source, destination, service, security) combination and the series below it. */
class Dims {
  /** response code → response flags → `http` | `grpc:<status>` (+ dynamic values) → series. */
  readonly http = new Map<number, Map<string, Map<string, HttpSeries>>>();
  /** response flags (+ dynamic values) → series. */
  readonly tcp = new Map<string, TcpSeries>();
  constructor(readonly base: readonly (readonly [string, string])[], readonly security: string) {}
}

/** A proxied TCP connection's cells, resolved when it opened. */
export interface TcpConnectionStats {
  readonly series: TcpSeries;
  readonly dims: Dims;
}

export class IstioMetrics {
  private readonly byPeer = new Map<WorkloadLabels, Map<ServiceLabels, [Dims | undefined, Dims | undefined]>>();
  /** Inbound: each known peer as seen over mTLS (its principal) and over plaintext (principal unknown). */
  private readonly ipPeers = new Map<string, { readonly mtls: WorkloadLabels; readonly plain: WorkloadLabels }>();
  private readonly principalPeers = new Map<string, WorkloadLabels>();
  /** Inbound: callers named by metadata exchange, by header value (null: not a valid value). */
  private readonly exchangedPeers = new Map<string, { readonly base: WorkloadLabels | null; readonly byPrincipal: Map<string, WorkloadLabels> }>();
  private readonly hostPeers = new WeakMap<object, WorkloadLabels>();
  private readonly clusterServices = new Map<string, { readonly ref: object; readonly svc: ServiceLabels }>();
  /** The local side with and without mTLS (its principal is only known to the peer over mTLS). */
  private readonly localMtls: WorkloadLabels;
  private readonly localPlain: WorkloadLabels;
  private readonly distinct = new Map<string, Set<string>>();

  constructor(readonly cfg: CompiledStatsConfig, private readonly registry: StatsRegistry) {
    this.localMtls = cfg.local;
    this.localPlain = { ...cfg.local, principal: UNKNOWN };
    for (const [ip, l] of cfg.peersByIp) this.ipPeers.set(ip, { mtls: l, plain: { ...l, principal: UNKNOWN } });
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  /** Records one finished request; `remoteIp` is the downstream connection's peer address. */
  recordHttp(info: StreamInfo, remoteIp: string | undefined, clusters: ClusterMetadataLookup): void {
    const dims = this.dimsFor(info, remoteIp, clusters, info.upstreamMetadata);
    const code = info.responseCode;
    let byFlags = dims.http.get(code);
    if (!byFlags) dims.http.set(code, (byFlags = new Map()));
    const flags = info.responseFlags.length === 0 ? '-' : info.responseFlags.join(',');
    let byProto = byFlags.get(flags);
    if (!byProto) byFlags.set(flags, (byProto = new Map()));
    const ct = info.requestHeaders['content-type'];
    const grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
    const grpcStatus = grpc ? grpcStatusOf(info) : '';
    let key = grpc ? `grpc:${grpcStatus}` : 'http';
    const dyn = this.cfg.dynamic ? this.dynamicValues(info) : null;
    if (dyn) key += `\u0001${dyn.join('\u0001')}`;
    let s = byProto.get(key);
    if (!s) byProto.set(key, (s = this.httpSeries(dims, grpc ? 'grpc' : 'http', String(code), grpcStatus, flags, info)));
    if (s.requests) s.requests.value++;
    if (s.duration) s.duration.record(info.endMono - info.startMono);
    if (s.requestBytes) s.requestBytes.record(info.bytesReceived);
    if (s.responseBytes) s.responseBytes.record(info.bytesSent);
    if (grpc) {
      if (s.requestMessages) s.requestMessages.value += info.grpcRequestMessages;
      if (s.responseMessages) s.responseMessages.value += info.grpcResponseMessages;
    }
  }

  private httpSeries(dims: Dims, protocol: string, code: string, grpcStatus: string, flags: string, info: StreamInfo): HttpSeries {
    const labels: (readonly [string, string])[] = [...dims.base, ['request_protocol', protocol], ['response_code', code], ['grpc_response_status', grpcStatus], ['response_flags', flags], ['connection_security_policy', dims.security]];
    const counter = (m: MetricName) => this.cell('counter', m, labels, info);
    const hist = (m: MetricName) => this.cell('histogram', m, labels, info);
    return {
      requests: counter('requests_total'),
      duration: hist('request_duration_milliseconds'),
      requestBytes: hist('request_bytes'),
      responseBytes: hist('response_bytes'),
      requestMessages: protocol === 'grpc' ? counter('request_messages_total') : null,
      responseMessages: protocol === 'grpc' ? counter('response_messages_total') : null,
    };
  }

  // ---- TCP -------------------------------------------------------------------------------------

  /**
   * A proxied connection has its upstream (or failed to get one): counts it opened and returns
   * the cells its bytes go to. `hostMetadata` is the chosen endpoint's (outbound peers).
   */
  openTcp(info: StreamInfo, remoteIp: string | undefined, clusters: ClusterMetadataLookup, hostMetadata: FilterMetadata | null): TcpConnectionStats {
    const dims = this.dimsFor(info, remoteIp, clusters, hostMetadata);
    const series = this.tcpSeries(dims, '-', info);
    if (series.opened) series.opened.value++;
    return { series, dims };
  }

  /** The connection closed: counted under its final response flags. */
  closeTcp(c: TcpConnectionStats, info: StreamInfo): void {
    const flags = info.responseFlags.length === 0 ? '-' : info.responseFlags.join(',');
    const s = flags === '-' ? c.series : this.tcpSeries(c.dims, flags, info);
    if (s.closed) s.closed.value++;
  }

  private tcpSeries(dims: Dims, flags: string, info: StreamInfo): TcpSeries {
    const dyn = this.cfg.dynamic ? this.dynamicValues(info) : null;
    const key = dyn ? `${flags}\u0001${dyn.join('\u0001')}` : flags;
    let s = dims.tcp.get(key);
    if (!s) {
      const labels: (readonly [string, string])[] = [...dims.base, ['request_protocol', 'tcp'], ['response_flags', flags], ['connection_security_policy', dims.security]];
      s = {
        opened: this.cell('counter', 'tcp_connections_opened_total', labels, info),
        closed: this.cell('counter', 'tcp_connections_closed_total', labels, info),
        sent: this.cell('counter', 'tcp_sent_bytes_total', labels, info),
        received: this.cell('counter', 'tcp_received_bytes_total', labels, info),
      };
      dims.tcp.set(key, s);
    }
    return s;
  }

  // ---- labels ----------------------------------------------------------------------------------

  private dimsFor(info: StreamInfo, remoteIp: string | undefined, clusters: ClusterMetadataLookup, hostMetadata: FilterMetadata | null): Dims {
    const cfg = this.cfg;
    let peer: WorkloadLabels;
    let svc: ServiceLabels;
    let mtls: boolean;
    if (cfg.reporter === 'destination') {
      const principal = info.peerCertificate?.uriSans[0];
      mtls = info.peerCertificate !== null;
      peer = (info.downstreamPeerMetadata !== '' ? this.exchangedPeer(info.downstreamPeerMetadata, principal) : null) ?? this.inboundPeer(remoteIp, principal);
      svc = cfg.service ?? UNKNOWN_SERVICE;
    } else {
      peer = this.outboundPeer(hostMetadata);
      // The endpoint carries a principal only where this proxy reaches it over mTLS.
      mtls = peer.principal !== UNKNOWN;
      svc = this.serviceOfCluster(info.upstreamCluster, clusters);
    }
    let bySvc = this.byPeer.get(peer);
    if (!bySvc) this.byPeer.set(peer, (bySvc = new Map()));
    let pair = bySvc.get(svc);
    if (!pair) bySvc.set(svc, (pair = [undefined, undefined]));
    const i = mtls ? 1 : 0;
    let d = pair[i];
    if (!d) {
      const local = mtls ? this.localMtls : this.localPlain;
      const base = cfg.reporter === 'destination' ? peerLabelPairs('destination', peer, local, svc) : peerLabelPairs('source', local, peer, svc);
      // Istio: the destination reports mutual_tls or none; the source cannot tell (unknown).
      d = pair[i] = new Dims(base, cfg.reporter === 'destination' ? (mtls ? 'mutual_tls' : 'none') : UNKNOWN);
    }
    return d;
  }

  private inboundPeer(remoteIp: string | undefined, principal: string | undefined): WorkloadLabels {
    const ip = remoteIp?.startsWith('::ffff:') ? remoteIp.slice(7) : remoteIp;
    const known = ip !== undefined ? this.ipPeers.get(ip) : undefined;
    if (known) {
      if (principal === undefined) return known.plain;
      if (principal === known.mtls.principal) return known.mtls;
    }
    if (principal === undefined) return UNKNOWN_WORKLOAD;
    // The certificate names the caller: its workload if that principal is one workload's.
    let p = this.cfg.peersByPrincipal.get(principal) ?? this.principalPeers.get(principal);
    if (!p) {
      const ns = namespaceOfPrincipal(principal) ?? UNKNOWN;
      p = { ...UNKNOWN_WORKLOAD, namespace: ns, principal };
      // Principals are bounded by the mesh's service accounts; cap anyway against forged names.
      if (this.principalPeers.size < 1000) this.principalPeers.set(principal, p);
      else p = UNKNOWN_WORKLOAD;
    }
    return p;
  }

  /**
   * The caller its `x-envoy-peer-metadata` names, with the principal of its certificate; null
   * (look the caller up by address) when the value is invalid, names a namespace other than its
   * principal's, or is one too many distinct values.
   */
  private exchangedPeer(value: string, principal: string | undefined): WorkloadLabels | null {
    let e = this.exchangedPeers.get(value);
    if (!e) {
      if (this.exchangedPeers.size >= MAX_EXCHANGED_PEERS) return null;
      this.exchangedPeers.set(value, (e = { base: decodePeerMetadata(value), byPrincipal: new Map() }));
    }
    if (!e.base) return null;
    if (principal === undefined) return e.base;
    let p = e.byPrincipal.get(principal);
    if (!p) {
      if (namespaceOfPrincipal(principal) !== e.base.namespace || e.byPrincipal.size >= 16) return null;
      e.byPrincipal.set(principal, (p = { ...e.base, principal }));
    }
    return p;
  }

  private outboundPeer(md: FilterMetadata | null): WorkloadLabels {
    if (!md) return UNKNOWN_WORKLOAD;
    let p = this.hostPeers.get(md);
    if (!p) this.hostPeers.set(md, (p = peerFromMetadata(md.istio, md.strait)));
    return p;
  }

  /** destination_service* of an outbound cluster, from its `istio.services` metadata. */
  private serviceOfCluster(name: string, clusters: ClusterMetadataLookup): ServiceLabels {
    if (!name) return UNKNOWN_SERVICE;
    const c = clusters.get(name);
    const cached = this.clusterServices.get(name);
    if (cached && c && cached.ref === c) return cached.svc;
    const s = (c?.resource.metadata?.filterMetadata?.istio?.services as { host?: string; name?: string; namespace?: string }[] | undefined)?.[0];
    // PassthroughCluster, BlackHoleCluster: Istio names the cluster as the service name.
    const svc: ServiceLabels = s ? { host: s.host || UNKNOWN, name: s.name || UNKNOWN, namespace: s.namespace || UNKNOWN } : { ...UNKNOWN_SERVICE, name: c ? name : UNKNOWN };
    if (c) this.clusterServices.set(name, { ref: c, svc });
    return svc;
  }

  /** Values of the request-derived dimensions, in a fixed order (only when some exist). */
  private dynamicValues(info: StreamInfo): string[] {
    const out: string[] = [];
    for (const [name, m] of this.cfg.metrics) {
      for (const [tag, e] of m.dimensions) if (e.constant === undefined) out.push(this.bounded(`${name}/${tag}`, e.value(info), e.fromRequest));
    }
    return out;
  }

  private bounded(key: string, v: string, fromRequest: boolean): string {
    if (!fromRequest) return v;
    let seen = this.distinct.get(key);
    if (!seen) this.distinct.set(key, (seen = new Set()));
    if (seen.has(v)) return v;
    if (seen.size >= MAX_DISTINCT) return 'other';
    seen.add(v);
    return v;
  }

  /** One series of metric `m` with the Telemetry overrides applied; null when the metric is dropped. */
  private cell(kind: 'counter', m: MetricName, labels: readonly (readonly [string, string])[], info: StreamInfo): Counter | null;
  private cell(kind: 'histogram', m: MetricName, labels: readonly (readonly [string, string])[], info: StreamInfo): Histogram | null;
  private cell(kind: 'counter' | 'histogram', m: MetricName, labels: readonly (readonly [string, string])[], info: StreamInfo): Counter | Histogram | null {
    const o = this.cfg.metrics.get(m);
    if (o?.drop) return null;
    const out: Record<string, string> = {};
    for (const [k, v] of labels) if (!o?.remove.has(k)) out[k] = v;
    for (const [k, e] of o?.dimensions ?? []) out[k] = e.constant ?? this.bounded(`${m}/${k}`, e.value(info), e.fromRequest);
    const family = `istio_${m}`;
    return kind === 'counter' ? this.registry.labelled('counter', family, out, HELP[m]) : this.registry.labelled('histogram', family, out, HELP[m], BUCKETS);
  }
}

/** The namespace a `…/ns/<ns>/sa/<sa>` principal names, if it has that form. */
function namespaceOfPrincipal(principal: string): string | undefined {
  return /\/ns\/([^/]+)\/sa\//.exec(principal)?.[1];
}

function grpcStatusOf(info: StreamInfo): string {
  if (info.grpcStatus !== '') return info.grpcStatus;
  const h = info.responseHeaders?.['grpc-status'];
  return typeof h === 'string' ? h : typeof h === 'number' ? String(h) : '';
}

const recorders = new WeakMap<StatsRegistry, Map<string, IstioMetrics>>();

/**
 * The recorder for a config on a proxy's registry: identical configs (every chain of a listener,
 * a re-sent listener) share one, so its label cache survives config pushes.
 */
export function istioMetricsFor(cfg: CompiledStatsConfig, registry: StatsRegistry): IstioMetrics {
  let byKey = recorders.get(registry);
  if (!byKey) recorders.set(registry, (byKey = new Map()));
  let r = byKey.get(cfg.key);
  if (!r) {
    // Old configs' recorders go once many accumulated (their series stay in the registry).
    if (byKey.size >= 256) byKey.delete(byKey.keys().next().value as string);
    byKey.set(cfg.key, (r = new IstioMetrics(cfg, registry)));
  }
  return r;
}
