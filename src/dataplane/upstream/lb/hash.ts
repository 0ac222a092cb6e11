// 32-bit hashing for the consistent-hash balancers. Ring points and Maglev permutations come
// from host keys (never from list positions), so a host keeps its place whatever order the
// endpoints arrive in. The router's keys are FNV-1a, whose low bits barely move for similar
// inputs; every key goes through an avalanche finalizer before it is placed on a ring or table.

/** MurmurHash3's 32-bit finalizer: every input bit flips each output bit with ~50% probability. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a over UTF-16 code units with a seed folded into the offset basis, then finalized. */
export function hashString32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** The i-th point of a host whose key hashes to `seed`: cheap, and independent across i. */
export function pointHash(seed: number, i: number): number {
  return mix32((seed ^ mix32((i + 0x9e3779b9) >>> 0)) >>> 0);
}
