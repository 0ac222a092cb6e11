// A cluster at run time: its hosts (static, from EDS, from DNS, or the request's own authority
// for ORIGINAL_DST), the load balancer over the healthy ones, the circuit breaker, the outlier
// detector, the connection pools (HTTP/1.1, and HTTP/2 sessions when the cluster speaks h2) and
// its stats. Built from an xDS Cluster resource, validated in full by the constructor so that a
// bad resource is rejected before anything changes; timers and DNS start only in `start()`,
// when the cluster is committed. The router-facing API is described in README.md.

import type http from 'node:http';
import type net from 'node:net';
import type http2 from 'node:http2';
import { systemClock } from '../../common/clock.js';
import type { Clock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { StatsRegistry } from '../../telemetry/stats/stats.js';
import type { Cluster as ClusterResource, ClusterLoadAssignment, Secret } from '../../xds/resources.js';
import { mapAddress } from '../config/compile.js';
import type { AddressMap } from '../config/compile.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { Admission } from './circuit-breaker.js';
import { clusterSettings } from './cluster-config.js';
import type { ClusterSettings, DiscoveryType } from './cluster-config.js';
import { clusterStats } from './cluster-stats.js';
import type { ClusterStats } from './cluster-stats.js';
import { lookupVia, systemResolver } from './dns/resolver.js';
import type { Resolver } from './dns/resolver.js';
import { StrictDnsResolver } from './dns/strict-dns.js';
import { edsHealth, endpointsToHosts, hostFromAuthority, hostView, reuseHosts } from './host-set.js';
import type { Host } from './host.js';
import { createLoadBalancer, EMPTY_LB_CONTEXT } from './lb/load-balancer.js';
import type { LbContext, LbPolicyName, LoadBalancer } from './lb/load-balancer.js';
import { ConsecutiveErrorsDetector } from './outlier/consecutive-errors.js';
import { InertOutlierDetector } from './outlier/outlier-detector.js';
import type { OutlierDetector } from './outlier/outlier-detector.js';
import { Connector } from './pool/connector.js';
import type { ConnectionEvents } from './pool/connector.js';
import { upstreamError } from './pool/errors.js';
import { Http1Pool } from './pool/http1-pool.js';
import { Http2Pool } from './pool/http2-pool.js';
import { SecureContextCache } from './tls/secure-context-cache.js';
import { clusterSecretNames, compileUpstreamTls } from './tls/upstream-tls.js';
import type { UpstreamTls } from './tls/upstream-tls.js';

// What the router needs, importable from this one module (see README.md).
export type { ClusterStats } from './cluster-stats.js';
export type { Admission } from './circuit-breaker.js';
export type { LbContext } from './lb/load-balancer.js';
export type { LocalOriginFailure, Outcome } from './outlier/outlier-detector.js';
export { CONNECT_TIMEOUT, UPSTREAM_OVERFLOW, upstreamFailure } from './pool/errors.js';
export type { UpstreamFailure } from './pool/errors.js';
export { endpointsToHosts } from './host-set.js';
export { clusterSecretNames } from './tls/upstream-tls.js';

export interface ClusterOptions {
  readonly clock?: Clock;
  /** STRICT_DNS and LOGICAL_DNS name resolution (default: getaddrinfo). */
  readonly resolver?: Resolver;
  /** SDS secrets a TLS context may name. */
  readonly secrets?: ReadonlyMap<string, Secret>;
  /** Shared SecureContexts (the cluster manager's); a private one otherwise. */
  readonly tlsCache?: SecureContextCache;
  /** HTTP/1.1 requests use the lean codec (src/dataplane/http1/) instead of node:http's client. */
  readonly leanHttp1?: boolean;
}

export class Cluster {
  readonly name: string;
  readonly type: DiscoveryType;
  readonly connectTimeoutMs: number;
  readonly lbPolicy: LbPolicyName;
  readonly protocol: 'http1' | 'http2';
  /** HTTP/1.1 requests go through the lean codec (src/dataplane/http1/). */
  readonly leanHttp1: boolean;
  readonly settings: ClusterSettings;
  readonly stats: ClusterStats;
  readonly breaker: CircuitBreaker;
  /** The router reports every attempt's outcome here (README.md). */
  readonly outlier: OutlierDetector;
  /** HTTP/1.1 pool; `pool.agent` serves callers that pass host and port per request. */
  readonly pool: Http1Pool;
  private readonly connector: Connector;
  readonly tls: UpstreamTls | null;
  /** transportSocketMatches, compiled: the first whose match the host's metadata satisfies applies. */
  private readonly socketMatches: readonly { readonly match: Readonly<Record<string, string>>; readonly tls: UpstreamTls | null }[];
  /** Name of the ClusterLoadAssignment feeding an EDS cluster. */
  readonly edsName: string | undefined;
  /**
   * An in-mesh service's cluster (Istio's `istio.services` metadata, not `external`): requests to
   * it carry this proxy's peer metadata (telemetry/metrics/peer-exchange.ts).
   */
  readonly inMesh: boolean;
  /**
   * Local address for connections to loopback hosts: the pod IP, so an upstream sees which pod
   * called (on one machine every pod is a loopback address). Undefined when unmapped.
   */
  readonly sourceAddress: string | undefined;
  /** Digest of the SDS secrets the TLS context used (a changed secret replaces the cluster). */
  readonly secretsDigest: string;
  private readonly h2pool: Http2Pool | null;
  private readonly dns: StrictDnsResolver | null = null;
  private readonly clock: Clock;
  private hostList: readonly Host[] = [];
  private lb: LoadBalancer;
  private panic = false;
  private started = false;

  constructor(
    readonly resource: ClusterResource,
    registry: StatsRegistry,
    private readonly random: Random,
    private readonly addresses: AddressMap,
    opts: ClusterOptions = {},
  ) {
    const s = clusterSettings(resource);
    this.settings = s;
    this.name = s.name;
    this.type = s.type;
    this.connectTimeoutMs = s.connectTimeoutMs;
    this.lbPolicy = s.lbPolicy;
    this.protocol = s.protocol;
    this.leanHttp1 = opts.leanHttp1 === true;
    this.edsName = s.edsName;
    const istio = resource.metadata?.filterMetadata?.istio;
    this.inMesh = Array.isArray(istio?.services) && istio.services.length > 0 && istio.external !== true;
    this.clock = opts.clock ?? systemClock;
    const secrets = opts.secrets ?? new Map<string, Secret>();
    const tlsCache = opts.tlsCache ?? new SecureContextCache();
    this.tls = compileUpstreamTls(this.name, resource.transportSocket, s.protocol === 'http2', secrets, tlsCache);
    this.socketMatches = (resource.transportSocketMatches ?? []).map((m, i) => ({
      match: m.match ?? {},
      tls: compileUpstreamTls(`${this.name} transportSocketMatches[${m.name || i}]`, m.transportSocket, s.protocol === 'http2', secrets, tlsCache),
    }));
    this.secretsDigest = secretsDigest(resource, secrets);
    this.sourceAddress = addresses.wildcard !== '0.0.0.0' && addresses.wildcard.startsWith('127.') ? addresses.wildcard : undefined;
    // Validate a STATIC or DNS cluster's endpoints now: applying them later must not fail.
    const staticHosts = resource.loadAssignment && (s.type === 'STATIC' || s.type === 'STRICT_DNS' || s.type === 'LOGICAL_DNS') ? endpointsToHosts(this.name, resource.loadAssignment, addresses) : [];

    this.stats = clusterStats(registry.scope('cluster', { cluster_name: this.name }));
    this.breaker = new CircuitBreaker(s.thresholds, this.stats);
    this.outlier = s.outlier ? new ConsecutiveErrorsDetector(s.outlier, this.clock, random, registry.scope('cluster', { cluster_name: this.name })) : new InertOutlierDetector();
    this.outlier.onChange(() => this.rebuild());

    const resolver = opts.resolver ?? systemResolver;
    const connector = (this.connector = new Connector(
      {
        connectTimeoutMs: s.connectTimeoutMs,
        sourceAddress: this.sourceAddress,
        keepaliveDelayMs: s.keepaliveDelayMs,
        tls: this.tls,
        lookup: s.type === 'LOGICAL_DNS' ? lookupVia(resolver, s.dnsFamily) : undefined,
      },
      this.clock,
      this.stats,
    ));
    this.pool = new Http1Pool(this.name, s.http1, connector, this.breaker, this.stats, this.clock);
    this.h2pool = s.protocol === 'http2' ? new Http2Pool(this.name, s.http2, connector, this.breaker, this.stats, this.clock) : null;
    this.lb = createLoadBalancer(this.lbPolicy, [], random, s.lbOptions);

    if (s.type === 'STATIC' || s.type === 'LOGICAL_DNS') {
      // LOGICAL_DNS: one logical host named by the endpoint, resolved at each connect.
      this.setHosts(staticHosts);
    } else if (s.type === 'STRICT_DNS') {
      const endpoints = (resource.loadAssignment?.endpoints ?? []).flatMap((l) =>
        (l.lbEndpoints ?? []).map((e) => ({
          name: mapAddress(e.endpoint.address.socketAddress.address, addresses),
          port: e.endpoint.address.socketAddress.portValue,
          weight: e.loadBalancingWeight ?? 1,
          health: edsHealth(e.healthStatus),
        })),
      );
      this.dns = new StrictDnsResolver(endpoints, s.dnsFamily, s.dnsRefreshMs, resolver, this.clock, (hosts) => this.setHosts(hosts), () => undefined);
    }
  }

  /** Starts what runs on its own: outlier sweeps, DNS refresh. Called once committed. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.outlier.start();
    this.dns?.start();
  }

  /** Replaces the host set (EDS update) with a new load balancer over it. */
  setEndpoints(cla: ClusterLoadAssignment | undefined): void {
    this.setHosts(cla ? endpointsToHosts(this.name, cla, this.addresses) : []);
  }

  setHosts(hosts: readonly Host[]): void {
    this.hostList = reuseHosts(this.hostList, hosts);
    if (this.socketMatches.length > 0) this.connector.setHostTls(new Map(this.hostList.map((h) => [h.key, this.tlsForHost(h)])));
    this.outlier.setHosts(this.hostList);
    this.pool.retainHosts(this.hostList);
    this.h2pool?.retainHosts(this.hostList);
    this.rebuild();
  }

  /** Envoy's transport socket match: the first entry whose every key the endpoint's metadata has. */
  private tlsForHost(h: Host): UpstreamTls | null {
    for (const m of this.socketMatches) {
      if (Object.entries(m.match).every(([k, v]) => h.socketMatch?.[k] === v)) return m.tls;
    }
    return this.tls;
  }

  /** Every TLS context this cluster may use (for the shared SecureContext cache). */
  tlsContexts(): UpstreamTls[] {
    return [this.tls, ...this.socketMatches.map((m) => m.tls)].filter((t): t is UpstreamTls => t !== null);
  }

  /** A new load balancer over the hosts that may take traffic now (never patched in place). */
  private rebuild(): void {
    const view = hostView(this.hostList, this.settings.panicThreshold);
    this.panic = view.panic;
    this.lb = createLoadBalancer(this.lbPolicy, view.lbHosts, this.random, this.settings.lbOptions);
    this.stats.membershipTotal.value = this.hostList.length;
    this.stats.membershipHealthy.value = view.healthy;
  }

  hosts(): readonly Host[] {
    return this.hostList;
  }

  /**
   * The host for one attempt, or undefined when none is available (503 UH). `authority` is
   * only read by ORIGINAL_DST clusters (the destination is the request's authority).
   */
  chooseHost(authority: string, ctx: LbContext = EMPTY_LB_CONTEXT): Host | undefined {
    if (this.type === 'ORIGINAL_DST') return hostFromAuthority(authority);
    if (this.panic) this.stats.lbHealthyPanic.value++;
    return this.lb.chooseHost(ctx);
  }

  /** Circuit breaker maxRequests: call once per attempt; release when the attempt ends. */
  tryStartRequest(): Admission {
    return this.breaker.tryStartRequest();
  }

  /** Circuit breaker maxRetries (or retryBudget): call before each retry; release when it ends. */
  tryStartRetry(): Admission {
    return this.breaker.tryStartRetry();
  }

  /**
   * A raw connection for the TCP proxy, through the same connector as the pools (TLS
   * origination, connect timeout, pod source address, keep-alive) and counted against
   * maxConnections; null when that limit is reached (Envoy's upstream_cx_overflow → UO).
   */
  connectTcp(host: Host, events: ConnectionEvents): net.Socket | null {
    if (!this.breaker.canOpenConnection()) {
      this.stats.cxOverflow.value++;
      return null;
    }
    this.breaker.connectionOpened();
    return this.connector.connect(host.address, host.port, undefined, {
      onReady: events.onReady,
      onClose: (wasReady) => {
        this.breaker.connectionClosed();
        events.onClose(wasReady);
      },
    });
  }

  /** For `http.request({ ...cluster.requestOptions(host), method, path, headers, setHost: false })`. */
  requestOptions(host: Host): Readonly<http.RequestOptions> {
    return this.pool.forHost(host).requestOptions;
  }

  /** An HTTP/2 session to `host` with room for one more stream (clusters with http2ProtocolOptions). */
  h2Session(host: Host): Promise<http2.ClientHttp2Session> {
    if (!this.h2pool) return Promise.reject(upstreamError('STRAIT_UPSTREAM_NOT_HTTP2', `cluster ${this.name} does not speak HTTP/2 (no http2ProtocolOptions)`));
    return this.h2pool.session(host);
  }

  sameResource(other: ClusterResource, secrets: ReadonlyMap<string, Secret> = new Map()): boolean {
    return JSON.stringify(this.resource) === JSON.stringify(other) && this.secretsDigest === secretsDigest(other, secrets);
  }

  /** Leaving the proxy: stop timers and DNS; connections close as their requests finish. */
  drain(): void {
    this.outlier.stop();
    this.dns?.stop();
    this.pool.drain();
    this.h2pool?.drain();
  }

  /** Proxy shutdown: everything closes now. */
  close(): void {
    this.outlier.stop();
    this.dns?.stop();
    this.pool.close();
    this.h2pool?.close();
  }

  /** Waits for the DNS resolution in progress (STRICT_DNS), for tests. */
  dnsSettledForTest(): Promise<void> {
    return this.dns?.settledForTest() ?? Promise.resolve();
  }
}

function secretsDigest(r: ClusterResource, secrets: ReadonlyMap<string, Secret>): string {
  const names = clusterSecretNames(r);
  return names.length ? JSON.stringify(names.map((n) => secrets.get(n) ?? null)) : '';
}
