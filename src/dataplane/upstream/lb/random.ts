// Uniformly random host choice.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import type { LoadBalancer } from './load-balancer.js';

export class RandomLoadBalancer implements LoadBalancer {
  constructor(private readonly hosts: readonly Host[], private readonly random: Random) {}

  chooseHost(): Host | undefined {
    const n = this.hosts.length;
    return n === 0 ? undefined : this.hosts[Math.floor(this.random.next() * n)];
  }
}
