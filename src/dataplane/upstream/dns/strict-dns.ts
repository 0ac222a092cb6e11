// STRICT_DNS: every endpoint's hostname is resolved, and every address of the configured family
// becomes a host (port, weight and health from the endpoint). Resolution repeats every
// dnsRefreshRate on the injected clock. A name that fails to resolve keeps its last answer
// (Envoy keeps serving what it knew); a new host set is announced only when it changed.

import type { Clock, Timer } from '../../../common/clock.js';
import type { Host } from '../host.js';
import { newHost } from '../host.js';
import type { EdsHealth } from '../host.js';
import { resolveFamily } from './resolver.js';
import type { LookupFamily, Resolver } from './resolver.js';

export interface DnsEndpoint {
  readonly name: string;
  readonly port: number;
  readonly weight: number;
  readonly health: EdsHealth;
}

export class StrictDnsResolver {
  private timer: Timer | null = null;
  private stopped = false;
  private readonly last = new Map<string, readonly string[]>();
  private lastKey = '';
  private inflight: Promise<void> | null = null;

  constructor(
    private readonly endpoints: readonly DnsEndpoint[],
    private readonly family: LookupFamily,
    private readonly refreshMs: number,
    private readonly resolver: Resolver,
    private readonly clock: Clock,
    private readonly onHosts: (hosts: Host[]) => void,
    private readonly onError: (name: string, err: Error) => void,
  ) {}

  start(): void {
    if (this.stopped || this.inflight || this.timer) return;
    this.inflight = this.round();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** The resolution round in progress, if any (tests wait on it). */
  settledForTest(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  private async round(): Promise<void> {
    const names = [...new Set(this.endpoints.map((e) => e.name))];
    await Promise.all(
      names.map(async (name) => {
        try {
          this.last.set(name, await resolveFamily(this.resolver, name, this.family));
        } catch (e) {
          this.onError(name, e as Error);
        }
      }),
    );
    this.inflight = null;
    if (this.stopped) return;
    const hosts: Host[] = [];
    const seen = new Set<string>();
    for (const e of this.endpoints) {
      for (const address of this.last.get(e.name) ?? []) {
        const h = newHost(address, e.port, e.weight, e.health);
        if (seen.has(h.key)) continue;
        seen.add(h.key);
        hosts.push(h);
      }
    }
    const key = hosts.map((h) => `${h.key}/${h.weight}/${h.edsHealth}`).join(',');
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.onHosts(hosts);
    }
    this.timer = this.clock.setTimer(this.refreshMs, () => {
      this.timer = null;
      if (!this.stopped) this.inflight = this.round();
    });
  }
}
