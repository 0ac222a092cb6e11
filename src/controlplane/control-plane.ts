// The control plane: holds the current config and registry, builds a MeshSnapshot whenever
// either changes, and serves every connected proxy its generated resources over ADS. Changes are
// debounced (bursts of file or readiness events become one push), and generation for a proxy is
// cached per snapshot so the four types of one push are generated once; resources alike across
// proxies are encoded once (encode-cache.ts). When it runs the mesh CA
// (serveCa), the CA's certificate service shares the xDS gRPC port and mesh mTLS is on.

import type { BootstrapTokens } from '../ca/bootstrap-tokens.js';
import type { CertificateAuthority } from '../ca/certificate-authority.js';
import type { Clock, Timer } from '../common/clock.js';
import { ConfigStore } from '../config/config-store.js';
import { EMPTY_REGISTRY } from '../registry/registry.js';
import type { Registry } from '../registry/registry.js';
import { AdsServer } from '../xds/ads-server.js';
import { addCaServices } from '../xds/ca-server.js';
import type { AdsConnection, EncodedResources } from '../xds/ads-server.js';
import type { AnyMessage } from '../xds/codec.js';
import { TYPE_URL } from '../xds/resources.js';
import type { Node, TypeUrl, XdsResource } from '../xds/resources.js';
import { EncodeCache } from './encode-cache.js';
import { generateProxyResources } from './generate/generate.js';
import type { ProxyResources } from './generate/generate.js';
import { DEFAULT_MESH_CONFIG, MeshSnapshot } from './model/mesh-snapshot.js';
import type { MeshConfig } from './model/mesh-snapshot.js';
import { parseProxyNode } from './model/proxy-node.js';
import { OidcDiscovery } from './oidc-discovery.js';
import type { ProxyNode } from './model/proxy-node.js';

export interface ControlPlaneOptions {
  readonly clock: Clock;
  readonly mesh?: MeshConfig;
  readonly log: (line: string) => void;
  /** Debounce window for pushes, ms (Istio uses 100). */
  readonly debounceMs?: number;
  /** For OIDC discovery of key sets; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Issuers of RequestAuthentication rules that give neither jwksUri nor jwks (RA-04). */
function issuersToDiscover(store: ConfigStore): Set<string> {
  const out = new Set<string>();
  for (const ra of store.list('RequestAuthentication')) {
    for (const r of ra.spec.jwtRules) if (r.issuer && !r.jwksUri && !r.jwks) out.add(r.issuer);
  }
  return out;
}

interface Connected {
  readonly node: ProxyNode;
  cache: { version: number; encoded: EncodedResources; plain: ProxyResources } | null;
}

export interface ProxyStatus {
  id: string;
  type: string;
  pod: string;
  namespace: string;
  peer: string;
  connectedAt: number;
  /** Snapshot version whose config the proxy has acknowledged in full (-1: none yet). */
  syncedSnapshot: number;
  synced: boolean;
  types: Record<string, { sent: string; acked: string; nack: string | null }>;
}

/** A workload certificate the CA issued, for status views. */
export interface IssuedSummary {
  readonly spiffeId: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** SHA-256 fingerprint of the root it chains to. */
  readonly root: string;
}

const SHORT: Record<string, string> = { [TYPE_URL.cluster]: 'CDS', [TYPE_URL.endpoint]: 'EDS', [TYPE_URL.listener]: 'LDS', [TYPE_URL.route]: 'RDS', [TYPE_URL.secret]: 'SDS' };

export class ControlPlane {
  private store = ConfigStore.empty();
  private registry: Registry = EMPTY_REGISTRY;
  private snapshotVersion = 0;
  private snap: MeshSnapshot;
  private readonly ads: AdsServer<Connected>;
  private pushTimer: Timer | null = null;
  private readonly syncedAt = new Map<AdsConnection<Connected>, number>();
  private readonly waiters: { version: number; resolve: () => void }[] = [];
  private meshConfig: MeshConfig;
  private ca: CertificateAuthority | null = null;
  private readonly issued = new Map<string, IssuedSummary>();
  private readonly oidc: OidcDiscovery;
  private readonly encoder = new EncodeCache();

  constructor(private readonly opts: ControlPlaneOptions) {
    this.meshConfig = opts.mesh ?? DEFAULT_MESH_CONFIG;
    this.snap = new MeshSnapshot(0, this.store, this.registry, this.meshConfig);
    // A discovered key set URI is config the generators read: a new snapshot carries it.
    this.oidc = new OidcDiscovery({ clock: opts.clock, log: opts.log, fetch: opts.fetch, onChange: () => this.update({}) });
    this.ads = new AdsServer<Connected>(
      {
        identify: (node: Node) => {
          const p = parseProxyNode(node);
          return typeof p === 'string' ? p : { node: p, cache: null };
        },
        resources: (c) => this.resourcesFor(c).encoded,
      },
      {
        onConnect: (c) => opts.log(`xds: ${c.proxy.node.podName}.${c.proxy.node.namespace} connected (${c.proxy.node.type})`),
        onDisconnect: (c) => {
          this.syncedAt.delete(c);
          opts.log(`xds: ${c.proxy.node.podName}.${c.proxy.node.namespace} disconnected`);
        },
        onAck: (c) => this.onAck(c),
        onNack: (c, t, v, msg) => opts.log(`xds: ${c.proxy.node.podName}.${c.proxy.node.namespace} rejected ${SHORT[t] ?? t} ${v}: ${msg}`),
      },
      'strait',
      () => opts.clock.now(),
    );
  }

  get mesh(): MeshConfig {
    return this.meshConfig;
  }

  /**
   * Runs the mesh CA: its gRPC services join the xDS server on the same port (as istiod serves
   * both), and mesh mTLS is on, since every proxy can now get a workload certificate. The CA's
   * trust domain is the mesh's. Call before listen().
   */
  serveCa(ca: CertificateAuthority, tokens: BootstrapTokens): void {
    addCaServices(this.ads, {
      ca,
      tokens,
      log: this.opts.log,
      onIssued: (who, cert) => {
        this.issued.set(who.holder, { spiffeId: cert.spiffeId, serial: cert.serial, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), root: cert.rootFingerprint });
        this.opts.log(`ca: issued ${cert.spiffeId} to ${who.holder} (serial ${cert.serial}, ${cert.keyDescription}, until ${cert.notAfter.toISOString()})`);
      },
    });
    this.ca = ca;
    this.meshConfig = { ...this.meshConfig, trustDomain: ca.trustDomain, meshMtls: true };
    this.snap = new MeshSnapshot(this.snapshotVersion, this.store, this.registry, this.meshConfig);
  }

  /** The CA this control plane runs, if any. */
  get certificateAuthority(): CertificateAuthority | null {
    return this.ca;
  }

  /** Forgets a holder's certificate record (its pod is gone). */
  forgetIssued(holder: string): void {
    this.issued.delete(holder);
  }

  /** The last certificate issued to each token holder (`namespace/pod`). */
  issuedCertificates(): ReadonlyMap<string, IssuedSummary> {
    return this.issued;
  }

  listen(host: string, port: number): Promise<number> {
    return this.ads.listen(host, port);
  }

  snapshot(): MeshSnapshot {
    return this.snap;
  }

  /** Replaces config and/or registry; a push follows after the debounce window. */
  update(inputs: { store?: ConfigStore; registry?: Registry }): number {
    if (inputs.store) this.store = inputs.store;
    if (inputs.registry) this.registry = inputs.registry;
    this.meshConfig = { ...this.meshConfig, discoveredJwksUris: this.oidc.resolve(issuersToDiscover(this.store)) };
    this.snap = new MeshSnapshot(++this.snapshotVersion, this.store, this.registry, this.meshConfig);
    if (!this.pushTimer) {
      this.pushTimer = this.opts.clock.setTimer(this.opts.debounceMs ?? 50, () => {
        this.pushTimer = null;
        this.ads.push();
        // Proxies whose config did not change are in sync with the new snapshot already.
        for (const c of this.ads.connections()) if (c.synced() && c.proxy.cache) this.syncedAt.set(c, c.proxy.cache.version);
        this.settleWaiters();
      });
    }
    return this.snapshotVersion;
  }

  /** The resources a given proxy gets now (for proxy-config views and tests). */
  resourcesFor(c: Connected): { encoded: EncodedResources; plain: ProxyResources } {
    if (c.cache && c.cache.version === this.snap.version) return c.cache;
    const plain = generateProxyResources(this.snap, c.node);
    const enc = this.encoder;
    enc.begin(this.snap.version);
    const encodeAll = <T extends XdsResource>(typeUrl: TypeUrl, list: readonly T[], name: (r: T) => string): Map<string, AnyMessage> => {
      const m = new Map<string, AnyMessage>();
      for (const r of list) m.set(name(r), enc.encode(typeUrl, r));
      return m;
    };
    const encoded = new Map<TypeUrl, Map<string, AnyMessage>>([
      [TYPE_URL.listener, encodeAll(TYPE_URL.listener, plain.listeners, (r) => r.name)],
      [TYPE_URL.route, encodeAll(TYPE_URL.route, plain.routes, (r) => r.name)],
      [TYPE_URL.cluster, encodeAll(TYPE_URL.cluster, plain.clusters, (r) => r.name)],
      [TYPE_URL.endpoint, encodeAll(TYPE_URL.endpoint, plain.endpoints, (r) => r.clusterName)],
      [TYPE_URL.secret, encodeAll(TYPE_URL.secret, plain.secrets, (r) => r.name)],
    ]);
    c.cache = { version: this.snap.version, encoded, plain };
    return c.cache;
  }

  private onAck(c: AdsConnection<Connected>): void {
    if (!c.synced()) return;
    const v = c.proxy.cache?.version ?? 0;
    this.syncedAt.set(c, v);
    this.settleWaiters();
  }

  private settleWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.allSyncedTo(w.version)) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private allSyncedTo(version: number): boolean {
    for (const c of this.ads.connections()) if ((this.syncedAt.get(c) ?? -1) < version) return false;
    return true;
  }

  /** Resolves when every connected proxy has acknowledged config of at least this snapshot. */
  waitForSync(version = this.snapshotVersion): Promise<void> {
    if (this.allSyncedTo(version)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ version, resolve }));
  }

  status(): ProxyStatus[] {
    return this.ads.connections().map((c) => {
      const types: ProxyStatus['types'] = {};
      for (const [t, st] of c.types) types[SHORT[t] ?? t] = { sent: st.sentVersion, acked: st.ackedVersion, nack: st.nack?.message ?? null };
      return {
        id: c.node.id,
        type: c.proxy.node.type,
        pod: c.proxy.node.podName,
        namespace: c.proxy.node.namespace,
        peer: c.peer,
        connectedAt: c.connectedAt,
        syncedSnapshot: this.syncedAt.get(c) ?? -1,
        synced: c.synced() && (this.syncedAt.get(c) ?? -1) === this.snap.version,
        types,
      };
    });
  }

  async close(): Promise<void> {
    this.pushTimer?.cancel();
    this.oidc.close();
    await this.ads.close();
  }
}
