// networking.istio.io ServiceEntry (istio/api networking/v1alpha3/service_entry.proto) and
// WorkloadEntry (workload_entry.proto): services the mesh does not learn from Kubernetes (external
// APIs, VMs) and their endpoints. Implemented and typed: hosts, addresses, ports, location,
// resolution (NONE, STATIC, DNS, DNS_ROUND_ROBIN), endpoints, exportTo, subjectAltNames; a
// standalone WorkloadEntry is typed too. Not implemented (warned): resolution DYNAMIC_DNS, and
// workloadSelector (selecting WorkloadEntries or pods by label).
//
// Istio's rules (ValidateServiceEntry, validateWorkloadEntry) are applied: hosts required and
// never `*`; CIDR addresses only with NONE/STATIC; unique port names and numbers; no endpoints
// with NONE; IP endpoints with STATIC; FQDN hosts when DNS has no endpoints; at most one endpoint
// with DNS_ROUND_ROBIN; several hosts only with HTTP or TLS ports; endpoint ports named after
// service ports.

import { enumOf, field, int, listOf, mapOf, mapped, obj, required, str, unsupported } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type { FieldPath, ServiceEntryPort, ServiceEntryResource, WorkloadEntry, WorkloadEntryResource } from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, labelMap, resourceSchema } from './common.js';
import { GATEWAY_PROTOCOLS } from './gateway.js';
import { ISTIO_NETWORKING_VERSIONS, checkExportTo, checkFqdn, checkIpOrCidr, checkWildcardDomain, isIpAddress, selectorLabels } from './istio-common.js';

const HTTP_OR_TLS = new Set(['HTTP', 'HTTPS', 'HTTP2', 'GRPC', 'GRPC-WEB', 'TLS']);
const UNIX = 'unix://';

// ---- WorkloadEntry -----------------------------------------------------------------------------

const workloadEntryFields = {
  address: field(str(), 'IP, hostname, or unix:// path; required unless network is set'),
  ports: field(mapOf(int({ min: 1, max: 65535 }), { keyRule: checkDns1123Label, expected: 'a map of port numbers' }), 'service port name to endpoint port'),
  labels: field(labelMap),
  network: field(str()),
  locality: field(str({ rule: (v) => (/^[^/]+(\/[^/]+){0,2}$/.test(v) ? undefined : 'region/zone/subzone') })),
  weight: field(int({ min: 0 }), 'load-balancing weight; default 1'),
  serviceAccount: field(str({ rule: checkDns1123Label })),
};

type CheckedWorkloadEntry = ObjectOf<typeof workloadEntryFields>;

/** Istio's validateWorkloadEntry; `allowHostnames` is false for STATIC endpoints. */
function checkWorkloadEntry(we: CheckedWorkloadEntry, r: Refiner, at: FieldPath, allowHostnames: boolean): void {
  const addr = we.address ?? '';
  if (addr === '') {
    if (we.network === undefined) r.error(at, 'missing-field', 'an endpoint needs an address', 'add address: <IP or host name>', 'key');
    return;
  }
  if (addr.startsWith(UNIX)) {
    if (addr.length === UNIX.length) r.error([...at, 'address'], 'invalid-value', 'a unix:// address needs a socket path', 'write unix:///path/to/socket');
    if (Object.keys(we.ports ?? {}).length > 0) r.error([...at, 'ports'], 'conflict', `unix endpoint ${addr} must not have ports`, 'remove ports', 'key');
    return;
  }
  if (isIpAddress(addr)) return;
  if (!allowHostnames) r.error([...at, 'address'], 'invalid-value', `endpoint address ${JSON.stringify(addr)} is not an IP address, which resolution STATIC requires`, 'use an IP address, or resolution: DNS for host names');
  else if (checkFqdn(addr) !== undefined) r.error([...at, 'address'], 'invalid-value', `endpoint address ${JSON.stringify(addr)} is neither an IP address nor a host name`, 'use an IP address or a host name');
}

const workloadEntrySchema = obj(workloadEntryFields);

function toWorkloadEntry(we: CheckedWorkloadEntry, path: FieldPath): WorkloadEntry {
  return {
    address: we.address ?? '',
    ports: we.ports ?? {},
    labels: we.labels ?? {},
    ...(we.network !== undefined ? { network: we.network } : {}),
    ...(we.locality !== undefined ? { locality: we.locality } : {}),
    ...(we.weight !== undefined && we.weight > 0 ? { weight: we.weight } : {}),
    ...(we.serviceAccount !== undefined ? { serviceAccount: we.serviceAccount } : {}),
    path,
  };
}

export const workloadEntryKind = defineKind({
  kind: 'WorkloadEntry',
  apiVersions: ISTIO_NETWORKING_VERSIONS,
  origin: 'Istio',
  schema: resourceSchema({ spec: required(workloadEntrySchema) }, undefined, {
    refine: (v, r) => checkWorkloadEntry(v.spec, r, ['spec'], true),
  }),
  convert(v, base): WorkloadEntryResource {
    return { ...base, kind: 'WorkloadEntry', spec: toWorkloadEntry(v.spec, ['spec']) };
  },
});

// ---- ServiceEntry ------------------------------------------------------------------------------

const servicePortSchema = mapped(
  obj({
    number: required(int({ min: 1, max: 65535 })),
    protocol: field(enumOf(GATEWAY_PROTOCOLS, { enumIgnoreCase: true }), 'absent: protocol sniffing'),
    name: required(str({ nonEmpty: true, rule: checkDns1123Label })),
    targetPort: field(int({ min: 1, max: 65535 }), 'endpoint port when it differs'),
  }),
  (p, path): ServiceEntryPort => ({
    number: p.number,
    ...(p.protocol !== undefined ? { protocol: p.protocol.toUpperCase() } : {}),
    name: p.name,
    ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
    path,
  }),
);

const RESOLUTIONS = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] as const;

const serviceEntrySpecFields = {
  hosts: required(listOf(str({ nonEmpty: true, rule: (h) => (h === '*' ? 'a host name; * alone is not allowed' : checkWildcardDomain(h)) }), { minItems: 1 })),
  addresses: field(listOf(str({ rule: checkIpOrCidr })), 'virtual IPs or CIDRs'),
  ports: field(
    listOf(servicePortSchema, {
      refine(ports, r) {
        const names = new Map<string, number>();
        const numbers = new Map<number, number>();
        ports.forEach((p, i) => {
          const n = names.get(p.name);
          if (n !== undefined) r.error([i, 'name'], 'duplicate-value', `port name "${p.name}" is already used by ports[${n}]`, 'give every port a different name');
          else names.set(p.name, i);
          const m = numbers.get(p.number);
          if (m !== undefined) r.error([i, 'number'], 'duplicate-value', `port ${p.number} is already defined by ports[${m}]`, 'remove the duplicate');
          else numbers.set(p.number, i);
        });
      },
    }),
  ),
  location: field(enumOf(['MESH_EXTERNAL', 'MESH_INTERNAL']), 'default MESH_EXTERNAL'),
  resolution: field(enumOf(RESOLUTIONS), 'default NONE'),
  endpoints: field(listOf(workloadEntrySchema)),
  workloadSelector: unsupported(obj({ labels: field(selectorLabels) }), 'selecting endpoints by label is not implemented: list them under endpoints'),
  exportTo: field(listOf(str({ nonEmpty: true })), 'defaults to * (every namespace)'),
  subjectAltNames: field(listOf(str()), 'accepted server identities'),
};

function checkServiceEntry(spec: ObjectOf<typeof serviceEntrySpecFields>, r: Refiner): void {
  const resolution = spec.resolution ?? 'NONE';
  const endpoints = spec.endpoints ?? [];
  const ports = spec.ports ?? [];
  if (spec.workloadSelector !== undefined && spec.endpoints !== undefined) {
    r.error(['workloadSelector'], 'conflict', 'only one of workloadSelector and endpoints may be set', 'remove one of the two', 'key');
  }
  const cidr = (spec.addresses ?? []).findIndex((a) => a.includes('/'));
  if (cidr >= 0 && resolution !== 'NONE' && resolution !== 'STATIC') {
    r.error(['addresses', cidr], 'invalid-value', `CIDR addresses are allowed only with resolution NONE or STATIC (this one is ${resolution})`, 'use single IP addresses, or resolution NONE');
  }
  if ((spec.addresses ?? []).length === 0) {
    const tcp = ports.findIndex((p) => p.protocol === undefined || p.protocol === 'TCP');
    if (tcp >= 0) {
      r.warn(['ports', tcp], 'tcp-without-address', `port ${ports[tcp].number} is TCP (or has no protocol) but the ServiceEntry has no addresses: plain TCP cannot tell its hosts apart by name`, 'add addresses (a virtual IP), or set the port protocol (HTTP, TLS, ...)', 'key');
    }
  }
  const names = new Set(ports.map((p) => p.name));
  const checkEndpointPorts = (i: number) => {
    for (const name of Object.keys(endpoints[i].ports ?? {})) {
      if (!names.has(name)) r.error(['endpoints', i, 'ports', name], 'invalid-key', `endpoint port ${name} is not a port name of this ServiceEntry (${[...names].join(', ') || 'none'})`, 'use the name of one of spec.ports', 'key');
    }
  };
  switch (resolution) {
    case 'NONE':
      if (endpoints.length > 0) r.error(['endpoints'], 'conflict', 'resolution NONE forwards to the address the client asked for, so endpoints cannot be set', 'remove endpoints, or use resolution STATIC or DNS', 'key');
      break;
    case 'STATIC':
      if (endpoints.length === 0 && spec.workloadSelector === undefined) {
        r.warn(['resolution'], 'no-endpoints', 'resolution STATIC without endpoints: requests to these hosts have nowhere to go (503)', 'add endpoints with IP addresses');
      }
      endpoints.forEach((e, i) => {
        checkWorkloadEntry(e, r, ['endpoints', i], false);
        checkEndpointPorts(i);
      });
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      if (endpoints.length === 0) {
        spec.hosts.forEach((h, i) => {
          if (checkFqdn(h) !== undefined) r.error(['hosts', i], 'invalid-value', `hosts must be fully qualified when resolution ${resolution} has no endpoints (${h} cannot be resolved)`, 'write a host name without wildcard, or add endpoints');
        });
      }
      if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) r.error(['endpoints'], 'invalid-value', `resolution DNS_ROUND_ROBIN takes at most one endpoint (found ${endpoints.length})`, 'keep one endpoint, or use resolution DNS', 'key');
      endpoints.forEach((e, i) => {
        checkWorkloadEntry(e, r, ['endpoints', i], true);
        checkEndpointPorts(i);
      });
      break;
    case 'DYNAMIC_DNS':
      r.warn(['resolution'], 'unsupported-value', 'resolution DYNAMIC_DNS is valid Istio but Strait does not implement it; these hosts get no endpoints', 'use resolution DNS with explicit hosts');
      break;
  }
  // Istio: plain TCP cannot tell several hosts apart, unless the hosts are ignored (NONE).
  if (resolution !== 'NONE' && spec.hosts.length > 1) {
    const i = ports.findIndex((p) => !HTTP_OR_TLS.has(p.protocol ?? ''));
    if (i >= 0) r.error(['ports', i, 'protocol'], 'invalid-value', `several hosts need HTTP or TLS ports to be told apart, but port ${ports[i].number} is ${ports[i].protocol ?? 'unspecified (TCP)'}`, 'use one host per ServiceEntry, or an HTTP/TLS protocol', 'key');
  }
}

export const serviceEntrySpecSchema = obj(serviceEntrySpecFields, { refine: checkServiceEntry });

export const serviceEntrySchema = resourceSchema({ spec: required(serviceEntrySpecSchema) }, undefined, {
  refine(v, r) {
    checkExportTo(v.spec.exportTo, v.metadata.namespace || 'default', r, ['spec', 'exportTo'], true);
  },
});

export const serviceEntryKind = defineKind({
  kind: 'ServiceEntry',
  apiVersions: ISTIO_NETWORKING_VERSIONS,
  origin: 'Istio',
  schema: serviceEntrySchema,
  convert(v, base): ServiceEntryResource {
    const s = v.spec;
    return {
      ...base,
      kind: 'ServiceEntry',
      spec: {
        hosts: s.hosts,
        addresses: s.addresses ?? [],
        ports: s.ports ?? [],
        location: s.location ?? 'MESH_EXTERNAL',
        resolution: s.resolution ?? 'NONE',
        endpoints: (s.endpoints ?? []).map((e, i) => toWorkloadEntry(e, ['spec', 'endpoints', i])),
        ...(s.exportTo !== undefined ? { exportTo: s.exportTo } : {}),
        subjectAltNames: s.subjectAltNames ?? [],
      },
    };
  },
});
