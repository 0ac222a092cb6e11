// An xDS Cluster resource validated and turned into the settings a Cluster runs on, with Envoy's
// defaults filled in. Everything that can be wrong with a resource is found here, at
// construction, so a bad cluster is NACKed before anything changes; errors name the field.

import type { Cluster as ClusterResource } from '../../xds/resources.js';
import { ConfigError, optionalDurationMs } from '../config/durations.js';
import { thresholdsOf } from './circuit-breaker.js';
import type { Thresholds } from './circuit-breaker.js';
import { LOOKUP_FAMILIES } from './dns/resolver.js';
import type { LookupFamily } from './dns/resolver.js';
import type { LbOptions, LbPolicyName } from './lb/load-balancer.js';
import { outlierConfig } from './outlier/outlier-config.js';
import type { OutlierConfig } from './outlier/outlier-config.js';
import type { Http1Settings } from './pool/http1-pool.js';
import type { Http2Settings } from './pool/http2-pool.js';

export type DiscoveryType = ClusterResource['type'];

export interface ClusterSettings {
  readonly name: string;
  readonly type: DiscoveryType;
  readonly connectTimeoutMs: number;
  readonly lbPolicy: LbPolicyName;
  readonly lbOptions: LbOptions;
  /** Percent of healthy hosts below which the cluster balances over all hosts; 0 disables. */
  readonly panicThreshold: number;
  readonly protocol: 'http1' | 'http2';
  readonly http1: Http1Settings;
  readonly http2: Http2Settings;
  readonly thresholds: Thresholds;
  readonly outlier: OutlierConfig | null;
  readonly keepaliveDelayMs: number | null;
  readonly dnsFamily: LookupFamily;
  readonly dnsRefreshMs: number;
  /** Name of the ClusterLoadAssignment feeding an EDS cluster. */
  readonly edsName: string | undefined;
}

const TYPES: readonly DiscoveryType[] = ['STATIC', 'EDS', 'STRICT_DNS', 'LOGICAL_DNS', 'ORIGINAL_DST'];
const POLICIES: readonly LbPolicyName[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'];
const MAX_RING = 8 * 1024 * 1024;
const MAX_MAGLEV = 5_000_011;
/** Idle HTTP/1.1 connections close before a typical upstream's own keep-alive timeout (Node's is
 * 5 s), so the proxy rarely writes into a connection the upstream is closing. */
const DEFAULT_H1_IDLE_MS = 4_000;
/** Envoy's default idle timeout for upstream connections. */
const DEFAULT_H2_IDLE_MS = 3_600_000;

export function clusterSettings(r: ClusterResource): ClusterSettings {
  const name = r.name;
  if (!name) throw new ConfigError('cluster without a name');
  const where = `cluster ${name}`;
  const type = r.type ?? 'STATIC';
  if (!TYPES.includes(type)) throw new ConfigError(`${where}: discovery type ${type} is not supported (${TYPES.join(', ')} are)`);

  const lb = r.lbPolicy ?? 'ROUND_ROBIN';
  if (type === 'ORIGINAL_DST') {
    if (lb !== 'CLUSTER_PROVIDED' && lb !== 'ROUND_ROBIN') throw new ConfigError(`${where}: an ORIGINAL_DST cluster needs lbPolicy CLUSTER_PROVIDED, not ${lb}`);
  } else if (!POLICIES.includes(lb as LbPolicyName)) {
    throw new ConfigError(`${where}: lbPolicy ${lb} is not supported (${POLICIES.join(', ')} are)`);
  }
  const lbPolicy = (lb === 'CLUSTER_PROVIDED' ? 'ROUND_ROBIN' : lb) as LbPolicyName;

  const connectTimeoutMs = optionalDurationMs(r.connectTimeout, `${where} connectTimeout`, 5000);
  if (connectTimeoutMs <= 0) throw new ConfigError(`${where} connectTimeout: must be greater than 0`);

  const http = r.commonHttpProtocolOptions ?? {};
  const idle = (fallback: number) => optionalDurationMs(http.idleTimeout, `${where} commonHttpProtocolOptions.idleTimeout`, fallback);
  const maxRequestsPerConnection = integer(http.maxRequestsPerConnection, `${where} commonHttpProtocolOptions.maxRequestsPerConnection`, 0, 0, 4294967295);
  const maxConnectionDurationMs = optionalDurationMs(http.maxConnectionDuration, `${where} commonHttpProtocolOptions.maxConnectionDuration`, 0);
  const h2 = r.http2ProtocolOptions;
  const maxConcurrentStreams = integer(h2?.maxConcurrentStreams, `${where} http2ProtocolOptions.maxConcurrentStreams`, 2147483647, 1, 2147483647);

  const ka = r.upstreamConnectionOptions?.tcpKeepalive;
  // Node sets only the idle time before the first probe; probe count and interval stay the OS's.
  const keepaliveDelayMs = ka ? integer(ka.keepaliveTime, `${where} upstreamConnectionOptions.tcpKeepalive.keepaliveTime`, 7200, 1, 4294967295) * 1000 : null;

  const dnsFamily = r.dnsLookupFamily ?? 'AUTO';
  if (!LOOKUP_FAMILIES.includes(dnsFamily)) throw new ConfigError(`${where} dnsLookupFamily: ${dnsFamily} is not one of ${LOOKUP_FAMILIES.join(', ')}`);
  const dnsRefreshMs = optionalDurationMs(r.dnsRefreshRate, `${where} dnsRefreshRate`, 5000);
  if (dnsRefreshMs < 1) throw new ConfigError(`${where} dnsRefreshRate: must be at least 1ms`);
  if (type === 'LOGICAL_DNS') {
    const n = (r.loadAssignment?.endpoints ?? []).reduce((sum, l) => sum + (l.lbEndpoints ?? []).length, 0);
    if (n !== 1) throw new ConfigError(`${where}: a LOGICAL_DNS cluster needs exactly one endpoint in loadAssignment, found ${n}`);
  }

  const panic = r.commonLbConfig?.healthyPanicThreshold?.value ?? 50;
  if (!(panic >= 0 && panic <= 100)) throw new ConfigError(`${where} commonLbConfig.healthyPanicThreshold: must be between 0 and 100, got ${panic}`);

  return {
    name,
    type,
    connectTimeoutMs,
    lbPolicy,
    lbOptions: lbOptionsOf(where, r),
    panicThreshold: panic,
    protocol: h2 ? 'http2' : 'http1',
    http1: { idleTimeoutMs: idle(DEFAULT_H1_IDLE_MS), maxRequestsPerConnection, maxConnectionDurationMs },
    http2: { idleTimeoutMs: idle(DEFAULT_H2_IDLE_MS), maxRequestsPerConnection, maxConnectionDurationMs, maxConcurrentStreams },
    thresholds: thresholdsOf(name, r.circuitBreakers?.thresholds),
    outlier: outlierConfig(name, r.outlierDetection),
    keepaliveDelayMs,
    dnsFamily,
    dnsRefreshMs,
    edsName: type === 'EDS' ? r.edsClusterConfig?.serviceName || name : undefined,
  };
}

function lbOptionsOf(where: string, r: ClusterResource): LbOptions {
  const ring = r.ringHashLbConfig ?? {};
  const minimumRingSize = integer(ring.minimumRingSize, `${where} ringHashLbConfig.minimumRingSize`, 1024, 1, MAX_RING);
  const maximumRingSize = integer(ring.maximumRingSize, `${where} ringHashLbConfig.maximumRingSize`, MAX_RING, 1, MAX_RING);
  if (minimumRingSize > maximumRingSize) throw new ConfigError(`${where} ringHashLbConfig: minimumRingSize ${minimumRingSize} exceeds maximumRingSize ${maximumRingSize}`);
  const tableSize = integer(r.maglevLbConfig?.tableSize, `${where} maglevLbConfig.tableSize`, 65537, 2, MAX_MAGLEV);
  if (!isPrime(tableSize)) throw new ConfigError(`${where} maglevLbConfig.tableSize: ${tableSize} is not a prime number`);
  const choiceCount = integer(r.leastRequestLbConfig?.choiceCount, `${where} leastRequestLbConfig.choiceCount`, 2, 2, 4294967295);
  return { minimumRingSize, maximumRingSize, tableSize, choiceCount };
}

function integer(v: number | undefined, field: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${field}: must be an integer between ${min} and ${max}, got ${v}`);
  return v;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}
