/**
 * Seeded randomness for every random choice in few-shot selection.
 * mulberry32 (Tommy Ettinger, public domain): 32-bit state, tiny, fast, and passes
 * gjrand/PractRand well enough for shuffling a few thousand rows. Seeds pass through
 * a murmur3 finalizer first, so neighbouring seeds (0, 1, 2) start far apart.
 * Only integer arithmetic with Math.imul and >>> is used, so every platform gives the same stream.
 */

/** A seeded pseudo-random source; the same seed always yields the same sequence. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n); n must be a positive integer. */
  int(n: number): number;
  /** A shuffled copy of `array` (Fisher–Yates); the input is left untouched. */
  shuffle<T>(array: readonly T[]): T[];
  /** `k` distinct elements drawn without replacement, in draw order; k is clamped to [0, length]. */
  sample<T>(array: readonly T[], k: number): T[];
}

/** murmur3's 32-bit finalizer: a bijection that spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Create a mulberry32 generator from any number; non-integers and negatives are folded to 32 bits. */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, received ${seed}`);
  // Fold through hashSeed's canonical form so 1.5 and 1 differ and large seeds keep their high bits.
  let state = Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff ? fmix32(seed) : hashSeed(seed);

  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0)
      throw new RangeError(`int(n) needs a positive integer, received ${n}`);
    return Math.floor(next() * n);
  };

  const sample = <T>(array: readonly T[], k: number): T[] => {
    const copy = array.slice();
    const take = Math.max(0, Math.min(Math.floor(k), copy.length));
    // Partial Fisher–Yates: the first `take` slots end up a uniform draw without replacement.
    for (let i = 0; i < take; i++) {
      const j = i + int(copy.length - i);
      const tmp = copy[i];
      copy[i] = copy[j];
      copy[j] = tmp;
    }
    return copy.slice(0, take);
  };

  const shuffle = <T>(array: readonly T[]): T[] => sample(array, array.length);

  return { next, int, shuffle, sample };
}

const encoder = new TextEncoder();

/**
 * A stable 32-bit seed from any parts, e.g. `hashSeed(runSeed, "random", caseId)`.
 * FNV-1a over the UTF-8 bytes of a length-prefixed, type-tagged encoding (so ("ab","c") ≠ ("a","bc")
 * and 1 ≠ "1"), then the murmur3 finalizer. Same inputs, same number, on every platform.
 */
export function hashSeed(...parts: (string | number)[]): number {
  let text = "";
  for (const part of parts) {
    const value = typeof part === "number" ? numberKey(part) : part;
    text += `${typeof part === "number" ? "n" : "s"}${value.length}:${value}`;
  }
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h >>> 0);
}

/** Number → text that is the same everywhere; -0 and 0 are one seed. */
function numberKey(n: number): string {
  return Object.is(n, -0) ? "0" : String(n);
}
