// TLS origination to an upstream (DR-09), after Istio's pilot/pkg/networking/core/cluster_tls.go:
// a DestinationRule tls block of mode SIMPLE or MUTUAL becomes the cluster's UpstreamTlsContext.
//
//   sni          the rule's sni, else the destination host (Istio's auto_sni sends the request's
//                Host, which for a routed host is that host; a wildcard host gets none);
//   SANs         the rule's subjectAltNames (exact), else the ServiceEntry's, else — without an
//                explicit sni — the host itself (Istio's auto_san_validation checks the server
//                certificate against the SNI it sent);
//   trust        the CA of the credentialName Secret (`ca.crt` or `cacert`, or the `<name>-cacert`
//                Secret) inline, else the system roots; insecureSkipVerify accepts any chain;
//   client cert  MUTUAL: `tls.crt`/`tls.key` (or `cert`/`key`) of the credentialName Secret, inline.
//
// Strait's proxies receive SDS secrets for listeners only so far, so certificates travel inline.
// When the Secret (or a key in it) is missing, the context refers to it over SDS by Istio's name
// (`kubernetes://<name>`, `kubernetes://<name>-cacert`) instead: the proxy keeps the cluster but
// its connections fail until the secret exists — closed, never plaintext, as in Istio.
// ISTIO_MUTUAL (mesh mTLS with the workload certificate) is not this module's: clusters.ts writes
// it with mesh-mtls.ts when the control plane runs the mesh CA; here it originates nothing.
// The Secret is looked up in the proxy's namespace, where Istio's proxies read credentials.

import type { ClientTLSSettings, SecretResource } from '../../config/types.js';
import { TLS_TRANSPORT_SOCKET, UPSTREAM_TLS_TYPE } from '../../xds/resources.js';
import type { Cluster, SdsSecretConfig, StringMatcher, UpstreamTlsContext } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';

export interface UpstreamTlsTarget {
  /** The destination host (the service's hostname; may be a wildcard). */
  readonly host: string;
  /** The ServiceEntry's subjectAltNames, used when the rule names none. */
  readonly serviceSans: readonly string[];
  /** The cluster speaks HTTP/2: ALPN offers h2 only (Istio's ALPNH2Only). */
  readonly http2: boolean;
}

function text(secret: SecretResource | undefined, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = secret?.data[k];
    if (v && v.length > 0) return v.toString('utf8');
  }
  return undefined;
}

function sds(name: string): SdsSecretConfig {
  return { name, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } };
}

/** The transport socket for a cluster's SIMPLE/MUTUAL TLS settings; undefined otherwise (DISABLE, and ISTIO_MUTUAL, which mesh-mtls.ts writes). */
export function upstreamTransportSocket(snapshot: MeshSnapshot, proxy: ProxyNode, tls: ClientTLSSettings | undefined, target: UpstreamTlsTarget): Cluster['transportSocket'] {
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return undefined;
  const wildcard = target.host.includes('*');
  const sni = tls.sni ?? (wildcard ? undefined : target.host);
  const common: NonNullable<UpstreamTlsContext['commonTlsContext']> = {};

  const secretName = tls.credentialName;
  const secret = secretName ? snapshot.store.get('Secret', proxy.namespace, secretName) : undefined;
  if (tls.mode === 'MUTUAL' && secretName) {
    const cert = text(secret, 'tls.crt', 'cert');
    const key = text(secret, 'tls.key', 'key');
    if (cert !== undefined && key !== undefined) common.tlsCertificates = [{ certificateChain: { inlineString: cert }, privateKey: { inlineString: key } }];
    else common.tlsCertificateSdsSecretConfigs = [sds(`kubernetes://${secretName}`)];
  }

  if (tls.insecureSkipVerify) {
    common.validationContext = { trustChainVerification: 'ACCEPT_UNTRUSTED' };
  } else {
    const sans = tls.subjectAltNames.length ? tls.subjectAltNames : target.serviceSans.length ? target.serviceSans : tls.sni === undefined && !wildcard ? [target.host] : [];
    const matchSubjectAltNames: StringMatcher[] = sans.map((exact) => ({ exact }));
    if (secretName) {
      const ca = text(secret, 'ca.crt', 'cacert') ?? text(snapshot.store.get('Secret', proxy.namespace, `${secretName}-cacert`), 'ca.crt', 'cacert');
      if (ca !== undefined) common.validationContext = { trustedCa: { inlineString: ca }, ...(sans.length ? { matchSubjectAltNames } : {}) };
      // Istio always validates a credentialName's server against `<name>-cacert`: without a CA,
      // fail closed (validationContext and its SDS form are one of a kind in Envoy).
      else common.validationContextSdsSecretConfig = sds(`kubernetes://${secretName}-cacert`);
    } else if (sans.length) {
      // No CA given: the system roots (Istio's CaCertificates "system").
      common.validationContext = { matchSubjectAltNames };
    }
  }
  if (target.http2) common.alpnProtocols = ['h2'];

  const ctx: UpstreamTlsContext = { '@type': UPSTREAM_TLS_TYPE, ...(sni !== undefined ? { sni } : {}), commonTlsContext: common };
  return { name: TLS_TRANSPORT_SOCKET, typedConfig: ctx };
}
