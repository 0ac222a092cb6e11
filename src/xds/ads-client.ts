// The proxy side of an ADS stream (state-of-the-world): subscribes to clusters and listeners as
// wildcards and to route configurations and endpoints by name, applies each response through a
// callback, and answers with an ACK (the response's version and nonce) or a NACK (the last good
// version, the nonce, and the error). Responses are applied one at a time, in arrival order.
// When the stream breaks it reconnects with jittered backoff; the proxy keeps serving its last
// good config meanwhile.

import * as grpc from '@grpc/grpc-js';
import type { Clock, Timer } from '../common/clock.js';
import type { Random } from '../common/random.js';
import { ADS_SERVICE } from './ads-service.js';
import type { DiscoveryRequest, DiscoveryResponse } from './ads-service.js';
import { decodeResource } from './codec.js';
import type { Node, TypeUrl, XdsResource } from './resources.js';

export interface AdsClientOptions {
  /** host:port of the ADS server. */
  readonly server: string;
  readonly node: Node;
  readonly clock: Clock;
  readonly random: Random;
  /** Types subscribed as wildcards from the start (normally CDS and LDS). */
  readonly wildcardTypes: readonly TypeUrl[];
  /** Applies one response. Rejecting NACKs it with the error's message. */
  onResponse(typeUrl: TypeUrl, version: string, resources: XdsResource[]): Promise<void>;
  onConnectionChange?(connected: boolean, detail: string): void;
}

interface Subscription {
  /** null = wildcard. */
  names: string[] | null;
  /** Last version applied (sent back in ACKs, and in NACKs as the version still in use). */
  version: string;
  /** Nonce of the last response received on the current stream. */
  nonce: string;
}

type Call = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

const AdsStub = grpc.makeGenericClientConstructor(ADS_SERVICE, 'AggregatedDiscoveryService');

export class AdsClient {
  private readonly client: grpc.Client & { StreamAggregatedResources(): Call };
  private readonly subs = new Map<TypeUrl, Subscription>();
  private call: Call | null = null;
  private firstRequestSent = false;
  private queue: Promise<void> = Promise.resolve();
  private retryTimer: Timer | null = null;
  private backoffMs = 250;
  private stopped = false;
  connected = false;
  acks = 0;
  nacks = 0;
  lastNack = '';

  constructor(private readonly opts: AdsClientOptions) {
    this.client = new AdsStub(opts.server, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    }) as unknown as grpc.Client & { StreamAggregatedResources(): Call };
    for (const t of opts.wildcardTypes) this.subs.set(t, { names: null, version: '', nonce: '' });
  }

  start(): void {
    this.connect();
  }

  /** Sets the resource names wanted for a named-resource type (RDS, EDS); resends if changed. */
  setSubscription(typeUrl: TypeUrl, names: readonly string[]): void {
    const sorted = [...new Set(names)].sort();
    const sub = this.subs.get(typeUrl);
    if (sub && sub.names && sameList(sub.names, sorted)) return;
    if (!sub) this.subs.set(typeUrl, { names: sorted, version: '', nonce: '' });
    else sub.names = sorted;
    this.send(typeUrl);
  }

  private connect(): void {
    if (this.stopped) return;
    const call = this.client.StreamAggregatedResources();
    this.call = call;
    this.firstRequestSent = false;
    for (const sub of this.subs.values()) sub.nonce = '';
    call.on('data', (resp: DiscoveryResponse) => {
      if (call !== this.call) return;
      if (!this.connected) {
        this.connected = true;
        this.backoffMs = 250;
        this.opts.onConnectionChange?.(true, '');
      }
      this.queue = this.queue.then(() => this.handle(call, resp));
    });
    const broken = (detail: string) => {
      if (call !== this.call) return;
      this.call = null;
      if (this.connected) this.opts.onConnectionChange?.(false, detail);
      this.connected = false;
      this.scheduleReconnect();
    };
    call.on('error', (err: grpc.ServiceError) => broken(err.details || err.message));
    call.on('end', () => broken('stream ended by the server'));
    for (const t of this.subs.keys()) this.send(t);
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.backoffMs * (0.5 + this.opts.random.next());
    this.backoffMs = Math.min(this.backoffMs * 2, 15_000);
    this.retryTimer = this.opts.clock.setTimer(delay, () => {
      this.retryTimer = null;
      this.connect();
    });
  }

  private async handle(call: Call, resp: DiscoveryResponse): Promise<void> {
    const typeUrl = resp.typeUrl as TypeUrl;
    const sub = this.subs.get(typeUrl);
    if (!sub) return; // not subscribed (a server bug); ignore rather than ACK
    let error = '';
    try {
      const resources = resp.resources.map((a) => decodeResource<XdsResource>(a));
      await this.opts.onResponse(typeUrl, resp.versionInfo, resources);
    } catch (e) {
      error = (e as Error).message || String(e);
    }
    if (call !== this.call) return;
    sub.nonce = resp.nonce;
    if (error) {
      this.nacks++;
      this.lastNack = error;
      this.send(typeUrl, error);
    } else {
      this.acks++;
      sub.version = resp.versionInfo;
      this.send(typeUrl);
    }
  }

  private send(typeUrl: TypeUrl, error?: string): void {
    const call = this.call;
    const sub = this.subs.get(typeUrl);
    if (!call || !sub) return;
    const req: DiscoveryRequest = {
      versionInfo: sub.version,
      resourceNames: sub.names ?? [],
      typeUrl,
      responseNonce: sub.nonce,
    };
    if (!this.firstRequestSent) {
      req.node = this.opts.node;
      this.firstRequestSent = true;
    }
    if (error) req.errorDetail = { code: 3 /* INVALID_ARGUMENT */, message: error };
    call.write(req);
  }

  stop(): void {
    this.stopped = true;
    this.retryTimer?.cancel();
    const call = this.call;
    this.call = null;
    call?.cancel();
    this.client.close();
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
