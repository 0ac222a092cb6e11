// RANDOM: a uniform draw, or with unequal weights a draw over cumulative weights (binary search),
// so a host's share is its weight over the total.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import { avoidExcluded, equalWeights } from './load-balancer.js';
import type { LbContext, LoadBalancer } from './load-balancer.js';

export class RandomLoadBalancer implements LoadBalancer {
  /** Cumulative weights; null when all weights are equal. */
  private readonly cumulative: Float64Array | null;

  constructor(private readonly hosts: readonly Host[], private readonly random: Random) {
    if (hosts.length > 1 && !equalWeights(hosts)) {
      this.cumulative = new Float64Array(hosts.length);
      let sum = 0;
      hosts.forEach((h, i) => (this.cumulative![i] = sum += h.weight));
    } else {
      this.cumulative = null;
    }
  }

  chooseHost(ctx: LbContext): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    let i = this.draw();
    const exclude = ctx.exclude;
    if (exclude !== undefined && exclude.size > 0 && exclude.has(this.hosts[i]!)) {
      // A few more weighted draws keep the distribution; then take whatever is left.
      for (let tries = 0; tries < 3 && exclude.has(this.hosts[i]!); tries++) i = this.draw();
      return avoidExcluded(this.hosts, i, exclude, this.hosts[i]!);
    }
    return this.hosts[i];
  }

  private draw(): number {
    const c = this.cumulative;
    if (c === null) return Math.floor(this.random.next() * this.hosts.length);
    const point = this.random.next() * c[c.length - 1]!;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid]! > point) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
