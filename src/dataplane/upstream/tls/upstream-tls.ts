// A cluster's UpstreamTlsContext (Envoy's transport socket `envoy.transport_sockets.tls`),
// compiled once into what every upstream connection of the cluster uses: a shared SecureContext
// (trusted CA or the bundled roots, client certificate for MUTUAL), SNI, ALPN, and the server
// check (chain verification unless ACCEPT_UNTRUSTED; SAN matchers when given — without them
// Envoy checks only the chain, never the hostname). Certificates come inline or from SDS
// secrets; until a referenced secret arrives the cluster exists but its connections fail.

import { createHash } from 'node:crypto';
import type tls from 'node:tls';
import { UPSTREAM_TLS_TYPE } from '../../../xds/resources.js';
import type { Cluster as ClusterResource, DataSource, Secret } from '../../../xds/resources.js';
import { ConfigError } from '../../config/durations.js';
import { tlsOptions } from '../../tls/tls-context.js';
import { compileSanMatchers, parseSubjectAltNames } from './san-matcher.js';
import { SecureContextCache } from './secure-context-cache.js';

export interface UpstreamTls {
  /** null while an SDS secret is missing (`missingSecret` names it). */
  readonly secureContext: tls.SecureContext | null;
  readonly missingSecret: string | null;
  readonly servername: string | undefined;
  readonly alpn: readonly string[];
  readonly rejectUnauthorized: boolean;
  readonly checkServerIdentity: (hostname: string, cert: tls.PeerCertificate) => Error | undefined;
  /** Digest of everything above: connections of different identities never share a pool. */
  readonly identity: string;
  /** The SecureContextCache key of `secureContext`, or null without one. */
  readonly contextKey: string | null;
}

const acceptAnyName = (): undefined => undefined;

export function compileUpstreamTls(
  cluster: string,
  ts: ClusterResource['transportSocket'],
  http2: boolean,
  secrets: ReadonlyMap<string, Secret>,
  cache: SecureContextCache,
): UpstreamTls | null {
  if (!ts) return null;
  const where = `cluster ${cluster} transportSocket`;
  const ctx = ts.typedConfig;
  if (ctx?.['@type'] !== UPSTREAM_TLS_TYPE) throw new ConfigError(`${where}: transport socket ${String(ctx?.['@type'])} is not supported (UpstreamTlsContext is)`);
  const common = ctx.commonTlsContext ?? {};
  const options = tlsOptions(where, common);
  let missingSecret: string | null = null;

  // Client certificate (MUTUAL): inline, or one SDS secret.
  const inlineCerts = common.tlsCertificates ?? [];
  const sdsCerts = common.tlsCertificateSdsSecretConfigs ?? [];
  if (inlineCerts.length + sdsCerts.length > 1) throw new ConfigError(`${where}: at most one client certificate is supported`);
  let cert: string | undefined;
  let key: string | undefined;
  if (inlineCerts[0]) {
    cert = inline(inlineCerts[0].certificateChain, `${where} certificateChain`);
    key = inline(inlineCerts[0].privateKey, `${where} privateKey`);
  } else if (sdsCerts[0]) {
    const s = secrets.get(sdsCerts[0].name)?.tlsCertificate;
    if (s) {
      cert = inline(s.certificateChain, `${where} secret ${sdsCerts[0].name} certificateChain`);
      key = inline(s.privateKey, `${where} secret ${sdsCerts[0].name} privateKey`);
    } else {
      missingSecret = sdsCerts[0].name;
    }
  }

  // Server verification.
  const vc = common.validationContext;
  let ca: string | undefined;
  if (vc?.trustedCa) ca = inline(vc.trustedCa, `${where} trustedCa`);
  const vcSds = common.validationContextSdsSecretConfig;
  if (vcSds) {
    if (ca !== undefined) throw new ConfigError(`${where}: validationContext and validationContextSdsSecretConfig are exclusive`);
    const s = secrets.get(vcSds.name)?.validationContext?.trustedCa;
    if (s) ca = inline(s, `${where} secret ${vcSds.name} trustedCa`);
    else missingSecret ??= vcSds.name;
  }
  const verify = vc?.trustChainVerification !== 'ACCEPT_UNTRUSTED';
  const sanMatchers = vc?.matchSubjectAltNames ?? [];
  const sanMatch = sanMatchers.length ? compileSanMatchers(`${where}.validationContext`, sanMatchers) : null;
  const checkServerIdentity = sanMatch
    ? (_host: string, peer: tls.PeerCertificate): Error | undefined => {
        if (sanMatch(parseSubjectAltNames(peer.subjectaltname))) return undefined;
        return Object.assign(new Error(`upstream certificate SANs (${peer.subjectaltname ?? 'none'}) match none of matchSubjectAltNames`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      }
    : acceptAnyName;

  const alpn = common.alpnProtocols?.length ? [...common.alpnProtocols] : http2 ? ['h2'] : ['http/1.1'];
  if (http2 && !alpn.includes('h2')) throw new ConfigError(`${where}: the cluster speaks HTTP/2 but alpnProtocols (${alpn.join(', ')}) lacks h2`);
  const spec = { ca, cert, key, options };
  const secureContext = missingSecret === null ? cache.get(where, spec) : null;
  const contextKey = missingSecret === null ? SecureContextCache.keyOf(spec) : null;
  const servername = ctx.sni || undefined;
  const identity = createHash('sha256')
    .update(JSON.stringify([missingSecret, servername, alpn, verify, sanMatchers, contextKey]))
    .digest('hex');
  return { secureContext, missingSecret, servername, alpn, rejectUnauthorized: verify, checkServerIdentity, identity, contextKey };
}

function inline(ds: DataSource | undefined, where: string): string {
  if (ds?.inlineString) return ds.inlineString;
  throw new ConfigError(`${where}: must be given inline or over SDS (files are not read)`);
}

/** SDS secret names a cluster's TLS context refers to (for subscriptions and change detection). */
export function clusterSecretNames(r: ClusterResource): string[] {
  const names: string[] = [];
  for (const ts of [r.transportSocket, ...(r.transportSocketMatches ?? []).map((m) => m.transportSocket)]) {
    const common = ts?.typedConfig?.commonTlsContext;
    if (!common) continue;
    names.push(...(common.tlsCertificateSdsSecretConfigs ?? []).map((s) => s.name));
    if (common.validationContextSdsSecretConfig) names.push(common.validationContextSdsSecretConfig.name);
  }
  return [...new Set(names)];
}
