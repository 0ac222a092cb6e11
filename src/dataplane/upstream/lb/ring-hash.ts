// Envoy's RING_HASH (Ketama-style consistent hashing). Every host owns points on a 32-bit ring in
// proportion to its weight; a key maps to the first point at or after it (wrapping). Points hash
// from host keys, so the ring does not depend on endpoint order.
//
// Sizing differs from Envoy's in one deliberate way. Envoy gives the lightest host
// ceil(share × minimumRingSize) points, so the points per host change with every host added or
// removed, and those redrawn points move keys between hosts that did not change. Here the
// lightest host's point count is rounded up to a power of two, so it stays put while the host
// count varies within a power-of-two band, and removing a host moves only the keys it owned. The
// ring still holds at least minimumRingSize points (less than twice that) and at most
// maximumRingSize, where the counts are scaled down to fit.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import { hashString32, mix32, pointHash } from './hash.js';
import { avoidExcluded } from './load-balancer.js';
import type { LbContext, LoadBalancer } from './load-balancer.js';

/** Points are sorted as one float64 each: hash × 2^21 + host index (exact below 2^53). */
const INDEX_BITS = 2 ** 21;

export class RingHashLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  /** Ring point hashes, ascending. */
  private readonly points: Uint32Array;
  /** Index into `hosts` of each point's owner. */
  private readonly owners: Int32Array;

  constructor(hosts: readonly Host[], private readonly random: Random, minimumRingSize: number, maximumRingSize: number) {
    // Sorted by key so ties on a point break the same way whatever the endpoint order.
    const sorted = [...hosts].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, INDEX_BITS);
    this.hosts = sorted;
    let total = 0;
    for (const h of sorted) total += h.weight;
    if (sorted.length === 0 || total <= 0) {
      this.points = new Uint32Array(0);
      this.owners = new Int32Array(0);
      return;
    }
    let minWeight = Infinity;
    for (const h of sorted) minWeight = Math.min(minWeight, h.weight);
    const perMinWeight = 2 ** Math.ceil(Math.log2(Math.max(1, (minimumRingSize * minWeight) / total)));
    let size = 0;
    for (const h of sorted) size += Math.round((perMinWeight * h.weight) / minWeight);
    const fit = size > maximumRingSize ? maximumRingSize / size : 1;
    const packed = new Float64Array(Math.min(size, maximumRingSize));
    let placed = 0;
    sorted.forEach((h, i) => {
      const seed = hashString32(h.key);
      const count = Math.max(1, Math.floor(Math.round((perMinWeight * h.weight) / minWeight) * fit));
      for (let j = 0; j < count && placed < packed.length; j++) packed[placed++] = pointHash(seed, j) * INDEX_BITS + i;
    });
    const ring = packed.subarray(0, placed).sort();
    this.points = new Uint32Array(placed);
    this.owners = new Int32Array(placed);
    for (let k = 0; k < placed; k++) {
      const v = ring[k]!;
      const owner = v % INDEX_BITS;
      this.owners[k] = owner;
      this.points[k] = (v - owner) / INDEX_BITS;
    }
  }

  /** Number of points on the ring (tests, admin). */
  get size(): number {
    return this.points.length;
  }

  chooseHost(ctx: LbContext): Host | undefined {
    const points = this.points;
    const n = points.length;
    if (n === 0) return undefined;
    // Without a key Envoy picks a random point, which is a weighted random host.
    const key = ctx.hashKey === undefined ? Math.floor(this.random.next() * 4294967296) : mix32(ctx.hashKey);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    let idx = lo === n ? 0 : lo;
    const chosen = this.hosts[this.owners[idx]!]!;
    const exclude = ctx.exclude;
    if (exclude === undefined || exclude.size === 0 || !exclude.has(chosen)) return chosen;
    // The next allowed host clockwise: where the key would go if the tried hosts were removed.
    if (avoidExcluded(this.hosts, 0, exclude, chosen) === chosen) return chosen;
    for (;;) {
      idx = idx + 1 === n ? 0 : idx + 1;
      const h = this.hosts[this.owners[idx]!]!;
      if (!exclude.has(h)) return h;
    }
  }
}
