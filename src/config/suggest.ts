// "Did you mean ...?" suggestions for misspelt field and kind names. Comparison ignores case,
// '_' and '-', because the commonest mistakes are `Hosts`, `export_to` and `target-port`, which
// a plain edit distance would rank far from the intended camelCase name.

/** Levenshtein distance, with an early exit once it exceeds `max` (we never need more). */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

function normalise(s: string): string {
  return s.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The candidate closest to `input` within an edit distance of 2 (after normalising), or
 * undefined. Names of three letters or fewer only match at distance 1, so that `to` does not
 * suggest `tcp`.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const needle = normalise(input);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === input) continue;
    const limit = Math.min(2, c.length <= 3 ? 1 : 2);
    const d = editDistance(needle, normalise(c), limit);
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
