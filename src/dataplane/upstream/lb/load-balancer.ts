// Load balancer interface and factory. A LoadBalancer is built over one immutable host list;
// when endpoints or health change the cluster builds a new one and swaps it (ARCHITECTURE.md §3,
// Envoy's LoadBalancerFactory), so implementations never handle host-set mutation. Options are
// validated by the cluster before any balancer is built; the factory trusts them.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import { LeastRequestLoadBalancer } from './least-request.js';
import { MaglevLoadBalancer } from './maglev.js';
import { RandomLoadBalancer } from './random.js';
import { RingHashLoadBalancer } from './ring-hash.js';
import { RoundRobinLoadBalancer } from './round-robin.js';

/** What the router knows about one pick. Every field may be missing (Envoy load_balancer.h). */
export interface LbContext {
  /** 32-bit unsigned key from the route's hash policy; RING_HASH and MAGLEV map it to a host. */
  readonly hashKey?: number;
  /** Hosts already tried by this request: avoided whenever another host is available. */
  readonly exclude?: ReadonlySet<Host>;
}

export const EMPTY_LB_CONTEXT: LbContext = Object.freeze({});

export interface LoadBalancer {
  /** Returns undefined only when the host list is empty. */
  chooseHost(ctx: LbContext): Host | undefined;
}

export type LbPolicyName = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';

export interface LbOptions {
  /** LEAST_REQUEST: hosts drawn per pick (Envoy leastRequestLbConfig.choiceCount, default 2). */
  readonly choiceCount?: number;
  /** RING_HASH: Envoy ringHashLbConfig, defaults 1024 and 8M. */
  readonly minimumRingSize?: number;
  readonly maximumRingSize?: number;
  /** MAGLEV: a prime, default 65537. */
  readonly tableSize?: number;
}

export function createLoadBalancer(policy: LbPolicyName, hosts: readonly Host[], random: Random, options: LbOptions = {}): LoadBalancer {
  switch (policy) {
    case 'ROUND_ROBIN':
      return new RoundRobinLoadBalancer(hosts, random);
    case 'LEAST_REQUEST':
      return new LeastRequestLoadBalancer(hosts, random, options.choiceCount ?? 2);
    case 'RANDOM':
      return new RandomLoadBalancer(hosts, random);
    case 'RING_HASH':
      return new RingHashLoadBalancer(hosts, random, options.minimumRingSize ?? 1024, options.maximumRingSize ?? 8 * 1024 * 1024);
    case 'MAGLEV':
      return new MaglevLoadBalancer(hosts, random, options.tableSize ?? 65537);
  }
}

/** True when every host of `hosts` has the same weight (the balancers then take a cheaper path). */
export function equalWeights(hosts: readonly Host[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== hosts[0]!.weight) return false;
  return true;
}

/**
 * The answer for a pick that landed on an excluded host: the first allowed host scanning `hosts`
 * from `from` (wrapping), or `chosen` itself when every host is excluded. A retry still goes
 * somewhere when all hosts were tried (Envoy's previous_hosts predicate gives up the same way).
 */
export function avoidExcluded(hosts: readonly Host[], from: number, exclude: ReadonlySet<Host>, chosen: Host): Host {
  const n = hosts.length;
  for (let i = 0; i < n; i++) {
    const h = hosts[(from + i) % n]!;
    if (!exclude.has(h)) return h;
  }
  return chosen;
}
