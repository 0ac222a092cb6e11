// The Envoy messages the security generators write, in proto3 JSON shape, with only the fields
// Strait emits: RBAC (envoy.config.rbac.v3 and the HTTP/network filter wrappers), JWT
// authentication (envoy.extensions.filters.http.jwt_authn.v3) and external authorization
// (envoy.extensions.filters.{http,network}.ext_authz.v3). Typed here, beside the generators,
// until the filter engineers' interfaces in src/xds/resources.ts cover them (JwtAuthentication
// is there already); the field names are Envoy's, so reconciling is a change of import.

import type { HeaderMatcher, StringMatcher } from '../../../xds/resources.js';

export const HTTP_RBAC_FILTER = 'envoy.filters.http.rbac';
export const HTTP_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const NETWORK_RBAC_FILTER = 'envoy.filters.network.rbac';
export const NETWORK_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
export const JWT_AUTHN_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export const HTTP_EXT_AUTHZ_FILTER = 'envoy.filters.http.ext_authz';
export const HTTP_EXT_AUTHZ_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
export const NETWORK_EXT_AUTHZ_FILTER = 'envoy.filters.network.ext_authz';
export const NETWORK_EXT_AUTHZ_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz';
export const URI_TEMPLATE_MATCH_TYPE = 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig';

/** envoy.config.core.v3.CidrRange. */
export interface CidrRange {
  addressPrefix: string;
  prefixLen: number;
}

/** envoy.type.matcher.v3.ValueMatcher (one of the fields). */
export interface ValueMatcher {
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
  boolMatch?: boolean;
  listMatch?: { oneOf: ValueMatcher };
  orMatch?: { valueMatchers: ValueMatcher[] };
}

/** envoy.type.matcher.v3.MetadataMatcher: the value at `path` under the filter's dynamic metadata. */
export interface MetadataMatcher {
  filter: string;
  path: { key: string }[];
  value: ValueMatcher;
  invert?: boolean;
}

/** envoy.config.rbac.v3.Permission: what the request does (exactly one field set). */
export interface Permission {
  andRules?: { rules: Permission[] };
  orRules?: { rules: Permission[] };
  any?: true;
  header?: HeaderMatcher;
  urlPath?: { path: StringMatcher };
  destinationIp?: CidrRange;
  destinationPort?: number;
  metadata?: MetadataMatcher;
  notRule?: Permission;
  requestedServerName?: StringMatcher;
  uriTemplate?: { name: string; typedConfig: { '@type': typeof URI_TEMPLATE_MATCH_TYPE; pathTemplate: string } };
}

/** envoy.config.rbac.v3.Principal: who sends the request (exactly one field set). */
export interface Principal {
  andIds?: { ids: Principal[] };
  orIds?: { ids: Principal[] };
  any?: true;
  authenticated?: { principalName: StringMatcher };
  directRemoteIp?: CidrRange;
  remoteIp?: CidrRange;
  header?: HeaderMatcher;
  metadata?: MetadataMatcher;
  notId?: Principal;
}

/** envoy.config.rbac.v3.Policy: matches when any permission and any principal match. */
export interface RbacPolicy {
  permissions: Permission[];
  principals: Principal[];
}

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

/** envoy.config.rbac.v3.RBAC. */
export interface Rbac {
  action: RbacAction;
  policies: Record<string, RbacPolicy>;
}

/** envoy.extensions.filters.http.rbac.v3.RBAC. Without `rules` the filter enforces nothing. */
export interface HttpRbacConfig {
  '@type': typeof HTTP_RBAC_TYPE;
  rules?: Rbac;
  shadowRules?: Rbac;
  shadowRulesStatPrefix?: string;
}

/** envoy.extensions.filters.network.rbac.v3.RBAC. */
export interface NetworkRbacConfig {
  '@type': typeof NETWORK_RBAC_TYPE;
  statPrefix: string;
  rules?: Rbac;
  shadowRules?: Rbac;
  shadowRulesStatPrefix?: string;
}

/** envoy.config.core.v3.HttpUri. */
export interface HttpUri {
  uri: string;
  cluster: string;
  timeout: string;
}

/** envoy.type.matcher.v3.ListStringMatcher. */
export interface ListStringMatcher {
  patterns: StringMatcher[];
}

/** envoy.config.core.v3.GrpcService with an Envoy gRPC client. */
export interface GrpcService {
  envoyGrpc: { clusterName: string; authority: string };
  timeout: string;
}

/** envoy.extensions.filters.http.ext_authz.v3.ExtAuthz (HTTP or gRPC service). */
export interface HttpExtAuthzConfig {
  '@type': typeof HTTP_EXT_AUTHZ_TYPE;
  httpService?: {
    serverUri: HttpUri;
    pathPrefix?: string;
    authorizationRequest?: { headersToAdd: { key: string; value: string }[] };
    authorizationResponse?: {
      allowedUpstreamHeaders?: ListStringMatcher;
      allowedClientHeaders?: ListStringMatcher;
      allowedClientHeadersOnSuccess?: ListStringMatcher;
    };
  };
  grpcService?: GrpcService;
  statusOnError?: { code: number };
  failureModeAllow?: boolean;
  clearRouteCache?: boolean;
  transportApiVersion: 'V3';
  allowedHeaders?: ListStringMatcher;
  filterEnabledMetadata: MetadataMatcher;
  withRequestBody?: { maxRequestBytes?: number; allowPartialMessage?: boolean; packAsBytes?: boolean };
}

/** envoy.extensions.filters.network.ext_authz.v3.ExtAuthz (gRPC only). */
export interface NetworkExtAuthzConfig {
  '@type': typeof NETWORK_EXT_AUTHZ_TYPE;
  statPrefix: string;
  grpcService: GrpcService;
  failureModeAllow?: boolean;
  transportApiVersion: 'V3';
  filterEnabledMetadata: MetadataMatcher;
}
