// The CORS filter's config: the filter-level message (envoy.extensions.filters.http.cors.v3.Cors)
// is empty, and the policy lives on routes as a CorsPolicy in typed_per_filter_config, which
// Istio writes from a VirtualService's corsPolicy (VS-22; unmatchedPreflights FORWARD/IGNORE
// becomes forwardNotMatchingPreflights true/false). Both are parsed from their proto3-JSON shape
// and compiled once: origin matchers (RE2), header values checked so the request path can write
// them without a second look. Anything Strait would not honour is a ConfigError naming the field.

import type { FilterFactoryContext, HttpFilter, HttpFilterFactory } from '../api.js';
import { ConfigError } from '../api.js';
import { parseFractionalPercent } from '../fault/fractional-percent.js';
import type { Fraction } from '../fault/fractional-percent.js';
import { CORS_FILTER_NAME, CorsFilter } from './cors-filter.js';
import { corsStats } from './stats.js';
import { compileStringMatcher } from './string-matcher.js';
import type { StringPredicate } from './string-matcher.js';

export { CORS_FILTER_NAME };
export const CORS_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors';
export const CORS_POLICY_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

/** A route's compiled CorsPolicy. */
export interface CompiledCorsPolicy {
  /** Some origin matcher accepts the literal "*" (Istio's `exact: "*"`): every origin is allowed. */
  readonly allowAllOrigins: boolean;
  readonly allowOrigins: readonly StringPredicate[];
  /** Header values as configured; "" = do not send. "*" in allowMethods/allowHeaders echoes the request's. */
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  readonly maxAge: string;
  readonly allowCredentials: boolean;
  readonly allowPrivateNetworkAccess: boolean;
  /** Envoy's default is true: a preflight from an origin that is not allowed goes upstream. */
  readonly forwardNotMatchingPreflights: boolean;
  /** filterEnabled's percentage; null = unset = enforced for every request. */
  readonly filterEnabled: Fraction | null;
  /** shadowEnabled's percentage; null = unset = no shadow evaluation. */
  readonly shadowEnabled: Fraction | null;
}

const POLICY_FIELDS = new Set([
  '@type',
  'allowOriginStringMatch',
  'allowMethods',
  'allowHeaders',
  'exposeHeaders',
  'maxAge',
  'allowCredentials',
  'filterEnabled',
  'shadowEnabled',
  'allowPrivateNetworkAccess',
  'forwardNotMatchingPreflights',
]);

/** Validates the filter-level Cors message, which has no fields. Throws ConfigError. */
export function checkCorsConfig(config: Readonly<Record<string, unknown>>): void {
  const o = object(config, 'Cors');
  checkType(o, 'Cors', CORS_TYPE_URL);
  for (const k of Object.keys(o)) {
    if (k !== '@type') throw new ConfigError(`Cors: unknown field "${k}" (the filter-level Cors message has no fields; put the policy on routes as a CorsPolicy in typedPerFilterConfig["${CORS_FILTER_NAME}"])`);
  }
}

/** Parses a route's CorsPolicy. Throws ConfigError. */
export function compileCorsPolicy(config: Readonly<Record<string, unknown>>): CompiledCorsPolicy {
  const at = 'CorsPolicy';
  const o = object(config, at);
  checkType(o, at, CORS_POLICY_TYPE_URL);
  for (const k of Object.keys(o)) {
    if (!POLICY_FIELDS.has(k)) throw new ConfigError(`${at}: unknown field "${k}"`);
  }
  let allowOrigins: StringPredicate[] = [];
  if (o.allowOriginStringMatch !== undefined) {
    const f = `${at}.allowOriginStringMatch`;
    if (!Array.isArray(o.allowOriginStringMatch)) throw new ConfigError(`${f}: expected a list of StringMatcher, got ${JSON.stringify(o.allowOriginStringMatch)}`);
    allowOrigins = o.allowOriginStringMatch.map((m, i) => compileStringMatcher(m, `${f}[${i}]`));
  }
  return {
    // Envoy asks every matcher whether it matches "*" as well as the origin; doing it here once
    // leaves the request path a flag test.
    allowAllOrigins: allowOrigins.some((m) => m('*')),
    allowOrigins,
    allowMethods: headerValue(o.allowMethods, `${at}.allowMethods`),
    allowHeaders: headerValue(o.allowHeaders, `${at}.allowHeaders`),
    exposeHeaders: headerValue(o.exposeHeaders, `${at}.exposeHeaders`),
    maxAge: headerValue(o.maxAge, `${at}.maxAge`),
    allowCredentials: bool(o.allowCredentials, `${at}.allowCredentials`, false),
    allowPrivateNetworkAccess: bool(o.allowPrivateNetworkAccess, `${at}.allowPrivateNetworkAccess`, false),
    forwardNotMatchingPreflights: bool(o.forwardNotMatchingPreflights, `${at}.forwardNotMatchingPreflights`, true),
    filterEnabled: runtimeFraction(o.filterEnabled, `${at}.filterEnabled`),
    shadowEnabled: runtimeFraction(o.shadowEnabled, `${at}.shadowEnabled`),
  };
}

// ---- proto3-JSON shape checks ------------------------------------------------------------------

function object(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${at}: expected an object, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function checkType(o: Record<string, unknown>, at: string, expected: string): void {
  const t = o['@type'];
  if (t !== undefined && t !== expected) throw new ConfigError(`${at}: @type is ${JSON.stringify(t)}, expected ${expected}`);
}

// What Node accepts in a header value (RFC 9110 field-value: VCHAR, obs-text, SP, HTAB). Checked
// here so a bad value is a NACK, not an exception when the response is written.
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

function headerValue(v: unknown, at: string): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new ConfigError(`${at}: expected a string, got ${JSON.stringify(v)}`);
  if (INVALID_HEADER_CHAR.test(v)) throw new ConfigError(`${at}: ${JSON.stringify(v)} cannot be sent as a header value (control or non-Latin-1 character)`);
  return v.trim();
}

/** google.protobuf.BoolValue: a bare boolean in proto3 JSON. */
function bool(v: unknown, at: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${at}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * RuntimeFractionalPercent {defaultValue, runtimeKey}: Strait has no runtime layer, so the
 * default applies, as in Envoy when the key is absent from the runtime.
 */
function runtimeFraction(v: unknown, at: string): Fraction | null {
  if (v === undefined) return null;
  const o = object(v, at);
  for (const k of Object.keys(o)) {
    if (k !== 'defaultValue' && k !== 'runtimeKey') throw new ConfigError(`${at}: unknown field "${k}" in RuntimeFractionalPercent (fields: defaultValue, runtimeKey)`);
  }
  if (o.runtimeKey !== undefined && typeof o.runtimeKey !== 'string') throw new ConfigError(`${at}.runtimeKey: expected a string, got ${JSON.stringify(o.runtimeKey)}`);
  if (o.defaultValue === undefined) throw new ConfigError(`${at}.defaultValue: required`);
  return parseFractionalPercent(o.defaultValue, `${at}.defaultValue`);
}

// ---- factory -----------------------------------------------------------------------------------

export const corsFilterFactory: HttpFilterFactory = {
  name: CORS_FILTER_NAME,
  typeUrl: CORS_TYPE_URL,
  perRouteTypeUrl: CORS_POLICY_TYPE_URL,
  create(config: Readonly<Record<string, unknown>>, ctx: FilterFactoryContext): HttpFilter {
    checkCorsConfig(config);
    return new CorsFilter(ctx.random, corsStats(ctx.stats, ctx.statPrefix));
  },
  compilePerRoute(config: Readonly<Record<string, unknown>>): CompiledCorsPolicy {
    return compileCorsPolicy(config);
  },
};
