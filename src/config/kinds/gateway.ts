// networking.istio.io Gateway (istio/api networking/v1alpha3/gateway.proto): the ports, protocols
// and hosts the ingress gateway serves. Strait implements selector, servers[].port, hosts, name
// and bind now. `tls` is checked against the full ServerTLSSettings message and kept as written
// (TLS termination arrives later), with a warning; `defaultEndpoint` is unsupported. The rules
// Istio's validation applies (port name required, hosts non-empty, TLS settings required for
// HTTPS/TLS servers and refused for plain HTTP ones) are applied here too, so a Gateway that
// passes `strait validate` also passes Istio.

import { bool, enumOf, field, int, listOf, obj, required, str, unsupported } from '../schema.js';
import type { GatewayResource, GatewayServer } from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, labelMap, resourceSchema } from './common.js';
import { ISTIO_NETWORKING_VERSIONS, tlsModes } from './istio-common.js';

/** Protocols Istio's protocol.Parse accepts (case-insensitively); Strait upper-cases them. */
export const GATEWAY_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'TCP', 'TLS', 'REDIS', 'MYSQL', 'UDP', 'HTTP_PROXY'] as const;
const HTTP_FAMILY = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY']);
const TLS_FAMILY = new Set(['HTTPS', 'TLS']);

const tlsVersions = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

/** ServerTLSSettings, complete, so typos inside `tls` are caught even though TLS is not served yet. */
export const serverTlsSchema = obj({
  httpsRedirect: field(bool()),
  mode: field(enumOf(tlsModes)),
  serverCertificate: field(str()),
  privateKey: field(str()),
  caCertificates: field(str()),
  caCrl: field(str()),
  credentialName: field(str()),
  credentialNames: field(listOf(str())),
  caCertCredentialName: field(str()),
  tlsCertificates: field(listOf(obj({ serverCertificate: field(str()), privateKey: field(str()), caCertificates: field(str()) }))),
  subjectAltNames: field(listOf(str())),
  verifyCertificateSpki: field(listOf(str())),
  verifyCertificateHash: field(listOf(str())),
  minProtocolVersion: field(enumOf(tlsVersions)),
  maxProtocolVersion: field(enumOf(tlsVersions)),
  cipherSuites: field(listOf(str())),
  insecureSkipVerify: field(bool()),
});

/** `[namespace/]dnsName`: namespace is `*`, `.` or a namespace name; dnsName may start with `*`. */
export function checkServerHost(h: string): string | undefined {
  const rule = 'a host as [namespace/]dnsName: namespace is *, . or a namespace name; dnsName is *, or a DNS name that may start with *.';
  const slash = h.indexOf('/');
  const ns = slash >= 0 ? h.slice(0, slash) : undefined;
  const dns = slash >= 0 ? h.slice(slash + 1) : h;
  if (ns !== undefined && ns !== '*' && ns !== '.' && checkDns1123Label(ns) !== undefined) return rule;
  if (dns === '*') return undefined;
  const name = dns.startsWith('*.') ? dns.slice(2) : dns;
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || labels.some((l) => checkDns1123Label(l.toLowerCase()) !== undefined)) return rule;
  return undefined;
}

export const gatewayPortSchema = obj({
  number: required(int({ min: 1, max: 65535 })),
  protocol: required(enumOf(GATEWAY_PROTOCOLS, { enumIgnoreCase: true })),
  name: required(str({ nonEmpty: true }), 'Istio requires it'),
  targetPort: field(int({ min: 1, max: 65535 }), 'deprecated in Istio; only meaningful with ServiceEntries'),
});

export const gatewayServerSchema = obj(
  {
    port: required(gatewayPortSchema),
    hosts: required(listOf(str({ nonEmpty: true, rule: checkServerHost }), { minItems: 1 })),
    name: field(str()),
    bind: field(str()),
    tls: unsupported(serverTlsSchema, 'TLS termination arrives in a later release; the settings are kept as written'),
    defaultEndpoint: unsupported(str()),
  },
  {
    refine(server, r) {
      const protocol = server.port.protocol.toUpperCase();
      if (TLS_FAMILY.has(protocol) && server.tls === undefined) {
        r.error(['port', 'protocol'], 'missing-field', `a ${protocol} server needs tls settings`, 'add `tls:` with mode and credentialName, or use protocol HTTP');
      }
      // Istio allows `tls` on plain HTTP servers only for httpsRedirect (mode left at its
      // PASSTHROUGH default and no certificates).
      const tls = server.tls;
      if (HTTP_FAMILY.has(protocol) && tls !== undefined) {
        const passThrough = tls.mode === undefined || tls.mode === 'PASSTHROUGH' || tls.mode === 'AUTO_PASSTHROUGH';
        if (!passThrough || tls.serverCertificate !== undefined || tls.privateKey !== undefined || tls.caCertificates !== undefined) {
          r.error(['tls'], 'invalid-value', `a plain ${protocol} server cannot have TLS settings other than httpsRedirect`, 'use protocol HTTPS for a TLS server, or keep only httpsRedirect', 'key');
        }
      }
    },
  },
);

export const gatewaySpecSchema = obj({
  selector: field(labelMap, 'defaults to {} (every gateway)'),
  servers: required(listOf(gatewayServerSchema, { minItems: 1 })),
});

export const gatewaySchema = resourceSchema({ spec: required(gatewaySpecSchema) });

export const gatewayKind = defineKind({
  kind: 'Gateway',
  apiVersions: ISTIO_NETWORKING_VERSIONS,
  origin: 'Istio',
  schema: gatewaySchema,
  convert(v, base): GatewayResource {
    const servers = v.spec.servers.map(
      (s): GatewayServer => ({
        port: {
          number: s.port.number,
          name: s.port.name,
          protocol: s.port.protocol.toUpperCase(),
          ...(s.port.targetPort !== undefined ? { targetPort: s.port.targetPort } : {}),
        },
        hosts: s.hosts,
        ...(s.name !== undefined ? { name: s.name } : {}),
        ...(s.bind !== undefined ? { bind: s.bind } : {}),
        ...(s.tls !== undefined ? { tls: s.tls } : {}),
      }),
    );
    return { ...base, kind: 'Gateway', spec: { selector: v.spec.selector ?? {}, servers } };
  },
});
