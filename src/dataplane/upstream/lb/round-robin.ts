// ROUND_ROBIN. Equal weights: rotate through the hosts from a random start, so proxies built at
// the same moment do not all send their first request to the same host (Envoy does the same).
// Unequal weights: smooth weighted round robin — each pick adds every host's weight to its
// credit, takes the host with the most credit and charges it the total, which spreads a heavy
// host's turns evenly through the cycle instead of in bursts.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import { avoidExcluded, equalWeights } from './load-balancer.js';
import type { LbContext, LoadBalancer } from './load-balancer.js';

export class RoundRobinLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  private next: number;
  /** Smooth WRR credits; null when weights are equal. */
  private readonly credit: Float64Array | null;
  private readonly totalWeight: number;

  constructor(hosts: readonly Host[], random: Random) {
    const n = hosts.length;
    const start = n ? Math.floor(random.next() * n) : 0;
    // Rotating the list by a random offset gives the weighted cycle a random start as well.
    this.hosts = start ? [...hosts.slice(start), ...hosts.slice(0, start)] : hosts;
    this.next = 0;
    this.credit = n > 1 && !equalWeights(hosts) ? new Float64Array(n) : null;
    let total = 0;
    for (const h of hosts) total += h.weight;
    this.totalWeight = total;
  }

  chooseHost(ctx: LbContext): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    const exclude = ctx.exclude;
    let h = this.pick();
    if (exclude !== undefined && exclude.size > 0 && exclude.has(h)) {
      // Keep turning the wheel so the rotation (and the weights) still decide; a heavy excluded
      // host can hold the wheel for long, so after n turns take the first allowed host.
      for (let i = 0; i < n && exclude.has(h); i++) h = this.pick();
      if (exclude.has(h)) h = avoidExcluded(this.hosts, 0, exclude, h);
    }
    return h;
  }

  private pick(): Host {
    const hosts = this.hosts;
    const credit = this.credit;
    if (credit === null) {
      const h = hosts[this.next]!;
      this.next = this.next + 1 === hosts.length ? 0 : this.next + 1;
      return h;
    }
    let best = 0;
    for (let i = 0; i < hosts.length; i++) {
      credit[i]! += hosts[i]!.weight;
      if (credit[i]! > credit[best]!) best = i;
    }
    credit[best]! -= this.totalWeight;
    return hosts[best]!;
  }
}
