// Compiles Envoy access-log format strings (`%RESPONSE_CODE%`, `%REQ(X-REQUEST-ID)%`, ...) once
// per config into a function from StreamInfo to a log line, and JSON formats (a map of key →
// format string) into a function producing one JSON object per line. The command set covers
// Istio's default text and JSON formats (reference §2.10); an unknown command is a config error.

import type { StreamInfo } from '../../dataplane/http/stream-info.js';

/** Istio's default text format (pilot/pkg/model/telemetry_logging.go, EnvoyTextLogFormat). */
export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% ' +
  '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Istio's JSON encoding keys (accessLogEncoding: JSON). */
export const ISTIO_JSON_FORMAT: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
};

type Value = string | number | null;
type Getter = (s: StreamInfo) => Value;

const str = (v: string): Value => (v === '' ? null : v);

const COMMANDS: Record<string, Getter> = {
  START_TIME: (s) => new Date(s.startTime).toISOString(),
  PROTOCOL: (s) => str(s.protocol),
  RESPONSE_CODE: (s) => s.responseCode,
  // Envoy writes "-" itself when no flag is set, so JSON logs carry the string "-", never null.
  RESPONSE_FLAGS: (s) => (s.responseFlags.length ? s.responseFlags.join(',') : '-'),
  RESPONSE_CODE_DETAILS: (s) => str(s.responseCodeDetails),
  CONNECTION_TERMINATION_DETAILS: (s) => str(s.connectionTerminationDetails),
  UPSTREAM_TRANSPORT_FAILURE_REASON: (s) => str(s.upstreamTransportFailureReason),
  BYTES_RECEIVED: (s) => s.bytesReceived,
  BYTES_SENT: (s) => s.bytesSent,
  DURATION: (s) => Math.round(s.endMono - s.startMono),
  UPSTREAM_HOST: (s) => str(s.upstreamHost),
  UPSTREAM_CLUSTER: (s) => str(s.upstreamCluster),
  UPSTREAM_CLUSTER_RAW: (s) => str(s.upstreamCluster),
  UPSTREAM_LOCAL_ADDRESS: (s) => str(s.upstreamLocalAddress),
  DOWNSTREAM_LOCAL_ADDRESS: (s) => str(s.downstreamLocalAddress),
  DOWNSTREAM_REMOTE_ADDRESS: (s) => str(s.downstreamRemoteAddress),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (s) => str(stripPort(s.downstreamRemoteAddress)),
  REQUESTED_SERVER_NAME: (s) => str(s.requestedServerName),
  ROUTE_NAME: (s) => str(s.routeName),
  METHOD: (s) => s.method,
};

function stripPort(addr: string): string {
  const i = addr.lastIndexOf(':');
  return i > 0 ? addr.slice(0, i) : addr;
}

function headerValue(headers: Record<string, unknown> | null, name: string): string | null {
  if (!headers) return null;
  const v = headers[name];
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? v.join(',') : String(v);
}

function requestHeader(s: StreamInfo, name: string): string | null {
  switch (name) {
    case ':method':
      return s.method || null;
    case ':path':
      return s.path || null;
    case ':authority':
      return s.authority || null;
    case ':scheme':
      return s.scheme;
    default:
      return headerValue(s.requestHeaders as Record<string, unknown>, name);
  }
}

function headerGetter(kind: 'REQ' | 'RESP', arg: string): Getter {
  const [primary, alt] = arg.toLowerCase().split('?') as [string, string | undefined];
  if (kind === 'REQ') {
    return (s) => requestHeader(s, primary) ?? (alt ? requestHeader(s, alt) : null);
  }
  return (s) => {
    const h = s.responseHeaders as Record<string, unknown> | null;
    if (primary === 'x-envoy-upstream-service-time' && s.upstreamServiceTime >= 0) return String(Math.round(s.upstreamServiceTime));
    return headerValue(h, primary) ?? (alt ? headerValue(h, alt) : null);
  };
}

const TOKEN = /%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;

function compileCommand(name: string, arg: string | undefined, maxLen: number | undefined): Getter {
  let g: Getter;
  if (name === 'REQ' || name === 'RESP') {
    if (!arg) throw new Error(`%${name}(...)% needs a header name`);
    g = headerGetter(name, arg);
  } else {
    const c = COMMANDS[name];
    if (!c) throw new Error(`unknown access log command %${name}%`);
    g = c;
  }
  if (maxLen === undefined) return g;
  return (s) => {
    const v = g(s);
    return typeof v === 'string' ? v.slice(0, maxLen) : v;
  };
}

/**
 * Envoy's omit_empty_values: empty commands print nothing instead of `-` in text, and empty
 * keys are left out of JSON.
 */
export interface FormatOptions {
  readonly omitEmptyValues?: boolean;
}

/** Compiles a text format; throws on an unknown command (the proxy NACKs such config). */
export function compileTextFormat(format: string, opts: FormatOptions = {}): (s: StreamInfo) => string {
  const parts: (string | Getter)[] = [];
  let last = 0;
  for (const m of format.matchAll(TOKEN)) {
    if (m.index! > last) parts.push(format.slice(last, m.index));
    parts.push(compileCommand(m[1]!, m[2], m[3] ? Number(m[3]) : undefined));
    last = m.index! + m[0].length;
  }
  if (last < format.length) parts.push(format.slice(last));
  const withNewline = format.endsWith('\n');
  const empty = opts.omitEmptyValues ? '' : '-';
  return (s) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(s);
        out += v === null ? empty : String(v);
      }
    }
    return withNewline ? out : out + '\n';
  };
}

type JsonGetter = (s: StreamInfo) => unknown;

function compileJsonValue(f: unknown, opts: FormatOptions): JsonGetter {
  if (typeof f === 'string') {
    // A lone command keeps its type (a number stays a number); anything else is text.
    const whole = /^%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%$/.exec(f);
    if (whole) return compileCommand(whole[1]!, whole[2], whole[3] ? Number(whole[3]) : undefined);
    const text = compileTextFormat(f, opts);
    return (s) => text(s).slice(0, -1);
  }
  if (f !== null && typeof f === 'object' && !Array.isArray(f)) {
    const nested = compileJsonObject(f as Readonly<Record<string, unknown>>, opts);
    return nested;
  }
  // Numbers, booleans and null are written as they are (Envoy's json_format Struct values).
  if (typeof f === 'number' || typeof f === 'boolean' || f === null) return () => f;
  throw new Error(`JSON access log values are format strings, numbers, booleans or objects, not ${JSON.stringify(f)}`);
}

function compileJsonObject(format: Readonly<Record<string, unknown>>, opts: FormatOptions): (s: StreamInfo) => Record<string, unknown> {
  const fields = Object.entries(format).map(([key, f]): [string, JsonGetter] => [key, compileJsonValue(f, opts)]);
  const omit = opts.omitEmptyValues === true;
  return (s) => {
    const o: Record<string, unknown> = {};
    for (const [k, g] of fields) {
      const v = g(s);
      if (omit && (v === null || v === '')) continue;
      o[k] = v;
    }
    return o;
  };
}

/**
 * Compiles a JSON format (Envoy's json_format): each string value is a format string, and a lone
 * command keeps its type; nested objects nest; numbers and booleans are constants.
 */
export function compileJsonFormat(format: Readonly<Record<string, unknown>>, opts: FormatOptions = {}): (s: StreamInfo) => string {
  const object = compileJsonObject(format, opts);
  return (s) => JSON.stringify(object(s)) + '\n';
}

/**
 * Why Strait's formatter cannot compile this text or JSON format (an unknown command, a JSON
 * value that is not a format), or undefined when it can. The control plane warns with it and
 * writes Istio's default format instead, so no proxy rejects its listeners over a log format.
 */
export function formatProblem(format: string | Readonly<Record<string, unknown>>): string | undefined {
  try {
    if (typeof format === 'string') compileTextFormat(format);
    else compileJsonFormat(format);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
