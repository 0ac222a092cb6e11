// The ext_authz filter's config (envoy.extensions.filters.http.ext_authz.v3.ExtAuthz) and its
// per-route override (ExtAuthzPerRoute), parsed from proto3 JSON and compiled once. Both services
// Istio's CUSTOM action writes (src/controlplane/generate/security/ext-authz.ts) are implemented:
// - http_service, for an `envoyExtAuthzHttp` provider: server_uri, path_prefix,
//   authorization_request {allowed_headers, headers_to_add}, authorization_response
//   {allowed_upstream_headers(_to_append), allowed_client_headers(_on_success)};
// - grpc_service, for an `envoyExtAuthzGrpc` provider: envoy_grpc {cluster_name, authority},
//   timeout, initial_metadata (grpc-service.ts), with include_peer_certificate,
//   include_tls_session and metadata_context_namespaces shaping the CheckRequest;
// and for both the top-level allowed_headers / disallowed_headers, failure_mode_allow(_header_add),
// status_on_error, filter_enabled_metadata (the CUSTOM RBAC shadow rule's match), stat_prefix.
// Request-body buffering and runtime-sampled enabling are ConfigErrors (the proxy NACKs rather
// than authorizing differently from what was asked).

import type { FilterFactoryContext, HttpFilter, HttpFilterFactory } from '../api.js';
import { ConfigError } from '../api.js';
import { compileTextFormat } from '../../../telemetry/access-log/format.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { checkFields, checkType, list, object, optBool, optInt, optString } from '../rbac/proto-json.js';
import type { JsonObject } from '../rbac/proto-json.js';
import { compileStringMatcher } from '../rbac/string-matcher.js';
import type { StringPredicate } from '../rbac/string-matcher.js';
import { compileMetadataMatcher } from '../rbac/value-matcher.js';
import type { MetadataPredicate } from '../rbac/value-matcher.js';
import { EXT_AUTHZ_FILTER_NAME, ExtAuthzFilter } from './ext-authz-filter.js';
import { lookupEnum } from '../../../xds/protos.js';
import { checkTypes } from './grpc-check.js';
import type { CheckSettings } from './grpc-check.js';
import { compileGrpcService } from './grpc-service.js';
import type { CompiledGrpcService } from './grpc-service.js';
import { extAuthzStats } from './stats.js';

export { EXT_AUTHZ_FILTER_NAME };
export const EXT_AUTHZ_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
export const EXT_AUTHZ_PER_ROUTE_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';

/** A header-name list (ListStringMatcher); `none` matches nothing. */
export type NameMatcher = (lowerName: string) => boolean;
const none: NameMatcher = () => false;

/** What both services share. */
interface ExtAuthzCommon {
  /** The authorization service's cluster and the check's timeout (ms, 0: none). */
  readonly cluster: string;
  readonly timeoutMs: number;
  readonly failureModeAllow: boolean;
  readonly failureModeAllowHeaderAdd: boolean;
  readonly statusOnError: number;
  /** null: always enabled. */
  readonly enabled: MetadataPredicate | null;
  readonly statPrefix: string;
}

/** An HTTP authorization service (http_service). */
export interface CompiledHttpExtAuthz extends ExtAuthzCommon {
  readonly kind: 'http';
  readonly pathPrefix: string;
  /** Request headers sent to the service (with Envoy's defaults), minus the disallowed ones. */
  readonly requestHeaders: NameMatcher;
  /** authorization_request.headers_to_add: set on the check request (format strings evaluated). */
  readonly headersToAdd: readonly { readonly name: string; readonly value: (info: StreamInfo) => string }[];
  readonly upstreamHeaders: NameMatcher;
  readonly upstreamHeadersToAppend: NameMatcher;
  /** Denied: which of the service's headers the client gets (Envoy: all but Host when unset). */
  readonly clientHeaders: NameMatcher;
  readonly clientHeadersOnSuccess: NameMatcher;
}

/** A gRPC authorization service (grpc_service): the Check call and what its CheckRequest carries. */
export interface CompiledGrpcExtAuthz extends ExtAuthzCommon, CheckSettings {
  readonly kind: 'grpc';
  readonly service: CompiledGrpcService;
}

export type CompiledExtAuthz = CompiledHttpExtAuthz | CompiledGrpcExtAuthz;

/** ExtAuthzPerRoute: `disabled` turns the check off on the route; check_settings.context_extensions go in gRPC CheckRequests. */
export interface CompiledExtAuthzPerRoute {
  readonly disabled: boolean;
  readonly contextExtensions: Readonly<Record<string, string>> | null;
}

const FIELDS = [
  'httpService',
  'grpcService',
  'metadataContextNamespaces',
  'transportApiVersion',
  'failureModeAllow',
  'failureModeAllowHeaderAdd',
  'statusOnError',
  'clearRouteCache',
  'allowedHeaders',
  'disallowedHeaders',
  'filterEnabledMetadata',
  'includePeerCertificate',
  'includeTlsSession',
  'statPrefix',
];
const UNSUPPORTED = {
  withRequestBody: 'sending the request body to the authorization service is not supported (includeRequestBodyInCheck)',
  filterEnabled: 'runtime-sampled filter_enabled is not supported; use filter_enabled_metadata',
  denyAtDisable: 'deny_at_disable is not supported',
  typedMetadataContextNamespaces: 'typed metadata context is not supported (metadata_context_namespaces is)',
  routeMetadataContextNamespaces: 'route metadata context is not supported',
  routeTypedMetadataContextNamespaces: 'route metadata context is not supported',
  bootstrapMetadataLabelsKey: 'destination labels from bootstrap metadata are not supported',
  enableDynamicMetadataIngestion: 'dynamic metadata from the authorization service is not supported',
  emitFilterStateStats: 'filter-state stats are not supported',
  chargeClusterResponseStats: 'per-cluster ext_authz stats are not supported',
  encodeRawHeaders: 'header_map (raw header values) in the CheckRequest is not supported',
  validateMutations: 'header mutation validation is not supported',
  decoderHeaderMutationRules: 'header mutation rules are not supported',
  maxDeniedResponseBodyBytes: 'denied bodies are passed whole (up to 1 MiB)',
};
const HTTP_SERVICE = ['serverUri', 'pathPrefix', 'authorizationRequest', 'authorizationResponse'];
const HTTP_SERVICE_UNSUPPORTED = { retryPolicy: 'retries of the check request are not supported' };
const AUTHZ_REQUEST = ['allowedHeaders', 'headersToAdd'];
const AUTHZ_RESPONSE = ['allowedUpstreamHeaders', 'allowedUpstreamHeadersToAppend', 'allowedClientHeaders', 'allowedClientHeadersOnSuccess'];
const AUTHZ_RESPONSE_UNSUPPORTED = { dynamicMetadataFromHeaders: 'dynamic metadata from the authorization service is not supported' };

/** Envoy always sends these, whatever allowed_headers says (ClientConfig::toRequestMatchers). */
const DEFAULT_REQUEST_HEADERS = ['authorization', ':method', ':path', ':authority', 'host'];
/** Added to a non-empty allowed_client_headers (ClientConfig::toClientMatchers). */
const DEFAULT_CLIENT_HEADERS = ['www-authenticate', 'location'];

/** ListStringMatcher {patterns}: matches a header name when any pattern does. */
function nameList(v: unknown, at: string): StringPredicate[] | null {
  if (v === undefined) return null;
  const o = object(v, at, 'a ListStringMatcher object {patterns}');
  checkFields(o, at, 'ListStringMatcher', ['patterns']);
  return list(o.patterns, `${at}.patterns`, 'StringMatcher').map((p, i) => compileStringMatcher(p, `${at}.patterns[${i}]`));
}

function anyOf(ms: readonly StringPredicate[], exact: readonly string[] = []): NameMatcher {
  if (ms.length === 0 && exact.length === 0) return none;
  const set = new Set(exact);
  return (name) => set.has(name) || ms.some((m) => m(name));
}

function durationMs(v: unknown, at: string): number {
  if (typeof v !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(v)) throw new ConfigError(`${at}: expected a duration like "0.25s", got ${JSON.stringify(v)}`);
  return Math.round(Number(v.slice(0, -1)) * 1000);
}

function headerValue(v: string, at: string): (info: StreamInfo) => string {
  if (!v.includes('%')) return () => v;
  let f: (s: StreamInfo) => string;
  try {
    f = compileTextFormat(v);
  } catch (e) {
    throw new ConfigError(`${at}: ${(e as Error).message}`);
  }
  return (info) => f(info).slice(0, -1);
}

type Common = Omit<ExtAuthzCommon, 'cluster' | 'timeoutMs'>;

function compileHttpService(v: unknown, at: string, top: JsonObject, common: Common): CompiledHttpExtAuthz {
  const o = object(v, at, 'an HttpService object');
  checkFields(o, at, 'HttpService', HTTP_SERVICE, HTTP_SERVICE_UNSUPPORTED);
  const uri = object(o.serverUri, `${at}.serverUri`, 'an HttpUri object {uri, cluster, timeout}');
  checkFields(uri, `${at}.serverUri`, 'HttpUri', ['uri', 'cluster', 'timeout']);
  const cluster = optString(uri.cluster, `${at}.serverUri.cluster`);
  if (!cluster) throw new ConfigError(`${at}.serverUri.cluster: required (the authorization service's cluster)`);
  optString(uri.uri, `${at}.serverUri.uri`);
  const timeoutMs = durationMs(uri.timeout, `${at}.serverUri.timeout`);
  const req = o.authorizationRequest === undefined ? {} : object(o.authorizationRequest, `${at}.authorizationRequest`);
  checkFields(req, `${at}.authorizationRequest`, 'AuthorizationRequest', AUTHZ_REQUEST);
  const res = o.authorizationResponse === undefined ? {} : object(o.authorizationResponse, `${at}.authorizationResponse`);
  checkFields(res, `${at}.authorizationResponse`, 'AuthorizationResponse', AUTHZ_RESPONSE, AUTHZ_RESPONSE_UNSUPPORTED);
  if (req.allowedHeaders !== undefined && top.allowedHeaders !== undefined) throw new ConfigError(`${at}: allowed_headers is set both here and at the top level (Envoy: invalid duplicate configuration)`);
  const allowed = nameList(req.allowedHeaders ?? top.allowedHeaders, req.allowedHeaders !== undefined ? `${at}.authorizationRequest.allowedHeaders` : 'ExtAuthz.allowedHeaders') ?? [];
  const disallowed = nameList(top.disallowedHeaders, 'ExtAuthz.disallowedHeaders');
  const allow = anyOf(allowed, DEFAULT_REQUEST_HEADERS);
  const deny = disallowed ? anyOf(disallowed) : none;
  const headersToAdd = list(req.headersToAdd, `${at}.authorizationRequest.headersToAdd`, 'HeaderValue').map((h, i) => {
    const where = `${at}.authorizationRequest.headersToAdd[${i}]`;
    const hv = object(h, where, 'a HeaderValue object {key, value}');
    checkFields(hv, where, 'HeaderValue', ['key', 'value']);
    const name = optString(hv.key, `${where}.key`).toLowerCase();
    if (!name) throw new ConfigError(`${where}.key: required`);
    return { name, value: headerValue(optString(hv.value, `${where}.value`), `${where}.value`) };
  });
  const client = nameList(res.allowedClientHeaders, `${at}.authorizationResponse.allowedClientHeaders`);
  return {
    kind: 'http',
    ...common,
    cluster,
    timeoutMs,
    pathPrefix: optString(o.pathPrefix, `${at}.pathPrefix`),
    requestHeaders: (name) => allow(name) && !deny(name),
    headersToAdd,
    upstreamHeaders: anyOf(nameList(res.allowedUpstreamHeaders, `${at}.authorizationResponse.allowedUpstreamHeaders`) ?? []),
    upstreamHeadersToAppend: anyOf(nameList(res.allowedUpstreamHeadersToAppend, `${at}.authorizationResponse.allowedUpstreamHeadersToAppend`) ?? []),
    // Unset or empty: every header of the denial but Host; otherwise the list plus Envoy's defaults.
    clientHeaders: client?.length ? anyOf(client, DEFAULT_CLIENT_HEADERS) : (name) => name !== 'host',
    clientHeadersOnSuccess: anyOf(nameList(res.allowedClientHeadersOnSuccess, `${at}.authorizationResponse.allowedClientHeadersOnSuccess`) ?? []),
  };
}

/**
 * envoy.type.v3.StatusCode is an enum: proto3 JSON names it ("ServiceUnavailable"), which is how
 * a config that went through the protobuf codec (xDS, the static bootstrap) arrives; a number is
 * what the control plane writes. Names are looked up in the loaded protos (already loaded then).
 */
function statusCode(v: unknown): unknown {
  if (typeof v !== 'string' || /^\d+$/.test(v)) return v;
  return lookupEnum('envoy.type.v3.StatusCode').values[v] ?? v;
}

/** Envoy's gRPC CheckRequest carries every request header unless allowed_headers narrows it. */
function grpcHeaderFilter(top: JsonObject): CheckSettings['headerFilter'] {
  const allowed = nameList(top.allowedHeaders, 'ExtAuthz.allowedHeaders');
  const disallowed = nameList(top.disallowedHeaders, 'ExtAuthz.disallowedHeaders');
  if (!allowed && !disallowed) return null;
  const allow = allowed ? anyOf(allowed) : () => true;
  const deny = disallowed ? anyOf(disallowed) : none;
  return (name) => allow(name) && !deny(name);
}

function compileGrpc(o: JsonObject, at: string, common: Common): CompiledGrpcExtAuthz {
  const service = compileGrpcService(o.grpcService, `${at}.grpcService`);
  const namespaces = list(o.metadataContextNamespaces, `${at}.metadataContextNamespaces`, 'filter names').map((n, i) => optString(n, `${at}.metadataContextNamespaces[${i}]`));
  // Loaded now, when the config is applied, so no request waits for the protos.
  checkTypes();
  return {
    kind: 'grpc',
    ...common,
    cluster: service.cluster,
    timeoutMs: service.timeoutMs,
    service,
    headerFilter: grpcHeaderFilter(o),
    includePeerCertificate: optBool(o.includePeerCertificate, `${at}.includePeerCertificate`),
    includeTlsSession: optBool(o.includeTlsSession, `${at}.includeTlsSession`),
    metadataContextNamespaces: namespaces,
  };
}

/** Parses an ExtAuthz message. Throws ConfigError. */
export function compileExtAuthzConfig(config: Readonly<Record<string, unknown>>, at = 'ExtAuthz'): CompiledExtAuthz {
  const o = object(config, at);
  checkType(o, at, EXT_AUTHZ_TYPE_URL);
  checkFields(o, at, 'ExtAuthz', FIELDS, UNSUPPORTED);
  const api = o.transportApiVersion;
  if (api !== undefined && api !== 'V3' && api !== 2) throw new ConfigError(`${at}.transportApiVersion: only V3 is supported, got ${JSON.stringify(api)}`);
  if ((o.httpService === undefined) === (o.grpcService === undefined)) throw new ConfigError(`${at}: set exactly one of httpService, grpcService`);
  let statusOnError = 403;
  if (o.statusOnError !== undefined) {
    const s = object(o.statusOnError, `${at}.statusOnError`, 'an HttpStatus object {code}');
    checkFields(s, `${at}.statusOnError`, 'HttpStatus', ['code']);
    statusOnError = optInt(statusCode(s.code), `${at}.statusOnError.code`, 100, 599, 403);
  }
  // Accepted without effect: the route is picked before filters run (clear_route_cache).
  optBool(o.clearRouteCache, `${at}.clearRouteCache`);
  const common: Common = {
    failureModeAllow: optBool(o.failureModeAllow, `${at}.failureModeAllow`),
    failureModeAllowHeaderAdd: optBool(o.failureModeAllowHeaderAdd, `${at}.failureModeAllowHeaderAdd`),
    statusOnError,
    enabled: o.filterEnabledMetadata === undefined ? null : compileMetadataMatcher(o.filterEnabledMetadata, `${at}.filterEnabledMetadata`),
    statPrefix: optString(o.statPrefix, `${at}.statPrefix`),
  };
  if (o.grpcService !== undefined) return compileGrpc(o, at, common);
  // An HTTP service gets neither the peer certificate, the TLS session nor metadata (Envoy: gRPC only).
  optBool(o.includePeerCertificate, `${at}.includePeerCertificate`);
  optBool(o.includeTlsSession, `${at}.includeTlsSession`);
  list(o.metadataContextNamespaces, `${at}.metadataContextNamespaces`, 'filter names');
  return compileHttpService(o.httpService, `${at}.httpService`, o, common);
}

/** Parses an ExtAuthzPerRoute: `disabled: true`, or check_settings (context_extensions reach gRPC services). */
export function compileExtAuthzPerRoute(config: Readonly<Record<string, unknown>>): CompiledExtAuthzPerRoute {
  const at = 'ExtAuthzPerRoute';
  const o = object(config, at);
  checkType(o, at, EXT_AUTHZ_PER_ROUTE_TYPE_URL);
  checkFields(o, at, 'ExtAuthzPerRoute', ['disabled', 'checkSettings'], {
    grpcService: 'per-route authorization services are not supported',
    httpService: 'per-route authorization services are not supported',
  });
  if (o.disabled !== undefined && o.checkSettings !== undefined) throw new ConfigError(`${at}: set one of disabled, checkSettings`);
  if (o.disabled !== undefined && o.disabled !== true) throw new ConfigError(`${at}.disabled: must be true when set`);
  let contextExtensions: Record<string, string> | null = null;
  if (o.checkSettings !== undefined) {
    const cs = object(o.checkSettings, `${at}.checkSettings`, 'a CheckSettings object');
    checkFields(cs, `${at}.checkSettings`, 'CheckSettings', ['contextExtensions', 'disableRequestBodyBuffering'], { withRequestBody: 'sending the request body is not supported' });
    if (cs.contextExtensions !== undefined) {
      const ce = object(cs.contextExtensions, `${at}.checkSettings.contextExtensions`, 'a map of strings');
      contextExtensions = {};
      for (const [k, v] of Object.entries(ce)) contextExtensions[k] = optString(v, `${at}.checkSettings.contextExtensions.${k}`);
    }
    optBool(cs.disableRequestBodyBuffering, `${at}.checkSettings.disableRequestBodyBuffering`);
  }
  return { disabled: o.disabled === true, contextExtensions };
}

export const extAuthzFilterFactory: HttpFilterFactory = {
  name: EXT_AUTHZ_FILTER_NAME,
  typeUrl: EXT_AUTHZ_TYPE_URL,
  perRouteTypeUrl: EXT_AUTHZ_PER_ROUTE_TYPE_URL,
  create(config: Readonly<Record<string, unknown>>, ctx: FilterFactoryContext): HttpFilter {
    const cfg = compileExtAuthzConfig(config);
    if (!ctx.httpClient) throw new ConfigError('ExtAuthz: this connection manager has no way to reach clusters (no HTTP client)');
    return new ExtAuthzFilter(cfg, extAuthzStats(ctx.stats, ctx.statPrefix, cfg.statPrefix), ctx.httpClient);
  },
  compilePerRoute(config: Readonly<Record<string, unknown>>): CompiledExtAuthzPerRoute {
    return compileExtAuthzPerRoute(config);
  },
};
