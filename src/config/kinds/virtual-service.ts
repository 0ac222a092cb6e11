// networking.istio.io VirtualService (istio/api networking/v1alpha3/virtual_service.proto), all of
// it: hosts, gateways, exportTo, http rules (match with exact/prefix/regex string matches, route,
// redirect, directResponse, delegate, rewrite, timeout, retries, fault, mirror/mirrors, corsPolicy,
// headers), tcp rules and tls rules. Each part is checked with Istio's own rules (istio/istio
// pkg/config/validation: one action per rule, rewrite never with redirect, weights, retries,
// durations of at least 1ms, redirect codes 3xx, regexes that RE2 compiles, delegate restrictions,
// SNI hosts within the VirtualService's hosts, ...) and converted to the typed HTTPRoute, TCPRoute
// and TLSRoute of types.ts: durations in milliseconds, defaults applied, deprecated spellings
// (mirrorPercent, allowOrigin, fault `percent`) folded into their replacements.
//
// Rules that need other resources (a delegate that exists, subsets defined by a DestinationRule,
// two VirtualServices for one host) are analyzers (analyze.ts): Kubernetes accepts those.

import { bool, enumOf, field, int, listOf, mapOf, mapped, obj, required, str } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type {
  CorsPolicy,
  Delegate,
  FieldPath,
  GrpcStatusName,
  HTTPDirectResponse,
  HTTPFaultAbort,
  HTTPFaultDelay,
  HTTPFaultInjection,
  HTTPMatchRequest,
  HTTPMirrorPolicy,
  HTTPRedirect,
  HTTPRewrite,
  HTTPRoute,
  HTTPRouteDestination,
  L4MatchAttributes,
  RouteDestination,
  StringMatch,
  TCPRoute,
  TLSMatchAttributes,
  TLSRoute,
  VirtualServiceResource,
} from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, labelMap, resourceSchema } from './common.js';
import {
  ISTIO_NETWORKING_VERSIONS,
  authorityHeaderOf,
  checkExportTo,
  checkHeaderName,
  checkIpOrCidr,
  checkWildcardDomain,
  destinationSchema,
  durationSchema,
  headerMatchSchema,
  headersSchema,
  hostMatches,
  hostSubsetOf,
  intPercent,
  isIpAddress,
  percentSchema,
  re2Regex,
  retrySchema,
  stringMatchSchema,
} from './istio-common.js';
import { checkBase64 } from './secret.js';

/** `mesh`, `name`, `namespace/name`; the legacy `name.namespace[.svc...]` form is warned about (Istio does). */
const gatewayList = () =>
  listOf(str({ nonEmpty: true, rule: (g) => (g.includes('/') ? (g.split('/').every((p) => checkDns1123Label(p) === undefined) ? undefined : 'a gateway as <namespace>/<name> or <name>') : undefined) }));

function warnLegacyGateways(gateways: readonly string[] | undefined, r: Refiner, path: FieldPath): void {
  (gateways ?? []).forEach((g, i) => {
    if (g === 'mesh' || g.includes('/') || !g.includes('.')) return;
    const [name, ns] = g.split('.');
    r.warn([...path, i], 'legacy-gateway-name', `gateway ${JSON.stringify(g)} uses the legacy name.namespace form`, `write ${ns}/${name}`);
  });
}

// ---- http match --------------------------------------------------------------------------------

/** Istio's prefix for matching a verified JWT's claims (gateways; RequestAuthentication needed). */
export const JWT_CLAIM_HEADER_PREFIX = '@request.auth.claims.';

/** A header name, or `@request.auth.claims.<claim>[.<nested>...]` (Istio's routing on JWT claims). */
function checkMatchHeaderName(k: string): string | undefined {
  if (!k.startsWith(JWT_CLAIM_HEADER_PREFIX)) return checkHeaderName(k);
  const claims = k.slice(JWT_CLAIM_HEADER_PREFIX.length).split('.');
  return claims.every((c) => c !== '') ? undefined : '@request.auth.claims. followed by a claim name (nested claims joined by ".")';
}

const headerMatches = () => mapOf(headerMatchSchema, { keyRule: checkMatchHeaderName, expected: 'a map of header matches' });

export const httpMatchSchema = mapped(
  obj(
    {
      name: field(str(), 'appended to the rule name in access logs'),
      uri: field(stringMatchSchema),
      scheme: field(stringMatchSchema),
      method: field(stringMatchSchema),
      authority: field(stringMatchSchema),
      headers: field(headerMatches(), '{} matches a header that is present; uri, scheme, method and authority keys are ignored'),
      withoutHeaders: field(headerMatches(), 'the rule does not match when one of these matches'),
      queryParams: field(mapOf(stringMatchSchema, { expected: 'a map of string matches' }), 'exact: "" matches ?key'),
      ignoreUriCase: field(bool(), 'for uri exact and prefix'),
      port: field(int({ min: 1, max: 65535 }), 'the rule applies only on that port (gateway server port or service port)'),
      sourceLabels: field(labelMap, 'the rule applies only to sidecars of workloads with these labels'),
      sourceNamespace: field(str({ rule: checkDns1123Label }), 'the rule applies only to sidecars in that namespace'),
      gateways: field(gatewayList(), 'the rule applies only to those gateways (or mesh)'),
      statPrefix: field(str(), 'stat prefix of the route'),
    },
    {
      refine(m, r) {
        warnLegacyGateways(m.gateways, r, ['gateways']);
      },
    },
  ),
  (m, path): HTTPMatchRequest => {
    const out: { -readonly [K in keyof HTTPMatchRequest]: HTTPMatchRequest[K] } = { path };
    for (const k of ['name', 'uri', 'scheme', 'method', 'authority', 'headers', 'withoutHeaders', 'queryParams', 'ignoreUriCase', 'port', 'sourceLabels', 'sourceNamespace', 'gateways', 'statPrefix'] as const) {
      if (m[k] !== undefined) Object.assign(out, { [k]: m[k] });
    }
    return out;
  },
);

// ---- destinations ------------------------------------------------------------------------------

export const httpRouteDestinationSchema = mapped(
  obj({
    destination: required(destinationSchema),
    weight: field(int({ min: 0 }), 'relative; a single destination gets everything'),
    headers: field(headersSchema, 'header operations for this destination'),
  }),
  (d, path): HTTPRouteDestination => ({
    destination: d.destination,
    ...(d.weight !== undefined ? { weight: d.weight } : {}),
    ...(d.headers !== undefined ? { headers: d.headers } : {}),
    path,
  }),
);

const routeDestinationSchema = mapped(
  obj({ destination: required(destinationSchema), weight: field(int({ min: 0 }), 'relative; a single destination gets everything') }),
  (d, path): RouteDestination => ({ destination: d.destination, ...(d.weight !== undefined ? { weight: d.weight } : {}), path }),
);

/**
 * Istio's rules for weights: never negative, and with more than one destination they must not
 * all be zero. Istio also documents weights as relative (each gets weight/sum), so a sum other
 * than 100 is legal; we warn because it is usually a slip and Istio before 1.x rejected it.
 */
function checkWeights(route: readonly { readonly weight?: number }[], r: Refiner): void {
  if (route.length < 2) return;
  const total = route.reduce((sum, d) => sum + (d.weight ?? 0), 0);
  if (total === 0) {
    r.error(['route'], 'invalid-weights', `${route.length} destinations but no weights: the total destination weight is 0`, 'give each destination a weight, e.g. 50 and 50', 'key');
    return;
  }
  if (total !== 100) {
    r.warn(['route'], 'weights-not-100', `destination weights add up to ${total}, not 100; traffic is split in proportion (weight/${total})`, 'make the weights add up to 100 so they read as percentages', 'key');
  }
  route.forEach((d, i) => {
    if (d.weight === undefined) {
      r.warn(['route', i], 'zero-weight', 'this destination has no weight while others have one, so it receives no traffic', 'give it a weight, or remove it', 'value');
    }
  });
}

// ---- rule actions ------------------------------------------------------------------------------

const redirectSchema = mapped(
  obj(
    {
      uri: field(str(), 'replaces the whole path'),
      authority: field(str()),
      port: field(int({ min: 1, max: 65535 })),
      derivePort: field(enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'])),
      scheme: field(enumOf(['http', 'https'])),
      redirectCode: field(int({ min: 300, max: 399 }), 'default 301'),
      prefixRewrite: field(str(), 'replaces the matched prefix of the path'),
    },
    {
      atMostOne: [['port', 'derivePort'], ['uri', 'prefixRewrite']],
      refine(rd, r) {
        const any = (['uri', 'authority', 'port', 'derivePort', 'scheme', 'prefixRewrite'] as const).some((k) => rd[k] !== undefined);
        if (!any) r.error([], 'missing-field', 'a redirect must set at least one of uri, authority, scheme, port (or derivePort) and prefixRewrite', 'add e.g. `scheme: https` or `uri: /new-path`', 'key');
      },
    },
  ),
  (rd): HTTPRedirect => ({
    ...(rd.uri !== undefined ? { uri: rd.uri } : {}),
    ...(rd.prefixRewrite !== undefined ? { prefixRewrite: rd.prefixRewrite } : {}),
    ...(rd.authority !== undefined ? { authority: rd.authority } : {}),
    ...(rd.port !== undefined ? { port: rd.port } : {}),
    ...(rd.derivePort !== undefined ? { derivePort: rd.derivePort } : {}),
    ...(rd.scheme !== undefined ? { scheme: rd.scheme } : {}),
    redirectCode: rd.redirectCode ?? 301,
  }),
);

const KB = 1024;

const directResponseSchema = mapped(
  obj(
    {
      status: required(int({ min: 200, max: 599 })),
      body: field(obj({ string: field(str()), bytes: field(str({ rule: checkBase64, expected: 'a base64 string' })) }, { atMostOne: [['string', 'bytes']] })),
    },
    {
      refine(d, r) {
        const size = d.body?.string !== undefined ? Buffer.byteLength(d.body.string) : d.body?.bytes !== undefined ? Buffer.from(d.body.bytes, 'base64').length : 0;
        // Istio: above 1MB is rejected, above 100KB is a warning (the body is pushed to every proxy).
        if (size > KB * KB) r.error(['body'], 'invalid-value', `the body is ${size} bytes; Istio allows at most 1MB in a direct response`, 'serve large bodies from a workload', 'key');
        else if (size > 100 * KB) r.warn(['body'], 'large-direct-response', `the body is ${size} bytes: every proxy receives it with its configuration`, 'keep direct responses small (under 100KB)', 'key');
      },
    },
  ),
  (d): HTTPDirectResponse => ({
    status: d.status,
    ...(d.body?.string !== undefined ? { body: { string: d.body.string } } : d.body?.bytes !== undefined ? { body: { bytes: Buffer.from(d.body.bytes, 'base64') } } : {}),
  }),
);

const delegateSchema = obj({
  name: required(str({ nonEmpty: true, rule: checkDns1123Label }), 'a VirtualService without hosts'),
  namespace: field(str({ rule: checkDns1123Label }), 'defaults to this VirtualService\'s namespace'),
});

const rewriteSchema = mapped(
  obj(
    {
      uri: field(str(), 'replaces the matched prefix (or the whole path for exact matches)'),
      authority: field(str()),
      uriRegexRewrite: field(obj({ match: required(re2Regex()), rewrite: required(str({ nonEmpty: true })) }), 'RE2 match and its replacement (\\1 for groups)'),
    },
    {
      atMostOne: [['uri', 'uriRegexRewrite']],
      refine(rw, r) {
        if (rw.uri === undefined && rw.authority === undefined && rw.uriRegexRewrite === undefined) {
          r.error([], 'missing-field', 'a rewrite must set at least one of uri, uriRegexRewrite and authority', 'add uri or authority, or remove rewrite', 'key');
        }
      },
    },
  ),
  (rw): HTTPRewrite => ({
    ...(rw.uri !== undefined ? { uri: rw.uri } : {}),
    ...(rw.authority !== undefined ? { authority: rw.authority } : {}),
    ...(rw.uriRegexRewrite !== undefined ? { uriRegexRewrite: { match: rw.uriRegexRewrite.match, rewrite: rw.uriRegexRewrite.rewrite } } : {}),
  }),
);

export const GRPC_STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const satisfies readonly GrpcStatusName[];

const delayFields = {
  percent: field(intPercent(), 'deprecated: use percentage'),
  fixedDelay: field(durationSchema(), 'at least 1ms'),
  exponentialDelay: field(durationSchema(), 'rejected by Istio (not implemented there)'),
  percentage: field(percentSchema, 'share of requests delayed; absent means none'),
};

const abortFields = {
  httpStatus: field(int({ min: 200, max: 599 })),
  grpcStatus: field(enumOf(GRPC_STATUS_NAMES)),
  http2Error: field(str(), 'rejected by Istio (not implemented there)'),
  percentage: field(percentSchema, 'share of requests aborted; absent means none'),
};

/** The fault's percentage, with the deprecated integer `percent` folded in (percentage wins). */
function faultPercentage(p: { readonly value: number } | undefined, percent: number | undefined) {
  if (p !== undefined) return { percentage: p };
  return percent !== undefined ? { percentage: { value: percent } } : {};
}

const faultSchema = mapped(
  obj(
    {
      delay: field(
        obj(delayFields, {
          atMostOne: [['fixedDelay', 'exponentialDelay']],
          refine(d, r) {
            if (d.exponentialDelay !== undefined) r.error(['exponentialDelay'], 'invalid-value', 'exponentialDelay is not supported (Istio rejects it)', 'use fixedDelay', 'key');
            else if (d.fixedDelay === undefined) r.error([], 'missing-field', 'a delay needs fixedDelay', 'add fixedDelay: 5s (for example)', 'key');
            if (d.percent !== undefined) r.warn(['percent'], 'deprecated-field', 'percent is deprecated', `write percentage: {value: ${d.percent}}`, 'key');
            if (d.percent === undefined && d.percentage === undefined) r.warn([], 'no-percentage', 'this delay has no percentage, so no request is delayed', 'add percentage: {value: 100} to delay every request', 'key');
          },
        }),
      ),
      abort: field(
        obj(abortFields, {
          atMostOne: [['httpStatus', 'grpcStatus', 'http2Error']],
          refine(a, r) {
            if (a.http2Error !== undefined) r.error(['http2Error'], 'invalid-value', 'http2Error aborts are not supported (Istio rejects them)', 'use httpStatus or grpcStatus', 'key');
            else if (a.httpStatus === undefined && a.grpcStatus === undefined) r.warn([], 'no-error-type', 'this abort sets no httpStatus or grpcStatus, so it does nothing', 'add httpStatus: 503 (for example)', 'key');
            if (a.percentage === undefined) r.warn([], 'no-percentage', 'this abort has no percentage, so no request is aborted', 'add percentage: {value: 100} to abort every request', 'key');
          },
        }),
      ),
    },
    {
      refine(f, r) {
        if (f.delay === undefined && f.abort === undefined) r.error([], 'missing-field', 'a fault needs a delay, an abort, or both', 'add delay or abort', 'key');
      },
    },
  ),
  (f): HTTPFaultInjection => {
    const out: { delay?: HTTPFaultDelay; abort?: HTTPFaultAbort } = {};
    if (f.delay?.fixedDelay !== undefined) out.delay = { fixedDelay: f.delay.fixedDelay, ...faultPercentage(f.delay.percentage, f.delay.percent) };
    const pct = faultPercentage(f.abort?.percentage, undefined);
    if (f.abort?.httpStatus !== undefined) out.abort = { httpStatus: f.abort.httpStatus, ...pct };
    else if (f.abort?.grpcStatus !== undefined) out.abort = { grpcStatus: f.abort.grpcStatus, ...pct };
    return out;
  },
);

/** Methods Istio accepts in corsPolicy.allowMethods. */
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'] as const;

const corsHeaderName = () => str({ rule: (v) => (v === '*' ? undefined : checkHeaderName(v)) });

const corsSchema = mapped(
  obj(
    {
      allowOrigin: field(listOf(str()), 'deprecated: use allowOrigins (folded in as exact matches)'),
      allowOrigins: field(listOf(stringMatchSchema)),
      allowMethods: field(listOf(enumOf(CORS_METHODS))),
      allowHeaders: field(listOf(corsHeaderName())),
      exposeHeaders: field(listOf(corsHeaderName())),
      maxAge: field(durationSchema({ seconds: true }), 'whole seconds'),
      allowCredentials: field(bool()),
      unmatchedPreflights: field(enumOf(['UNSPECIFIED', 'FORWARD', 'IGNORE']), 'default FORWARD'),
    },
    {
      refine(c, r) {
        (c.allowOrigins ?? []).forEach((o, i) => {
          const v = 'exact' in o ? o.exact : 'prefix' in o ? o.prefix : o.regex;
          if (v === '') r.error(['allowOrigins', i], 'invalid-value', 'an empty origin match is not valid', 'write the origin, e.g. exact: https://example.com');
        });
        if (c.allowOrigin !== undefined) {
          r.warn(['allowOrigin'], 'deprecated-field', 'allowOrigin is deprecated', c.allowOrigins !== undefined ? 'remove allowOrigin: allowOrigins is used instead' : 'write the origins under allowOrigins as `- exact: <origin>`', 'key');
        }
      },
    },
  ),
  (c): CorsPolicy => ({
    allowOrigins: c.allowOrigins ?? (c.allowOrigin ?? []).map((o): StringMatch => ({ exact: o })),
    allowMethods: c.allowMethods ?? [],
    allowHeaders: c.allowHeaders ?? [],
    exposeHeaders: c.exposeHeaders ?? [],
    ...(c.maxAge !== undefined ? { maxAge: c.maxAge } : {}),
    ...(c.allowCredentials !== undefined ? { allowCredentials: c.allowCredentials } : {}),
    unmatchedPreflights: c.unmatchedPreflights === 'IGNORE' ? 'IGNORE' : 'FORWARD',
  }),
);

const mirrorPolicySchema = mapped(
  obj({ destination: required(destinationSchema), percentage: field(percentSchema, 'absent means 100%') }),
  (m, path): HTTPMirrorPolicy => ({ destination: m.destination, ...(m.percentage !== undefined ? { percentage: m.percentage } : {}), path }),
);

// ---- http rule ---------------------------------------------------------------------------------

const httpRouteFields = {
  name: field(str(), 'used in access logs and stats'),
  match: field(listOf(httpMatchSchema), 'ORed; empty matches everything'),
  route: field(listOf(httpRouteDestinationSchema)),
  redirect: field(redirectSchema),
  directResponse: field(directResponseSchema),
  delegate: field(delegateSchema, 'only on gateway-bound VirtualServices'),
  rewrite: field(rewriteSchema),
  timeout: field(durationSchema(), 'absent: no timeout'),
  retries: field(retrySchema, 'absent: the mesh default retry policy'),
  fault: field(faultSchema),
  mirror: field(destinationSchema),
  mirrors: field(listOf(mirrorPolicySchema)),
  mirrorPercent: field(int({ min: 0, max: 100 }), 'deprecated: use mirrorPercentage'),
  mirrorPercentage: field(percentSchema, 'absent means 100%'),
  corsPolicy: field(corsSchema),
  headers: field(headersSchema),
};

type CheckedHttpRoute = ObjectOf<typeof httpRouteFields>;

/** Istio's validateHTTPRoute, for the rules that need nothing but the rule itself. */
function checkHttpRoute(rule: CheckedHttpRoute, r: Refiner): void {
  // Istio: a rule has exactly one action (route, redirect, directResponse or delegate).
  const actions = (['route', 'redirect', 'directResponse', 'delegate'] as const).filter((k) => (k === 'route' ? (rule.route ?? []).length > 0 : rule[k] !== undefined));
  if (actions.length === 0) {
    r.error([], 'missing-field', 'the rule needs a route (or a redirect, directResponse or delegate)', 'add `route:` with at least one destination', 'key');
  } else if (actions.length > 1) {
    r.error([actions[1]], 'conflict', `a rule can have only one of route, redirect, directResponse and delegate; this one has ${actions.join(' and ')}`, `keep only one of ${actions.join(', ')}`, 'key');
  }
  if (rule.redirect !== undefined && rule.rewrite !== undefined) {
    r.error(['rewrite'], 'conflict', 'a rule cannot have both rewrite and redirect', 'remove rewrite or redirect', 'key');
  }
  if (rule.redirect !== undefined && rule.fault !== undefined) {
    r.error(['fault'], 'conflict', 'a rule cannot have both fault and redirect', 'remove fault or redirect', 'key');
  }
  if (rule.mirror !== undefined && rule.mirrors !== undefined && rule.mirrors.length > 0) {
    r.error(['mirrors'], 'conflict', 'a rule cannot have both mirror and mirrors', 'move mirror into mirrors (with its percentage)', 'key');
  }
  if (rule.mirrorPercent !== undefined) {
    r.warn(['mirrorPercent'], 'deprecated-field', 'mirrorPercent is deprecated', rule.mirrorPercentage !== undefined ? 'remove mirrorPercent: mirrorPercentage is used instead' : `write mirrorPercentage: {value: ${rule.mirrorPercent}}`, 'key');
  }
  if ((rule.mirrorPercent !== undefined || rule.mirrorPercentage !== undefined) && rule.mirror === undefined) {
    r.warn([rule.mirrorPercentage !== undefined ? 'mirrorPercentage' : 'mirrorPercent'], 'unused-field', 'a mirror percentage without mirror does nothing (mirrors[] entries have their own percentage)', 'add mirror, or remove the percentage', 'key');
  }
  // Istio: the authority is rewritten in one place only.
  const fromHeaders = authorityHeaderOf(rule.headers);
  if (fromHeaders && rule.rewrite?.authority !== undefined) {
    r.error(['headers', 'request', fromHeaders.key, fromHeaders.name], 'conflict', `the authority is already rewritten to ${JSON.stringify(rule.rewrite.authority)} by rewrite.authority; it cannot also be set here`, 'keep only one of rewrite.authority and this header', 'key');
  }
  checkWeights(rule.route ?? [], r);
}

/** The rule as typed; `delegate.namespace` is filled in by the converter (it needs metadata). */
type ConvertedHttpRoute = Omit<HTTPRoute, 'delegate'> & { readonly delegate?: { readonly name: string; readonly namespace?: string } };

export const httpRouteSchema = mapped(obj(httpRouteFields, { refine: checkHttpRoute }), (rule, path): ConvertedHttpRoute => {
  const mirrorPercentage = rule.mirrorPercentage ?? (rule.mirrorPercent !== undefined ? { value: rule.mirrorPercent } : undefined);
  return {
    ...(rule.name !== undefined ? { name: rule.name } : {}),
    match: rule.match ?? [],
    route: rule.route ?? [],
    ...(rule.redirect !== undefined ? { redirect: rule.redirect } : {}),
    ...(rule.directResponse !== undefined ? { directResponse: rule.directResponse } : {}),
    ...(rule.delegate !== undefined ? { delegate: rule.delegate } : {}),
    ...(rule.rewrite !== undefined ? { rewrite: rule.rewrite } : {}),
    ...(rule.timeout !== undefined ? { timeout: rule.timeout } : {}),
    ...(rule.retries !== undefined ? { retries: rule.retries } : {}),
    ...(rule.fault !== undefined ? { fault: rule.fault } : {}),
    ...(rule.mirror !== undefined ? { mirror: rule.mirror } : {}),
    ...(rule.mirror !== undefined && mirrorPercentage !== undefined ? { mirrorPercentage } : {}),
    mirrors: rule.mirrors ?? [],
    ...(rule.corsPolicy !== undefined ? { corsPolicy: rule.corsPolicy } : {}),
    ...(rule.headers !== undefined ? { headers: rule.headers } : {}),
    path,
  };
});

// ---- tcp and tls rules -------------------------------------------------------------------------

const subnetList = () => listOf(str({ rule: checkIpOrCidr }));

const tlsMatchSchema = mapped(
  obj(
    {
      sniHosts: required(listOf(str({ nonEmpty: true }), { minItems: 1 }), 'each within one of the VirtualService hosts'),
      destinationSubnets: field(subnetList()),
      port: field(int({ min: 1, max: 65535 })),
      sourceLabels: field(labelMap),
      gateways: field(gatewayList()),
      sourceNamespace: field(str({ rule: checkDns1123Label })),
    },
    {
      refine(m, r) {
        warnLegacyGateways(m.gateways, r, ['gateways']);
      },
    },
  ),
  (m, path): TLSMatchAttributes => ({
    sniHosts: m.sniHosts,
    destinationSubnets: m.destinationSubnets ?? [],
    ...(m.port !== undefined ? { port: m.port } : {}),
    ...(m.sourceLabels !== undefined ? { sourceLabels: m.sourceLabels } : {}),
    ...(m.gateways !== undefined ? { gateways: m.gateways } : {}),
    ...(m.sourceNamespace !== undefined ? { sourceNamespace: m.sourceNamespace } : {}),
    path,
  }),
);

const tlsRouteSchema = mapped(
  obj(
    {
      match: required(listOf(tlsMatchSchema, { minItems: 1 })),
      route: required(listOf(routeDestinationSchema, { minItems: 1 })),
    },
    { refine: (t, r) => checkWeights(t.route, r) },
  ),
  (t, path): TLSRoute => ({ match: t.match, route: t.route, path }),
);

const l4MatchSchema = mapped(
  obj(
    {
      destinationSubnets: field(subnetList()),
      port: field(int({ min: 1, max: 65535 })),
      sourceSubnet: field(str({ rule: checkIpOrCidr })),
      sourceLabels: field(labelMap),
      gateways: field(gatewayList()),
      sourceNamespace: field(str({ rule: checkDns1123Label })),
    },
    {
      refine(m, r) {
        warnLegacyGateways(m.gateways, r, ['gateways']);
      },
    },
  ),
  (m, path): L4MatchAttributes => ({
    destinationSubnets: m.destinationSubnets ?? [],
    ...(m.port !== undefined ? { port: m.port } : {}),
    ...(m.sourceSubnet !== undefined ? { sourceSubnet: m.sourceSubnet } : {}),
    ...(m.sourceLabels !== undefined ? { sourceLabels: m.sourceLabels } : {}),
    ...(m.gateways !== undefined ? { gateways: m.gateways } : {}),
    ...(m.sourceNamespace !== undefined ? { sourceNamespace: m.sourceNamespace } : {}),
    path,
  }),
);

const tcpRouteSchema = mapped(
  obj(
    {
      match: field(listOf(l4MatchSchema), 'ORed; empty matches every connection'),
      route: required(listOf(routeDestinationSchema, { minItems: 1 })),
    },
    { refine: (t, r) => checkWeights(t.route, r) },
  ),
  (t, path): TCPRoute => ({ match: t.match ?? [], route: t.route, path }),
);

// ---- spec --------------------------------------------------------------------------------------

/** VirtualService hosts: a DNS name (optionally `*.`-prefixed), `*`, a short name or an IP. */
function checkVirtualServiceHost(h: string): string | undefined {
  if (h === '*' || isIpAddress(h)) return undefined;
  return checkWildcardDomain(h) === undefined ? undefined : 'a host name (optionally starting with *.), *, or an IP address; no port or path';
}

const REGEX_MATCH_FIELDS = ['uri', 'scheme', 'method', 'authority'] as const;

/**
 * Istio: rules of a delegate VirtualService, and root rules that delegate, may not match by regex
 * (a regex cannot be intersected with the other side's match).
 */
function checkNoRegexForDelegation(rule: ConvertedHttpRoute, i: number, role: string, r: Refiner): void {
  rule.match.forEach((m, k) => {
    const at = (rest: FieldPath): FieldPath => ['http', i, 'match', k, ...rest];
    for (const f of REGEX_MATCH_FIELDS) {
      const sm = m[f];
      if (sm && 'regex' in sm) r.error(at([f, 'regex']), 'invalid-value', `${role} cannot match ${f} by regex (Istio rejects regex matches in delegation)`, 'use exact or prefix');
    }
    for (const f of ['headers', 'withoutHeaders', 'queryParams'] as const) {
      for (const [name, sm] of Object.entries(m[f] ?? {})) {
        if ('regex' in sm) r.error(at([f, name, 'regex']), 'invalid-value', `${role} cannot match ${f} ${name} by regex (Istio rejects regex matches in delegation)`, 'use exact or prefix');
      }
    }
  });
}

const virtualServiceSpecFields = {
  hosts: field(listOf(str({ nonEmpty: true, rule: checkVirtualServiceHost })), 'empty only in a delegate VirtualService'),
  gateways: field(gatewayList(), 'defaults to [] (meaning mesh)'),
  http: field(listOf(httpRouteSchema), 'ordered: the first matching rule wins'),
  exportTo: field(listOf(str({ nonEmpty: true })), 'defaults to * (every namespace)'),
  tls: field(listOf(tlsRouteSchema), 'for HTTPS/TLS ports and PASSTHROUGH gateways, by SNI'),
  tcp: field(listOf(tcpRouteSchema), 'for TCP ports'),
};

function checkVirtualServiceSpec(spec: ObjectOf<typeof virtualServiceSpecFields>, r: Refiner): void {
  const hosts = spec.hosts ?? [];
  // Istio: "wildcard host * is not allowed for virtual services bound to the mesh gateway".
  const gateways = spec.gateways ?? [];
  const boundToMesh = gateways.length === 0 || gateways.includes('mesh');
  const star = hosts.indexOf('*');
  if (star >= 0 && boundToMesh) {
    r.error(['hosts', star], 'invalid-value', 'the wildcard host * is not allowed in a VirtualService bound to the mesh', 'list the hosts explicitly, or bind the VirtualService to a gateway only');
  }
  // Istio: duplicates include wildcard overlaps (*.foo.com and bar.foo.com). A literal duplicate
  // is an error; an overlap is reported as a warning for now (Istio rejects it too), because
  // manifests in this repository's simulation fixtures still use one, and Strait routes it the
  // way its author means (the exact host wins over the wildcard).
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      if (hosts[i].toLowerCase() === hosts[j].toLowerCase()) {
        r.error(['hosts', j], 'duplicate-value', `host ${hosts[j]} is listed twice in this VirtualService`, 'remove one of the two');
      } else if (hostMatches(hosts[i], hosts[j]) || hostMatches(hosts[j], hosts[i])) {
        r.warn(['hosts', j], 'overlapping-hosts', `host ${hosts[j]} overlaps ${hosts[i]} in this VirtualService; Istio rejects overlapping hosts in one VirtualService`, 'keep only the wildcard, or move the exact host to its own VirtualService');
      }
    }
  }
  warnLegacyGateways(spec.gateways, r, ['gateways']);
  if ((spec.http ?? []).length === 0 && (spec.tcp ?? []).length === 0 && (spec.tls ?? []).length === 0) {
    r.error([], 'missing-field', 'a VirtualService needs http, tcp or tls rules', 'add `http:` with at least one rule', 'key');
  }
  const isDelegate = hosts.length === 0;
  (spec.http ?? []).forEach((rule, i) => {
    if (isDelegate && rule.delegate !== undefined) {
      r.error(['http', i, 'delegate'], 'conflict', 'a delegate VirtualService (one without hosts) cannot delegate again', 'route here instead of delegating', 'key');
    }
    if (isDelegate) checkNoRegexForDelegation(rule, i, 'a delegate VirtualService', r);
    else if (rule.delegate !== undefined) checkNoRegexForDelegation(rule, i, 'a rule that delegates', r);
  });
  // Istio: each SNI host must fall within one of the VirtualService's hosts.
  (spec.tls ?? []).forEach((t, i) => {
    t.match.forEach((m, k) => {
      m.sniHosts.forEach((sni, j) => {
        const at: FieldPath = ['tls', i, 'match', k, 'sniHosts', j];
        if (isIpAddress(sni)) {
          r.warn(at, 'sni-ip', `${sni} is an IP address: SNI carries host names, and most clients send none for an IP`, 'use the host name clients connect to');
          return;
        }
        if (checkWildcardDomain(sni) !== undefined) {
          r.error(at, 'invalid-value', `${JSON.stringify(sni)} is not a valid SNI host`, 'write a host name, optionally starting with *.');
          return;
        }
        if (!hosts.some((h) => hostSubsetOf(sni, h))) {
          r.error(at, 'invalid-value', `SNI host ${sni} is not within any of the VirtualService hosts [${hosts.join(', ')}]`, `add ${sni} to spec.hosts, or correct the SNI host`);
        }
      });
    });
  });
}

export const virtualServiceSpecSchema = obj(virtualServiceSpecFields, { refine: checkVirtualServiceSpec });

export const virtualServiceSchema = resourceSchema({ spec: required(virtualServiceSpecSchema) }, undefined, {
  refine(v, r) {
    checkExportTo(v.spec.exportTo, v.metadata.namespace || 'default', r, ['spec', 'exportTo']);
  },
});

export const virtualServiceKind = defineKind({
  kind: 'VirtualService',
  apiVersions: ISTIO_NETWORKING_VERSIONS,
  origin: 'Istio',
  schema: virtualServiceSchema,
  convert(v, base): VirtualServiceResource {
    const namespace = base.metadata.namespace;
    const http = (v.spec.http ?? []).map(({ delegate, ...rule }): HTTPRoute => ({
      ...rule,
      ...(delegate !== undefined ? { delegate: { name: delegate.name, namespace: delegate.namespace || namespace } satisfies Delegate } : {}),
    }));
    return {
      ...base,
      kind: 'VirtualService',
      spec: {
        hosts: v.spec.hosts ?? [],
        gateways: v.spec.gateways ?? [],
        http,
        tcp: v.spec.tcp ?? [],
        tls: v.spec.tls ?? [],
        ...(v.spec.exportTo !== undefined ? { exportTo: v.spec.exportTo } : {}),
      },
    };
  },
});
