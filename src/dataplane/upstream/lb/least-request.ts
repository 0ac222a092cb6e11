// Envoy's LEAST_REQUEST. Equal weights: draw `choiceCount` hosts at random (default 2, "power of
// two choices") and take the one with the fewest active requests — O(1) per pick and close to the
// true least loaded. Unequal weights: an EDF schedule where a host's weight at the moment it is
// rescheduled is weight / (active requests + 1) (Envoy's active_request_bias of 1.0).

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import { EdfScheduler } from './edf.js';
import { avoidExcluded, equalWeights } from './load-balancer.js';
import type { LbContext, LoadBalancer } from './load-balancer.js';

export class LeastRequestLoadBalancer implements LoadBalancer {
  private readonly edf: EdfScheduler | null;
  private readonly effectiveWeight: (i: number) => number;

  constructor(private readonly hosts: readonly Host[], private readonly random: Random, private readonly choiceCount: number) {
    this.edf = hosts.length > 1 && !equalWeights(hosts) ? new EdfScheduler(hosts.map((h) => h.weight)) : null;
    this.effectiveWeight = (i) => {
      const h = this.hosts[i]!;
      return h.weight / (h.activeRequests + 1);
    };
  }

  chooseHost(ctx: LbContext): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    if (n === 1) return this.hosts[0];
    const exclude = ctx.exclude;
    let i = this.pick();
    if (exclude !== undefined && exclude.size > 0 && exclude.has(this.hosts[i]!)) {
      for (let tries = 0; tries < 3 && exclude.has(this.hosts[i]!); tries++) i = this.pick();
      return avoidExcluded(this.hosts, i, exclude, this.hosts[i]!);
    }
    return this.hosts[i];
  }

  private pick(): number {
    if (this.edf !== null) return this.edf.pick(this.effectiveWeight);
    const hosts = this.hosts;
    const n = hosts.length;
    let best = Math.floor(this.random.next() * n);
    for (let c = 1; c < this.choiceCount; c++) {
      const j = Math.floor(this.random.next() * n);
      if (hosts[j]!.activeRequests < hosts[best]!.activeRequests) best = j;
    }
    return best;
  }
}
