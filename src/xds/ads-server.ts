// The control plane side of ADS (state-of-the-world, aggregated on one gRPC stream per proxy).
// It knows nothing about meshes: a `source` identifies each proxy and produces its encoded
// resources; this module keeps per-stream subscription state, sends only what changed (by a
// content hash per type, over each resource's name and digest), in push order (CDS, EDS, LDS,
// RDS), and tracks ACKs and NACKs by nonce as the xDS protocol defines them.

import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { AnyMessage } from './codec.js';
import { ADS_SERVICE } from './ads-service.js';
import type { DiscoveryRequest, DiscoveryResponse } from './ads-service.js';
import { PUSH_ORDER, TYPE_URL } from './resources.js';
import type { Node, TypeUrl } from './resources.js';

/** Every resource of every type for one proxy, encoded, by type and name. */
export type EncodedResources = ReadonlyMap<TypeUrl, ReadonlyMap<string, AnyMessage>>;

export interface AdsSource<P> {
  /** Identifies the proxy from its node; a string refuses the stream with that message. */
  identify(node: Node, peer: string): P | string;
  /** Current resources of the proxy (called on connect and on every push). */
  resources(proxy: P): EncodedResources;
}

export interface TypeStatus {
  /** Names the proxy subscribed to (null = wildcard). */
  names: string[] | null;
  sentVersion: string;
  sentNonce: string;
  ackedVersion: string;
  /** Set when the last response was NACKed: its version and the proxy's error. */
  nack: { version: string; message: string } | null;
  /** True after the proxy's first request for the type. */
  requested: boolean;
}

export interface AdsConnection<P> {
  readonly id: number;
  readonly proxy: P;
  readonly node: Node;
  readonly peer: string;
  readonly connectedAt: number;
  readonly types: Map<TypeUrl, TypeStatus>;
  /** True when every type sent was ACKed at the version sent. */
  synced(): boolean;
}

const WILDCARD_TYPES = new Set<string>([TYPE_URL.listener, TYPE_URL.cluster]);

/** Content digests of encoded resources: a resource shared by many proxies is hashed once. */
const digests = new WeakMap<AnyMessage, string>();
function digestOf(r: AnyMessage): string {
  let d = digests.get(r);
  if (d === undefined) digests.set(r, (d = createHash('sha1').update(r.value).digest('base64')));
  return d;
}

export interface AdsServerEvents<P> {
  onConnect?(c: AdsConnection<P>): void;
  onDisconnect?(c: AdsConnection<P>): void;
  onAck?(c: AdsConnection<P>, typeUrl: TypeUrl, version: string): void;
  onNack?(c: AdsConnection<P>, typeUrl: TypeUrl, version: string, message: string): void;
}

class Stream<P> implements AdsConnection<P> {
  readonly types = new Map<TypeUrl, TypeStatus>();
  private nonce = 0;
  private sentHashes = new Map<TypeUrl, string>();

  constructor(
    readonly id: number,
    readonly proxy: P,
    readonly node: Node,
    readonly peer: string,
    readonly connectedAt: number,
    private readonly call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    private readonly controlPlaneId: string,
  ) {}

  synced(): boolean {
    for (const t of this.types.values()) if (t.requested && t.sentVersion !== t.ackedVersion) return false;
    return true;
  }

  /** Sends the type if its content differs from what was sent last (or if forced). */
  send(typeUrl: TypeUrl, all: EncodedResources, force: boolean): void {
    const st = this.types.get(typeUrl);
    if (!st || !st.requested) return;
    const available = all.get(typeUrl) ?? new Map<string, AnyMessage>();
    const names = st.names === null ? [...available.keys()].sort() : st.names.filter((n) => available.has(n));
    const hash = createHash('sha256');
    const resources: AnyMessage[] = [];
    for (const n of names) {
      const r = available.get(n)!;
      hash.update(n).update('\0').update(digestOf(r)).update('\0');
      resources.push(r);
    }
    const version = hash.digest('hex').slice(0, 12);
    if (!force && this.sentHashes.get(typeUrl) === version) return;
    this.sentHashes.set(typeUrl, version);
    st.sentVersion = version;
    st.sentNonce = String(++this.nonce);
    this.call.write({ versionInfo: version, resources, typeUrl, nonce: st.sentNonce, controlPlane: { identifier: this.controlPlaneId } });
  }
}

export class AdsServer<P> {
  private readonly server = new grpc.Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  private readonly streams = new Set<Stream<P>>();
  private nextId = 1;
  private port = 0;

  constructor(
    private readonly source: AdsSource<P>,
    private readonly events: AdsServerEvents<P> = {},
    private readonly controlPlaneId = 'strait',
    private readonly now: () => number = () => Date.now(),
  ) {
    this.server.addService(ADS_SERVICE, { StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.onStream(call) });
  }

  /** Serves another gRPC service on the same server and port (the CA's); call before listen(). */
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(service, implementation);
  }

  async listen(host: string, port: number): Promise<number> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return this.port;
  }

  connections(): AdsConnection<P>[] {
    return [...this.streams];
  }

  /** Recomputes every proxy's resources and sends what changed. */
  push(): void {
    for (const s of this.streams) this.pushTo(s, false);
  }

  private pushTo(s: Stream<P>, force: boolean): void {
    let all: EncodedResources;
    try {
      all = this.source.resources(s.proxy);
    } catch (e) {
      // A generator failure must not take the control plane down; the proxy keeps its config.
      process.stderr.write(`strait control plane: cannot generate config for ${s.node.id}: ${(e as Error).stack ?? e}\n`);
      return;
    }
    for (const t of PUSH_ORDER) s.send(t, all, force);
  }

  private onStream(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    let stream: Stream<P> | null = null;
    const peer = call.getPeer();
    call.on('data', (req: DiscoveryRequest) => {
      if (!stream) {
        const proxy = this.source.identify(req.node ?? { id: '' }, peer);
        if (typeof proxy === 'string') {
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: proxy });
          call.end();
          return;
        }
        stream = new Stream(this.nextId++, proxy, req.node!, peer, this.now(), call, this.controlPlaneId);
        this.streams.add(stream);
        this.events.onConnect?.(stream);
      }
      this.onRequest(stream, req);
    });
    const done = () => {
      if (stream && this.streams.delete(stream)) this.events.onDisconnect?.(stream);
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('cancelled', done);
  }

  private onRequest(s: Stream<P>, req: DiscoveryRequest): void {
    const typeUrl = req.typeUrl as TypeUrl;
    if (!PUSH_ORDER.includes(typeUrl)) return;
    let st = s.types.get(typeUrl);
    const first = !st;
    if (!st) {
      st = { names: null, sentVersion: '', sentNonce: '', ackedVersion: '', nack: null, requested: false };
      s.types.set(typeUrl, st);
    }
    const names = WILDCARD_TYPES.has(typeUrl) && req.resourceNames.length === 0 ? null : [...req.resourceNames].sort();
    if (req.responseNonce === '' || first) {
      // A new subscription (or a new stream): always answer, even if nothing changed.
      st.names = names;
      st.requested = true;
      this.sendOne(s, typeUrl, true);
      return;
    }
    // A stale nonce answers an older response; the client repeats its names with its next ACK.
    if (req.responseNonce !== st.sentNonce) return;
    const namesChanged = JSON.stringify(names) !== JSON.stringify(st.names);
    st.names = names;
    if (req.errorDetail) {
      st.nack = { version: st.sentVersion, message: req.errorDetail.message };
      this.events.onNack?.(s, typeUrl, st.sentVersion, req.errorDetail.message);
    } else {
      st.ackedVersion = req.versionInfo;
      st.nack = null;
      this.events.onAck?.(s, typeUrl, req.versionInfo);
    }
    if (namesChanged) this.sendOne(s, typeUrl, false);
  }

  private sendOne(s: Stream<P>, typeUrl: TypeUrl, force: boolean): void {
    try {
      s.send(typeUrl, this.source.resources(s.proxy), force);
    } catch (e) {
      process.stderr.write(`strait control plane: cannot generate config for ${s.node.id}: ${(e as Error).stack ?? e}\n`);
    }
  }

  async close(): Promise<void> {
    for (const s of this.streams) this.events.onDisconnect?.(s);
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.tryShutdown(() => resolve());
      setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1000).unref();
    });
  }
}
