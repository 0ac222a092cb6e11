// Message types shared by Istio's networking resources (istio/api networking/v1alpha3), described
// once here: durations (converted to milliseconds), Percent, StringMatch (regexes compiled with
// RE2 at load time), Destination, header operations, exportTo, workload selectors and host names.
// Field lists follow the .proto files exactly, so that no valid Istio field is ever reported as
// unknown; the API versions v1, v1beta1 and v1alpha3 serve the same schema. The rules are the ones
// of Istio's validation (istio/istio pkg/config/validation), so that what passes here passes
// `kubectl apply` against Istio too.

import { isIP } from 'node:net';
import { RegexError, compileFullMatch } from '../../common/re2.js';
import { INVALID, bool, describeValue, field, formatPath, int, listOf, mapOf, mapped, num, obj, required, str } from '../schema.js';
import type { Refiner, Schema } from '../schema.js';
import type { Destination, Duration, FieldPath, HeaderMatch, HeaderOperations, Headers, HTTPRetry, Percent, StringMatch } from '../types.js';
import { checkDns1123Label, checkLabelKey, checkLabelValue } from '../names.js';

export const ISTIO_NETWORKING_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'] as const;

// ---- durations ---------------------------------------------------------------------------------

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION_RE = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Nanoseconds of a Go duration string ("1.5s", "1m30s", "250ms"), or undefined when it is not one. */
export function parseDurationNs(text: string): number | undefined {
  let rest = text;
  let total = 0;
  if (rest === '' || rest.startsWith('-')) return undefined;
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return 0;
  while (rest !== '') {
    const m = DURATION_RE.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]];
    rest = rest.slice(m[0].length);
  }
  // Floating point: 1.001s is 1000999999.9999999 ns; round to the nanosecond Go would compute.
  return Math.round(total);
}

export interface DurationOptions {
  /**
   * Istio's ValidateDuration: at least 1ms (`'1ms'`, the default), or any non-negative value
   * (`'0'`, for timeouts where 0s means "disabled").
   */
  readonly min?: '1ms' | '0';
  /** Whole seconds only (corsPolicy.maxAge). */
  readonly seconds?: boolean;
}

/**
 * A duration as Istio's CRDs accept it (Go syntax: `1.5s`, `500ms`, `2m`, `1h`, `1m30s`),
 * converted to { ms, text }. Istio supports millisecond precision only and, for most fields, at
 * least 1ms.
 */
export function durationSchema(opts: DurationOptions = {}): Schema<Duration> {
  const expected = 'a duration';
  const fix = 'write a duration such as 1.5s, 500ms, 2m or 1h';
  return {
    type: 'string',
    expected,
    accepts: (v) => typeof v === 'string',
    check(v, path, ctx) {
      if (typeof v !== 'string') {
        ctx.error(path, 'wrong-type', `${formatPath(path)}: expected a duration, found ${describeValue(v)}`, typeof v === 'number' ? `add the unit: "${v}s"` : fix);
        return INVALID;
      }
      const ns = parseDurationNs(v);
      if (ns === undefined) {
        ctx.error(path, 'invalid-value', `${formatPath(path)}: ${JSON.stringify(v)} is not a duration`, fix);
        return INVALID;
      }
      // Istio's ValidateDuration: first the minimum, then the precision.
      if ((opts.min ?? '1ms') === '1ms' && ns < 1e6) {
        ctx.error(path, 'invalid-value', `${formatPath(path)}: ${v} is too short: the duration must be at least 1ms`, 'write 1ms or more, or remove the field');
        return INVALID;
      }
      if (ns % 1e6 !== 0) {
        ctx.error(path, 'invalid-value', `${formatPath(path)}: ${v} is finer than a millisecond; Istio supports durations to millisecond precision only`, `round it to whole milliseconds (${Math.max(1, Math.round(ns / 1e6))}ms)`);
        return INVALID;
      }
      const ms = ns / 1e6;
      if (opts.seconds && ms % 1000 !== 0) {
        ctx.error(path, 'invalid-value', `${formatPath(path)}: ${v} is not whole seconds; Istio accepts this duration to seconds precision only`, `write ${Math.max(1, Math.round(ms / 1000))}s`);
        return INVALID;
      }
      return { ms, text: v };
    },
  };
}

// ---- percentages -------------------------------------------------------------------------------

/** Istio's Percent message: `{value: <double 0..100>}`; an absent value is 0. */
export const percentSchema = mapped(
  obj(
    { value: field(num(), 'a double between 0 and 100') },
    {
      refine(p, r) {
        if (p.value !== undefined && (p.value < 0 || p.value > 100)) r.error(['value'], 'invalid-value', `${p.value} is out of range: a percentage is between 0 and 100`, 'write a number between 0 and 100');
      },
    },
  ),
  (p): Percent => ({ value: p.value ?? 0 }),
);

/** An integer percentage (deprecated `percent` fields and outlier detection percents). */
export const intPercent = () => int({ min: 0, max: 100 });

// ---- regexes and string matches ----------------------------------------------------------------

const MAX_REGEX_LENGTH = 1024;

/**
 * An RE2 regex, compiled now with the same engine the proxy uses (re2-wasm), so that a pattern
 * Envoy would NACK never reaches it: an error at the regex with RE2's reason. Istio also caps the
 * length at 1024 (Envoy's program-size limit, approximated).
 */
export function re2Regex(): Schema<string> {
  const expected = 'an RE2 regex';
  return {
    type: 'string',
    expected,
    accepts: (v) => typeof v === 'string',
    check(v, path, ctx) {
      if (typeof v !== 'string') {
        ctx.error(path, 'wrong-type', `${formatPath(path)}: expected an RE2 regex (a string), found ${describeValue(v)}`, typeof v === 'number' ? `quote the value: "${v}"` : 'write the regex as a string');
        return INVALID;
      }
      if (v === '') {
        ctx.error(path, 'invalid-value', `${formatPath(path)}: a regex string match must not be empty`, 'write a pattern, or use prefix/exact');
        return INVALID;
      }
      if (v.length > MAX_REGEX_LENGTH) {
        ctx.error(path, 'invalid-value', `${formatPath(path)}: the regex is ${v.length} characters long; Istio allows at most ${MAX_REGEX_LENGTH}`, 'shorten the pattern, or split it over several matches');
        return INVALID;
      }
      try {
        compileFullMatch(v);
      } catch (e) {
        if (!(e instanceof RegexError)) throw e;
        ctx.error(
          path,
          'invalid-regex',
          `${formatPath(path)}: ${e.message}; Istio uses RE2 syntax (https://github.com/google/re2/wiki/Syntax)`,
          'fix the pattern: RE2 has no lookahead, lookbehind or backreferences, and the pattern must match the whole value',
        );
        return INVALID;
      }
      return v;
    },
  };
}

const stringMatchFields = {
  exact: field(str()),
  prefix: field(str()),
  regex: field(re2Regex(), 'RE2 syntax, matched against the whole value; compiled when loading'),
};

function toStringMatch(m: { readonly exact?: string; readonly prefix?: string; readonly regex?: string }): StringMatch | undefined {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { regex: m.regex };
  return undefined;
}

const SM_GROUP = [['exact', 'prefix', 'regex'] as const];

/** StringMatch: exactly one of exact, prefix, regex. */
export const stringMatchSchema = mapped(obj(stringMatchFields, { exactlyOne: SM_GROUP }), (m): StringMatch => toStringMatch(m) ?? { exact: '' });

/** A header match: as StringMatch, or `{}` for "present". */
export const headerMatchSchema = mapped(obj(stringMatchFields, { atMostOne: SM_GROUP }), (m): HeaderMatch => toStringMatch(m) ?? {});

// ---- names -------------------------------------------------------------------------------------

/** HTTP header names as match keys and header-operation keys: RFC 9110 tokens. */
export function checkHeaderName(k: string): string | undefined {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k) ? undefined : 'an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)';
}

/** True for an IPv4 or IPv6 address. */
export function isIpAddress(v: string): boolean {
  return isIP(v) !== 0;
}

/** An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`), as Istio's ValidateIPSubnet. */
export function checkIpOrCidr(v: string): string | undefined {
  const rule = 'an IP address or a CIDR block such as 10.0.0.0/8';
  const slash = v.indexOf('/');
  if (slash < 0) return isIpAddress(v) ? undefined : rule;
  const ip = v.slice(0, slash);
  const bits = v.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return rule;
  return Number(bits) <= (family === 4 ? 32 : 128) ? undefined : rule;
}

/**
 * A host as Istio's ValidateWildcardDomain reads it: DNS labels separated by dots, the first of
 * which may be `*` (`*.example.com`). Upper case is accepted (Istio lower-cases hosts).
 */
export function checkWildcardDomain(h: string): string | undefined {
  const rule = 'a host name (optionally starting with *.), without port or path';
  if (h.length === 0 || h.length > 255) return rule;
  const labels = h.split('.');
  const first = labels[0] === '*' ? labels.slice(1) : labels;
  if (labels[0] === '*' && labels.length === 1) return undefined;
  if (first.length === 0 || first.some((l) => checkDns1123Label(l.toLowerCase()) !== undefined)) return rule;
  return undefined;
}

/** A fully qualified domain name: like checkWildcardDomain, without wildcard. */
export function checkFqdn(h: string): string | undefined {
  if (h.includes('*')) return 'a host name without wildcard';
  return checkWildcardDomain(h);
}

/** `*` matches any, `*.x` matches any name ending in `.x` (and `*.x` itself). */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === '*' || p === h) return true;
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) || (h.startsWith('*.') && h.endsWith(p.slice(1)));
  return false;
}

/** True when every host `sub` can match is also matched by `sup` (Istio's host.Name.SubsetOf). */
export function hostSubsetOf(sub: string, sup: string): boolean {
  const a = sub.toLowerCase();
  const b = sup.toLowerCase();
  if (b === '*' || a === b) return true;
  if (b.startsWith('*.')) return a.endsWith(b.slice(1));
  return false;
}

// ---- Destination, headers ----------------------------------------------------------------------

export const destinationSchema = mapped(
  obj({
    host: required(str({ nonEmpty: true, rule: (v) => (v === '*' ? 'a service host name; "*" is not allowed' : checkWildcardDomain(v)) })),
    subset: field(str({ rule: checkDns1123Label }), 'a subset of a DestinationRule for the host'),
    port: field(obj({ number: required(int({ min: 1, max: 65535 })) })),
  }),
  (d): Destination => ({
    host: d.host,
    ...(d.subset !== undefined ? { subset: d.subset } : {}),
    ...(d.port !== undefined ? { port: { number: d.port.number } } : {}),
  }),
);

const AUTHORITY_HEADERS = new Set([':authority', 'host']);

/** Request set/add may target the authority (`:authority` or `host`); other names are tokens. */
function checkRequestHeaderOperationName(k: string): string | undefined {
  return AUTHORITY_HEADERS.has(k.toLowerCase()) ? undefined : checkHeaderName(k);
}

/** remove and response operations may not touch pseudo-headers or host (Envoy manages them). */
function checkHeaderOperationName(k: string): string | undefined {
  if (k.toLowerCase() === 'host') return 'an HTTP header name other than host, which Envoy manages';
  return checkHeaderName(k);
}

function headerOperations(request: boolean) {
  const keyRule = request ? checkRequestHeaderOperationName : checkHeaderOperationName;
  return mapped(
    obj({
      set: field(mapOf(str(), { keyRule, expected: 'a map of header values' }), 'overwrite these headers'),
      add: field(mapOf(str(), { keyRule, expected: 'a map of header values' }), 'append these headers'),
      remove: field(listOf(str({ rule: checkHeaderOperationName })), 'remove these headers'),
    }),
    (o): HeaderOperations => ({ set: o.set ?? {}, add: o.add ?? {}, remove: o.remove ?? [] }),
  );
}

const EMPTY_OPERATIONS: HeaderOperations = { set: {}, add: {}, remove: [] };

/** `headers: {request, response}` (VS-23); both default to empty operations. */
export const headersSchema = mapped(
  obj({ request: field(headerOperations(true)), response: field(headerOperations(false)) }),
  (h): Headers => ({ request: h.request ?? EMPTY_OPERATIONS, response: h.response ?? EMPTY_OPERATIONS }),
);

/** The authority value a header set/add writes, if any (for Istio's "authority set twice" rule). */
export function authorityHeaderOf(h: Headers | undefined): { key: 'set' | 'add'; name: string; value: string } | undefined {
  for (const key of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(h?.request[key] ?? {})) if (AUTHORITY_HEADERS.has(name.toLowerCase())) return { key, name, value };
  }
  return undefined;
}

// ---- retries (VirtualService and MeshConfig.defaultHttpRetryPolicy) ---------------------------

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies Istio accepts (VS-18). */
export const RETRY_ON_POLICIES = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/** Status codes Go's http.StatusText knows: Istio accepts only those as bare retryOn codes. */
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424,
  425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

export const retrySchema = mapped(
  obj(
    {
      attempts: field(int({ min: 0 }), 'retries after the first try; 0 (the default) disables retries'),
      perTryTimeout: field(durationSchema(), 'defaults to the route timeout'),
      retryOn: field(str(), 'comma-separated Envoy retry policies and status codes'),
      retryRemoteLocalities: field(bool(), 'default false'),
      retryIgnorePreviousHosts: field(bool(), 'default true'),
      backoff: field(durationSchema(), 'base interval; Envoy defaults to 25ms'),
    },
    {
      refine(rt, r) {
        if ((rt.attempts ?? 0) === 0) {
          const set = (['perTryTimeout', 'retryOn', 'retryRemoteLocalities'] as const).filter((k) => rt[k] !== undefined);
          if (set.length > 0) {
            r.error([set[0]], 'conflict', `a retry policy with attempts 0 disables retries, so ${set.join(' and ')} cannot be set (Istio rejects it)`, 'set attempts to 1 or more, or remove the other retry settings', 'key');
          }
        }
        if (rt.retryOn !== undefined) {
          for (const policy of rt.retryOn.split(',')) {
            const code = /^\d+$/.test(policy) ? Number(policy) : NaN;
            if (RETRY_ON_POLICIES.has(policy) || KNOWN_STATUS.has(code)) continue;
            r.error(['retryOn'], 'invalid-value', `${JSON.stringify(policy)} is not a valid retryOn policy`, `use comma-separated Envoy policies without spaces (${[...RETRY_ON_POLICIES].slice(0, 6).join(', ')}, ...) or HTTP status codes`);
          }
        }
      },
    },
  ),
  (rt): HTTPRetry => ({
    attempts: rt.attempts ?? 0,
    ...(rt.perTryTimeout !== undefined ? { perTryTimeout: rt.perTryTimeout } : {}),
    ...(rt.retryOn !== undefined ? { retryOn: rt.retryOn } : {}),
    retryRemoteLocalities: rt.retryRemoteLocalities ?? false,
    retryIgnorePreviousHosts: rt.retryIgnorePreviousHosts ?? true,
    ...(rt.backoff !== undefined ? { backoff: rt.backoff } : {}),
  }),
);

// ---- exportTo, workload selectors --------------------------------------------------------------

/**
 * Istio's validateExportTo: `.` (this namespace), `*` (every namespace), `~` (no one; ServiceEntry
 * only) or namespace names; no duplicates (`.` and the own namespace count as one), and `*` or `~`
 * only alone.
 */
export function checkExportTo(exportTo: readonly string[] | undefined, namespace: string, r: Refiner, path: FieldPath, serviceEntry = false): void {
  if (!exportTo) return;
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    const key = e === '.' ? namespace : e;
    const allowed = e === '.' || e === '*' || (serviceEntry && e === '~') || checkDns1123Label(e) === undefined;
    if (!allowed) {
      r.error([...path, i], 'invalid-value', `${JSON.stringify(e)} is not a valid exportTo value`, `write . (this namespace), * (all namespaces)${serviceEntry ? ', ~ (no namespace)' : ''} or a namespace name`);
    } else if (seen.has(key)) {
      r.error([...path, i], 'duplicate-value', key !== e ? `. and the current namespace ${namespace} are the same exportTo entry` : `duplicate exportTo entry ${e}`, 'remove the duplicate');
    }
    seen.add(key);
  });
  if (exportTo.length > 1 && seen.has('*')) r.error([...path, exportTo.indexOf('*')], 'conflict', 'exportTo * (all namespaces) cannot be combined with other values', 'keep only *, or list the namespaces');
  if (exportTo.length > 1 && seen.has('~')) r.error([...path, exportTo.indexOf('~')], 'conflict', 'exportTo ~ (no namespace) cannot be combined with other values', 'keep only ~, or list the namespaces');
}

/** Labels of a workload selector: valid label keys and values, no `*` (Istio forbids wildcards there). */
export const selectorLabels = mapOf(
  str({ rule: (v) => (v.includes('*') ? 'a label value without wildcard *' : checkLabelValue(v)) }),
  { keyRule: (k) => (k.includes('*') ? 'a label key without wildcard *' : checkLabelKey(k)), expected: 'a map of strings' },
);
