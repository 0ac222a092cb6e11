// Istio's HTTP metadata exchange: how the receiving sidecar learns which workload called. The
// calling proxy (a sidecar's outbound side, a gateway) adds `x-envoy-peer-metadata` to requests
// it sends to in-mesh services: its own workload labels as a base64 protobuf
// `google.protobuf.Struct` in Istio's node-metadata keys (WORKLOAD_NAME, NAMESPACE, CLUSTER_ID,
// LABELS). The receiving sidecar's inbound side removes the header (the application never sees
// it) and labels the request's source_* metrics from it. The principal is never taken from the
// header: it comes from the mTLS peer certificate alone. Inbound TCP has no headers and keeps
// the IP table of the stats config (stats-config.ts).

import { lookupType } from '../../xds/protos.js';
import { DEFAULT_CLUSTER_ID, labelsOfWorkload, UNKNOWN } from './labels.js';
import type { WorkloadLabels } from './labels.js';

export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID_HEADER = 'x-envoy-peer-metadata-id';

/** Distinct header values a proxy decodes and remembers; more are labelled unknown (forged values cannot grow memory). */
export const MAX_EXCHANGED_PEERS = 1000;

const struct = () => lookupType('google.protobuf.Struct');

const str = (v: string) => ({ stringValue: v });

/** The header value a proxy with these labels sends (computed once per config). */
export function encodePeerMetadata(local: WorkloadLabels): string {
  const labels: Record<string, { stringValue: string }> = {};
  if (local.app !== UNKNOWN) labels.app = str(local.app);
  if (local.version !== UNKNOWN) labels.version = str(local.version);
  labels['service.istio.io/canonical-name'] = str(local.canonicalService);
  labels['service.istio.io/canonical-revision'] = str(local.canonicalRevision);
  const t = struct();
  const msg = t.fromObject({
    fields: {
      WORKLOAD_NAME: str(local.workload),
      NAMESPACE: str(local.namespace),
      CLUSTER_ID: str(local.cluster),
      LABELS: { structValue: { fields: labels } },
    },
  });
  return Buffer.from(t.encode(msg).finish()).toString('base64');
}

/**
 * The labels a header value names (principal `unknown`: the caller fills it in), or null when
 * the value is not a Struct with at least a workload name and namespace.
 */
export function decodePeerMetadata(value: string): WorkloadLabels | null {
  let fields: Record<string, unknown>;
  try {
    const t = struct();
    // The codec's Struct wrapper (xds/protos.ts) reads a Struct as plain JSON.
    fields = t.toObject(t.decode(Buffer.from(value, 'base64'))) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof fields !== 'object' || fields === null) return null;
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  const workload = s(fields.WORKLOAD_NAME) || s(fields.NAME);
  const namespace = s(fields.NAMESPACE);
  if (!workload || !namespace) return null;
  const raw = typeof fields.LABELS === 'object' && fields.LABELS !== null ? (fields.LABELS as Record<string, unknown>) : {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
  return { ...labelsOfWorkload(workload, namespace, labels, undefined), cluster: s(fields.CLUSTER_ID) || DEFAULT_CLUSTER_ID };
}
