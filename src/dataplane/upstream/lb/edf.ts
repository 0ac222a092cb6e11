// Earliest-deadline-first scheduler (the one Envoy uses for weighted balancing): each entry has
// a deadline 1/weight after the virtual time it was last picked; the pick is the smallest
// deadline, and the entry goes back with a deadline computed from its weight *at that moment*,
// so weights may change between picks (weighted LEAST_REQUEST divides by active requests).
// A binary heap over preallocated arrays: O(log n) per pick, no allocation.

export class EdfScheduler {
  private readonly deadline: Float64Array;
  /** Tie-break: the order entries were (re)inserted, so equal deadlines rotate fairly. */
  private readonly seq: Float64Array;
  private readonly heap: Int32Array;
  private now = 0;
  private counter = 0;

  constructor(weights: readonly number[]) {
    const n = weights.length;
    this.deadline = new Float64Array(n);
    this.seq = new Float64Array(n);
    this.heap = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.deadline[i] = 1 / weights[i]!;
      this.seq[i] = this.counter++;
      this.heap[i] = i;
    }
    for (let i = (n >>> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The entry with the earliest deadline; it is rescheduled with weight `weightOf(entry)`. */
  pick(weightOf: (entry: number) => number): number {
    const top = this.heap[0]!;
    this.now = this.deadline[top]!;
    this.deadline[top] = this.now + 1 / weightOf(top);
    this.seq[top] = this.counter++;
    this.siftDown(0);
    return top;
  }

  private less(a: number, b: number): boolean {
    const da = this.deadline[a]!;
    const db = this.deadline[b]!;
    return da < db || (da === db && this.seq[a]! < this.seq[b]!);
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.less(heap[r]!, heap[l]!) ? r : l;
      if (!this.less(heap[c]!, heap[i]!)) return;
      const t = heap[i]!;
      heap[i] = heap[c]!;
      heap[c] = t;
      i = c;
    }
  }
}
