// The ext_authz HTTP filter's request path with an HTTP authorization service (Envoy's
// ext_authz Filter with RawHttpClientImpl), as Istio's CUSTOM action uses it:
//
//   - off on a route whose ExtAuthzPerRoute says `disabled`; off (counted `disabled`) when
//     filter_enabled_metadata does not match, which for Istio means no CUSTOM rule matched the
//     request (the RBAC filter before it recorded no `istio-ext-authz-<provider>` shadow policy);
//   - the check request: the original method, path_prefix + the original :path (query included),
//     the original authority, the allowed request headers (always Authorization, :method, :path,
//     :authority, plus allowed_headers, minus disallowed_headers), headers_to_add, and
//     `content-length: 0`; sent to the service's cluster with server_uri.timeout;
//   - 200: allowed. Headers of the answer named by allowed_upstream_headers replace the request's,
//     allowed_upstream_headers_to_append are added, `x-envoy-auth-headers-to-remove` removes
//     request headers, allowed_client_headers_on_success go on the response the client gets;
//   - 5xx, no answer, a reset or a timeout: an error. With failure_mode_allow the request goes on
//     (counted `failure_mode_allowed`; `x-envoy-auth-failure-mode-allowed: true` with
//     failure_mode_allow_header_add), else status_on_error (403) with flag UAEX, `ext_authz_error`;
//   - any other status: denied. The client gets that status, the service's body, and the
//     service's headers allowed_client_headers names (all but Host when it names none), with flag
//     UAEX and details `ext_authz_denied`.
// Framing and hop-by-hop headers of the service's answer are never copied anywhere: Strait
// frames every message it writes itself.

import type { AsyncHttpClient, AsyncHttpRequest, AsyncHttpResult, FilterResponseHeaders, FilterResult, FilterStream, HttpFilter, LocalReply } from '../api.js';
import type { HeaderMap } from '../../../dataplane/http/headers.js';
import type { CompiledExtAuthz, CompiledExtAuthzPerRoute } from './config.js';
import type { ExtAuthzStats } from './stats.js';

export const EXT_AUTHZ_FILTER_NAME = 'envoy.filters.http.ext_authz';
export const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';
export const FAILURE_MODE_ALLOWED_HEADER = 'x-envoy-auth-failure-mode-allowed';

/** Never taken from, or given to, the service: framing and connection-specific headers. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

export class ExtAuthzFilter implements HttpFilter {
  /** allowed_client_headers_on_success of an allowed request, until its response head is written. */
  private readonly onSuccess = new WeakMap<FilterStream, string[]>();

  constructor(
    private readonly cfg: CompiledExtAuthz,
    private readonly stats: ExtAuthzStats,
    private readonly client: AsyncHttpClient,
  ) {}

  onRequestHeaders(s: FilterStream): FilterResult | Promise<FilterResult> {
    if (s.perRoute<CompiledExtAuthzPerRoute>(EXT_AUTHZ_FILTER_NAME)?.disabled) return;
    const cfg = this.cfg;
    if (cfg.enabled !== null && !cfg.enabled(s.info)) {
      this.stats.disabled.value++;
      return;
    }
    return this.client.send(cfg.cluster, checkRequest(cfg, s), cfg.timeoutMs, s.signal).then((r) => this.decide(s, r));
  }

  onResponseHeaders(s: FilterStream, _status: number, headers: FilterResponseHeaders): void {
    const add = this.onSuccess.get(s);
    if (!add) return;
    this.onSuccess.delete(s);
    for (let i = 0; i < add.length; i += 2) headers.add(add[i]!, add[i + 1]!);
  }

  private decide(s: FilterStream, r: AsyncHttpResult): FilterResult {
    if (r.kind === 'failure') return this.error(s, r.reason);
    if (r.status >= 500) return this.error(s, `it answered ${r.status}`);
    if (r.status === 200) {
      this.allow(s, r.headers);
      this.stats.ok.value++;
      return;
    }
    this.stats.denied.value++;
    return this.denied(r.status, r.headers, r.body);
  }

  private allow(s: FilterStream, answer: readonly string[]): void {
    const cfg = this.cfg;
    const h = s.request.headers;
    let onSuccess: string[] | null = null;
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
      if (cfg.clientHeadersOnSuccess(name)) (onSuccess ??= []).push(name, value);
    }
    if (onSuccess) this.onSuccess.set(s, onSuccess);
  }

  private denied(status: number, answer: readonly string[], body: Buffer): LocalReply {
    const headers: [string, string][] = [];
    for (let i = 0; i < answer.length; i += 2) {
      const name = answer[i]!;
      if (FRAMING.has(name) || name === HEADERS_TO_REMOVE || !this.cfg.clientHeaders(name)) continue;
      headers.push([name, answer[i + 1]!]);
    }
    return {
      status,
      flag: 'UAEX',
      details: 'ext_authz_denied',
      message: `the external authorization service (cluster "${this.cfg.cluster}") denied the request`,
      body: body.toString('utf8'),
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

/** The check request for one downstream request (RawHttpClientImpl::check). */
export function checkRequest(cfg: CompiledExtAuthz, s: FilterStream): AsyncHttpRequest {
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

function appendHeader(h: HeaderMap, name: string, value: string): void {
  const cur = h[name];
  if (cur === undefined) h[name] = value;
  else if (Array.isArray(cur)) cur.push(value);
  else h[name] = [cur, value];
}

/** Pseudo-headers and Host make the request; the service may not remove them (Envoy's isRemovableHeader). */
function removeRequestHeader(h: HeaderMap, name: string): void {
  if (!name || name.charCodeAt(0) === 58 || name === 'host') return;
  delete h[name];
}
