// A small HdrHistogram (Gil Tene's log-linear layout) for latencies in nanoseconds: values below
// 2048 are counted exactly, larger ones in buckets whose width is at most 1/1024 of the value,
// i.e. three significant decimal digits everywhere, in ~30 k counters up to 100 s. Percentiles
// report the highest value of the bucket they fall in (as HdrHistogram does), so they never
// understate. Histograms merge (runs, connections) and serialise sparsely, so the raw
// distribution of every run can be kept with the results (performance.md §8 step 7).
// Written here rather than taken from hdr-histogram-js: the part needed is 100 lines, pure JS.

const SUB_BUCKET_BITS = 11;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 2048
const HALF = SUB_BUCKETS / 2; // 1024
/** Highest trackable value: 2^37 ns ≈ 137 s; larger values are clamped (and counted in `clamped`). */
const MAX_SHIFT = 37 - SUB_BUCKET_BITS + 1;
const LENGTH = HALF * MAX_SHIFT + SUB_BUCKETS;
const MAX_VALUE = 2 ** 37 - 1;

function indexOf(v: number): number {
  if (v < SUB_BUCKETS) return v;
  // shift so that v / 2^shift falls in [1024, 2047]: the top 11 bits of v.
  const shift = Math.floor(Math.log2(v)) - (SUB_BUCKET_BITS - 1);
  let sub = Math.floor(v / 2 ** shift);
  // Math.log2 can round up just below a power of two; keep sub in range.
  if (sub < HALF) return HALF * (shift - 1) + Math.floor(v / 2 ** (shift - 1));
  if (sub >= SUB_BUCKETS) sub = SUB_BUCKETS - 1;
  return HALF * shift + sub;
}

/** Lowest and highest value counted at index `i`. */
function rangeOf(i: number): [number, number] {
  if (i < SUB_BUCKETS) return [i, i];
  const shift = Math.floor((i - SUB_BUCKETS) / HALF) + 1;
  const sub = i - HALF * shift;
  const lo = sub * 2 ** shift;
  return [lo, lo + 2 ** shift - 1];
}

export interface HistogramSummary {
  count: number;
  /** Milliseconds. */
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  private counts = new Float64Array(LENGTH);
  count = 0;
  clamped = 0;
  private sum = 0;
  private minV = Number.POSITIVE_INFINITY;
  private maxV = 0;

  /** Records one value in nanoseconds (negative values count as 0). */
  record(ns: number): void {
    let v = ns > 0 ? Math.round(ns) : 0;
    if (v > MAX_VALUE) {
      v = MAX_VALUE;
      this.clamped++;
    }
    this.counts[indexOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.minV) this.minV = v;
    if (v > this.maxV) this.maxV = v;
  }

  /** Value (ns) at percentile p (0..100): the highest value of the bucket holding that rank. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < LENGTH; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(rangeOf(i)[1], this.maxV);
    }
    return this.maxV;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < LENGTH; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.clamped += other.clamped;
    this.sum += other.sum;
    this.minV = Math.min(this.minV, other.minV);
    this.maxV = Math.max(this.maxV, other.maxV);
  }

  summary(): HistogramSummary {
    const ms = (ns: number) => ns / 1e6;
    return {
      count: this.count,
      min: this.count ? ms(this.minV) : Number.NaN,
      mean: this.count ? ms(this.sum / this.count) : Number.NaN,
      p50: ms(this.percentile(50)),
      p90: ms(this.percentile(90)),
      p99: ms(this.percentile(99)),
      p999: ms(this.percentile(99.9)),
      max: this.count ? ms(this.maxV) : Number.NaN,
    };
  }

  /** Sparse form: [lowest value of the bucket in ns, count] for every non-empty bucket. */
  toJSON(): { unit: 'ns'; buckets: [number, number][]; sum: number; min: number; max: number } {
    const buckets: [number, number][] = [];
    for (let i = 0; i < LENGTH; i++) if (this.counts[i]) buckets.push([rangeOf(i)[0], this.counts[i]!]);
    return { unit: 'ns', buckets, sum: this.sum, min: this.count ? this.minV : 0, max: this.maxV };
  }

  static fromJSON(j: { buckets: [number, number][]; sum: number; min: number; max: number }): Histogram {
    const h = new Histogram();
    for (const [v, n] of j.buckets) {
      h.counts[indexOf(v)]! += n;
      h.count += n;
    }
    h.sum = j.sum;
    h.minV = h.count ? j.min : Number.POSITIVE_INFINITY;
    h.maxV = j.max;
    return h;
  }
}
