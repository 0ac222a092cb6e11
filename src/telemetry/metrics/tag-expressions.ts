// Values of Telemetry `tagOverrides` (UPSERT): Istio evaluates them as CEL over Envoy's attributes.
// Strait evaluates the forms people write in practice — a quoted literal, `request.host`,
// `request.method`, `request.headers['x-name']`, `response.code`, ... — compiled once into a
// function of the finished request. Anything else is reported by `strait validate` and yields
// `unknown`. Values read from the request are capped per series family (MAX_DISTINCT, then
// `other`), so a tag can never create unbounded series.

import type { StreamInfo } from '../../dataplane/http/stream-info.js';

export type TagValue = (info: StreamInfo) => string;

export interface CompiledTagExpression {
  readonly value: TagValue;
  /** A constant (the same for every request): resolved at config time. */
  readonly constant?: string;
  /** False when Strait does not evaluate this expression (the value is then `unknown`). */
  readonly supported: boolean;
  /** True when the value comes from the request and may take many values (path, headers). */
  readonly fromRequest: boolean;
}

/** Distinct request-derived values kept per tag before further ones are reported as `other`. */
export const MAX_DISTINCT = 100;

const header = (info: StreamInfo, name: string): string => {
  const v = info.requestHeaders[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};

const pathOnly = (p: string): string => {
  const q = p.indexOf('?');
  return q < 0 ? p : p.slice(0, q);
};

/** Envoy attribute names (request.*, response.*, connection.*, ...) Strait evaluates. */
const ATTRIBUTES: Readonly<Record<string, TagValue>> = {
  'request.host': (i) => i.authority,
  'request.method': (i) => i.method,
  'request.scheme': (i) => i.scheme,
  'request.protocol': (i) => i.protocol,
  'request.path': (i) => i.path,
  'request.url_path': (i) => pathOnly(i.path),
  'request.useragent': (i) => header(i, 'user-agent'),
  'request.referer': (i) => header(i, 'referer'),
  'request.id': (i) => header(i, 'x-request-id'),
  'response.code': (i) => String(i.responseCode),
  'response.code_details': (i) => i.responseCodeDetails,
  'response.flags': (i) => (i.responseFlags.length ? i.responseFlags.join(',') : '-'),
  'connection.mtls': (i) => String(i.peerCertificate !== null),
  'connection.requested_server_name': (i) => i.requestedServerName,
  'destination.port': (i) => portOf(i.downstreamLocalAddress),
  'upstream.port': (i) => portOf(i.upstreamHost),
  'xds.cluster_name': (i) => i.upstreamCluster,
  'xds.route_name': (i) => i.routeName,
};

/** Attributes whose values are a small fixed set (safe without a cap). */
const BOUNDED = new Set(['request.method', 'request.scheme', 'request.protocol', 'response.code', 'response.flags', 'connection.mtls', 'destination.port', 'upstream.port', 'xds.cluster_name', 'xds.route_name']);

function portOf(hostPort: string): string {
  const i = hostPort.lastIndexOf(':');
  return i < 0 ? '' : hostPort.slice(i + 1);
}

/** Compiles one tag override value; never throws. */
export function compileTagExpression(expr: string): CompiledTagExpression {
  const e = expr.trim();
  const literal = /^'([^'\\]*)'$|^"([^"\\]*)"$/.exec(e);
  if (literal) {
    const v = literal[1] ?? literal[2] ?? '';
    return { value: () => v, constant: v, supported: true, fromRequest: false };
  }
  // string(x) is a no-op here: every value is already a string.
  const inner = /^string\((.+)\)$/.exec(e)?.[1]?.trim() ?? e;
  const attr = ATTRIBUTES[inner];
  if (attr) return { value: attr, supported: true, fromRequest: !BOUNDED.has(inner) };
  const hdr = /^request\.headers\[\s*['"]([A-Za-z0-9!#$%&'*+.^_`|~-]+)['"]\s*\]$/.exec(inner);
  if (hdr) {
    const name = hdr[1]!.toLowerCase();
    return { value: (i) => header(i, name), supported: true, fromRequest: true };
  }
  return { value: () => 'unknown', constant: 'unknown', supported: false, fromRequest: false };
}
