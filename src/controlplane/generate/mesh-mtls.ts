// Mutual TLS between proxies of the mesh, as Istio configures it (PA-01..04, DR-09, §2.11):
//
// - Server side: the effective PeerAuthentication mode of a workload port (workload policy, else
//   namespace policy, else the mesh policy in the root namespace; UNSET inherits; PERMISSIVE when
//   nothing sets one) decides the inbound filter chains: STRICT accepts only mTLS, PERMISSIVE
//   both mTLS and plaintext on the same port (told apart by the TLS inspector), DISABLE only
//   plaintext. The mTLS chain serves the proxy's workload certificate (SDS secret `default`) and
//   requires a client certificate from the mesh CA (`ROOTCA`).
// - Client side (auto mTLS): with no DestinationRule TLS setting, endpoints whose workload has a
//   sidecar and does not DISABLE mTLS on that port are labelled `tlsMode: istio`, and the
//   cluster's transport socket match sends them mTLS while other endpoints get plaintext.
//   ISTIO_MUTUAL forces mTLS for every endpoint, DISABLE forces plaintext. The client checks the
//   server's SPIFFE identity against the service accounts of the service's workloads (secure
//   naming), so a certificate from the mesh CA for another workload is refused.

import type { MutualTLSMode, PeerAuthenticationResource } from '../../config/types.js';
import { selects } from '../../registry/registry.js';
import type { MeshService, Workload } from '../../registry/registry.js';
import { DOWNSTREAM_TLS_TYPE, TLS_TRANSPORT_SOCKET, UPSTREAM_TLS_TYPE } from '../../xds/resources.js';
import type { Cluster, FilterChain, LbEndpoint, SdsSecretConfig, TransportSocket } from '../../xds/resources.js';
import type { Endpoint, MeshSnapshot } from '../model/mesh-snapshot.js';

/** Istio's SDS names: the workload's certificate and the mesh trust bundle. */
export const WORKLOAD_CERT_SECRET = 'default';
export const ROOT_CA_SECRET = 'ROOTCA';

export type EffectiveMtls = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export const TLS_MODE_METADATA = 'envoy.transport_socket_match';

function sds(name: string): SdsSecretConfig {
  return { name, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } };
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The PeerAuthentication mode for `port` (a workload port) of workload `w`: the most specific
 * scope that sets one (PA-02), the workload policy's portLevelMtls first (PA-03).
 */
export function peerAuthenticationMode(snapshot: MeshSnapshot, w: Pick<Workload, 'namespace' | 'labels'>, port: number | undefined): EffectiveMtls {
  const all = snapshot.store.list('PeerAuthentication');
  if (all.length === 0) return 'PERMISSIVE';
  const root = snapshot.rootNamespace;
  const first = (f: (p: PeerAuthenticationResource) => boolean) => all.find(f);
  const workload = w.namespace === root ? undefined : first((p) => p.metadata.namespace === w.namespace && p.spec.selector !== undefined && selects(p.spec.selector.matchLabels, w.labels));
  const namespace = first((p) => p.metadata.namespace === w.namespace && p.spec.selector === undefined);
  const mesh = first((p) => p.metadata.namespace === root && p.spec.selector === undefined);
  const inherited = (): MutualTLSMode => {
    for (const p of [namespace, mesh]) if (p && p.spec.mtls.mode !== 'UNSET') return p.spec.mtls.mode;
    return 'UNSET';
  };
  let mode: MutualTLSMode = workload && workload.spec.mtls.mode !== 'UNSET' ? workload.spec.mtls.mode : inherited();
  const pl = workload && port !== undefined ? workload.spec.portLevelMtls.find((x) => x.port === port) : undefined;
  if (pl && pl.mode !== 'UNSET') mode = pl.mode;
  return mode === 'UNSET' ? 'PERMISSIVE' : mode;
}

/** The server side of mesh mTLS: the workload certificate, a client certificate from the mesh CA required. */
export function meshServerTransportSocket(): TransportSocket {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typedConfig: {
      '@type': DOWNSTREAM_TLS_TYPE,
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [sds(WORKLOAD_CERT_SECRET)],
        validationContextSdsSecretConfig: sds(ROOT_CA_SECRET),
        tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
      },
      requireClientCertificate: true,
    },
  } as TransportSocket;
}

/**
 * An inbound port's filter chains for its mode: `build(mtls)` makes the chain (HTTP or TCP)
 * with or without mTLS; the TLS inspector picks by the first bytes.
 */
export function inboundChains(mode: EffectiveMtls, build: (mtls: boolean) => FilterChain): FilterChain[] {
  const tls = (): FilterChain => ({ ...build(true), name: 'mtls', filterChainMatch: { transportProtocol: 'tls' }, transportSocket: meshServerTransportSocket() });
  const plain = (match: boolean): FilterChain => ({ ...build(false), name: 'plaintext', ...(match ? { filterChainMatch: { transportProtocol: 'raw_buffer' } } : {}) });
  if (mode === 'STRICT') return [tls()];
  if (mode === 'DISABLE') return [plain(false)];
  return [tls(), plain(true)];
}

/**
 * The SNI Istio's clients send over mesh mTLS (BuildDNSSrvSubsetKey): the cluster name
 * `outbound|8000|v1|host` as `outbound_.8000_.v1_.host` (`outbound_.8000_._.host` without a
 * subset). Servers log it as %REQUESTED_SERVER_NAME% (TASK-17).
 */
export function meshSni(clusterName: string): string | undefined {
  const parts = clusterName.split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound') return undefined;
  const [direction, port, subset, host] = parts as [string, string, string, string];
  return `${direction}_.${port}_.${subset}_.${host}`;
}

/** The client side of mesh mTLS to a destination whose workloads run as `sans`. */
export function meshClientTransportSocket(sans: readonly string[], http2: boolean, sni?: string): NonNullable<Cluster['transportSocket']> {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typedConfig: {
      '@type': UPSTREAM_TLS_TYPE,
      ...(sni ? { sni } : {}),
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [sds(WORKLOAD_CERT_SECRET)],
        validationContextSdsSecretConfig: sds(ROOT_CA_SECRET),
        validationContext: { matchSubjectAltNames: sans.map((s) => ({ exact: s })) },
        tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
        ...(http2 ? { alpnProtocols: ['h2'] } : {}),
      },
    },
  } as NonNullable<Cluster['transportSocket']>;
}

/** Secure naming: the SPIFFE ids the service's workloads run as (and a ServiceEntry's SANs). */
export function expectedIdentities(snapshot: MeshSnapshot, service: MeshService, endpoints: readonly Endpoint[]): string[] {
  const td = snapshot.meshConfig.trustDomain;
  const out = new Set<string>(service.subjectAltNames ?? []);
  for (const e of endpoints) if (e.workload?.hasSidecar) out.add(spiffeId(td, e.workload.namespace, e.workload.serviceAccount));
  return [...out].sort();
}

/**
 * Whether the endpoint takes mesh mTLS (Istio's `tlsMode: istio` label): its workload has a
 * sidecar, which does not DISABLE mTLS on the endpoint's port.
 */
export function endpointSpeaksMtls(snapshot: MeshSnapshot, e: Endpoint): boolean {
  const w = e.workload;
  return w !== undefined && w.hasSidecar && peerAuthenticationMode(snapshot, w, e.port) !== 'DISABLE';
}

/** The endpoint's transport socket match label, for clusters with auto mTLS. */
export function withTlsMode(lb: LbEndpoint, istio: boolean): LbEndpoint {
  if (!istio) return lb;
  const filterMetadata = { ...(lb.metadata?.filterMetadata ?? {}), [TLS_MODE_METADATA]: { tlsMode: 'istio' } };
  return { ...lb, metadata: { ...lb.metadata, filterMetadata } };
}

/**
 * The cluster's mesh TLS when its DestinationRule does not set one (auto mTLS), or sets
 * ISTIO_MUTUAL: transport socket matches (per endpoint) or one transport socket.
 */
export function applyMeshMtls(c: Cluster, mode: 'AUTO' | 'ISTIO_MUTUAL', sans: readonly string[], http2: boolean): void {
  const ts = meshClientTransportSocket(sans, http2, meshSni(c.name));
  if (mode === 'ISTIO_MUTUAL') {
    c.transportSocket = ts;
    return;
  }
  c.transportSocketMatches = [
    { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transportSocket: ts },
    { name: 'tlsMode-disabled', match: {} },
  ];
}
