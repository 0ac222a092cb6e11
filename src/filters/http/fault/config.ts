// The fault filter's config (envoy.extensions.filters.http.fault.v3.HTTPFault, with FaultDelay
// from envoy/extensions/filters/common/fault/v3) in its proto3-JSON shape: parsed, validated and
// compiled once into FaultSettings, the same for the filter-level config and for a route's
// typed_per_filter_config. Istio puts an empty HTTPFault in the HCM and the real fault on each
// route (VS-19, VS-20). Anything Strait would not honour exactly is a ConfigError naming the
// field, so the proxy NACKs instead of injecting something other than what was asked.

import type { FilterFactoryContext, HttpFilter, HttpFilterFactory } from '../api.js';
import { ConfigError } from '../api.js';
import { parseDurationParts } from '../../../xds/protos.js';
import { FAULT_FILTER_NAME, FaultFilter, MAX_DELAY_MS } from './fault-filter.js';
import { NEVER, parseFractionalPercent } from './fractional-percent.js';
import type { Fraction } from './fractional-percent.js';
import { faultStats } from './stats.js';

export { FAULT_FILTER_NAME };
export const FAULT_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

/** FaultDelay: a fixed duration, or one the request names in x-envoy-fault-delay-request. */
export type DelaySettings =
  | { readonly kind: 'fixed'; readonly ms: number; readonly percentage: Fraction }
  | { readonly kind: 'header'; readonly percentage: Fraction };

/** FaultAbort: an HTTP status, a gRPC status, or codes the request names in headers. */
export type AbortSettings =
  | { readonly kind: 'http'; readonly httpStatus: number; readonly percentage: Fraction }
  | { readonly kind: 'grpc'; readonly grpcStatus: number; readonly percentage: Fraction }
  | { readonly kind: 'header'; readonly percentage: Fraction };

/** One compiled HTTPFault (Envoy's FaultSettings), filter-level or per-route. */
export interface FaultSettings {
  readonly delay: DelaySettings | null;
  readonly abort: AbortSettings | null;
  /** Infinity when unset (Envoy: unlimited). */
  readonly maxActiveFaults: number;
  /** x-envoy-downstream-service-node values faults apply to; null = every request. */
  readonly downstreamNodes: ReadonlySet<string> | null;
  /** False when nothing can be injected (Istio's empty filter-level HTTPFault): the fast path. */
  readonly injects: boolean;
}

// Envoy's runtime override keys: with no runtime layer the config values apply, which is what
// Envoy does when the key is absent from its runtime. Accepted and ignored.
const RUNTIME_KEYS = [
  'delayPercentRuntime',
  'abortPercentRuntime',
  'delayDurationRuntime',
  'abortHttpStatusRuntime',
  'maxActiveFaultsRuntime',
  'responseRateLimitPercentRuntime',
  'abortGrpcStatusRuntime',
];

// Fields of HTTPFault Strait does not implement, with what to do instead. Present-but-empty
// (proto3 defaults) is accepted.
const UNSUPPORTED: Readonly<Record<string, string>> = {
  upstreamCluster: 'restricting faults to one upstream cluster is not supported (filters cannot see the route\'s cluster); put the fault on the routes to that cluster instead, as Istio does',
  headers: 'header conditions on a fault are not supported; match the headers in the route and put the fault on that route, as Istio does',
  responseRateLimit: 'response rate limiting is not supported (filters have no response-body phase)',
  filterMetadata: 'dynamic metadata for access logs is not supported',
};

const HTTP_FAULT_FIELDS = new Set(['@type', 'delay', 'abort', 'downstreamNodes', 'maxActiveFaults', 'disableDownstreamClusterStats', ...RUNTIME_KEYS, ...Object.keys(UNSUPPORTED)]);

const UINT32_MAX = 4_294_967_295;

/** Parses one HTTPFault (filter-level or per-route). Throws ConfigError. */
export function compileFaultSettings(config: Readonly<Record<string, unknown>>): FaultSettings {
  const at = 'HTTPFault';
  const o = object(config, at);
  checkType(o, at);
  for (const k of Object.keys(o)) {
    if (!HTTP_FAULT_FIELDS.has(k)) throw new ConfigError(`${at}: unknown field "${k}"`);
  }
  for (const [k, why] of Object.entries(UNSUPPORTED)) {
    if (!isEmptyValue(o[k])) throw new ConfigError(`${at}.${k}: ${why}`);
  }
  for (const k of RUNTIME_KEYS) if (o[k] !== undefined) string(o[k], `${at}.${k}`);
  if (o.disableDownstreamClusterStats !== undefined) bool(o.disableDownstreamClusterStats, `${at}.disableDownstreamClusterStats`);

  const delay = o.delay === undefined ? null : compileDelay(o.delay, `${at}.delay`);
  const abort = o.abort === undefined ? null : compileAbort(o.abort, `${at}.abort`);
  let maxActiveFaults = Infinity;
  if (o.maxActiveFaults !== undefined) maxActiveFaults = uint32(o.maxActiveFaults, `${at}.maxActiveFaults`);
  let downstreamNodes: Set<string> | null = null;
  if (o.downstreamNodes !== undefined) {
    const list = array(o.downstreamNodes, `${at}.downstreamNodes`).map((n, i) => string(n, `${at}.downstreamNodes[${i}]`));
    if (list.length > 0) downstreamNodes = new Set(list);
  }
  return { delay, abort, maxActiveFaults, downstreamNodes, injects: delay !== null || abort !== null };
}

function compileDelay(v: unknown, at: string): DelaySettings {
  const o = object(v, at);
  for (const k of Object.keys(o)) {
    if (k !== 'fixedDelay' && k !== 'headerDelay' && k !== 'percentage') {
      throw new ConfigError(`${at}: unknown field "${k}" in FaultDelay (fields: fixedDelay, headerDelay, percentage)`);
    }
  }
  const percentage = o.percentage === undefined ? NEVER : parseFractionalPercent(o.percentage, `${at}.percentage`);
  const set = ['fixedDelay', 'headerDelay'].filter((k) => o[k] !== undefined);
  if (set.length !== 1) throw new ConfigError(`${at}: set exactly one of fixedDelay or headerDelay${set.length ? ` (got ${set.join(' and ')})` : ''}`);
  if (o.headerDelay !== undefined) {
    emptyMessage(o.headerDelay, `${at}.headerDelay`);
    return { kind: 'header', percentage };
  }
  const text = o.fixedDelay;
  const parts = typeof text === 'string' ? parseDurationParts(text) : undefined;
  if (!parts) throw new ConfigError(`${at}.fixedDelay: expected a duration such as "7s" or "0.250s", got ${JSON.stringify(text)}`);
  if (parts.seconds < 0 || parts.nanos < 0 || (parts.seconds === 0 && parts.nanos === 0)) {
    throw new ConfigError(`${at}.fixedDelay: must be greater than 0, got "${text as string}"`);
  }
  // Envoy keeps whole milliseconds; a sub-millisecond delay becomes 0 and is not injected.
  const ms = Math.min(MAX_DELAY_MS, parts.seconds * 1000 + Math.floor(parts.nanos / 1e6));
  return { kind: 'fixed', ms, percentage };
}

function compileAbort(v: unknown, at: string): AbortSettings {
  const o = object(v, at);
  for (const k of Object.keys(o)) {
    if (k === 'http2Error') {
      // Istio's HTTPFaultInjection.Abort has http2Error, Envoy's FaultAbort does not; Istio's
      // validation rejects it ("HTTP/2 abort fault injection not supported yet").
      throw new ConfigError(`${at}.http2Error: Envoy's FaultAbort has no HTTP/2 error abort (Istio rejects abort.http2Error too); use httpStatus or grpcStatus`);
    }
    if (k !== 'httpStatus' && k !== 'grpcStatus' && k !== 'headerAbort' && k !== 'percentage') {
      throw new ConfigError(`${at}: unknown field "${k}" in FaultAbort (fields: httpStatus, grpcStatus, headerAbort, percentage)`);
    }
  }
  const percentage = o.percentage === undefined ? NEVER : parseFractionalPercent(o.percentage, `${at}.percentage`);
  const set = ['httpStatus', 'grpcStatus', 'headerAbort'].filter((k) => o[k] !== undefined);
  if (set.length !== 1) throw new ConfigError(`${at}: set exactly one of httpStatus, grpcStatus or headerAbort${set.length ? ` (got ${set.join(' and ')})` : ''}`);
  if (o.httpStatus !== undefined) {
    const s = o.httpStatus;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 200 || s >= 600) {
      throw new ConfigError(`${at}.httpStatus: expected an HTTP status in [200, 600), got ${JSON.stringify(s)}`);
    }
    return { kind: 'http', httpStatus: s, percentage };
  }
  if (o.grpcStatus !== undefined) return { kind: 'grpc', grpcStatus: uint32(o.grpcStatus, `${at}.grpcStatus`), percentage };
  emptyMessage(o.headerAbort, `${at}.headerAbort`);
  return { kind: 'header', percentage };
}

// ---- proto3-JSON shape checks ------------------------------------------------------------------

function object(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${at}: expected an object, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(`${at}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}

function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new ConfigError(`${at}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${at}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function uint32(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT32_MAX) {
    throw new ConfigError(`${at}: expected an integer in [0, ${UINT32_MAX}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** HeaderDelay / HeaderAbort are empty messages: `{}`. */
function emptyMessage(v: unknown, at: string): void {
  const o = object(v, at);
  const k = Object.keys(o)[0];
  if (k !== undefined) throw new ConfigError(`${at}: unknown field "${k}" (this message has no fields; write {})`);
}

/** proto3 JSON leaves defaults out, but a writer may spell them: "", [], {}, null, false, 0. */
function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** A typed config may still carry its `@type`; it must then be the fault filter's. */
function checkType(o: Record<string, unknown>, at: string): void {
  const t = o['@type'];
  if (t !== undefined && t !== FAULT_TYPE_URL) throw new ConfigError(`${at}: @type is ${JSON.stringify(t)}, expected ${FAULT_TYPE_URL}`);
}

// ---- factory -----------------------------------------------------------------------------------

export const faultFilterFactory: HttpFilterFactory = {
  name: FAULT_FILTER_NAME,
  typeUrl: FAULT_TYPE_URL,
  // Envoy's per-route config is the same HTTPFault message, so there is no perRouteTypeUrl.
  create(config: Readonly<Record<string, unknown>>, ctx: FilterFactoryContext): HttpFilter {
    return new FaultFilter(compileFaultSettings(config), ctx.clock, ctx.random, faultStats(ctx.stats, ctx.statPrefix));
  },
  compilePerRoute(config: Readonly<Record<string, unknown>>): FaultSettings {
    return compileFaultSettings(config);
  },
};
