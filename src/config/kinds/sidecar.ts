// networking.istio.io Sidecar (istio/api networking/v1alpha3/sidecar.proto): which outbound
// hosts and ports a workload's proxy is configured for, and what it does with unknown hosts.
// Implemented and typed: workloadSelector, egress[] (port, bind, captureMode, hosts) and
// outboundTrafficPolicy.mode. Valid but not implemented (warned): ingress[] listeners,
// inboundConnectionPool, and outboundTrafficPolicy.egressProxy. Istio's rules (ValidateSidecar)
// are applied: a Sidecar must configure something, egress hosts are `namespace/host`, only the
// last egress listener may omit its port, ports are unique, targetPort has no meaning here.

import { anyValue, enumOf, field, int, listOf, mapped, obj, required, str, unsupported } from '../schema.js';
import type { IstioEgressListener, SidecarResource } from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, resourceSchema } from './common.js';
import { GATEWAY_PROTOCOLS } from './gateway.js';
import { ISTIO_NETWORKING_VERSIONS, checkWildcardDomain, destinationSchema, isIpAddress, selectorLabels } from './istio-common.js';

/** `namespace/dnsName`: namespace `*`, `.`, `~` or a name; dnsName `*` or a (wildcard) host. */
export function checkEgressHost(h: string): string | undefined {
  const rule = 'namespace/host: the namespace is *, ., ~ or a namespace name; the host is * or a host name (optionally starting with *.)';
  const slash = h.indexOf('/');
  if (slash < 0) return rule;
  const ns = h.slice(0, slash);
  const host = h.slice(slash + 1);
  if (ns !== '*' && ns !== '.' && ns !== '~' && checkDns1123Label(ns) !== undefined) return rule;
  if (host !== '*' && checkWildcardDomain(host) !== undefined) return rule;
  return undefined;
}

const sidecarPortSchema = obj({
  number: required(int({ min: 0, max: 65535 }), '0 only with a unix:// bind'),
  protocol: field(enumOf(GATEWAY_PROTOCOLS, { enumIgnoreCase: true })),
  name: field(str({ rule: checkDns1123Label })),
  targetPort: field(int({ min: 1, max: 65535 }), 'has no meaning on a Sidecar (Istio rejects it)'),
});

const bindRule = (v: string) => (v.startsWith('unix://') ? (v.length > 'unix://'.length ? undefined : 'a unix:// socket path') : isIpAddress(v) ? undefined : 'an IP address or a unix:// path');

const egressSchema = mapped(
  obj(
    {
      port: field(sidecarPortSchema, 'absent: the catch-all listener (last only)'),
      bind: field(str({ rule: bindRule })),
      captureMode: field(enumOf(['DEFAULT', 'IPTABLES', 'NONE']), 'default DEFAULT'),
      hosts: required(listOf(str({ nonEmpty: true, rule: checkEgressHost }), { minItems: 1 }), 'namespace/host, e.g. ./* or istio-system/*'),
    },
    {
      refine(e, r) {
        if (e.port?.targetPort !== undefined) r.error(['port', 'targetPort'], 'invalid-value', 'targetPort has no meaning on a Sidecar (Istio rejects it)', 'remove targetPort', 'key');
        if (e.port?.number === 0 && !(e.bind ?? '').startsWith('unix://')) {
          r.error(['port', 'number'], 'invalid-value', 'port 0 is allowed only with a unix:// bind address', 'use a port number between 1 and 65535');
        }
      },
    },
  ),
  (e, path): IstioEgressListener => ({
    ...(e.port !== undefined
      ? { port: { number: e.port.number, ...(e.port.protocol !== undefined ? { protocol: e.port.protocol.toUpperCase() } : {}), ...(e.port.name !== undefined ? { name: e.port.name } : {}) } }
      : {}),
    ...(e.bind !== undefined ? { bind: e.bind } : {}),
    captureMode: e.captureMode ?? 'DEFAULT',
    hosts: e.hosts,
    path,
  }),
);

export const sidecarSpecSchema = obj(
  {
    workloadSelector: field(obj({ labels: field(selectorLabels) }), 'absent: every workload of the namespace'),
    ingress: unsupported(listOf(anyValue('an ingress listener')), 'inbound listeners are generated from the Service ports'),
    egress: field(listOf(egressSchema)),
    inboundConnectionPool: unsupported(anyValue('connection pool settings'), 'inbound connection limits are not implemented'),
    outboundTrafficPolicy: field(
      obj({
        mode: field(enumOf(['REGISTRY_ONLY', 'ALLOW_ANY']), 'REGISTRY_ONLY when the block is written without mode (the proto\'s zero value)'),
        egressProxy: unsupported(destinationSchema, 'forwarding unknown hosts to an egress proxy is not implemented'),
      }),
    ),
  },
  {
    refine(s, r) {
      if ((s.egress ?? []).length === 0 && s.ingress === undefined && s.outboundTrafficPolicy === undefined && s.inboundConnectionPool === undefined) {
        r.error([], 'missing-field', 'a Sidecar needs egress, ingress or outboundTrafficPolicy', 'add egress with the hosts this workload calls, e.g. hosts: ["./*", "istio-system/*"]', 'key');
      }
      if (s.workloadSelector !== undefined && Object.keys(s.workloadSelector.labels ?? {}).length === 0) {
        r.warn(['workloadSelector'], 'empty-selector', 'workloadSelector has no labels, so this Sidecar applies to every workload of the namespace', 'add labels, or remove workloadSelector', 'key');
      }
      const policy = s.outboundTrafficPolicy;
      if (policy?.egressProxy !== undefined && policy.mode !== 'ALLOW_ANY') {
        r.error(['outboundTrafficPolicy', 'egressProxy'], 'conflict', 'egressProxy can be set only with mode ALLOW_ANY', 'set mode: ALLOW_ANY, or remove egressProxy', 'key');
      }
      const egress = s.egress ?? [];
      const ports = new Map<number, number>();
      egress.forEach((e, i) => {
        if (e.port === undefined) {
          if (i !== egress.length - 1) r.error(['egress', i], 'invalid-value', 'only the last egress listener may omit its port (it is the catch-all)', 'add a port, or move this listener to the end', 'key');
          return;
        }
        if (e.port.number !== 0) {
          const first = ports.get(e.port.number);
          if (first !== undefined) r.error(['egress', i, 'port', 'number'], 'duplicate-value', `port ${e.port.number} is already used by egress[${first}]`, 'use each port once');
          else ports.set(e.port.number, i);
        }
      });
    },
  },
);

export const sidecarKind = defineKind({
  kind: 'Sidecar',
  apiVersions: ISTIO_NETWORKING_VERSIONS,
  origin: 'Istio',
  schema: resourceSchema({ spec: required(sidecarSpecSchema) }),
  convert(v, base): SidecarResource {
    const s = v.spec;
    const policy = s.outboundTrafficPolicy;
    return {
      ...base,
      kind: 'Sidecar',
      spec: {
        ...(s.workloadSelector !== undefined ? { workloadSelector: { labels: s.workloadSelector.labels ?? {} } } : {}),
        egress: s.egress ?? [],
        ...(policy !== undefined ? { outboundTrafficPolicy: { mode: policy.mode ?? 'REGISTRY_ONLY' } } : {}),
      },
    };
  },
});
