import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/rng.js";
import { wilsonInterval } from "../../../src/stats/interval.js";
import {
  bootstrapMean,
  holmAdjust,
  mcnemarExact,
  newcombePairedInterval,
  normalQuantile,
} from "../../../src/stats/paired.js";
import {
  independentDiscordance,
  minimumDetectableDifference,
  pairedSampleSize,
  unpairedSampleSize,
} from "../../../src/stats/power.js";

describe("mcnemarExact", () => {
  // References: the two-sided exact binomial test of min(b, c) of b + c at p = 1/2, as
  // scipy.stats.binomtest(b, b + c).pvalue and R's mcnemar.exact compute it; here computed exactly
  // with Python's fractions and math.comb: p = 2·Σ_{k ≤ min} C(n, k) / 2ⁿ, mid-p minus C(n, min) / 2ⁿ.
  it.each([
    [10, 2, 0.03857421875, 0.0224609375],
    [2, 10, 0.03857421875, 0.0224609375],
    [12, 5, 0.143463134765625, 0.09625244140625],
    [3, 0, 0.25, 0.125],
    [40, 28, 0.18181005453559343, 0.14803218069275836],
  ])("b=%i c=%i → p %f, mid-p %f", (b, c, p, midP) => {
    expect(mcnemarExact(b, c)).toBeCloseTo(p, 12);
    expect(mcnemarExact(b, c, { midP: true })).toBeCloseTo(midP, 12);
  });

  it("is 1 with no discordant pairs or an even split, and never above 1", () => {
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(7, 7)).toBe(1);
    expect(mcnemarExact(7, 7, { midP: true })).toBeLessThanOrEqual(1);
  });

  it("stays finite on a hundred thousand discordant pairs", () => {
    expect(mcnemarExact(50_000, 50_000)).toBe(1);
    const p = mcnemarExact(50_600, 49_400);
    // The normal approximation's p for z = 1200 / √100000 = 3.795 is 1.48e-4; the exact one is close.
    expect(p).toBeGreaterThan(1.2e-4);
    expect(p).toBeLessThan(1.8e-4);
  });
});

describe("wilsonInterval against a published table", () => {
  // Newcombe, "Two-sided confidence intervals for the single proportion", Statistics in Medicine
  // 17:857 (1998), Table II, method 3 (score interval without continuity correction).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])("%i/%i → %f–%f", (x, n, lo, hi) => {
    const [l, u] = wilsonInterval(x, n);
    expect(l).toBeCloseTo(lo, 4);
    expect(u).toBeCloseTo(hi, 4);
  });
});

describe("newcombePairedInterval", () => {
  it("matches Fagerland, Lydersen & Laake's worked example", () => {
    // "Statistical Analysis of Contingency Tables" (2017), ch. 8, Cavo et al. (2012): the table
    // [[59, 6], [16, 80]] gives estimate −0.0621, Newcombe square-and-add 95% CI −0.1186 to −0.0046
    // (the book's R package contingencytables, tests/testthat/test-ch8.R).
    const [lo, hi] = newcombePairedInterval({ a: 59, b: 6, c: 16, d: 80 });
    expect(lo).toBeCloseTo(-0.1186, 4);
    expect(hi).toBeCloseTo(-0.0046, 4);
  });

  it("is symmetric under swapping the two variants and holds the point estimate", () => {
    const [lo, hi] = newcombePairedInterval({ a: 40, b: 12, c: 3, d: 45 });
    const [lo2, hi2] = newcombePairedInterval({ a: 40, b: 3, c: 12, d: 45 });
    expect(lo2).toBeCloseTo(-hi, 12);
    expect(hi2).toBeCloseTo(-lo, 12);
    expect(lo).toBeLessThan(0.09);
    expect(hi).toBeGreaterThan(0.09);
  });

  it("stays inside [-1, 1] at the edges", () => {
    const [lo, hi] = newcombePairedInterval({ a: 0, b: 10, c: 0, d: 0 });
    expect(hi).toBeLessThanOrEqual(1);
    expect(lo).toBeGreaterThan(0);
    expect(newcombePairedInterval({ a: 0, b: 0, c: 0, d: 0 })).toEqual([0, 0]);
  });
});

describe("holmAdjust", () => {
  it("matches R's p.adjust(c(0.01, 0.04, 0.03, 0.005), 'holm')", () => {
    // By hand: sorted 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 → running max
    // 0.02, 0.03, 0.06, 0.06; in input order 0.03, 0.06, 0.06, 0.02.
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    for (const [i, p] of [0.03, 0.06, 0.06, 0.02].entries()) expect(adjusted[i]).toBeCloseTo(p, 12);
  });

  it("caps at 1 and leaves a single p alone", () => {
    expect(holmAdjust([0.6, 0.7])).toEqual([1, 1]);
    expect(holmAdjust([0.04])).toEqual([0.04]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe("bootstrapMean", () => {
  it("is repeatable for a seed and differs for another", () => {
    const values = Array.from({ length: 60 }, (_, i) => ((i * 7) % 11) / 10 - 0.3);
    const a = bootstrapMean(values, { seed: 1, resamples: 2000 });
    const b = bootstrapMean(values, { seed: 1, resamples: 2000 });
    const c = bootstrapMean(values, { seed: 2, resamples: 2000 });
    expect(a).toEqual(b);
    expect(c.ci95).not.toEqual(a.ci95);
    expect(a.ci95[0]).toBeLessThan(a.mean);
    expect(a.ci95[1]).toBeGreaterThan(a.mean);
  });

  it("covers a known mean at close to the nominal 95% on simulated data", () => {
    // 400 samples of 40 from a skewed distribution (exponential, mean 1), each with its own
    // seeded interval. The percentile bootstrap undercovers a little on small skewed samples; a
    // rate far from 95% (a wrong quantile, a resample of the wrong size) fails.
    const rng = createRng(7);
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 40 }, () => -Math.log(1 - rng.next()));
      const { ci95 } = bootstrapMean(sample, { seed: t, resamples: 1000 });
      if (ci95[0] <= 1 && 1 <= ci95[1]) covered++;
    }
    const rate = covered / trials;
    expect(rate).toBeGreaterThan(0.9);
    expect(rate).toBeLessThan(0.98);
  });

  it("gives a small p for a real shift and a large one for noise", () => {
    const rng = createRng(3);
    const shifted = Array.from({ length: 200 }, () => rng.next() - 0.4);
    const noise = Array.from({ length: 200 }, () => rng.next() - 0.5);
    expect(bootstrapMean(shifted, { seed: 1 }).p).toBeLessThan(0.001);
    expect(bootstrapMean(noise, { seed: 1 }).p).toBeGreaterThan(0.05);
    expect(bootstrapMean([0, 0, 0], { seed: 1 }).p).toBe(1);
    expect(bootstrapMean([], { seed: 1 })).toEqual({ mean: 0, ci95: [0, 0], p: 1 });
  });
});

describe("normalQuantile", () => {
  it("matches the standard values (Python's statistics.NormalDist().inv_cdf)", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.9599639845400536, 13);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729144, 13);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232306167813, 12);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 10);
    expect(normalQuantile(0.5)).toBe(0);
  });
});

describe("pairedSampleSize", () => {
  it("follows Connor's closed form for McNemar's test", () => {
    // n = (z₀.₉₇₅ √ψ + z₀.₈ √(ψ − δ²))² / δ², evaluated in Python: ψ 0.2, δ 0.05 → 625.547;
    // ψ 0.1, δ 0.03 → 869.736.
    expect(pairedSampleSize(0.05, 0.2)).toBe(626);
    expect(pairedSampleSize(-0.05, 0.2)).toBe(626);
    expect(pairedSampleSize(0.03, 0.1)).toBe(870);
    expect(pairedSampleSize(0, 0.2)).toBe(Number.POSITIVE_INFINITY);
    expect(pairedSampleSize(0.3, 0.2)).toBe(Number.POSITIVE_INFINITY);
  });

  it("inverts into the smallest detectable difference", () => {
    const n = 500;
    const delta = minimumDetectableDifference(n, 0.7);
    const psi = independentDiscordance(0.7, 0.7 + delta);
    expect(pairedSampleSize(delta, psi)).toBeLessThanOrEqual(n);
    expect(pairedSampleSize(delta - 0.002, independentDiscordance(0.7, 0.7 + delta - 0.002))).toBeGreaterThan(
      n,
    );
    // Fewer discordant pairs (variants that mostly agree) make a smaller difference visible.
    expect(minimumDetectableDifference(n, 0.7, { discordance: () => 0.1 })).toBeLessThan(delta);
    expect(minimumDetectableDifference(3, 0.7)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("unpairedSampleSize", () => {
  it("follows the two-proportion formula (Fleiss et al. 2003, eq. 4.14, no continuity correction)", () => {
    // 70% vs 75% at α 0.05, power 0.8, evaluated in Python: 1250.72 → 1251 per group.
    expect(unpairedSampleSize(0.7, 0.75)).toBe(1251);
    expect(unpairedSampleSize(0.7, 0.7)).toBe(Number.POSITIVE_INFINITY);
  });
});
