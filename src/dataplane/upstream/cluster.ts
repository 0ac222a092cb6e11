// A cluster at run time: its hosts (static, from EDS, or the request's own authority for
// ORIGINAL_DST), the load balancer over them, its connection pool and its stats. Built from an
// xDS Cluster resource; validated here so a bad resource is rejected before anything changes.

import type { Random } from '../../common/random.js';
import type { StatsRegistry, Counter, Gauge } from '../../telemetry/stats/stats.js';
import type { Cluster as ClusterResource, ClusterLoadAssignment } from '../../xds/resources.js';
import { ConfigError, optionalDurationMs } from '../config/durations.js';
import { mapAddress } from '../config/compile.js';
import type { AddressMap } from '../config/compile.js';
import { newHost } from './host.js';
import type { Host } from './host.js';
import { createLoadBalancer } from './lb/load-balancer.js';
import type { LbPolicyName, LoadBalancer } from './lb/load-balancer.js';
import { UpstreamPool } from './pool.js';

export interface ClusterStats {
  rqTotal: Counter;
  rqActive: Gauge;
  rqXx: Counter[];
  rqTimeout: Counter;
  rqRetry: Counter;
  noHealthyHost: Counter;
  membershipTotal: Gauge;
  membershipHealthy: Gauge;
}

const SUPPORTED_LB: readonly string[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'];
const UINT32_MAX = 4294967295;

export class Cluster {
  readonly name: string;
  readonly type: NonNullable<ClusterResource['type']>;
  readonly connectTimeoutMs: number;
  readonly lbPolicy: LbPolicyName;
  readonly pool: UpstreamPool;
  readonly stats: ClusterStats;
  /** Name of the ClusterLoadAssignment feeding an EDS cluster. */
  readonly edsName: string | undefined;
  /**
   * Local address for connections to loopback hosts: the pod IP, so an upstream sees which pod
   * called (on one machine every pod is a loopback address). Undefined when unmapped.
   */
  readonly sourceAddress: string | undefined;
  private hostList: readonly Host[] = [];
  private lb: LoadBalancer;

  constructor(
    readonly resource: ClusterResource,
    registry: StatsRegistry,
    private readonly random: Random,
    private readonly addresses: AddressMap,
  ) {
    this.name = resource.name;
    if (!this.name) throw new ConfigError('cluster without a name');
    this.type = resource.type ?? 'STATIC';
    if (!['STATIC', 'EDS', 'ORIGINAL_DST'].includes(this.type)) {
      throw new ConfigError(`cluster ${this.name}: discovery type ${this.type} is not supported (STATIC, EDS, ORIGINAL_DST are)`);
    }
    const lb = resource.lbPolicy ?? 'ROUND_ROBIN';
    if (this.type === 'ORIGINAL_DST' ? lb !== 'CLUSTER_PROVIDED' && lb !== 'ROUND_ROBIN' : !SUPPORTED_LB.includes(lb)) {
      throw new ConfigError(`cluster ${this.name}: lbPolicy ${lb} is not supported`);
    }
    this.lbPolicy = (SUPPORTED_LB.includes(lb) ? lb : 'ROUND_ROBIN') as LbPolicyName;
    this.connectTimeoutMs = optionalDurationMs(resource.connectTimeout, `cluster ${this.name} connectTimeout`, 5000);
    this.sourceAddress = addresses.wildcard !== '0.0.0.0' && addresses.wildcard.startsWith('127.') ? addresses.wildcard : undefined;
    this.edsName = this.type === 'EDS' ? resource.edsClusterConfig?.serviceName || this.name : undefined;
    const idleMs = optionalDurationMs(resource.commonHttpProtocolOptions?.idleTimeout, `cluster ${this.name} idleTimeout`, 4000);
    const maxCx = resource.circuitBreakers?.thresholds?.[0]?.maxConnections ?? UINT32_MAX;

    const scope = registry.scope('cluster', { cluster_name: this.name });
    this.stats = {
      rqTotal: scope.counter('upstream_rq_total'),
      rqActive: scope.gauge('upstream_rq_active'),
      rqXx: [1, 2, 3, 4, 5].map((c) => scope.counter('upstream_rq_xx', { response_code_class: String(c) }, `upstream_rq_${c}xx`)),
      rqTimeout: scope.counter('upstream_rq_timeout'),
      rqRetry: scope.counter('upstream_rq_retry'),
      noHealthyHost: scope.counter('upstream_cx_none_healthy'),
      membershipTotal: scope.gauge('membership_total'),
      membershipHealthy: scope.gauge('membership_healthy'),
    };
    this.pool = new UpstreamPool(
      { idleTimeoutMs: idleMs > 0 ? idleMs : 4000, maxConnectionsPerHost: maxCx >= UINT32_MAX ? Infinity : maxCx },
      {
        cxTotal: scope.counter('upstream_cx_total'),
        cxActive: scope.gauge('upstream_cx_active'),
        cxConnectFail: scope.counter('upstream_cx_connect_fail'),
        cxDestroy: scope.counter('upstream_cx_destroy'),
      },
    );
    this.lb = createLoadBalancer(this.lbPolicy, [], random);
    if (this.type === 'STATIC') this.setEndpoints(resource.loadAssignment);
  }

  /** Replaces the host set (EDS update) with a new load balancer over it. */
  setEndpoints(cla: ClusterLoadAssignment | undefined): void {
    this.setHosts(cla ? endpointsToHosts(this.name, cla, this.addresses) : []);
  }

  setHosts(hosts: readonly Host[]): void {
    this.hostList = hosts;
    this.lb = createLoadBalancer(this.lbPolicy, hosts, this.random);
    this.stats.membershipTotal.value = hosts.length;
    this.stats.membershipHealthy.value = hosts.length;
  }

  hosts(): readonly Host[] {
    return this.hostList;
  }

  /** For ORIGINAL_DST the destination is the request's authority (the HTTP_PROXY target). */
  chooseHost(authority: string): Host | undefined {
    if (this.type === 'ORIGINAL_DST') return hostFromAuthority(authority);
    return this.lb.chooseHost();
  }

  sameResource(other: ClusterResource): boolean {
    return JSON.stringify(this.resource) === JSON.stringify(other);
  }
}

/** Validates an assignment and turns it into hosts; throws ConfigError when malformed. */
export function endpointsToHosts(cluster: string, cla: ClusterLoadAssignment, addresses: AddressMap): Host[] {
  const hosts: Host[] = [];
  for (const locality of cla.endpoints ?? []) {
    for (const e of locality.lbEndpoints ?? []) {
      const sa = e.endpoint?.address?.socketAddress;
      if (!sa?.address) throw new ConfigError(`cluster ${cluster}: an endpoint has no socket address`);
      const port = sa.portValue ?? 0;
      if (!(port > 0 && port < 65536)) throw new ConfigError(`cluster ${cluster}: endpoint ${sa.address} has invalid port ${port}`);
      // Envoy keeps UNHEALTHY and DRAINING endpoints out of load balancing.
      if (e.healthStatus === 'UNHEALTHY' || e.healthStatus === 'DRAINING') continue;
      // 127.0.0.1 in an endpoint means the pod's own localhost (an inbound cluster's workload).
      hosts.push(newHost(mapAddress(sa.address, addresses), port, e.loadBalancingWeight ?? 1));
    }
  }
  return hosts;
}

function hostFromAuthority(authority: string): Host | undefined {
  try {
    const u = new URL(`http://${authority}`);
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    if (!host) return undefined;
    return newHost(host, u.port ? Number(u.port) : 80);
  } catch {
    return undefined;
  }
}
