// Load balancer interface and factory. A LoadBalancer is built over one immutable host list;
// when endpoints change the cluster builds a new one and swaps it (ARCHITECTURE.md §3), so
// implementations never handle concurrent host-set mutation.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import { LeastRequestLoadBalancer } from './least-request.js';
import { RandomLoadBalancer } from './random.js';
import { RoundRobinLoadBalancer } from './round-robin.js';

export interface LoadBalancer {
  /** Returns undefined when no host is usable. Must tolerate an empty host list. */
  chooseHost(): Host | undefined;
}

export type LbPolicyName = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';

export function createLoadBalancer(policy: LbPolicyName, hosts: readonly Host[], random: Random): LoadBalancer {
  switch (policy) {
    case 'ROUND_ROBIN':
      return new RoundRobinLoadBalancer(hosts, random);
    case 'LEAST_REQUEST':
      return new LeastRequestLoadBalancer(hosts, random);
    case 'RANDOM':
      return new RandomLoadBalancer(hosts, random);
  }
}
