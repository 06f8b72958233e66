import { describe, expect, it } from "vitest";
import { createRng, hashSeed } from "../../src/rng.js";

describe("createRng", () => {
  it("repeats the same stream for the same seed and differs for another seed", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(xs);
  });

  it("pins its output so a seed means the same draw on every machine and version", () => {
    const rng = createRng(42);
    const draws = [rng.int(1_000_000), rng.int(1_000_000), rng.int(1_000_000)];
    expect(draws).toEqual(PINNED_42);
  });

  it("stays in [0, 1) and is roughly uniform", () => {
    const rng = createRng(7);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]++;
    }
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });

  it("int(n) stays in range and rejects a non-positive or fractional n", () => {
    const rng = createRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(rng.int(5));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
  });

  it("shuffle returns a new permutation and leaves the input alone", () => {
    const input = Object.freeze([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = createRng(3).shuffle(input);
    expect(out).not.toBe(input);
    expect([...out].sort((x, y) => x - y)).toEqual([...input]);
    expect(input).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("shuffle puts each element first about equally often", () => {
    const rng = createRng(11);
    const firsts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 6000; i++) firsts[rng.shuffle(["a", "b", "c"] as const)[0]]++;
    for (const count of Object.values(firsts)) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });

  it("sample draws distinct elements and clamps k", () => {
    const rng = createRng(5);
    const pool = Array.from({ length: 30 }, (_, i) => i);
    const five = rng.sample(pool, 5);
    expect(five).toHaveLength(5);
    expect(new Set(five).size).toBe(5);
    expect(rng.sample(pool, 100).sort((x, y) => x - y)).toEqual(pool);
    expect(rng.sample(pool, 0)).toEqual([]);
    expect(rng.sample(pool, -3)).toEqual([]);
  });

  it("accepts fractional, negative and huge seeds deterministically", () => {
    for (const seed of [-1, 0.5, 2 ** 40]) {
      expect(createRng(seed).next()).toBe(createRng(seed).next());
    }
    expect(createRng(0.5).next()).not.toBe(createRng(0).next());
    expect(() => createRng(Number.NaN)).toThrow(RangeError);
  });
});

describe("hashSeed", () => {
  it("is stable: pinned values for fixed inputs", () => {
    expect(hashSeed(42, "case-1")).toBe(PINNED_HASH_42_CASE_1);
    expect(hashSeed("")).toBe(PINNED_HASH_EMPTY);
  });

  it("returns an unsigned 32-bit integer", () => {
    for (const parts of [[0], [1, "x"], ["ünïcødé", 3.25], [-7]] as (string | number)[][]) {
      const h = hashSeed(...parts);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });

  it("keeps part boundaries and types apart", () => {
    expect(hashSeed("ab", "c")).not.toBe(hashSeed("a", "bc"));
    expect(hashSeed(1)).not.toBe(hashSeed("1"));
    expect(hashSeed(1, "a")).not.toBe(hashSeed(1, "b"));
    expect(hashSeed(1, "a")).not.toBe(hashSeed(2, "a"));
    expect(hashSeed(0)).toBe(hashSeed(-0));
  });
});

// Cross-checked against an independent Python port of mulberry32 + murmur3 fmix32 + FNV-1a.
// A change here changes every seeded selection in every saved run, so it must be deliberate.
const PINNED_42 = [486988, 505048, 71340];
const PINNED_HASH_42_CASE_1 = 365442222;
const PINNED_HASH_EMPTY = 3392663995;
