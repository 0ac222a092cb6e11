// The ext_authz HTTP filter's request path (Envoy's ext_authz Filter), as Istio's CUSTOM action
// uses it, with either authorization service:
//
//   - off on a route whose ExtAuthzPerRoute says `disabled`; off (counted `disabled`) when
//     filter_enabled_metadata does not match, which for Istio means no CUSTOM rule matched the
//     request (the RBAC filter before it recorded no `istio-ext-authz-<provider>` shadow policy);
//   - HTTP service (RawHttpClientImpl): the check request is the original method,
//     path_prefix + the original :path (query included), the original authority, the allowed
//     request headers (always Authorization, :method, :path, :authority, plus allowed_headers,
//     minus disallowed_headers), headers_to_add, and `content-length: 0`. 200 allows (headers of
//     the answer named by allowed_upstream_headers replace the request's,
//     allowed_upstream_headers_to_append are added, `x-envoy-auth-headers-to-remove` removes,
//     allowed_client_headers_on_success go on the response); 5xx is an error; any other status
//     denies with that status, the service's body and the headers allowed_client_headers names
//     (all but Host when it names none);
//   - gRPC service (GrpcClientImpl): one Check call with the CheckRequest of grpc-check.ts. OK
//     allows with ok_response's mutations (mutations.ts); any other code denies with
//     denied_response's status (403 by default), headers and body; an answer that cannot be
//     applied is counted `invalid` and answered 500 (`ext_authz_invalid`); a failed call is an error;
//   - an error (no answer, a reset, a timeout): with failure_mode_allow the request goes on
//     (counted `failure_mode_allowed`; `x-envoy-auth-failure-mode-allowed: true` with
//     failure_mode_allow_header_add), else status_on_error (403) with flag UAEX, `ext_authz_error`;
//     a denial has flag UAEX and details `ext_authz_denied`.
// Framing and hop-by-hop headers of the service's answer are never copied anywhere: Strait
// frames every message it writes itself.

import type { AsyncGrpcResult, AsyncHttpClient, AsyncHttpRequest, AsyncHttpResult, FilterResponseHeaders, FilterResult, FilterStream, HttpFilter, LocalReply } from '../api.js';
import type { CompiledExtAuthz, CompiledExtAuthzPerRoute, CompiledGrpcExtAuthz, CompiledHttpExtAuthz } from './config.js';
import { APPEND_IF_EXISTS_OR_ADD, CHECK_PATH, httpCheckRequest, parseCheckResponse } from './grpc-check.js';
import type { HeaderMutation } from './grpc-check.js';
import { appendHeader, mutateQuery, mutateRequestHeader, mutateResponseHeader, removeRequestHeader } from './mutations.js';
import type { ExtAuthzStats } from './stats.js';

export const EXT_AUTHZ_FILTER_NAME = 'envoy.filters.http.ext_authz';
export const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';
export const FAILURE_MODE_ALLOWED_HEADER = 'x-envoy-auth-failure-mode-allowed';

/** Never taken from, or given to, the service: framing and connection-specific headers. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

export class ExtAuthzFilter implements HttpFilter {
  /** Headers for the response of an allowed request, until its response head is written. */
  private readonly onSuccess = new WeakMap<FilterStream, readonly HeaderMutation[]>();

  constructor(
    private readonly cfg: CompiledExtAuthz,
    private readonly stats: ExtAuthzStats,
    private readonly client: AsyncHttpClient,
  ) {}

  onRequestHeaders(s: FilterStream): FilterResult | Promise<FilterResult> {
    const route = s.perRoute<CompiledExtAuthzPerRoute>(EXT_AUTHZ_FILTER_NAME);
    if (route?.disabled) return;
    const cfg = this.cfg;
    if (cfg.enabled !== null && !cfg.enabled(s.info)) {
      this.stats.disabled.value++;
      return;
    }
    if (cfg.kind === 'http') return this.client.send(cfg.cluster, checkRequest(cfg, s), cfg.timeoutMs, s.signal).then((r) => this.decideHttp(cfg, s, r));
    const svc = cfg.service;
    const message = httpCheckRequest(cfg, s, route?.contextExtensions ?? null);
    return this.client.grpcUnary(svc.cluster, { path: CHECK_PATH, authority: svc.authority, metadata: svc.metadata, message }, svc.timeoutMs, s.signal).then((r) => this.decideGrpc(cfg, s, r));
  }

  onResponseHeaders(s: FilterStream, _status: number, headers: FilterResponseHeaders): void {
    const add = this.onSuccess.get(s);
    if (!add) return;
    this.onSuccess.delete(s);
    for (const m of add) mutateResponseHeader(headers, m);
  }

  private decideHttp(cfg: CompiledHttpExtAuthz, s: FilterStream, r: AsyncHttpResult): FilterResult {
    if (r.kind === 'failure') return this.error(s, r.reason);
    if (r.status >= 500) return this.error(s, `it answered ${r.status}`);
    if (r.status === 200) {
      this.allowHttp(cfg, s, r.headers);
      this.stats.ok.value++;
      return;
    }
    this.stats.denied.value++;
    const headers: [string, string][] = [];
    for (let i = 0; i < r.headers.length; i += 2) {
      const name = r.headers[i]!;
      if (FRAMING.has(name) || name === HEADERS_TO_REMOVE || !cfg.clientHeaders(name)) continue;
      headers.push([name, r.headers[i + 1]!]);
    }
    return this.denied(r.status, headers, r.body.toString('utf8'));
  }

  private allowHttp(cfg: CompiledHttpExtAuthz, s: FilterStream, answer: readonly string[]): void {
    const h = s.request.headers;
    let onSuccess: HeaderMutation[] | null = null;
    for (let i = 0; i < answer.length; i += 2) {
      const name = answer[i]!;
      const value = answer[i + 1]!;
      if (name === HEADERS_TO_REMOVE) {
        for (const n of value.split(',')) removeRequestHeader(h, n.trim().toLowerCase());
        continue;
      }
      if (FRAMING.has(name) || name === 'host') continue;
      if (cfg.upstreamHeaders(name)) h[name] = value;
      if (cfg.upstreamHeadersToAppend(name)) appendHeader(h, name, value);
      if (cfg.clientHeadersOnSuccess(name)) (onSuccess ??= []).push({ name, value, action: APPEND_IF_EXISTS_OR_ADD, combine: false });
    }
    if (onSuccess) this.onSuccess.set(s, onSuccess);
  }

  private decideGrpc(cfg: CompiledGrpcExtAuthz, s: FilterStream, r: AsyncGrpcResult): FilterResult {
    if (r.kind === 'failure') return this.error(s, r.reason);
    let v: ReturnType<typeof parseCheckResponse>;
    try {
      v = parseCheckResponse(r.message);
    } catch (e) {
      return this.error(s, `its CheckResponse does not decode (${(e as Error).message})`);
    }
    if (v.kind === 'invalid') {
      this.stats.invalid.value++;
      // Envoy's rejectResponse: 500, whatever failure_mode_allow says.
      return { status: 500, flag: 'UAEX', details: 'ext_authz_invalid', message: `the external authorization service (cluster "${cfg.cluster}") sent an answer that cannot be applied: ${v.reason}` };
    }
    if (v.kind === 'denied') {
      this.stats.denied.value++;
      const headers: [string, string][] = [];
      for (const m of v.headers) if (!FRAMING.has(m.name)) headers.push([m.name, m.value]);
      return this.denied(v.status, headers, v.body);
    }
    const req = s.request;
    for (const m of v.headers) mutateRequestHeader(req.headers, m);
    for (const n of v.headersToRemove) removeRequestHeader(req.headers, n);
    mutateQuery(req, v.queryToSet, v.queryToRemove);
    const onSuccess = v.responseHeaders.filter((m) => !FRAMING.has(m.name));
    if (onSuccess.length) this.onSuccess.set(s, onSuccess);
    this.stats.ok.value++;
    return;
  }

  private denied(status: number, headers: [string, string][], body: string): LocalReply {
    return {
      status,
      flag: 'UAEX',
      details: 'ext_authz_denied',
      message: `the external authorization service (cluster "${this.cfg.cluster}") denied the request`,
      body,
      headers,
    };
  }

  private error(s: FilterStream, why: string): FilterResult {
    this.stats.error.value++;
    if (this.cfg.failureModeAllow) {
      this.stats.failure_mode_allowed.value++;
      if (this.cfg.failureModeAllowHeaderAdd) s.request.headers[FAILURE_MODE_ALLOWED_HEADER] = 'true';
      return;
    }
    return {
      status: this.cfg.statusOnError,
      flag: 'UAEX',
      details: 'ext_authz_error',
      message: `the external authorization service (cluster "${this.cfg.cluster}") could not decide: ${why}`,
    };
  }
}

/** The check request to an HTTP service for one downstream request (RawHttpClientImpl::check). */
export function checkRequest(cfg: CompiledHttpExtAuthz, s: FilterStream): AsyncHttpRequest {
  const r = s.request;
  const headers: Record<string, string> = {};
  for (const name in r.headers) {
    if (name === 'host' || FRAMING.has(name) || !cfg.requestHeaders(name)) continue;
    const v = r.headers[name];
    if (v === undefined) continue;
    headers[name] = Array.isArray(v) ? v.join(',') : v;
  }
  for (const h of cfg.headersToAdd) headers[h.name] = h.value(s.info);
  return { method: r.method, path: cfg.pathPrefix + r.path, authority: r.authority, headers };
}
