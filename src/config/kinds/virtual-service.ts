// networking.istio.io VirtualService (istio/api networking/v1alpha3/virtual_service.proto): HTTP
// routing rules for hosts, bound to gateways and/or the mesh. Implemented now: hosts, gateways,
// exportTo, and http[] rules with name, match (uri exact/prefix, method exact, headers
// exact/prefix/presence, ignoreUriCase) and route[] (weighted destinations). Every other field of
// the proto is described in full, checked, and reported as unsupported: rule-level fields are
// kept in HTTPRoute.extra for the stages that will implement them; tcp/tls routes and
// per-destination header operations are dropped.
//
// Unsupported *match conditions* (uri regex, queryParams, port, ...) are kept in the typed match
// as written rather than dropped: dropping one would silently widen the match, which is worse
// than the compiler seeing a condition it cannot evaluate and refusing to match.

import { bool, enumOf, field, int, listOf, mapOf, obj, required, str, unsupported } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type { HTTPMatchRequest, HTTPRoute, HTTPRouteDestination, StringMatch, VirtualServiceResource } from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, labelMap, resourceSchema } from './common.js';
import {
  ISTIO_NETWORKING_VERSIONS,
  anyStringMatch,
  checkHeaderName,
  destinationSchema,
  duration,
  headersSchema,
  percentSchema,
  stringMatch,
} from './istio-common.js';
import type { CheckedStringMatch } from './istio-common.js';

const gatewayList = () => listOf(str({ nonEmpty: true }));

export const httpMatchSchema = obj({
  name: field(str()),
  uri: field(stringMatch(['exact', 'prefix'])),
  method: field(stringMatch(['exact', 'prefix'])),
  headers: field(mapOf(stringMatch(['exact', 'prefix'], true), { keyRule: checkHeaderName, expected: 'a map of header matches' })),
  ignoreUriCase: field(bool()),
  scheme: field(stringMatch(['exact', 'prefix'])),
  authority: field(stringMatch(['exact', 'prefix'])),
  withoutHeaders: field(mapOf(stringMatch(['exact', 'prefix'], true), { keyRule: checkHeaderName, expected: 'a map of header matches' })),
  queryParams: field(mapOf(stringMatch(['exact', 'prefix']), { expected: 'a map of string matches' })),
  port: field(int({ min: 1, max: 65535 }), 'the rule applies only on that port (gateway server port or service port)'),
  sourceLabels: field(labelMap, 'the rule applies only to sidecars of workloads with these labels'),
  sourceNamespace: field(str({ rule: checkDns1123Label }), 'the rule applies only to sidecars in that namespace'),
  gateways: field(gatewayList(), 'the rule applies only to those gateways (or mesh)'),
  statPrefix: unsupported(str()),
});

export const httpRouteDestinationSchema = obj({
  destination: required(destinationSchema),
  weight: field(int({ min: 0 }), 'relative; a single destination gets everything'),
  headers: unsupported(headersSchema, 'per-destination header operations are dropped'),
});

const redirectSchema = obj(
  {
    uri: field(str()),
    authority: field(str()),
    port: field(int({ min: 1, max: 65535 })),
    derivePort: field(enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'])),
    scheme: field(enumOf(['http', 'https'])),
    redirectCode: field(int({ min: 300, max: 399 })),
    prefixRewrite: field(str()),
  },
  { atMostOne: [['port', 'derivePort']] },
);

const directResponseSchema = obj({
  status: required(int({ min: 200, max: 599 })),
  body: field(obj({ string: field(str()), bytes: field(str()) }, { atMostOne: [['string', 'bytes']] })),
});

const rewriteSchema = obj(
  {
    uri: field(str()),
    authority: field(str()),
    uriRegexRewrite: field(obj({ match: required(str()), rewrite: required(str()) })),
  },
  { atMostOne: [['uri', 'uriRegexRewrite']] },
);

const retrySchema = obj({
  attempts: field(int({ min: 0 })),
  perTryTimeout: field(duration()),
  retryOn: field(str()),
  retryRemoteLocalities: field(bool()),
  retryIgnorePreviousHosts: field(bool()),
  backoff: field(duration()),
});

const faultSchema = obj({
  delay: field(
    obj(
      {
        percent: field(int({ min: 0, max: 100 })),
        fixedDelay: field(duration()),
        exponentialDelay: field(duration()),
        percentage: field(percentSchema),
      },
      { atMostOne: [['fixedDelay', 'exponentialDelay']] },
    ),
  ),
  abort: field(
    obj(
      {
        httpStatus: field(int({ min: 200, max: 599 })),
        grpcStatus: field(str()),
        http2Error: field(str()),
        percentage: field(percentSchema),
      },
      { atMostOne: [['httpStatus', 'grpcStatus', 'http2Error']] },
    ),
  ),
});

const corsSchema = obj({
  allowOrigin: field(listOf(str())),
  allowOrigins: field(listOf(anyStringMatch)),
  allowMethods: field(listOf(str())),
  allowHeaders: field(listOf(str())),
  exposeHeaders: field(listOf(str())),
  maxAge: field(duration()),
  allowCredentials: field(bool()),
  unmatchedPreflights: field(enumOf(['UNSPECIFIED', 'FORWARD', 'IGNORE'])),
});

const mirrorPolicySchema = obj({ destination: required(destinationSchema), percentage: field(percentSchema) });

/** The rule-level fields Strait implements; everything else in a rule goes to HTTPRoute.extra. */
const IMPLEMENTED_RULE_FIELDS = new Set(['name', 'match', 'route']);

export const httpRouteSchema = obj(
  {
    name: field(str()),
    match: field(listOf(httpMatchSchema)),
    route: field(listOf(httpRouteDestinationSchema)),
    redirect: unsupported(redirectSchema),
    directResponse: unsupported(directResponseSchema),
    delegate: unsupported(obj({ name: field(str()), namespace: field(str()) })),
    rewrite: unsupported(rewriteSchema),
    timeout: unsupported(duration()),
    retries: unsupported(retrySchema),
    fault: unsupported(faultSchema),
    mirror: unsupported(destinationSchema),
    mirrors: unsupported(listOf(mirrorPolicySchema)),
    mirrorPercent: unsupported(int({ min: 0, max: 100 }), 'deprecated in Istio; use mirrorPercentage'),
    mirrorPercentage: unsupported(percentSchema),
    corsPolicy: unsupported(corsSchema),
    headers: unsupported(headersSchema),
  },
  {
    refine(rule, r) {
      // Istio: a rule has exactly one action (route, redirect, directResponse or delegate).
      const actions = (['route', 'redirect', 'directResponse', 'delegate'] as const).filter((k) =>
        k === 'route' ? (rule.route ?? []).length > 0 : rule[k] !== undefined,
      );
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
      checkWeights(rule.route ?? [], r);
    },
  },
);

type CheckedRouteDestination = ObjectOf<(typeof httpRouteDestinationSchema)['fields']>;

/**
 * Istio's rules for weights: never negative, and with more than one destination they must not
 * all be zero. Istio also documents weights as relative (each gets weight/sum), so a sum other
 * than 100 is legal; we warn because it is usually a slip and Istio before 1.x rejected it.
 */
function checkWeights(route: readonly CheckedRouteDestination[], r: Refiner): void {
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

const tlsRouteSchema = obj({
  match: required(
    listOf(
      obj({
        sniHosts: required(listOf(str(), { minItems: 1 })),
        destinationSubnets: field(listOf(str())),
        port: field(int({ min: 1, max: 65535 })),
        sourceLabels: field(labelMap),
        gateways: field(gatewayList()),
        sourceNamespace: field(str()),
      }),
    ),
  ),
  route: field(listOf(obj({ destination: required(destinationSchema), weight: field(int({ min: 0 })) }))),
});

const tcpRouteSchema = obj({
  match: field(
    listOf(
      obj({
        destinationSubnets: field(listOf(str())),
        port: field(int({ min: 1, max: 65535 })),
        sourceSubnet: field(str()),
        sourceLabels: field(labelMap),
        gateways: field(gatewayList()),
        sourceNamespace: field(str()),
      }),
    ),
  ),
  route: field(listOf(obj({ destination: required(destinationSchema), weight: field(int({ min: 0 })) }))),
});

/** VirtualService hosts: a DNS name (optionally `*.`-prefixed), `*`, a short name or an IP. */
function checkVirtualServiceHost(h: string): string | undefined {
  if (h === '*') return undefined;
  const name = h.startsWith('*.') ? h.slice(2) : h;
  const ok = name.length > 0 && name.length <= 253 && name.split('.').every((l) => checkDns1123Label(l.toLowerCase()) === undefined);
  return ok ? undefined : 'a host name (optionally starting with *.), *, or an IP address; no port or path';
}

export const virtualServiceSpecSchema = obj(
  {
    hosts: field(listOf(str({ nonEmpty: true, rule: checkVirtualServiceHost }))),
    gateways: field(gatewayList(), 'defaults to [] (meaning mesh)'),
    http: field(listOf(httpRouteSchema)),
    exportTo: field(listOf(str({ nonEmpty: true }))),
    tls: unsupported(listOf(tlsRouteSchema), 'TLS routes are dropped'),
    tcp: unsupported(listOf(tcpRouteSchema), 'TCP routes are dropped'),
  },
  {
    refine(spec, r) {
      const hosts = spec.hosts ?? [];
      if (hosts.length === 0) {
        r.warn([], 'delegate-virtual-service', 'a VirtualService without hosts is a delegate, which Strait does not implement yet; it is ignored', 'add spec.hosts, or keep it for Istio knowing Strait ignores it', 'key');
      }
      // Istio: "wildcard host * is not allowed for virtual services bound to the mesh gateway".
      const gateways = spec.gateways ?? [];
      const boundToMesh = gateways.length === 0 || gateways.includes('mesh');
      const star = hosts.indexOf('*');
      if (star >= 0 && boundToMesh) {
        r.error(['hosts', star], 'invalid-value', 'the wildcard host * is not allowed in a VirtualService bound to the mesh', 'list the hosts explicitly, or bind the VirtualService to a gateway only');
      }
    },
  },
);

export const virtualServiceSchema = resourceSchema({ spec: required(virtualServiceSpecSchema) });

function toStringMatch(m: CheckedStringMatch): StringMatch | undefined {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { regex: m.regex };
  return undefined;
}

function toHeaderMatches(h: Readonly<Record<string, CheckedStringMatch>>): Record<string, StringMatch | Record<string, never>> {
  const out: Record<string, StringMatch | Record<string, never>> = {};
  for (const [name, m] of Object.entries(h)) out[name] = toStringMatch(m) ?? {};
  return out;
}

function toMatch(m: ObjectOf<(typeof httpMatchSchema)['fields']>): HTTPMatchRequest {
  const sm = (x: CheckedStringMatch | undefined) => (x === undefined ? undefined : toStringMatch(x));
  const out: { -readonly [K in keyof HTTPMatchRequest]: HTTPMatchRequest[K] } = {};
  if (m.name !== undefined) out.name = m.name;
  if (m.uri !== undefined) out.uri = sm(m.uri);
  if (m.scheme !== undefined) out.scheme = sm(m.scheme);
  if (m.method !== undefined) out.method = sm(m.method);
  if (m.authority !== undefined) out.authority = sm(m.authority);
  if (m.headers !== undefined) out.headers = toHeaderMatches(m.headers);
  if (m.withoutHeaders !== undefined) out.withoutHeaders = toHeaderMatches(m.withoutHeaders);
  if (m.queryParams !== undefined) {
    const q: Record<string, StringMatch> = {};
    for (const [k, v] of Object.entries(m.queryParams)) {
      const s = toStringMatch(v);
      if (s) q[k] = s;
    }
    out.queryParams = q;
  }
  if (m.ignoreUriCase !== undefined) out.ignoreUriCase = m.ignoreUriCase;
  if (m.port !== undefined) out.port = m.port;
  if (m.sourceLabels !== undefined) out.sourceLabels = m.sourceLabels;
  if (m.sourceNamespace !== undefined) out.sourceNamespace = m.sourceNamespace;
  if (m.gateways !== undefined) out.gateways = m.gateways;
  return out;
}

export const virtualServiceKind = defineKind({
  kind: 'VirtualService',
  apiVersions: ISTIO_NETWORKING_VERSIONS,
  origin: 'Istio',
  schema: virtualServiceSchema,
  convert(v, base): VirtualServiceResource {
    const http = (v.spec.http ?? []).map((rule, i): HTTPRoute => {
      const extra: Record<string, unknown> = {};
      for (const [k, value] of Object.entries(rule)) if (!IMPLEMENTED_RULE_FIELDS.has(k)) extra[k] = value;
      return {
        ...(rule.name !== undefined ? { name: rule.name } : {}),
        match: (rule.match ?? []).map(toMatch),
        route: (rule.route ?? []).map(
          (d): HTTPRouteDestination => ({
            destination: {
              host: d.destination.host,
              ...(d.destination.subset !== undefined ? { subset: d.destination.subset } : {}),
              ...(d.destination.port !== undefined ? { port: { ...(d.destination.port.number !== undefined ? { number: d.destination.port.number } : {}) } } : {}),
            },
            ...(d.weight !== undefined ? { weight: d.weight } : {}),
          }),
        ),
        path: ['spec', 'http', i],
        extra,
      };
    });
    return {
      ...base,
      kind: 'VirtualService',
      spec: {
        hosts: v.spec.hosts ?? [],
        gateways: v.spec.gateways ?? [],
        http,
        ...(v.spec.exportTo !== undefined ? { exportTo: v.spec.exportTo } : {}),
      },
    };
  },
});
