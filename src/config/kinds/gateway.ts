// networking.istio.io Gateway (istio/api networking/v1alpha3/gateway.proto): the ports, protocols
// and hosts the ingress gateway serves, and how it terminates TLS. Implemented: selector,
// servers[].port, hosts, name, bind, and tls (ServerTLSSettings, typed with defaults applied).
// Certificates come from Secrets (credentialName/credentialNames/caCertCredentialName); the file
// path fields (serverCertificate, privateKey, caCertificates, caCrl, tlsCertificates) are valid
// Istio, checked by Istio's rules, and warned about: Strait runs proxies on machines where those
// paths mean nothing, and resolving them next to the manifest would make a manifest behave
// differently under Istio. `defaultEndpoint` is unsupported. The rules of Istio's validation
// (port name required, hosts non-empty, TLS settings required for HTTPS/TLS servers and refused
// for plain HTTP ones, one certificate source, ...) are applied here too, so a Gateway that passes
// `strait validate` also passes Istio.

import { bool, enumOf, field, int, listOf, mapped, obj, required, str, unsupported } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type { GatewayResource, GatewayServer, ServerTLSSettings } from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, labelMap, resourceSchema } from './common.js';
import { ISTIO_NETWORKING_VERSIONS } from './istio-common.js';

/** Protocols Istio's protocol.Parse accepts (case-insensitively); Strait upper-cases them. */
export const GATEWAY_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'TCP', 'TLS', 'REDIS', 'MYSQL', 'UDP', 'HTTP_PROXY'] as const;
const HTTP_FAMILY = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY']);
const TLS_FAMILY = new Set(['HTTPS', 'TLS']);

export const SERVER_TLS_MODES = ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] as const;
const TLS_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

/**
 * Cipher suite names Envoy (BoringSSL) accepts, including the bracketed equal-preference groups
 * of its default list. Istio warns about (and drops) any other name; so do we.
 */
const CIPHER_SUITES = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-PSK-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA', 'ECDHE-PSK-AES128-CBC-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-PSK-AES256-CBC-SHA',
  'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'PSK-AES128-CBC-SHA', 'AES256-SHA', 'PSK-AES256-CBC-SHA', 'DES-CBC3-SHA',
  '[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]', '[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]',
]);

const FILE_NOTE = 'a file path on the proxy\'s machine; Strait reads certificates from Secrets only: use credentialName';

/** ServerTLSSettings, complete; Istio's rules are in checkServerTls. */
const serverTlsFields = {
  httpsRedirect: field(bool(), 'plain HTTP requests get a 301 to https; default false'),
  mode: field(enumOf(SERVER_TLS_MODES), 'default PASSTHROUGH (Istio\'s zero value)'),
  serverCertificate: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  privateKey: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  caCertificates: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  caCrl: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  credentialName: field(str({ nonEmpty: true }), 'a Secret in the gateway proxy\'s namespace (tls.crt/tls.key, or cert/key; ca.crt or <name>-cacert for MUTUAL)'),
  credentialNames: field(listOf(str({ nonEmpty: true })), 'up to two Secrets (e.g. RSA and ECDSA)'),
  caCertCredentialName: field(str({ nonEmpty: true }), 'a Secret with the client CA bundle'),
  tlsCertificates: unsupported(listOf(obj({ serverCertificate: field(str()), privateKey: field(str()), caCertificates: field(str()) })), FILE_NOTE, { ownWarning: true }),
  subjectAltNames: field(listOf(str()), 'accepted client certificate SANs'),
  verifyCertificateSpki: field(listOf(str()), 'accepted client certificate SPKI hashes (base64 SHA-256)'),
  verifyCertificateHash: field(listOf(str()), 'accepted client certificate hashes (hex SHA-256)'),
  minProtocolVersion: field(enumOf(TLS_VERSIONS), 'default TLS_AUTO (TLS 1.2)'),
  maxProtocolVersion: field(enumOf(TLS_VERSIONS), 'default TLS_AUTO (TLS 1.3)'),
  cipherSuites: field(listOf(str()), 'OpenSSL names; default: Envoy\'s list'),
  insecureSkipVerify: unsupported(bool(), 'meaningful for client TLS only'),
};

type CheckedServerTls = ObjectOf<typeof serverTlsFields>;

/** ServerTLSSettings with defaults applied. */
export const serverTlsSchema = mapped(
  obj(serverTlsFields, { refine: checkServerTls }),
  (t): ServerTLSSettings => ({
    httpsRedirect: t.httpsRedirect ?? false,
    mode: t.mode ?? 'PASSTHROUGH',
    ...(t.credentialName !== undefined ? { credentialName: t.credentialName } : {}),
    credentialNames: t.credentialNames ?? [],
    ...(t.caCertCredentialName !== undefined ? { caCertCredentialName: t.caCertCredentialName } : {}),
    subjectAltNames: t.subjectAltNames ?? [],
    verifyCertificateSpki: t.verifyCertificateSpki ?? [],
    verifyCertificateHash: t.verifyCertificateHash ?? [],
    minProtocolVersion: t.minProtocolVersion ?? 'TLS_AUTO',
    maxProtocolVersion: t.maxProtocolVersion ?? 'TLS_AUTO',
    cipherSuites: t.cipherSuites ?? [],
  }),
);

const FILE_FIELDS = ['serverCertificate', 'privateKey', 'caCertificates', 'caCrl', 'tlsCertificates'] as const;

/** Istio's validateTLSOptions, field by field, plus Strait's warning for certificate file paths. */
function checkServerTls(t: CheckedServerTls, r: Refiner): void {
  const mode = t.mode ?? 'PASSTHROUGH';
  const has = (k: keyof CheckedServerTls) => t[k] !== undefined && !(Array.isArray(t[k]) && (t[k] as unknown[]).length === 0);
  if (mode === 'ISTIO_MUTUAL') {
    for (const k of [...FILE_FIELDS, 'credentialName', 'credentialNames'] as const) {
      if (k !== 'caCrl' && has(k)) r.error([k], 'conflict', `ISTIO_MUTUAL uses the mesh certificates, so ${k} cannot be set`, `remove ${k}, or use mode SIMPLE or MUTUAL`, 'key');
    }
    return;
  }
  const passthrough = mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
  if (passthrough) {
    const certs = ([...FILE_FIELDS, 'credentialName', 'credentialNames'] as const).filter(has);
    if (certs.length > 0 && t.mode !== undefined) {
      r.warn([certs[0]], 'ignored-certificate', `${mode} does not terminate TLS, so ${certs.join(' and ')} ${certs.length === 1 ? 'is' : 'are'} ignored`, 'remove the certificate settings, or use mode SIMPLE to terminate TLS', 'key');
    } else if (certs.length > 0) {
      r.warn([certs[0]], 'ignored-certificate', `no mode is set, so the mode is PASSTHROUGH (Istio's default) and ${certs.join(' and ')} ${certs.length === 1 ? 'is' : 'are'} ignored`, 'add `mode: SIMPLE` to terminate TLS with this certificate', 'key');
    }
  }
  const sources = [has('serverCertificate') && has('privateKey'), has('credentialName'), has('credentialNames'), has('tlsCertificates')].filter(Boolean).length;
  if (sources > 1) {
    r.error([], 'conflict', 'only one of credentialName, credentialNames, serverCertificate/privateKey and tlsCertificates may be set', 'keep one certificate source', 'key');
  }
  if ((t.credentialNames ?? []).length > 2) r.error(['credentialNames'], 'invalid-value', `${t.credentialNames?.length} credentialNames: at most 2 are allowed (one RSA and one ECDSA certificate)`, 'keep at most two', 'key');
  const terminating = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  const fromSecret = has('credentialName') || has('credentialNames');
  if (terminating && !fromSecret) {
    const prefix = mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
    if (!has('serverCertificate') && !has('tlsCertificates')) {
      r.error(['mode'], 'missing-field', `${prefix} needs a certificate: credentialName (a Secret) or serverCertificate and privateKey`, 'add credentialName: <name of a kubernetes.io/tls Secret in the gateway\'s namespace>');
    } else if (has('serverCertificate') && !has('privateKey')) {
      r.error(['serverCertificate'], 'missing-field', `${prefix} requires a private key with serverCertificate`, 'add privateKey, or use credentialName', 'key');
    } else if (mode !== 'SIMPLE' && !has('caCertificates')) {
      r.error(['mode'], 'missing-field', `${prefix} requires a client CA bundle (caCertificates) when certificates come from files`, 'add caCertificates, or use credentialName with a ca.crt key');
    }
  }
  if (has('caCrl') && has('credentialName')) r.error(['caCrl'], 'conflict', 'caCrl cannot be used with credentialName: the CRL has to be in the credential', 'put the CRL in the Secret (ca.crl), and remove caCrl', 'key');
  if (has('caCrl') && mode === 'SIMPLE') r.error(['caCrl'], 'conflict', 'caCrl is not supported with SIMPLE TLS (no client certificates are checked)', 'remove caCrl, or use mode MUTUAL', 'key');
  // The file paths are valid Istio, but Strait never reads files on the proxy's machine.
  for (const k of FILE_FIELDS) {
    if (has(k)) {
      r.warn([k], 'unsupported-field', `field '${k}' is a file path on the proxy's machine, which Strait does not read; it is ignored`, `put the certificate in a Secret and use credentialName instead of ${k}`, 'key');
    }
  }
  const order = (v: string | undefined) => (v === undefined || v === 'TLS_AUTO' ? undefined : TLS_VERSIONS.indexOf(v as (typeof TLS_VERSIONS)[number]));
  const min = order(t.minProtocolVersion);
  const max = order(t.maxProtocolVersion);
  if (min !== undefined && max !== undefined && min > max) {
    r.error(['minProtocolVersion'], 'conflict', `minProtocolVersion ${t.minProtocolVersion} is above maxProtocolVersion ${t.maxProtocolVersion}`, 'lower minProtocolVersion or raise maxProtocolVersion');
  }
  if ((t.minProtocolVersion === 'TLSV1_0' || t.minProtocolVersion === 'TLSV1_1') && (t.cipherSuites ?? []).length === 0) {
    r.warn(['minProtocolVersion'], 'tls-old-version', `${t.minProtocolVersion} needs cipherSuites compatible with it: the default list has none`, 'add cipherSuites for TLS 1.0/1.1 clients (e.g. ECDHE-RSA-AES128-SHA), or use TLSV1_2');
  }
  const seen = new Set<string>();
  (t.cipherSuites ?? []).forEach((c, i) => {
    if (!CIPHER_SUITES.has(c)) r.warn(['cipherSuites', i], 'unknown-cipher-suite', `cipher suite ${JSON.stringify(c)} is not one Envoy knows; it is ignored`, 'use an OpenSSL name such as ECDHE-RSA-AES128-GCM-SHA256');
    else if (seen.has(c)) r.warn(['cipherSuites', i], 'duplicate-value', `cipher suite ${c} is listed twice; the second is ignored`, 'remove the duplicate');
    seen.add(c);
  });
}

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
    tls: field(serverTlsSchema, 'required for HTTPS and TLS servers'),
    defaultEndpoint: unsupported(str(), 'forwarding to a fixed endpoint without routes is not implemented'),
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
        const certificate = tls.credentialName !== undefined || tls.credentialNames.length > 0;
        if (tls.mode !== 'PASSTHROUGH' && tls.mode !== 'AUTO_PASSTHROUGH') {
          r.error(['tls', 'mode'], 'invalid-value', `a plain ${protocol} server cannot terminate TLS (mode ${tls.mode}); only httpsRedirect is allowed here`, 'use protocol HTTPS for a TLS server, or keep only httpsRedirect');
        } else if (certificate) {
          r.error(['tls'], 'invalid-value', `a plain ${protocol} server cannot have TLS settings other than httpsRedirect`, 'use protocol HTTPS for a TLS server, or keep only httpsRedirect', 'key');
        }
      }
      if (!TLS_FAMILY.has(protocol) && !HTTP_FAMILY.has(protocol) && tls !== undefined) {
        r.error(['tls'], 'invalid-value', `a ${protocol} server cannot have TLS settings (only HTTPS and TLS servers)`, 'use protocol TLS, or remove tls', 'key');
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
      (s, i): GatewayServer => ({
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
        path: ['spec', 'servers', i],
      }),
    );
    return { ...base, kind: 'Gateway', spec: { selector: v.spec.selector ?? {}, servers } };
  },
});
