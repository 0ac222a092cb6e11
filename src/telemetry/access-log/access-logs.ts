// The access logs of one HTTP connection manager or TCP proxy, compiled from xDS (AccessLog:
// a file or stdout logger, its format, its filter) into what the request path runs at the end
// of every request or connection: the filter predicate, then the format, then the sink.

import type { StreamInfo } from '../../dataplane/http/stream-info.js';
import { FILE_ACCESS_LOG_TYPE, STDOUT_ACCESS_LOG_TYPE } from '../../xds/resources.js';
import type { AccessLog } from '../../xds/resources.js';
import { compileAccessLogFilter } from './filter.js';
import type { AccessLogPredicate } from './filter.js';
import { compileJsonFormat, compileTextFormat, ISTIO_TEXT_FORMAT } from './format.js';
import type { AccessLogSink } from './sink.js';

export interface CompiledAccessLog {
  readonly format: (s: StreamInfo) => string;
  /** Path as configured ('/dev/stdout', a file); the proxy maps it to a sink. */
  readonly path: string;
  /** Which requests are logged; null: all of them. */
  readonly filter: AccessLogPredicate | null;
  sink: AccessLogSink | null;
}

interface SubstitutionFormat {
  textFormat?: string;
  textFormatSource?: { inlineString?: string };
  jsonFormat?: Record<string, unknown>;
  omitEmptyValues?: boolean;
}

/** Thrown for config the proxy must refuse (the caller wraps it in its ConfigError). */
export class AccessLogConfigError extends Error {}

/**
 * Compiles a listener's access logs; `http` is false for a TCP proxy (no request or response
 * attributes for filters). Throws AccessLogConfigError naming `at`.
 */
export function compileAccessLogs(at: string, logs: readonly AccessLog[] | undefined, http = true): CompiledAccessLog[] {
  return (logs ?? []).map((a) => compileAccessLog(at, a, http));
}

function compileAccessLog(at: string, a: AccessLog, http: boolean): CompiledAccessLog {
  const cfg = a.typedConfig as { '@type': string; path?: string; logFormat?: SubstitutionFormat };
  let path: string;
  if (cfg['@type'] === FILE_ACCESS_LOG_TYPE) {
    if (!cfg.path) throw new AccessLogConfigError(`${at}: file access log needs a path`);
    path = cfg.path;
  } else if (cfg['@type'] === STDOUT_ACCESS_LOG_TYPE) {
    path = '/dev/stdout';
  } else {
    throw new AccessLogConfigError(`${at}: access logger ${cfg['@type']} is not supported`);
  }
  const lf = cfg.logFormat;
  const opts = { omitEmptyValues: lf?.omitEmptyValues === true };
  let format: (s: StreamInfo) => string;
  let filter: AccessLogPredicate | null = null;
  try {
    if (lf?.jsonFormat) format = compileJsonFormat(lf.jsonFormat, opts);
    else format = compileTextFormat(lf?.textFormatSource?.inlineString ?? lf?.textFormat ?? ISTIO_TEXT_FORMAT, opts);
    if (a.filter) filter = compileAccessLogFilter(a.filter, http);
  } catch (e) {
    throw new AccessLogConfigError(`${at}: ${(e as Error).message}`);
  }
  return { format, path, filter, sink: null };
}

/** Writes one finished request or connection to every log whose filter takes it. */
export function writeAccessLogs(logs: readonly CompiledAccessLog[], info: StreamInfo): void {
  for (const log of logs) {
    if (log.sink && (log.filter === null || log.filter(info))) log.sink.write(log.format(info));
  }
}
