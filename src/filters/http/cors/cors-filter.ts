// The CORS filter's request path (Envoy's CorsFilter; https://fetch.spec.whatwg.org/#http-cors-protocol).
// With a route CorsPolicy and an Origin header:
//   - a preflight (OPTIONS + Access-Control-Request-Method) from an allowed origin is answered here
//     with 200 and the Access-Control-Allow-* headers, and never reaches the upstream;
//   - a preflight from any other origin goes upstream (forwardNotMatchingPreflights, the default),
//     or is answered here without Access-Control-Allow-Origin, so the browser refuses it;
//   - any other request from an allowed origin goes upstream, and its response (or any local
//     reply) gets Access-Control-Allow-Origin, -Allow-Credentials and -Expose-Headers.
// Requests without a policy or an Origin pass untouched and cost one map lookup.

import type { Random } from '../../../common/random.js';
import type { FilterResponseHeaders, FilterResult, FilterStream, HttpFilter, LocalReply } from '../api.js';
import { drawFraction } from '../fault/fractional-percent.js';
import type { CompiledCorsPolicy } from './config.js';
import type { CorsStats } from './stats.js';

export const CORS_FILTER_NAME = 'envoy.filters.http.cors';
/** Response code details of a preflight answered by the filter (Envoy's CorsResponse). */
export const CORS_PREFLIGHT_DETAILS = 'cors_response';

/** What onRequestHeaders learned that onResponseHeaders needs (Envoy's latched origin). */
interface CorsRequest {
  readonly origin: string;
  readonly policy: CompiledCorsPolicy;
}

type HeaderValue = string | string[] | undefined;

export class CorsFilter implements HttpFilter {
  /**
   * Allowed-origin CORS requests, by stream, from the request phase to the response phase. The
   * contract has no per-request context slot, and the filter is shared by all requests, so this
   * is a WeakMap: an entry lives exactly as long as its stream and only CORS requests get one.
   */
  private readonly allowed = new WeakMap<FilterStream, CorsRequest>();

  constructor(
    private readonly random: Random,
    private readonly stats: CorsStats,
  ) {}

  onRequestHeaders(s: FilterStream): FilterResult {
    const policy = s.perRoute<CompiledCorsPolicy>(CORS_FILTER_NAME);
    if (policy === undefined) return;
    const enabled = policy.filterEnabled === null || drawFraction(policy.filterEnabled, this.random);
    const shadow = !enabled && policy.shadowEnabled !== null && drawFraction(policy.shadowEnabled, this.random);
    if (!enabled && !shadow) return;

    const h = s.request.headers;
    const origin = first(h.origin);
    if (origin === undefined || origin === '') return;
    const originAllowed = policy.allowAllOrigins || policy.allowOrigins.some((m) => m(origin));
    if (originAllowed) this.stats.origin_valid.value++;
    else this.stats.origin_invalid.value++;
    // Shadow mode evaluates and counts, and changes nothing.
    if (!enabled) return;

    if (originAllowed) this.allowed.set(s, { origin, policy });
    if (s.request.method !== 'OPTIONS') return;
    const requestMethod = first(h['access-control-request-method']);
    // OPTIONS without Access-Control-Request-Method is an ordinary request, not a preflight.
    if (requestMethod === undefined || requestMethod === '') return;
    if (!originAllowed && policy.forwardNotMatchingPreflights) return;
    return preflightReply(policy, originAllowed ? origin : null, requestMethod, h);
  }

  onResponseHeaders(s: FilterStream, _status: number, headers: FilterResponseHeaders): void {
    const c = this.allowed.get(s);
    if (c === undefined) return;
    headers.set('access-control-allow-origin', c.origin);
    if (c.policy.allowCredentials) headers.set('access-control-allow-credentials', 'true');
    if (c.policy.exposeHeaders !== '') headers.set('access-control-expose-headers', c.policy.exposeHeaders);
  }
}

// ---- the preflight answer ----------------------------------------------------------------------

/**
 * Envoy's preflight response: 200, no body, no response flag. Access-Control-Allow-Origin only
 * when the origin is allowed; the other headers are sent either way, as Envoy sends them.
 */
function preflightReply(p: CompiledCorsPolicy, origin: string | null, requestMethod: string, h: Record<string, HeaderValue>): LocalReply {
  const headers: [string, string][] = [];
  if (origin !== null) headers.push(['access-control-allow-origin', origin]);
  if (p.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
  if (p.allowMethods !== '') headers.push(['access-control-allow-methods', p.allowMethods === '*' ? requestMethod : p.allowMethods]);
  if (p.allowHeaders !== '') {
    const value = p.allowHeaders === '*' ? (first(h['access-control-request-headers']) ?? '') : p.allowHeaders;
    if (value !== '') headers.push(['access-control-allow-headers', value]);
  }
  if (p.maxAge !== '') headers.push(['access-control-max-age', p.maxAge]);
  // Private Network Access (https://developer.chrome.com/blog/private-network-access-preflight).
  if (p.allowPrivateNetworkAccess && first(h['access-control-request-private-network']) === 'true') {
    headers.push(['access-control-allow-private-network', 'true']);
  }
  return {
    status: 200,
    flag: '',
    details: CORS_PREFLIGHT_DETAILS,
    message: origin === null ? 'CORS preflight from an origin this route does not allow' : 'CORS preflight answered by the proxy',
    headers,
    body: '',
  };
}

function first(v: HeaderValue): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
