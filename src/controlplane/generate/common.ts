// Building blocks shared by the generators: the HTTP connection manager every listener carries
// (its access logs come from telemetry/access-log.ts), the TCP proxy, and small helpers for
// socket addresses.

import type { PathNormalizationType } from '../../config/types.js';
import { CORS_FILTER, CORS_TYPE, FAULT_FILTER, FAULT_TYPE } from './http-routes.js';
import { DOWNSTREAM_TLS_TYPE, HCM_FILTER_NAME, HCM_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE, TCP_PROXY_FILTER_NAME, TCP_PROXY_TYPE, TLS_TRANSPORT_SOCKET } from '../../xds/resources.js';
import type { AccessLog, Address, FilterChain, HcmTracing, HttpConnectionManager, HttpFilter, RouteConfiguration, TcpProxy, TransportSocket } from '../../xds/resources.js';

export function socketAddress(address: string, port: number): Address {
  return { socketAddress: { address, portValue: port } };
}

export interface HcmOptions {
  statPrefix: string;
  rds?: string;
  routeConfig?: RouteConfiguration;
  useRemoteAddress: boolean;
  /** Gateways: ProxyConfig gatewayTopology.numTrustedProxies (xff_num_trusted_hops). */
  xffNumTrustedHops?: number;
  serverName?: string;
  serverHeaderTransformation?: HttpConnectionManager['serverHeaderTransformation'];
  /** Accept CONNECT tunnels (a sidecar's outbound listener, for HTTP_PROXY clients). */
  connect?: boolean;
  /**
   * Authentication and authorization filters (security/security-filters.ts), which run before
   * the others, as in Istio: inbound and gateway listeners only.
   */
  securityFilters?: readonly HttpFilter[];
  /**
   * X-Forwarded-Client-Cert: sidecar inbound APPEND_FORWARD, gateways SANITIZE_SET (Istio's
   * settings), both with the caller's subject, URI and DNS SANs; absent: Envoy's SANITIZE.
   */
  forwardClientCert?: 'APPEND_FORWARD' | 'SANITIZE_SET';
  /** MeshConfig pathNormalization.normalization; every HTTP listener carries it (Istio). */
  pathNormalization: PathNormalizationType;
  /** Istio's standard metrics (telemetry/stats-filter.ts), last before the router as in Istio. */
  statsFilter?: HttpFilter;
  /** Distributed tracing (tracing.ts); absent: tracing off. */
  tracing?: HcmTracing;
  /** Access logs (telemetry/access-log.ts: Telemetry, else MeshConfig accessLogFile); [] = none. */
  accessLog: readonly AccessLog[];
}

/** An HTTP filter chain as Istio builds it: security filters, CORS, fault injection, then the router. */
export function httpFilterChain(o: HcmOptions): FilterChain {
  return { filters: [{ name: HCM_FILTER_NAME, typedConfig: hcm(o) as unknown as FilterChain['filters'][number]['typedConfig'] }] };
}

export function hcm(o: HcmOptions): HttpConnectionManager {
  const h: HttpConnectionManager = {
    '@type': HCM_TYPE,
    statPrefix: o.statPrefix,
    httpFilters: [
      ...(o.securityFilters ?? []),
      { name: CORS_FILTER, typedConfig: { '@type': CORS_TYPE } },
      { name: FAULT_FILTER, typedConfig: { '@type': FAULT_TYPE } },
      ...(o.statsFilter ? [o.statsFilter] : []),
      { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } },
    ],
    useRemoteAddress: o.useRemoteAddress,
    // Istio lets WebSocket upgrades through every HTTP listener.
    upgradeConfigs: [{ upgradeType: 'websocket' }, ...(o.connect ? [{ upgradeType: 'CONNECT' }] : [])],
  };
  if (o.accessLog.length > 0) h.accessLog = [...o.accessLog];
  Object.assign(h, pathNormalizationFields(o.pathNormalization));
  if (o.rds) h.rds = { routeConfigName: o.rds, configSource: { ads: {}, resourceApiVersion: 'V3' } };
  if (o.routeConfig) h.routeConfig = o.routeConfig;
  if (o.xffNumTrustedHops) h.xffNumTrustedHops = o.xffNumTrustedHops;
  if (o.serverName) h.serverName = o.serverName;
  if (o.serverHeaderTransformation) h.serverHeaderTransformation = o.serverHeaderTransformation;
  if (o.tracing) h.tracing = o.tracing;
  if (o.forwardClientCert) {
    h.forwardClientCertDetails = o.forwardClientCert;
    h.setCurrentClientCertDetails = { subject: true, dns: true, uri: true };
  }
  return h;
}

/**
 * The HCM fields of a MeshConfig pathNormalization, as Istio's buildHTTPConnectionManager sets
 * them: normalize_path on unless NONE, merge_slashes for MERGE_SLASHES and
 * DECODE_AND_MERGE_SLASHES, escaped slashes decoded and forwarded for DECODE_AND_MERGE_SLASHES,
 * kept otherwise. DEFAULT is BASE.
 */
export function pathNormalizationFields(n: PathNormalizationType): Pick<HttpConnectionManager, 'normalizePath' | 'mergeSlashes' | 'pathWithEscapedSlashesAction'> {
  const merge = n === 'MERGE_SLASHES' || n === 'DECODE_AND_MERGE_SLASHES';
  return {
    normalizePath: n !== 'NONE',
    ...(merge ? { mergeSlashes: true } : {}),
    pathWithEscapedSlashesAction: n === 'DECODE_AND_MERGE_SLASHES' ? 'UNESCAPE_AND_FORWARD' : 'KEEP_UNCHANGED',
  };
}

/**
 * Server TLS with one certificate from SDS; ALPN offers HTTP/2 and HTTP/1.1. With a client CA
 * (`caSecret`), client certificates are requested and verified: required for MUTUAL, checked
 * when presented otherwise (OPTIONAL_MUTUAL).
 */
export function tlsTransportSocket(sdsSecret: string, caSecret?: string, requireClientCertificate = false): TransportSocket {
  const ctx: TransportSocket['typedConfig'] = {
    '@type': DOWNSTREAM_TLS_TYPE,
    commonTlsContext: {
      tlsCertificateSdsSecretConfigs: [{ name: sdsSecret, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } }],
      alpnProtocols: ['h2', 'http/1.1'],
      tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
      ...(caSecret ? { validationContextSdsSecretConfig: { name: caSecret, sdsConfig: { ads: {}, resourceApiVersion: 'V3' as const } } } : {}),
    },
  };
  if (requireClientCertificate) ctx.requireClientCertificate = true;
  return { name: TLS_TRANSPORT_SOCKET, typedConfig: ctx };
}

/** Envoy's tcp_proxy network filter over (weighted) clusters, with the listener's access logs ([] = none). */
export function tcpProxyFilter(statPrefix: string, targets: readonly { name: string; weight: number }[], accessLog: readonly AccessLog[]): FilterChain['filters'][number] {
  const tcp: TcpProxy = { '@type': TCP_PROXY_TYPE, statPrefix };
  if (accessLog.length > 0) tcp.accessLog = [...accessLog];
  if (targets.length === 1) tcp.cluster = targets[0]!.name;
  else tcp.weightedClusters = { clusters: targets.map((t) => ({ name: t.name, weight: t.weight })) };
  return { name: TCP_PROXY_FILTER_NAME, typedConfig: tcp as unknown as FilterChain['filters'][number]['typedConfig'] };
}

