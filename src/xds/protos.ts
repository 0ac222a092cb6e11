// Loads Envoy's xDS .proto files (shipped in @grpc/grpc-js-xds under deps/) into one protobufjs
// Root, once per process. Before loading, it installs proto3-JSON mappings for the well-known
// types protobufjs does not map itself (Duration "1.5s", Struct as a plain object, wrapper types
// as bare values), so resources in src/xds/resources.ts encode and decode in their JSON shape.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  // The CEL access-log filter (Telemetry accessLogging filter.expression), an Any in AccessLogFilter.
  'envoy/extensions/access_loggers/filters/cel/v3/cel.proto',
  'google/rpc/status.proto',
  // HTTP filters Strait implements (src/filters/http/), so their typed configs travel over xDS.
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/ext_authz/v3/ext_authz.proto',
  // The authorization service ext_authz calls (CheckRequest / CheckResponse), not an xDS type.
  'envoy/service/auth/v3/external_auth.proto',
  // Filters configured by a typed struct (the istio.stats filter's stats.PluginConfig).
  'xds/type/v3/typed_struct.proto',
  // The tracers an HttpConnectionManager's tracing.provider names (Any-typed configs).
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  // RBAC's uri_template permission carries this typed extension config.
  'envoy/extensions/path/match/uri_template/v3/uri_template_match.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
];

function includeDirs(): string[] {
  const xds = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const dirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(xds, d));
  // google/protobuf/*.proto (descriptor.proto and friends) come with protobufjs itself.
  dirs.push(path.dirname(require.resolve('protobufjs/package.json')));
  return dirs;
}

type LongLike = number | { toNumber(): number };
const toNum = (v: LongLike | string | undefined): number =>
  v === undefined ? 0 : typeof v === 'object' ? v.toNumber() : Number(v);

/** Formats seconds + nanos as proto3 JSON ("1s", "0.250s", "-1.5s"). */
export function formatDuration(seconds: number, nanos: number): string {
  const total = seconds + nanos / 1e9;
  if (Number.isInteger(total)) return `${total}s`;
  return `${Number(total.toFixed(9))}s`;
}

const DURATION_RE = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

/** Parses proto3 JSON duration text; returns undefined when malformed. */
export function parseDurationParts(text: string): { seconds: number; nanos: number } | undefined {
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  const sign = m[1] ? -1 : 1;
  const seconds = Number(m[2]);
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  return { seconds: sign * seconds, nanos: sign * nanos };
}

type WrapperThis = protobuf.Type;

export const WRAPPER_TYPES = ['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'];

/**
 * protobufjs's generated fromObject only accepts objects for message fields, so proto3-JSON input
 * is converted by jsonToMessage() in codec.ts instead; these wrappers only map the output side
 * (toObject) of the well-known types to their proto3-JSON form.
 */
function installJsonWrappers(): void {
  const w = protobuf.wrappers as Record<string, protobuf.IWrapper>;
  const passThrough = function (this: WrapperThis, obj: Record<string, unknown>) {
    return this.fromObject(obj);
  };

  w['.google.protobuf.Duration'] = {
    fromObject: passThrough,
    toObject(this: WrapperThis, msg: protobuf.Message & { seconds?: LongLike; nanos?: number }) {
      return formatDuration(toNum(msg.seconds), msg.nanos ?? 0) as unknown as Record<string, unknown>;
    },
  };

  w['.google.protobuf.Struct'] = {
    fromObject: passThrough,
    toObject(this: WrapperThis, msg: protobuf.Message & { fields?: Record<string, protobuf.Message> }, opts?: protobuf.IConversionOptions) {
      const valueType = this.lookupType('google.protobuf.Value');
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(msg.fields ?? {})) out[k] = valueType.toObject(v, opts);
      return out;
    },
  };

  w['.google.protobuf.Value'] = {
    fromObject: passThrough,
    toObject(this: WrapperThis, msg: protobuf.Message, opts?: protobuf.IConversionOptions) {
      const m = msg as unknown as Record<string, unknown>;
      // Message prototypes carry field defaults, so ask the oneof which member is really set.
      switch (m.kind) {
        case 'numberValue':
        case 'stringValue':
        case 'boolValue':
          return m[m.kind] as Record<string, unknown>;
        case 'structValue':
          return this.lookupType('google.protobuf.Struct').toObject(m.structValue as protobuf.Message, opts);
        case 'listValue':
          return this.lookupType('google.protobuf.ListValue').toObject(m.listValue as protobuf.Message, opts);
        default:
          return null as unknown as Record<string, unknown>;
      }
    },
  };

  w['.google.protobuf.ListValue'] = {
    fromObject: passThrough,
    toObject(this: WrapperThis, m: protobuf.Message & { values?: protobuf.Message[] }, opts?: protobuf.IConversionOptions) {
      const valueType = this.lookupType('google.protobuf.Value');
      return (m.values ?? []).map((v) => valueType.toObject(v, opts)) as unknown as Record<string, unknown>;
    },
  };

  for (const name of WRAPPER_TYPES) {
    w[`.google.protobuf.${name}`] = {
      fromObject: passThrough,
      toObject(this: WrapperThis, m: protobuf.Message & { value?: unknown }, opts?: protobuf.IConversionOptions) {
        const o = this.toObject(m, { ...opts, defaults: true }) as { value: unknown };
        if (name.endsWith('64Value')) return toNum(o.value as LongLike) as unknown as Record<string, unknown>;
        return o.value as Record<string, unknown>;
      },
    };
  }
}

/**
 * protobufjs camel-cases a field name only where an underscore precedes a letter, so Envoy's
 * `consecutive_5xx` stays `consecutive_5xx`, while its proto3 JSON name (what resources.ts and
 * every xDS tool use) is `consecutive5xx`. Renames such fields to their JSON names once loaded,
 * so that encoding and decoding both use the JSON shape (field numbers are unchanged).
 */
function useJsonNames(ns: protobuf.NamespaceBase): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      for (const f of [...nested.fieldsArray]) {
        // Only underscores before digits: protobufjs's own well-known types keep `type_url`.
        const json = f.name.replace(/_(\d)/g, '$1');
        if (json === f.name || f.extend !== undefined || f instanceof protobuf.MapField || nested.fields[json]) continue;
        const oneof = f.partOf;
        oneof?.remove(f);
        nested.remove(f);
        const renamed = new protobuf.Field(json, f.id, f.type, f.repeated ? 'repeated' : f.required ? 'required' : undefined, undefined, f.options);
        nested.add(renamed);
        oneof?.add(renamed);
        // Loading has already resolved the root; the new field is resolved on its own.
        renamed.resolve();
      }
    }
    if (nested instanceof protobuf.Namespace) useJsonNames(nested);
  }
}

let root: protobuf.Root | undefined;

/** The Root with every xDS type Strait uses; loaded on first call (~100 ms), then cached. */
export function xdsRoot(): protobuf.Root {
  if (root) return root;
  installJsonWrappers();
  const dirs = includeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string) => {
    if (path.isAbsolute(target)) return target;
    for (const d of dirs) {
      const p = path.join(d, target);
      if (fs.existsSync(p)) return p;
    }
    return target;
  };
  r.loadSync(PROTO_FILES, { keepCase: false });
  r.resolveAll();
  useJsonNames(r);
  root = r;
  return r;
}

export function lookupType(fullName: string): protobuf.Type {
  return xdsRoot().lookupType(fullName);
}

export function lookupEnum(fullName: string): protobuf.Enum {
  return xdsRoot().lookupEnum(fullName);
}
