// Envoy's LEAST_REQUEST with equal weights: power of two choices. Draw two hosts at random and
// take the one with fewer active requests; O(1) per pick and close to the true least loaded.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import type { LoadBalancer } from './load-balancer.js';

export class LeastRequestLoadBalancer implements LoadBalancer {
  constructor(private readonly hosts: readonly Host[], private readonly random: Random) {}

  chooseHost(): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    if (n === 1) return this.hosts[0];
    const a = this.hosts[Math.floor(this.random.next() * n)]!;
    const b = this.hosts[Math.floor(this.random.next() * n)]!;
    return b.activeRequests < a.activeRequests ? b : a;
  }
}
