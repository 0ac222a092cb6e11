// Quantiles from cumulative histogram buckets, as PromQL's histogram_quantile computes them:
// find the bucket holding the rank, interpolate linearly inside it (from 0 for the first
// bucket), and answer the highest finite bound when the rank falls in the +Inf bucket.

/** Cumulative counts by upper bound (`le`, +Inf included). */
export type Buckets = ReadonlyMap<number, number>;

export function histogramQuantile(q: number, buckets: Buckets): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  if (bounds.length === 0) return null;
  const counts = bounds.map((b) => buckets.get(b)!);
  // Cumulative counts from summed deltas can dip by rounding or a reset; keep them monotone.
  for (let i = 1; i < counts.length; i++) if (counts[i]! < counts[i - 1]!) counts[i] = counts[i - 1]!;
  const total = counts[counts.length - 1]!;
  if (!(total > 0)) return null;
  if (q <= 0) return 0;
  if (q >= 1) return bounds.length > 1 && bounds[bounds.length - 1] === Infinity ? bounds[bounds.length - 2]! : bounds[bounds.length - 1]!;
  const rank = q * total;
  let i = counts.findIndex((c) => c >= rank);
  if (i < 0) i = counts.length - 1;
  if (bounds[i] === Infinity) return i > 0 ? bounds[i - 1]! : null;
  const lower = i === 0 ? 0 : bounds[i - 1]!;
  const below = i === 0 ? 0 : counts[i - 1]!;
  const inBucket = counts[i]! - below;
  if (inBucket <= 0) return bounds[i]!;
  return lower + ((bounds[i]! - lower) * (rank - below)) / inBucket;
}

/** Adds `from` into `into` bucket by bucket. */
export function addBuckets(into: Map<number, number>, from: Buckets): void {
  for (const [le, n] of from) into.set(le, (into.get(le) ?? 0) + n);
}
