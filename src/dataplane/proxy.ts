// One data plane proxy: holds the xDS resources it was given (static bootstrap resources, or
// what the ADS stream delivers), compiles every update into run-time objects and applies it
// atomically. An update that does not compile or whose listeners cannot bind is rejected as a
// whole (NACK); the previous config keeps serving. Also owns the admin endpoint's data.

import type { Clock } from '../common/clock.js';
import type { Random } from '../common/random.js';
import { openSink } from '../telemetry/access-log/sink.js';
import type { AccessLogSink } from '../telemetry/access-log/sink.js';
import { StatsRegistry } from '../telemetry/stats/stats.js';
import type { Gauge } from '../telemetry/stats/stats.js';
import type { AdsClient } from '../xds/ads-client.js';
import { normalizeResource } from '../xds/codec.js';
import { TYPE_URL } from '../xds/resources.js';
import type { Bootstrap, Cluster, ClusterLoadAssignment, HttpConnectionManager, Listener, RouteConfiguration, Secret, TypeUrl, XdsResource } from '../xds/resources.js';
import { compileConfig, EMPTY_RESOURCES, sdsNames } from './config/compile.js';
// Registers Strait's HTTP filters (fault, CORS, ...) so listener configs can name them.
import '../filters/http/index.js';
import type { AddressMap, ResourceSet } from './config/compile.js';
import { ListenerManager } from './listener/listener-manager.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import { ClusterHttpClient } from './http/async-client.js';
import { TracerRegistry } from '../telemetry/tracing/tracer-registry.js';
import type { BatchOptions } from '../telemetry/tracing/reporter.js';
import { TapHub } from './http/tap.js';
import { defaultHttp1Codec } from './http1/codec.js';
import type { Http1Codec } from './http1/codec.js';

export interface ProxyOptions {
  readonly bootstrap: Bootstrap;
  readonly addresses: AddressMap;
  /** Overrides where '/dev/stdout' access logs go ('off', a file, 'stdout'). */
  readonly accessLogTarget: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: (line: string) => void;
  /** Span batching and bounds (tests shrink them; Envoy's defaults otherwise). */
  readonly tracingBatch?: Partial<BatchOptions>;
  /** The lean codec or node's http module for plaintext HTTP/1.1 (default: lean, unless $STRAIT_HTTP1_CODEC=node). */
  readonly http1Codec?: Http1Codec;
}

export interface TypeState {
  version: string;
  /** Clock time of the last accepted update. */
  lastUpdated: number;
  rejected: { version: string; error: string; at: number } | null;
}

export class Proxy {
  readonly stats = new StatsRegistry();
  readonly clusters: ClusterManager;
  readonly listeners: ListenerManager;
  /** Span reporters by tracing provider, shared across config pushes (telemetry/tracing/). */
  readonly tracers: TracerRegistry;
  /** Live tap of completed requests (admin /tap). */
  readonly tap = new TapHub();
  private resources: ResourceSet = EMPTY_RESOURCES;
  /** Secrets made in this process (the identity agent's `default` and `ROOTCA`), by name. */
  private localSecrets: ReadonlyMap<string, Secret> = new Map();
  private readonly sinks = new Map<string, AccessLogSink>();
  private ads: AdsClient | null = null;
  private chain: Promise<void> = Promise.resolve();
  readonly typeState = new Map<TypeUrl, TypeState>();
  private readonly startedAt: number;
  private readonly liveGauge: Gauge;
  private readonly updatesRejected;
  private readonly updatesAccepted;
  private haveEds = false;
  /** Conditions besides config that must hold before the proxy reports ready (its identity). */
  private readonly readinessGates: { what: string; ok: () => boolean }[] = [];

  constructor(readonly opts: ProxyOptions) {
    const lean = (opts.http1Codec ?? defaultHttp1Codec()) === 'lean';
    this.clusters = new ClusterManager(this.stats, opts.random, opts.addresses, { clock: opts.clock, leanHttp1: lean });
    this.listeners = new ListenerManager({ clusters: this.clusters, clock: opts.clock, random: opts.random, tap: this.tap }, this.stats, lean);
    this.startedAt = opts.clock.now();
    const node = opts.bootstrap.node;
    const md = (node.metadata ?? {}) as Record<string, unknown>;
    this.tracers = new TracerRegistry({
      client: new ClusterHttpClient(this.clusters, opts.clock),
      clock: opts.clock,
      random: opts.random,
      stats: this.stats,
      node: { id: node.id, cluster: node.cluster ?? '', zone: '', ...(typeof md.INSTANCE_IPS === 'string' ? { ip: md.INSTANCE_IPS.split(',')[0]! } : {}) },
      ...(opts.tracingBatch ? { batch: opts.tracingBatch } : {}),
    });
    const server = this.stats.scope('server', {}, '');
    this.liveGauge = server.gauge('live');
    this.updatesAccepted = this.stats.scope('control_plane', {}, '').counter('update_success');
    this.updatesRejected = this.stats.scope('control_plane', {}, '').counter('update_rejected');
  }

  get node(): Bootstrap['node'] {
    return this.opts.bootstrap.node;
  }

  /** What the proxy runs: the xDS resources, with local secrets in place of same-named SDS ones. */
  current(): ResourceSet {
    return this.withLocalSecrets(this.resources);
  }

  /**
   * Installs secrets made in this process, replacing the previous local set. Listeners and
   * clusters that name them over SDS resolve them as if SDS had delivered them, and they win over
   * an SDS secret of the same name (as Istio's agent alone serves `default` and `ROOTCA` to
   * Envoy). The config is re-applied in order with xDS updates: new handshakes use the new
   * certificate; connections already open keep theirs. Rejects (keeping the previous secrets)
   * when the config does not compile with them.
   */
  setLocalSecrets(secrets: readonly Secret[]): Promise<void> {
    const run = async () => {
      const prev = this.localSecrets;
      this.localSecrets = new Map(secrets.map((x) => [x.name, x]));
      try {
        await this.apply(this.resources);
      } catch (e) {
        this.localSecrets = prev;
        throw e;
      }
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private withLocalSecrets(res: ResourceSet): ResourceSet {
    if (this.localSecrets.size === 0) return res;
    return { ...res, secrets: new Map([...res.secrets, ...this.localSecrets]) };
  }

  /** Applies static resources, then connects to the ADS server if the bootstrap names one. */
  async start(): Promise<void> {
    const st = this.opts.bootstrap.staticResources;
    if (st?.listeners?.length || st?.clusters?.length) {
      const listeners = new Map((st.listeners ?? []).map((l) => [l.name, normalizeResource(TYPE_URL.listener, l)]));
      const clusters = new Map((st.clusters ?? []).map((c) => [c.name, normalizeResource(TYPE_URL.cluster, c)]));
      const secrets = new Map((st.secrets ?? []).map((x) => [x.name, normalizeResource(TYPE_URL.secret, x)]));
      await this.apply({ ...EMPTY_RESOURCES, listeners, clusters, secrets });
      this.haveEds = true;
    }
    const server = this.opts.bootstrap.dynamicResources?.adsServer;
    if (server) {
      // The ADS client (gRPC) loads only for a proxy with a control plane: static ones skip it.
      const { AdsClient } = await import('../xds/ads-client.js');
      this.ads = new AdsClient({
        server,
        node: this.opts.bootstrap.node,
        clock: this.opts.clock,
        random: this.opts.random,
        wildcardTypes: [TYPE_URL.cluster, TYPE_URL.listener],
        onResponse: (t, v, r) => this.onXds(t, v, r),
        onConnectionChange: (up, detail) => this.opts.log(up ? `xds: connected to ${server}` : `xds: disconnected from ${server}: ${detail}; serving the last config`),
      });
      this.ads.start();
    }
    this.liveGauge.value = 1;
  }

  /**
   * Holds readiness until `ok()` holds: the identity agent's first certificate, so a proxy that
   * reports ready can always take part in mesh mTLS.
   */
  addReadinessGate(what: string, ok: () => boolean): void {
    this.readinessGates.push({ what, ok });
  }

  /** What readiness still waits for (gates only), for logs and the admin endpoint. */
  pendingReadinessGates(): string[] {
    return this.readinessGates.filter((g) => !g.ok()).map((g) => g.what);
  }

  /** Ready once it has listeners and clusters and every route/endpoint set they refer to. */
  ready(): boolean {
    if (this.readinessGates.some((g) => !g.ok())) return false;
    const dynamic = this.opts.bootstrap.dynamicResources?.adsServer !== undefined;
    if (!dynamic) return true;
    const got = (t: TypeUrl) => this.typeState.has(t);
    if (!got(TYPE_URL.listener) || !got(TYPE_URL.cluster)) return false;
    if (rdsNames(this.resources.listeners).some((n) => !this.resources.routes.has(n))) return false;
    if (edsNames(this.resources.clusters).length > 0 && !this.haveEds) return false;
    if (sdsNames(this.resources).some((n) => !this.resources.secrets.has(n) && !this.localSecrets.has(n))) return false;
    return true;
  }

  xdsStatus(): { connected: boolean; acks: number; nacks: number; lastNack: string } | null {
    const a = this.ads;
    return a ? { connected: a.connected, acks: a.acks, nacks: a.nacks, lastNack: a.lastNack } : null;
  }

  uptimeSeconds(): number {
    return Math.floor((this.opts.clock.now() - this.startedAt) / 1000);
  }

  private onXds(typeUrl: TypeUrl, version: string, resources: XdsResource[]): Promise<void> {
    const run = async () => {
      const cur = this.resources;
      let next: ResourceSet;
      switch (typeUrl) {
        case TYPE_URL.listener:
          next = { ...cur, listeners: byName(resources as Listener[], (l) => l.name) };
          break;
        case TYPE_URL.cluster:
          next = { ...cur, clusters: byName(resources as Cluster[], (c) => c.name) };
          break;
        case TYPE_URL.route: {
          // RDS responses may carry a subset: merge by name, keep only what is subscribed.
          const routes = new Map(cur.routes);
          for (const r of resources as RouteConfiguration[]) routes.set(r.name, r);
          const wanted = new Set(rdsNames(cur.listeners));
          for (const n of routes.keys()) if (!wanted.has(n)) routes.delete(n);
          next = { ...cur, routes };
          break;
        }
        case TYPE_URL.endpoint: {
          const endpoints = new Map(cur.endpoints);
          for (const e of resources as ClusterLoadAssignment[]) endpoints.set(e.clusterName, e);
          const wanted = new Set(edsNames(cur.clusters));
          for (const n of endpoints.keys()) if (!wanted.has(n)) endpoints.delete(n);
          next = { ...cur, endpoints };
          break;
        }
        case TYPE_URL.secret: {
          const secrets = new Map(cur.secrets);
          for (const sec of resources as Secret[]) secrets.set(sec.name, sec);
          const wanted = new Set(sdsNames(cur));
          for (const n of secrets.keys()) if (!wanted.has(n)) secrets.delete(n);
          next = { ...cur, secrets };
          break;
        }
        default:
          throw new Error(`type ${typeUrl} is not supported by this proxy`);
      }
      try {
        await this.apply(next);
      } catch (e) {
        this.updatesRejected.value++;
        this.typeState.set(typeUrl, { ...(this.typeState.get(typeUrl) ?? { version: '', lastUpdated: 0 }), rejected: { version, error: (e as Error).message, at: this.opts.clock.now() } });
        this.opts.log(`xds: rejected ${shortType(typeUrl)} version ${version}: ${(e as Error).message}`);
        throw e;
      }
      this.updatesAccepted.value++;
      this.typeState.set(typeUrl, { version, lastUpdated: this.opts.clock.now(), rejected: null });
      if (typeUrl === TYPE_URL.endpoint) this.haveEds = true;
      // Subscribe to what the accepted listeners and clusters refer to.
      if (typeUrl === TYPE_URL.listener) {
        this.ads?.setSubscription(TYPE_URL.route, rdsNames(next.listeners));
      }
      if (typeUrl === TYPE_URL.cluster) this.ads?.setSubscription(TYPE_URL.endpoint, edsNames(next.clusters));
      if (typeUrl === TYPE_URL.listener || typeUrl === TYPE_URL.cluster) this.ads?.setSubscription(TYPE_URL.secret, sdsNames(next));
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async apply(next: ResourceSet): Promise<void> {
    const compiled = compileConfig(this.withLocalSecrets(next), this.clusters, this.stats, this.opts.addresses, { clock: this.opts.clock, random: this.opts.random, tracers: this.tracers });
    for (const l of compiled.listeners) {
      for (const c of l.chains) for (const log of c.network.kind === 'http' ? c.network.hcm.accessLogs : c.network.tcp.accessLogs) log.sink = this.sinkFor(log.path);
    }
    const prepared = await this.listeners.prepare(compiled.listeners);
    this.clusters.commit(compiled.clusters);
    this.listeners.commit(prepared);
    this.resources = next;
  }

  private sinkFor(path: string): AccessLogSink {
    const target = path === '/dev/stdout' ? this.opts.accessLogTarget : path;
    let s = this.sinks.get(target);
    if (!s) this.sinks.set(target, (s = openSink(target)));
    return s;
  }

  async stop(): Promise<void> {
    this.liveGauge.value = 0;
    this.ads?.stop();
    await this.listeners.close();
    // Queued spans go out before the clusters they travel over close.
    await this.tracers.close();
    this.clusters.close();
    await Promise.all([...this.sinks.values()].map((s) => s.close()));
  }
}

function byName<T>(list: readonly T[], name: (t: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of list) {
    const n = name(r);
    if (m.has(n)) throw new Error(`duplicate resource name "${n}"`);
    m.set(n, r);
  }
  return m;
}

export function rdsNames(listeners: ReadonlyMap<string, Listener>): string[] {
  const names: string[] = [];
  for (const l of listeners.values()) {
    for (const fc of l.filterChains ?? []) {
      for (const f of fc.filters ?? []) {
        const hcm = f.typedConfig as unknown as Partial<HttpConnectionManager>;
        if (hcm.rds?.routeConfigName) names.push(hcm.rds.routeConfigName);
      }
    }
  }
  return names;
}

export function edsNames(clusters: ReadonlyMap<string, Cluster>): string[] {
  const names: string[] = [];
  for (const c of clusters.values()) if (c.type === 'EDS') names.push(c.edsClusterConfig?.serviceName || c.name);
  return names;
}

export function shortType(typeUrl: string): string {
  const map: Record<string, string> = {
    [TYPE_URL.listener]: 'LDS',
    [TYPE_URL.route]: 'RDS',
    [TYPE_URL.cluster]: 'CDS',
    [TYPE_URL.endpoint]: 'EDS',
    [TYPE_URL.secret]: 'SDS',
  };
  return map[typeUrl] ?? typeUrl;
}
