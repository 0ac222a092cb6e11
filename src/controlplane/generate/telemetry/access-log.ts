// The access logs of a proxy's HTTP connection managers and TCP proxies, as Istio's
// AccessLogBuilder writes them (pilot/pkg/networking/core/accesslog.go, model/telemetry_logging.go):
//
// - A Telemetry `accessLogging` entry (or MeshConfig defaultProviders.accessLogging) applies to
//   the workload (resolveTelemetry): each provider logging for the listener's direction gives one
//   access log. The direction is Istio's: sidecar inbound listeners are SERVER, sidecar outbound
//   and every gateway listener CLIENT. An empty list (all disabled) means no access log.
//   - the built-in `envoy` provider (or a provider named envoy without logFormat): the mesh
//     config's file format (below) at its path, /dev/stdout by default;
//   - an envoyFileAccessLog provider: its path (default /dev/stdout) and its text format (a
//     newline added when missing) or JSON labels ({} = Istio's default labels), else Istio's
//     default text format; omitEmptyValues as written;
//   - the entry's filter.expression as Envoy's CEL extension filter;
//   - other provider kinds (gRPC or OpenTelemetry log services) write nothing (the analyzer warns).
// - Otherwise MeshConfig alone: accessLogFile '' means none; else one log at that path, TEXT with
//   accessLogFormat or Istio's text format, JSON with the accessLogFormat object or Istio's JSON
//   labels.
//
// A format Strait's formatter cannot write was warned about when the config loaded; here it is
// replaced by Istio's default so that no proxy rejects its listeners over a log format.

import type { FileAccessLogProvider, MeshConfig } from '../../../config/types.js';
import { formatProblem, ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from '../../../telemetry/access-log/format.js';
import { CEL_ACCESS_LOG_FILTER, CEL_EXPRESSION_FILTER_TYPE, FILE_ACCESS_LOG_TYPE } from '../../../xds/resources.js';
import type { AccessLog, AccessLogFilter } from '../../../xds/resources.js';
import type { MeshSnapshot } from '../../model/mesh-snapshot.js';
import type { ProxyNode } from '../../model/proxy-node.js';
import type { ResolvedAccessLog } from '../../model/telemetry-scope.js';

/** Which listener the log is for (Istio's ListenerClass). */
export type AccessLogListenerClass = 'sidecar-inbound' | 'sidecar-outbound' | 'gateway';

const FILE_LOGGER = 'envoy.access_loggers.file';
const DEV_STDOUT = '/dev/stdout';
const BUILTIN_PROVIDER = 'envoy';

type LogFormat = { textFormatSource: { inlineString: string } } | { jsonFormat: Readonly<Record<string, unknown>> };

/** Istio inserts a newline at the end of every text format that lacks one. */
const withNewline = (f: string): string => (f.endsWith('\n') ? f : `${f}\n`);

function textFormat(text: string | undefined): LogFormat {
  const f = text ? withNewline(text) : ISTIO_TEXT_FORMAT;
  return { textFormatSource: { inlineString: formatProblem(f) === undefined ? f : ISTIO_TEXT_FORMAT } };
}

function jsonFormat(labels: Readonly<Record<string, unknown>> | undefined): LogFormat {
  const l = labels && Object.keys(labels).length > 0 && formatProblem(labels) === undefined ? labels : ISTIO_JSON_FORMAT;
  return { jsonFormat: l };
}

/** The mesh config's log format (Istio's FileAccessLogFromMeshConfig). */
function meshFormat(mesh: MeshConfig): LogFormat {
  if (mesh.accessLogEncoding !== 'JSON') return textFormat(mesh.accessLogFormat);
  let labels: Record<string, unknown> | undefined;
  if (mesh.accessLogFormat) {
    try {
      const v: unknown = JSON.parse(mesh.accessLogFormat);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) labels = v as Record<string, unknown>;
    } catch {
      // Istio logs the error and uses its default labels; the loader warned already.
    }
  }
  return jsonFormat(labels);
}

function fileLog(path: string, logFormat: LogFormat, omitEmptyValues: boolean, filter?: AccessLogFilter): AccessLog {
  return {
    name: FILE_LOGGER,
    ...(filter ? { filter } : {}),
    typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path, logFormat: { ...logFormat, ...(omitEmptyValues ? { omitEmptyValues: true } : {}) } },
  };
}

function providerFormat(p: FileAccessLogProvider): LogFormat {
  if (!p.logFormat) return textFormat(undefined);
  return 'text' in p.logFormat ? textFormat(p.logFormat.text) : jsonFormat(p.logFormat.labels);
}

/** Envoy's CEL extension filter for a Telemetry filter.expression. */
export function celFilter(expression: string): AccessLogFilter {
  return { extensionFilter: { name: CEL_ACCESS_LOG_FILTER, typedConfig: { '@type': CEL_EXPRESSION_FILTER_TYPE, expression } } };
}

function fromTelemetry(mesh: MeshConfig, entry: ResolvedAccessLog): AccessLog | undefined {
  const p = entry.provider.provider;
  if (p.type !== 'other' || p.kind !== 'envoyFileAccessLog') return undefined;
  const filter = entry.filter ? celFilter(entry.filter.expression) : undefined;
  const settings: FileAccessLogProvider = p.accessLog ?? { path: '', omitEmptyValues: false };
  const path = settings.path || DEV_STDOUT;
  // The built-in provider without a format of its own follows the mesh config's encoding and format.
  if (entry.provider.name === BUILTIN_PROVIDER && !settings.logFormat && !settings.omitEmptyValues) return fileLog(path, meshFormat(mesh), false, filter);
  return fileLog(path, providerFormat(settings), settings.omitEmptyValues, filter);
}

/**
 * The access logs of one listener class of this proxy: set them on every HTTP connection
 * manager and TCP proxy of that class.
 */
export function accessLogsFor(snapshot: MeshSnapshot, proxy: ProxyNode, cls: AccessLogListenerClass): AccessLog[] {
  const mesh = snapshot.meshConfig;
  const resolved = snapshot.telemetryFor({ namespace: proxy.namespace, labels: proxy.labels }).accessLogging;
  if (!resolved) return mesh.accessLogFile ? [fileLog(mesh.accessLogFile, meshFormat(mesh), false)] : [];
  const entries = cls === 'sidecar-inbound' ? resolved.server : resolved.client;
  return entries.flatMap((e) => fromTelemetry(mesh, e) ?? []);
}
