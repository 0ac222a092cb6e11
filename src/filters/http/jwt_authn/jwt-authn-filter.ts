// The JWT filter's request path (Envoy's jwt_authn Filter): pick the requirement (a CORS
// preflight is let through when bypass_cors_preflight is set; the route's PerRouteConfig wins;
// else the first rule whose match fits), verify it, then either let the request go on (with the
// verified payloads in dynamic metadata) or answer it:
//
//   401  <status text>   most failures, with `www-authenticate: Bearer realm="<url>"` and
//                        `, error="invalid_token"` unless the token was missing
//   403  Audiences in Jwt are not allowed
//   403  Failed JWT authentication: Wrong requirement_name: ...   (a route names no requirement)
//
// The body is Envoy's text, byte for byte; the response code details are
// `jwt_authn_access_denied{<text with spaces as _>}`; there is no response flag (Envoy sets
// none). strip_failure_response sends the status with an empty body and no www-authenticate.
// A gRPC request gets the gRPC form (HTTP 200, grpc-status 16 or 7, grpc-message the text).

import type { Clock } from '../../../common/clock.js';
import { httpToGrpcStatus, isGrpcRequest } from '../api.js';
import type { FilterResult, FilterStream, HttpFilter, LocalReply } from '../api.js';
import type { MaybePromise, VerifyContext } from './authenticator.js';
import { JWT_AUTHN_METADATA_NAMESPACE } from './metadata.js';
import type { RulePredicate } from './rule-matcher.js';
import { statusText } from './status.js';
import type { Status } from './status.js';
import type { JwtAuthnStats } from './stats.js';
import type { Verifier } from './verifier.js';

export const JWT_AUTHN_FILTER_NAME = 'envoy.filters.http.jwt_authn';

/** Envoy's MaximumUriLength: the realm's path is cut to this many characters. */
const MAX_REALM_PATH = 256;

export interface CompiledRule {
  readonly match: RulePredicate;
  /** null: the rule names no requirement, so matching requests are not checked. */
  readonly verifier: Verifier | null;
}

/** PerRouteConfig, compiled: the route turns the filter off or names a requirement_map entry. */
export type PerRouteSettings = { readonly disabled: true } | { readonly requirementName: string };

export interface JwtAuthnSettings {
  readonly rules: readonly CompiledRule[];
  readonly requirements: ReadonlyMap<string, Verifier>;
  readonly bypassCorsPreflight: boolean;
  readonly stripFailureResponse: boolean;
}

export class JwtAuthnFilter implements HttpFilter {
  private readonly requirementNames: string;

  constructor(
    private readonly settings: JwtAuthnSettings,
    private readonly clock: Clock,
    private readonly stats: JwtAuthnStats,
  ) {
    this.requirementNames = [...settings.requirements.keys()].sort().join(',');
  }

  onRequestHeaders(s: FilterStream): FilterResult | Promise<FilterResult> {
    const req = s.request;
    if (this.settings.bypassCorsPreflight && isCorsPreflight(s)) {
      // A preflight carries no credentials (Fetch standard), so no requirement can apply.
      this.stats.cors_preflight_bypassed.value++;
      this.stats.allowed.value++;
      return;
    }
    let verifier: Verifier | null = null;
    const route = s.perRoute<PerRouteSettings>(JWT_AUTHN_FILTER_NAME);
    if (route !== undefined) {
      if (!('disabled' in route)) {
        const v = this.settings.requirements.get(route.requirementName);
        if (!v) return this.wrongRequirement(route.requirementName);
        verifier = v;
      }
    } else {
      for (const rule of this.settings.rules) {
        if (rule.match(req)) {
          verifier = rule.verifier;
          break;
        }
      }
    }
    if (verifier === null) {
      this.stats.allowed.value++;
      return;
    }
    // The realm names the request as it arrived, before a token parameter is taken out; it is
    // only spelled out when the request is refused.
    const path = req.path;
    const realm = (): string => `${req.scheme}://${req.authority}${path.length > MAX_REALM_PATH ? path.slice(0, MAX_REALM_PATH) : path}`;
    const ctx: VerifyContext = { req, nowSeconds: Math.floor(this.clock.now() / 1000), metadata: {} };
    const r: MaybePromise<Status> = verifier.verify(ctx);
    if (typeof r === 'string') return this.complete(s, ctx, r, realm);
    return r.then(
      (st) => this.complete(s, ctx, st, realm),
      // A bug must not turn into an allowed request: fail closed, as a verification failure.
      () => this.complete(s, ctx, 'JwtVerificationFail', realm),
    );
  }

  private complete(s: FilterStream, ctx: VerifyContext, status: Status, realm: () => string): FilterResult {
    if (status === 'Ok') {
      this.stats.allowed.value++;
      if (Object.keys(ctx.metadata).length > 0) {
        const md = s.info.dynamicMetadata;
        md[JWT_AUTHN_METADATA_NAMESPACE] = { ...md[JWT_AUTHN_METADATA_NAMESPACE], ...ctx.metadata };
      }
      if (ctx.clearRouteCache) s.clearRouteCache();
      return;
    }
    this.stats.denied.value++;
    const text = statusText(status);
    const code = status === 'JwtAudienceNotAllowed' ? 403 : 401;
    const challenge = this.settings.stripFailureResponse ? null : `Bearer realm="${realm()}"${status === 'JwtMissed' ? '' : ', error="invalid_token"'}`;
    return denial(s, code, this.settings.stripFailureResponse ? '' : text, text, challenge);
  }

  private wrongRequirement(name: string): LocalReply {
    this.stats.denied.value++;
    const why = `Wrong requirement_name: ${name}. It should be one of [${this.requirementNames}]`;
    const body = this.settings.stripFailureResponse ? '' : `Failed JWT authentication: ${why}`;
    return { status: 403, flag: '', details: rcDetails(why), message: `Failed JWT authentication: ${why}`, headers: body ? [['content-type', 'text/plain']] : [], body };
  }
}

/** Envoy's generateRcDetails: whitespace becomes '_' so the access log stays one field. */
function rcDetails(text: string): string {
  return `jwt_authn_access_denied{${text.replace(/\s/g, '_')}}`;
}

function denial(s: FilterStream, code: number, body: string, text: string, challenge: string | null): LocalReply {
  const details = rcDetails(text);
  const ct = s.request.headers['content-type'];
  const extra: [string, string][] = challenge === null ? [] : [['www-authenticate', challenge]];
  if (isGrpcRequest(typeof ct === 'string' ? ct : undefined)) {
    // Envoy answers a gRPC request's local reply in gRPC form; the challenge header stays.
    return {
      status: 200,
      flag: '',
      details,
      message: text,
      headers: [['content-type', 'application/grpc'], ['grpc-status', String(httpToGrpcStatus(code))], ['grpc-message', text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c))], ...extra],
      body: '',
    };
  }
  return { status: code, flag: '', details, message: text, headers: body ? [['content-type', 'text/plain'], ...extra] : extra, body };
}

/** Envoy's isCorsPreflightRequest: OPTIONS with Origin and Access-Control-Request-Method. */
function isCorsPreflight(s: FilterStream): boolean {
  const h = s.request.headers;
  return s.request.method === 'OPTIONS' && !!h.origin && !!h['access-control-request-method'];
}
