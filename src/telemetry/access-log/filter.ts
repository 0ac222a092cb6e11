// Envoy's access-log filters (envoy.config.accesslog.v3.AccessLogFilter) compiled once per
// config into a predicate over the finished request: the CEL extension filter Istio writes for
// Telemetry `accessLogging[].filter.expression` (cel/compile.ts), the response-flag filter
// Istio puts on listener logs, status-code and duration comparisons, and and/or of those.
// Anything else throws, so the proxy NACKs the listener rather than log what was not asked.

import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import { CEL_ACCESS_LOG_FILTER, CEL_EXPRESSION_FILTER_TYPE } from '../../xds/resources.js';
import type { AccessLogComparison, AccessLogFilter } from '../../xds/resources.js';
import { compileCelFilter } from './cel/compile.js';
import { CelSyntaxError } from './cel/parse.js';
import { responseFlagBit } from './cel/values.js';

export type AccessLogPredicate = (s: StreamInfo) => boolean;

const OPS = ['EQ', 'GE', 'LE', 'NE'] as const;

function comparison(c: AccessLogComparison, what: string, value: (s: StreamInfo) => number): AccessLogPredicate {
  // The runtime key is ignored: Strait has no runtime overrides, so the default always applies.
  const ref = c.value?.defaultValue ?? 0;
  const op = c.op ?? 'EQ';
  if (!OPS.includes(op)) throw new Error(`${what}: comparison op ${JSON.stringify(op)} is not one of ${OPS.join(', ')}`);
  switch (op) {
    case 'EQ':
      return (s) => value(s) === ref;
    case 'GE':
      return (s) => value(s) >= ref;
    case 'LE':
      return (s) => value(s) <= ref;
    case 'NE':
      return (s) => value(s) !== ref;
  }
}

/**
 * Compiles a filter; `http` says whether it runs in an HTTP connection manager (request and
 * response attributes exist) or a TCP proxy. Throws with the reason on what Envoy would reject.
 */
export function compileAccessLogFilter(f: AccessLogFilter, http: boolean): AccessLogPredicate {
  const set = Object.keys(f).filter((k) => (f as Record<string, unknown>)[k] !== undefined);
  if (set.length !== 1) throw new Error(`an access log filter needs exactly one filter, found ${set.length ? set.join(', ') : 'none'}`);
  if (f.statusCodeFilter) return comparison(f.statusCodeFilter.comparison, 'status_code_filter', (s) => s.responseCode);
  if (f.durationFilter) return comparison(f.durationFilter.comparison, 'duration_filter', (s) => Math.round(s.endMono - s.startMono));
  // Strait's proxies are not health-checked by Envoy's health checker: every request passes.
  if (f.notHealthCheckFilter) return () => true;
  if (f.andFilter || f.orFilter) {
    const list = (f.andFilter ?? f.orFilter)!.filters ?? [];
    if (list.length < 2) throw new Error(`${f.andFilter ? 'and' : 'or'}_filter needs at least two filters`);
    const parts = list.map((x) => compileAccessLogFilter(x, http));
    return f.andFilter ? (s) => parts.every((p) => p(s)) : (s) => parts.some((p) => p(s));
  }
  if (f.responseFlagFilter) {
    const flags = f.responseFlagFilter.flags ?? [];
    for (const flag of flags) if (responseFlagBit(flag) === undefined) throw new Error(`response_flag_filter: unknown response flag ${JSON.stringify(flag)}`);
    if (flags.length === 0) return (s) => s.responseFlags.length > 0;
    const wanted = new Set(flags);
    return (s) => s.responseFlags.some((x) => wanted.has(x));
  }
  const ext = f.extensionFilter!;
  if (ext.name !== CEL_ACCESS_LOG_FILTER && ext.typedConfig?.['@type'] !== CEL_EXPRESSION_FILTER_TYPE) throw new Error(`access log extension filter ${ext.name} is not supported (only ${CEL_ACCESS_LOG_FILTER})`);
  if (ext.typedConfig?.['@type'] !== CEL_EXPRESSION_FILTER_TYPE) throw new Error(`${CEL_ACCESS_LOG_FILTER} needs a ${CEL_EXPRESSION_FILTER_TYPE} config`);
  const expression = ext.typedConfig.expression;
  if (typeof expression !== 'string') throw new Error(`${CEL_ACCESS_LOG_FILTER}: expression must be a string`);
  try {
    // Valid CEL Strait does not evaluate compiles to "never log" (reported by the control plane).
    return compileCelFilter(expression, { http }).test;
  } catch (e) {
    if (e instanceof CelSyntaxError) throw new Error(`${CEL_ACCESS_LOG_FILTER}: cannot parse ${JSON.stringify(expression)}: ${e.message}`);
    throw e;
  }
}
