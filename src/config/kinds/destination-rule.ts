// networking.istio.io DestinationRule (istio/api networking/v1alpha3/destination_rule.proto):
// what happens to traffic for a host after routing, per subset and per port: load balancing
// (simple or consistent hash), connection pool limits, outlier detection and upstream TLS.
// Implemented and typed: host, subsets, exportTo, workloadSelector, and trafficPolicy with
// loadBalancer (simple, consistentHash), connectionPool (tcp, http), outlierDetection, tls and
// portLevelSettings. Valid but not implemented (warned): localityLbSetting, zoneAwareLbSetting,
// warmup/warmupDurationSecs, http2KeepAlive, outlierDetectionHttpErrorCodes, tunnel,
// proxyProtocol, and the certificate file paths of tls (Strait reads Secrets).
//
// Istio's defaults are written in the type comments (types.ts) rather than applied, except where
// the API defines the value (enum zero values, booleans), so the generators can tell "not set"
// from "set to the default" as Envoy does. Istio's rules (validation.go: validateTrafficPolicy,
// validateLoadBalancer, validateConnectionPool, validateOutlierDetection, ValidateTLS, subset
// names) are applied here.

import { anyValue, bool, enumOf, field, int, listOf, mapOf, mapped, num, obj, required, str, unsupported } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  ConsistentHashLB,
  DestinationRuleResource,
  LoadBalancerSettings,
  OutlierDetection,
  PortTrafficPolicy,
  SimpleLB,
  Subset,
  TrafficPolicy,
} from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, labelMap, resourceSchema } from './common.js';
import { ISTIO_NETWORKING_VERSIONS, checkExportTo, checkWildcardDomain, durationSchema, intPercent, percentSchema, selectorLabels } from './istio-common.js';

// ---- load balancer -----------------------------------------------------------------------------

/** Envoy's primality test for Maglev table sizes (Istio copies it). */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f * f <= x; f += 2) if (x % f === 0) return false;
  return true;
}

const httpCookieSchema = obj({
  name: required(str({ nonEmpty: true })),
  path: field(str()),
  ttl: field(durationSchema({ min: '0' }), 'with a ttl, the proxy generates the cookie when it is missing'),
  attributes: field(listOf(obj({ name: required(str({ nonEmpty: true })), value: field(str()) }))),
});

const consistentHashFields = {
  httpHeaderName: field(str({ nonEmpty: true })),
  httpCookie: field(httpCookieSchema),
  useSourceIp: field(bool()),
  httpQueryParameterName: field(str({ nonEmpty: true })),
  ringHash: field(obj({ minimumRingSize: field(int({ min: 0 }), 'default 1024') })),
  maglev: field(obj({ tableSize: field(int({ min: 0 }), 'a prime below 5000011') })),
  minimumRingSize: field(int({ min: 0 }), 'deprecated: use ringHash.minimumRingSize'),
};

const consistentHashSchema = mapped(
  obj(consistentHashFields, {
    atMostOne: [['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'], ['ringHash', 'maglev']],
    refine(h, r) {
      if (h.httpHeaderName === undefined && h.httpCookie === undefined && h.useSourceIp === undefined && h.httpQueryParameterName === undefined) {
        r.warn([], 'no-hash-key', 'consistentHash has no hash key, so requests are not tied to endpoints', 'add one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName', 'key');
      }
      if (h.minimumRingSize !== undefined) {
        r.warn(['minimumRingSize'], 'deprecated-field', 'minimumRingSize is deprecated', `write ringHash: {minimumRingSize: ${h.minimumRingSize}}`, 'key');
        if (h.ringHash !== undefined || h.maglev !== undefined) {
          r.error(['minimumRingSize'], 'conflict', 'minimumRingSize cannot be combined with ringHash or maglev', 'move the size into ringHash.minimumRingSize', 'key');
        }
      }
      if (h.maglev !== undefined) {
        const size = h.maglev.tableSize ?? 0;
        if (size === 0) r.error(['maglev'], 'missing-field', 'maglev needs tableSize', 'add tableSize: 65537 (a prime)', 'key');
        else if (size >= 5000011) r.error(['maglev', 'tableSize'], 'invalid-value', `tableSize ${size} is too large: it must be below 5000011`, 'use 65537 or another prime below 5000011');
        else if (!isPrime(size)) r.error(['maglev', 'tableSize'], 'invalid-value', `tableSize ${size} is not a prime number`, 'use a prime such as 65537');
      }
    },
  }),
  (h): ConsistentHashLB => ({
    ...(h.httpHeaderName !== undefined ? { httpHeaderName: h.httpHeaderName } : {}),
    ...(h.httpCookie !== undefined
      ? {
          httpCookie: {
            name: h.httpCookie.name,
            ...(h.httpCookie.path !== undefined ? { path: h.httpCookie.path } : {}),
            ...(h.httpCookie.ttl !== undefined ? { ttl: h.httpCookie.ttl } : {}),
            attributes: (h.httpCookie.attributes ?? []).map((a) => ({ name: a.name, ...(a.value !== undefined ? { value: a.value } : {}) })),
          },
        }
      : {}),
    ...(h.useSourceIp !== undefined ? { useSourceIp: h.useSourceIp } : {}),
    ...(h.httpQueryParameterName !== undefined ? { httpQueryParameterName: h.httpQueryParameterName } : {}),
    // Istio's choice when no algorithm is written: ring hash, sized by the deprecated field or 1024.
    ...(h.maglev !== undefined
      ? { maglev: { tableSize: h.maglev.tableSize ?? 0 } }
      : { ringHash: { minimumRingSize: h.ringHash?.minimumRingSize || h.minimumRingSize || 1024 } }),
  }),
);

const localityLbSchema = obj({
  distribute: field(listOf(obj({ from: field(str()), to: field(mapOf(int({ min: 0 }), { expected: 'a map of weights' })) }))),
  failover: field(listOf(obj({ from: field(str()), to: field(str()) }))),
  failoverPriority: field(listOf(str())),
  enabled: field(bool()),
});

const SIMPLE_LB = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const;

const loadBalancerSchema = mapped(
  obj(
    {
      simple: field(enumOf(SIMPLE_LB), 'LEAST_CONN is a deprecated alias of LEAST_REQUEST; unset means LEAST_REQUEST'),
      consistentHash: field(consistentHashSchema),
      localityLbSetting: unsupported(localityLbSchema, 'locality-aware load balancing is not implemented: Strait runs one locality'),
      zoneAwareLbSetting: unsupported(anyValue('zone-aware settings'), 'zone-aware routing is not implemented'),
      warmupDurationSecs: unsupported(durationSchema(), 'slow start is not implemented'),
      warmup: unsupported(obj({ duration: field(durationSchema()), minimumPercent: field(num()), aggression: field(num()) }), 'slow start is not implemented'),
    },
    {
      atMostOne: [['simple', 'consistentHash']],
      refine(lb, r) {
        if (lb.simple === 'LEAST_CONN') r.warn(['simple'], 'deprecated-value', 'LEAST_CONN is deprecated; it means LEAST_REQUEST', 'write simple: LEAST_REQUEST');
      },
    },
  ),
  (lb): LoadBalancerSettings => {
    const simple: SimpleLB | undefined = lb.simple === 'LEAST_CONN' ? 'LEAST_REQUEST' : lb.simple === 'UNSPECIFIED' ? undefined : lb.simple;
    return { ...(simple !== undefined ? { simple } : {}), ...(lb.consistentHash !== undefined ? { consistentHash: lb.consistentHash } : {}) };
  },
);

// ---- connection pool ---------------------------------------------------------------------------

/** Positive counts; 0 is "not set" in Istio's proto3 fields, so it is left out. */
const nonNegative = () => int({ min: 0, max: 2 ** 31 - 1 });
const positiveOrAbsent = (n: number | undefined) => (n === undefined || n === 0 ? undefined : n);

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const connectionPoolSchema = mapped(
  obj(
    {
      tcp: field(
        obj({
          maxConnections: field(nonNegative(), 'default 2^32-1'),
          connectTimeout: field(durationSchema(), 'default 10s'),
          tcpKeepalive: field(obj({ probes: field(int({ min: 0 })), time: field(durationSchema()), interval: field(durationSchema()) }), 'absent: no keepalive'),
          maxConnectionDuration: field(durationSchema(), 'absent: unlimited'),
          idleTimeout: field(durationSchema({ min: '0' }), 'default 1h; 0s disables it'),
        }),
      ),
      http: field(
        obj(
          {
            http1MaxPendingRequests: field(nonNegative(), 'default 2^32-1'),
            http2MaxRequests: field(nonNegative(), 'default 2^32-1'),
            maxRequestsPerConnection: field(nonNegative(), '0 or absent: unlimited; 1 disables keep-alive'),
            maxRetries: field(nonNegative(), 'concurrent retries; default 2^32-1'),
            idleTimeout: field(durationSchema(), 'default 1h'),
            h2UpgradePolicy: field(enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']), 'default DEFAULT'),
            useClientProtocol: field(bool(), 'default false'),
            maxConcurrentStreams: field(nonNegative(), 'default 2^31-1'),
            http2KeepAlive: unsupported(obj({ interval: field(durationSchema()), timeout: field(durationSchema()) }), 'HTTP/2 keepalive pings are not implemented'),
          },
          {
            refine(h, r) {
              if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol === true) {
                r.error(['useClientProtocol'], 'conflict', 'useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE', 'remove one of the two', 'key');
              }
            },
          },
        ),
      ),
    },
    {
      refine(p, r) {
        if (p.tcp === undefined && p.http === undefined) r.error([], 'missing-field', 'a connection pool needs tcp or http settings', 'add tcp or http, or remove connectionPool', 'key');
      },
    },
  ),
  (p): ConnectionPoolSettings => ({
    ...(p.tcp !== undefined
      ? {
          tcp: defined({
            maxConnections: positiveOrAbsent(p.tcp.maxConnections),
            connectTimeout: p.tcp.connectTimeout,
            tcpKeepalive: p.tcp.tcpKeepalive !== undefined ? defined({ probes: positiveOrAbsent(p.tcp.tcpKeepalive.probes), time: p.tcp.tcpKeepalive.time, interval: p.tcp.tcpKeepalive.interval }) : undefined,
            maxConnectionDuration: p.tcp.maxConnectionDuration,
            idleTimeout: p.tcp.idleTimeout,
          }),
        }
      : {}),
    ...(p.http !== undefined
      ? {
          http: defined({
            http1MaxPendingRequests: positiveOrAbsent(p.http.http1MaxPendingRequests),
            http2MaxRequests: positiveOrAbsent(p.http.http2MaxRequests),
            maxRequestsPerConnection: positiveOrAbsent(p.http.maxRequestsPerConnection),
            maxRetries: positiveOrAbsent(p.http.maxRetries),
            idleTimeout: p.http.idleTimeout,
            h2UpgradePolicy: p.http.h2UpgradePolicy ?? 'DEFAULT',
            useClientProtocol: p.http.useClientProtocol ?? false,
            maxConcurrentStreams: positiveOrAbsent(p.http.maxConcurrentStreams),
          }),
        }
      : {}),
  }),
);

// ---- outlier detection -------------------------------------------------------------------------

const outlierDetectionSchema = mapped(
  obj(
    {
      consecutiveErrors: field(int({ min: 0 }), 'deprecated: use consecutiveGatewayErrors or consecutive5xxErrors'),
      consecutive5xxErrors: field(int({ min: 0 }), 'default 5; 0 disables'),
      consecutiveGatewayErrors: field(int({ min: 0 }), '502/503/504; absent: disabled'),
      interval: field(durationSchema(), 'default 10s'),
      baseEjectionTime: field(durationSchema(), 'default 30s'),
      maxEjectionPercent: field(intPercent(), 'default 10'),
      minHealthPercent: field(intPercent(), 'default 0'),
      splitExternalLocalOriginErrors: field(bool(), 'default false'),
      consecutiveLocalOriginFailures: field(int({ min: 0 }), 'default 5; needs splitExternalLocalOriginErrors'),
      outlierDetectionHttpErrorCodes: unsupported(listOf(int({ min: 100, max: 599 })), 'custom error codes are not implemented'),
    },
    {
      refine(o, r) {
        if (o.consecutiveErrors !== undefined && o.consecutiveErrors !== 0) {
          r.warn(['consecutiveErrors'], 'deprecated-field', 'consecutiveErrors is deprecated; it counts 502, 503 and 504 only', `write consecutiveGatewayErrors: ${o.consecutiveErrors} (or consecutive5xxErrors for every 5xx)`, 'key');
        }
        if (!o.splitExternalLocalOriginErrors && (o.consecutiveLocalOriginFailures ?? 0) > 0) {
          r.error(['consecutiveLocalOriginFailures'], 'conflict', 'consecutiveLocalOriginFailures is set, but splitExternalLocalOriginErrors is false', 'add splitExternalLocalOriginErrors: true', 'key');
        }
      },
    },
  ),
  (o): OutlierDetection => {
    // Istio: the deprecated consecutiveErrors counts gateway errors only and turns 5xx counting off.
    const legacy = o.consecutiveErrors !== undefined && o.consecutiveErrors > 0 ? o.consecutiveErrors : undefined;
    return defined({
      consecutive5xxErrors: o.consecutive5xxErrors ?? (legacy !== undefined ? 0 : undefined),
      consecutiveGatewayErrors: o.consecutiveGatewayErrors ?? legacy,
      interval: o.interval,
      baseEjectionTime: o.baseEjectionTime,
      maxEjectionPercent: o.maxEjectionPercent,
      minHealthPercent: o.minHealthPercent,
      splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors ?? false,
      consecutiveLocalOriginFailures: o.consecutiveLocalOriginFailures,
    });
  },
);

// ---- client TLS --------------------------------------------------------------------------------

const FILE_NOTE = "a file path on the proxy's machine; Strait reads certificates from Secrets only: use credentialName";

const clientTlsFields = {
  mode: field(enumOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']), 'default DISABLE'),
  clientCertificate: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  privateKey: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  caCertificates: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  caCrl: unsupported(str(), FILE_NOTE, { ownWarning: true }),
  credentialName: field(str({ nonEmpty: true }), 'a Secret with the client certificate (MUTUAL) and/or the CA'),
  subjectAltNames: field(listOf(str()), 'accepted server SANs'),
  sni: field(str()),
  insecureSkipVerify: field(bool(), 'default false'),
};

const CLIENT_FILE_FIELDS = ['clientCertificate', 'privateKey', 'caCertificates', 'caCrl'] as const;

/** Istio's ValidateTLS, plus the warning for file paths. */
function checkClientTls(t: ObjectOf<typeof clientTlsFields>, r: Refiner): void {
  const mode = t.mode ?? 'DISABLE';
  if (t.insecureSkipVerify === true) {
    if (mode === 'SIMPLE' && (t.caCertificates !== undefined || t.credentialName !== undefined || t.subjectAltNames !== undefined)) {
      r.error(['insecureSkipVerify'], 'conflict', 'insecureSkipVerify cannot be combined with caCertificates, credentialName or subjectAltNames in SIMPLE mode', 'remove insecureSkipVerify, or the verification settings', 'key');
    }
    if (mode === 'MUTUAL' && (t.caCertificates !== undefined || t.subjectAltNames !== undefined)) {
      r.error(['insecureSkipVerify'], 'conflict', 'insecureSkipVerify cannot be combined with caCertificates or subjectAltNames in MUTUAL mode', 'remove insecureSkipVerify, or the verification settings', 'key');
    }
  }
  const files = CLIENT_FILE_FIELDS.filter((k) => t[k] !== undefined);
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && t.credentialName !== undefined && files.length > 0) {
    r.error([files[0]], 'conflict', 'client certificates, CA certificates or a CRL cannot be set with credentialName', `remove ${files.join(', ')}: the Secret provides them`, 'key');
  } else if (mode === 'MUTUAL' && t.credentialName === undefined) {
    if (t.clientCertificate === undefined) r.error(['mode'], 'missing-field', 'MUTUAL TLS needs a client certificate: credentialName (a Secret) or clientCertificate and privateKey', 'add credentialName: <Secret with tls.crt, tls.key and ca.crt>');
    else if (t.privateKey === undefined) r.error(['clientCertificate'], 'missing-field', 'MUTUAL TLS requires a private key with clientCertificate', 'add privateKey, or use credentialName', 'key');
  }
  for (const k of files) {
    r.warn([k], 'unsupported-field', `field '${k}' is a file path on the proxy's machine, which Strait does not read; it is ignored`, `put the certificate in a Secret and use credentialName instead of ${k}`, 'key');
  }
}

const clientTlsSchema = mapped(obj(clientTlsFields, { refine: checkClientTls }), (t): ClientTLSSettings => ({
  mode: t.mode ?? 'DISABLE',
  ...(t.credentialName !== undefined ? { credentialName: t.credentialName } : {}),
  subjectAltNames: t.subjectAltNames ?? [],
  ...(t.sni !== undefined ? { sni: t.sni } : {}),
  insecureSkipVerify: t.insecureSkipVerify ?? false,
}));

// ---- traffic policy ----------------------------------------------------------------------------

const portTrafficPolicySchema = mapped(
  obj(
    {
      port: required(obj({ number: required(int({ min: 1, max: 65535 })) })),
      loadBalancer: field(loadBalancerSchema),
      connectionPool: field(connectionPoolSchema),
      outlierDetection: field(outlierDetectionSchema),
      tls: field(clientTlsSchema),
    },
    {
      refine(p, r) {
        if (p.loadBalancer === undefined && p.connectionPool === undefined && p.outlierDetection === undefined && p.tls === undefined) {
          r.error([], 'missing-field', 'a port traffic policy needs at least one of loadBalancer, connectionPool, outlierDetection and tls', 'add a setting, or remove the entry', 'key');
        }
      },
    },
  ),
  (p, path): PortTrafficPolicy => ({
    port: { number: p.port.number },
    ...(p.loadBalancer !== undefined ? { loadBalancer: p.loadBalancer } : {}),
    ...(p.connectionPool !== undefined ? { connectionPool: p.connectionPool } : {}),
    ...(p.outlierDetection !== undefined ? { outlierDetection: p.outlierDetection } : {}),
    ...(p.tls !== undefined ? { tls: p.tls } : {}),
    path,
  }),
);

export const trafficPolicySchema = mapped(
  obj(
    {
      loadBalancer: field(loadBalancerSchema, 'unset: LEAST_REQUEST'),
      connectionPool: field(connectionPoolSchema),
      outlierDetection: field(outlierDetectionSchema),
      tls: field(clientTlsSchema, 'unset: ISTIO_MUTUAL when the destination has a sidecar (auto mTLS)'),
      portLevelSettings: field(
        listOf(portTrafficPolicySchema, {
          refine(ps, r) {
            const seen = new Map<number, number>();
            ps.forEach((p, i) => {
              const first = seen.get(p.port.number);
              if (first !== undefined) r.error([i, 'port', 'number'], 'duplicate-value', `port ${p.port.number} already has settings in portLevelSettings[${first}]`, 'merge the two entries');
              else seen.set(p.port.number, i);
            });
          },
        }),
        'override the top level, per port',
      ),
      tunnel: unsupported(obj({ protocol: field(enumOf(['CONNECT', 'POST'])), targetHost: required(str()), targetPort: required(int({ min: 1, max: 65535 })) }), 'tunnelling is not implemented'),
      proxyProtocol: unsupported(obj({ version: field(enumOf(['V1', 'V2'])) }), 'the PROXY protocol is not implemented'),
      retryBudget: field(
        obj({
          percent: field(percentSchema, 'default 20: retries may add this share of the active requests'),
          minRetryConcurrency: field(int({ min: 0 }), 'default 3'),
          budgetInterval: unsupported(durationSchema(), "Envoy's retry budget has no interval; the budget is over the requests active now"),
        }),
        'caps concurrent retries at a share of active requests (instead of maxRetries)',
      ),
    },
    {
      refine(tp, r) {
        if (Object.keys(tp).length === 0) r.error([], 'missing-field', 'a traffic policy needs at least one setting', 'add loadBalancer, connectionPool, outlierDetection, tls or portLevelSettings, or remove trafficPolicy', 'key');
        if (tp.tunnel !== undefined && tp.proxyProtocol !== undefined) r.error(['proxyProtocol'], 'conflict', 'tunnel and proxyProtocol cannot be set together', 'remove one of the two', 'key');
      },
    },
  ),
  (tp): TrafficPolicy => ({
    ...(tp.loadBalancer !== undefined ? { loadBalancer: tp.loadBalancer } : {}),
    ...(tp.connectionPool !== undefined ? { connectionPool: tp.connectionPool } : {}),
    ...(tp.outlierDetection !== undefined ? { outlierDetection: tp.outlierDetection } : {}),
    ...(tp.tls !== undefined ? { tls: tp.tls } : {}),
    ...(tp.retryBudget !== undefined ? { retryBudget: { ...(tp.retryBudget.percent !== undefined ? { percent: tp.retryBudget.percent } : {}), ...(tp.retryBudget.minRetryConcurrency !== undefined ? { minRetryConcurrency: tp.retryBudget.minRetryConcurrency } : {}) } } : {}),
    portLevelSettings: tp.portLevelSettings ?? [],
  }),
);

const subsetSchema = mapped(
  obj({
    name: required(str({ nonEmpty: true, rule: checkDns1123Label })),
    labels: field(labelMap, 'endpoints with these labels; {} selects every endpoint'),
    trafficPolicy: field(trafficPolicySchema, 'overrides the rule\'s policy'),
  }),
  (s, path): Subset => ({ name: s.name, labels: s.labels ?? {}, ...(s.trafficPolicy !== undefined ? { trafficPolicy: s.trafficPolicy } : {}), path }),
);

export const destinationRuleSpecSchema = obj({
  host: required(str({ nonEmpty: true, rule: (h) => (h === '*' ? 'a host name; * alone is not allowed' : checkWildcardDomain(h)) }), 'short name, FQDN, ServiceEntry host or *.-wildcard'),
  trafficPolicy: field(trafficPolicySchema),
  subsets: field(
    listOf(subsetSchema, {
      refine(subsets, r) {
        const seen = new Map<string, number>();
        subsets.forEach((s, i) => {
          const first = seen.get(s.name);
          if (first !== undefined) r.error([i, 'name'], 'duplicate-value', `subset name "${s.name}" is already used by subsets[${first}]`, 'give every subset a different name');
          else seen.set(s.name, i);
        });
      },
    }),
  ),
  exportTo: field(listOf(str({ nonEmpty: true })), 'defaults to * (every namespace)'),
  workloadSelector: field(obj({ matchLabels: field(selectorLabels) }), 'the rule applies only to these workloads'),
});

export const destinationRuleSchema = resourceSchema({ spec: required(destinationRuleSpecSchema) }, undefined, {
  refine(v, r) {
    const namespace = v.metadata.namespace || 'default';
    checkExportTo(v.spec.exportTo, namespace, r, ['spec', 'exportTo']);
    const selector = v.spec.workloadSelector;
    if (selector !== undefined) {
      if (Object.keys(selector.matchLabels ?? {}).length === 0) r.warn(['spec', 'workloadSelector'], 'empty-selector', 'workloadSelector has no labels, so it selects every workload in the namespace', 'add matchLabels, or remove workloadSelector', 'key');
      // Istio: a rule for some workloads only is local to its namespace.
      const others = (v.spec.exportTo ?? []).filter((e) => e !== '.' && e !== namespace);
      if (others.length > 0) r.error(['spec', 'exportTo'], 'conflict', 'a DestinationRule with workloadSelector cannot be exported beyond its own namespace', 'set exportTo: ["."], or remove workloadSelector', 'key');
    }
  },
});

export const destinationRuleKind = defineKind({
  kind: 'DestinationRule',
  apiVersions: ISTIO_NETWORKING_VERSIONS,
  origin: 'Istio',
  schema: destinationRuleSchema,
  convert(v, base): DestinationRuleResource {
    const s = v.spec;
    return {
      ...base,
      kind: 'DestinationRule',
      spec: {
        host: s.host,
        ...(s.trafficPolicy !== undefined ? { trafficPolicy: s.trafficPolicy } : {}),
        subsets: s.subsets ?? [],
        ...(s.exportTo !== undefined ? { exportTo: s.exportTo } : {}),
        ...(s.workloadSelector !== undefined ? { workloadSelector: { matchLabels: s.workloadSelector.matchLabels ?? {} } } : {}),
      },
    };
  },
});
