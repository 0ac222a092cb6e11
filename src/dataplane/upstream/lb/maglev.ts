// Envoy's MAGLEV (Google's Maglev paper, weighted as Envoy does). Each host has a permutation of
// the M table slots (M prime) given by an offset and a skip hashed from its key; hosts take turns
// claiming their next preferred free slot, a host of weight w taking w/max(w) turns per round,
// until the table is full. A key maps to slot key mod M. Lookups are O(1), and removing a host
// reassigns mostly that host's slots. Slower to build than a ring; built only on host changes.

import type { Random } from '../../../common/random.js';
import type { Host } from '../host.js';
import { hashString32, mix32 } from './hash.js';
import { avoidExcluded } from './load-balancer.js';
import type { LbContext, LoadBalancer } from './load-balancer.js';

export class MaglevLoadBalancer implements LoadBalancer {
  private readonly hosts: readonly Host[];
  /** Slot → index into `hosts`. */
  private readonly table: Int32Array;

  constructor(hosts: readonly Host[], private readonly random: Random, tableSize: number) {
    const sorted = [...hosts].filter((h) => h.weight > 0).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.hosts = sorted;
    const n = sorted.length;
    if (n === 0) {
      this.table = new Int32Array(0);
      return;
    }
    const m = tableSize;
    const table = new Int32Array(m).fill(-1);
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    const credit = new Float64Array(n);
    let maxWeight = 0;
    sorted.forEach((h, i) => {
      offset[i] = hashString32(h.key, 1) % m;
      skip[i] = (hashString32(h.key, 2) % (m - 1)) + 1;
      maxWeight = Math.max(maxWeight, h.weight);
    });
    let filled = 0;
    while (filled < m) {
      for (let i = 0; i < n && filled < m; i++) {
        credit[i]! += sorted[i]!.weight;
        if (credit[i]! < maxWeight) continue;
        credit[i]! -= maxWeight;
        let slot = (offset[i]! + next[i]! * skip[i]!) % m;
        while (table[slot] !== -1) {
          next[i]!++;
          slot = (offset[i]! + next[i]! * skip[i]!) % m;
        }
        table[slot] = i;
        next[i]!++;
        filled++;
      }
    }
    this.table = table;
  }

  chooseHost(ctx: LbContext): Host | undefined {
    const table = this.table;
    const m = table.length;
    if (m === 0) return undefined;
    let slot = ctx.hashKey === undefined ? Math.floor(this.random.next() * m) : mix32(ctx.hashKey) % m;
    const chosen = this.hosts[table[slot]!]!;
    const exclude = ctx.exclude;
    if (exclude === undefined || exclude.size === 0 || !exclude.has(chosen)) return chosen;
    if (avoidExcluded(this.hosts, 0, exclude, chosen) === chosen) return chosen;
    // Neighbouring slots belong to pseudo-random hosts: the walk lands on an allowed one quickly.
    for (;;) {
      slot = slot + 1 === m ? 0 : slot + 1;
      const h = this.hosts[table[slot]!]!;
      if (!exclude.has(h)) return h;
    }
  }
}
