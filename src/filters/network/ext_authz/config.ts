// The network ext_authz filter's config (envoy.extensions.filters.network.ext_authz.v3.ExtAuthz),
// parsed from proto3 JSON and compiled once. This is what Istio's CUSTOM action writes on TCP
// chains for an `envoyExtAuthzGrpc` provider (src/controlplane/generate/security/ext-authz.ts):
// stat_prefix `tcp.`, grpc_service {envoy_grpc {cluster_name, authority}, timeout},
// failure_mode_allow, transport_api_version V3, and filter_enabled_metadata matching the CUSTOM
// network RBAC filter's shadow rule. The gRPC service and the CheckRequest are the HTTP filter's
// (src/filters/http/ext_authz/grpc-service.ts, grpc-check.ts).

import type { NetworkFilter, NetworkFilterFactory, NetworkFilterFactoryContext } from '../api.js';
import { ConfigError } from '../api.js';
import { checkFields, checkType, list, object, optBool, optString } from '../../http/rbac/proto-json.js';
import { compileMetadataMatcher } from '../../http/rbac/value-matcher.js';
import type { MetadataPredicate } from '../../http/rbac/value-matcher.js';
import { checkTypes } from '../../http/ext_authz/grpc-check.js';
import type { CheckSettings } from '../../http/ext_authz/grpc-check.js';
import { compileGrpcService } from '../../http/ext_authz/grpc-service.js';
import type { CompiledGrpcService } from '../../http/ext_authz/grpc-service.js';
import { NETWORK_EXT_AUTHZ_FILTER_NAME, NetworkExtAuthzFilter } from './ext-authz-filter.js';
import { networkExtAuthzStats } from './stats.js';

export { NETWORK_EXT_AUTHZ_FILTER_NAME };
export const NETWORK_EXT_AUTHZ_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz';

export interface CompiledNetworkExtAuthz extends CheckSettings {
  readonly statPrefix: string;
  readonly service: CompiledGrpcService;
  readonly failureModeAllow: boolean;
  /** null: always enabled. */
  readonly enabled: MetadataPredicate | null;
}

const FIELDS = ['statPrefix', 'grpcService', 'failureModeAllow', 'includePeerCertificate', 'transportApiVersion', 'filterEnabledMetadata', 'includeTlsSession', 'metadataContextNamespaces'];
const UNSUPPORTED = {
  bootstrapMetadataLabelsKey: 'destination labels from bootstrap metadata are not supported',
  sendTlsAlertOnDenial: 'a TLS alert on denial is not supported (the connection is closed)',
  typedMetadataContextNamespaces: 'typed metadata context is not supported (metadata_context_namespaces is)',
};

/** Parses a network ExtAuthz message. Throws ConfigError. */
export function compileNetworkExtAuthzConfig(config: Readonly<Record<string, unknown>>, at = 'network ExtAuthz'): CompiledNetworkExtAuthz {
  const o = object(config, at);
  checkType(o, at, NETWORK_EXT_AUTHZ_TYPE_URL);
  checkFields(o, at, 'ExtAuthz', FIELDS, UNSUPPORTED);
  const statPrefix = optString(o.statPrefix, `${at}.statPrefix`);
  if (!statPrefix) throw new ConfigError(`${at}.statPrefix: required (Istio writes "tcp.")`);
  const api = o.transportApiVersion;
  if (api !== undefined && api !== 'V3' && api !== 2) throw new ConfigError(`${at}.transportApiVersion: only V3 is supported, got ${JSON.stringify(api)}`);
  if (o.grpcService === undefined) throw new ConfigError(`${at}.grpcService: required (the network filter only speaks to gRPC authorization services)`);
  const service = compileGrpcService(o.grpcService, `${at}.grpcService`);
  const namespaces = list(o.metadataContextNamespaces, `${at}.metadataContextNamespaces`, 'filter names').map((n, i) => optString(n, `${at}.metadataContextNamespaces[${i}]`));
  // Loaded now, when the config is applied, so no connection waits for the protos.
  checkTypes();
  return {
    statPrefix,
    service,
    failureModeAllow: optBool(o.failureModeAllow, `${at}.failureModeAllow`),
    enabled: o.filterEnabledMetadata === undefined ? null : compileMetadataMatcher(o.filterEnabledMetadata, `${at}.filterEnabledMetadata`),
    headerFilter: null,
    includePeerCertificate: optBool(o.includePeerCertificate, `${at}.includePeerCertificate`),
    includeTlsSession: optBool(o.includeTlsSession, `${at}.includeTlsSession`),
    metadataContextNamespaces: namespaces,
  };
}

export const networkExtAuthzFilterFactory: NetworkFilterFactory = {
  name: NETWORK_EXT_AUTHZ_FILTER_NAME,
  typeUrl: NETWORK_EXT_AUTHZ_TYPE_URL,
  create(config: Readonly<Record<string, unknown>>, ctx: NetworkFilterFactoryContext): NetworkFilter {
    const cfg = compileNetworkExtAuthzConfig(config);
    if (!ctx.httpClient) throw new ConfigError('network ExtAuthz: this listener has no way to reach clusters (no client)');
    return new NetworkExtAuthzFilter(cfg, networkExtAuthzStats(ctx.stats, cfg.statPrefix), ctx.httpClient);
  },
};
