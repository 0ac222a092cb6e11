// Who is asking for config: parsed from the xDS Node a proxy sends on its first request, in
// Istio's format. The id is `<type>~<ip>~<pod>.<namespace>~<namespace>.svc.<suffix>`; labels,
// namespace and service account travel in node.metadata (LABELS, NAMESPACE, SERVICE_ACCOUNT).

import type { Node } from '../../xds/resources.js';

export type ProxyType = 'sidecar' | 'router';

export interface ProxyNode {
  readonly id: string;
  readonly type: ProxyType;
  readonly ip: string;
  readonly podName: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
}

export function proxyNodeId(type: ProxyType, ip: string, pod: string, namespace: string, domainSuffix: string): string {
  return `${type}~${ip}~${pod}.${namespace}~${namespace}.svc.${domainSuffix}`;
}

export function parseProxyNode(node: Node | undefined): ProxyNode | string {
  if (!node?.id) return 'the first request must carry node.id';
  const parts = node.id.split('~');
  if (parts.length !== 4) return `node id "${node.id}" is not <type>~<ip>~<pod>.<namespace>~<domain>`;
  const [type, ip, podDotNs] = parts as [string, string, string, string];
  if (type !== 'sidecar' && type !== 'router') return `node id "${node.id}": type must be sidecar or router`;
  const md = (node.metadata ?? {}) as Record<string, unknown>;
  const dot = podDotNs.lastIndexOf('.');
  const podName = typeof md.NAME === 'string' ? md.NAME : dot > 0 ? podDotNs.slice(0, dot) : podDotNs;
  const namespace = typeof md.NAMESPACE === 'string' ? md.NAMESPACE : dot > 0 ? podDotNs.slice(dot + 1) : 'default';
  const labels: Record<string, string> = {};
  if (md.LABELS && typeof md.LABELS === 'object') {
    for (const [k, v] of Object.entries(md.LABELS as Record<string, unknown>)) if (typeof v === 'string') labels[k] = v;
  }
  return {
    id: node.id,
    type,
    ip,
    podName,
    namespace,
    labels,
    serviceAccount: typeof md.SERVICE_ACCOUNT === 'string' ? md.SERVICE_ACCOUNT : 'default',
  };
}
