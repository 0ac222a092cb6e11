// Round robin over the hosts, starting at a random index so that many proxies built at the same
// moment do not all send their first request to the same host (as Envoy does).

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import type { LoadBalancer } from './load-balancer.js';

export class RoundRobinLoadBalancer implements LoadBalancer {
  private next: number;

  constructor(private readonly hosts: readonly Host[], random: Random) {
    this.next = hosts.length ? Math.floor(random.next() * hosts.length) : 0;
  }

  chooseHost(): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    const h = this.hosts[this.next % n];
    this.next = (this.next + 1) % n;
    return h;
  }
}
