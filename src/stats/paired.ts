/**
 * Paired tests: is variant B better than A on the same cases? Pure functions; the reference values
 * they are held to are in test/unit/stats/paired.test.ts with their sources.
 *
 * Why paired: both variants answer the same cases, and most cases are easy or hard for both. An
 * unpaired test (two independent proportions) counts that shared variation as noise and misses
 * real differences; a paired test looks only at the cases where the two disagree.
 */
import { createRng } from "../rng.js";
import { wilsonInterval } from "./interval.js";

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * log P(X = k) for X ~ Binomial(n, 1/2), for k = 0..upTo, computed by the ratio of successive
 * terms in log space so that n in the hundreds of thousands neither overflows nor underflows.
 */
function halfBinomialLogPmf(n: number, upTo: number): Float64Array {
  const out = new Float64Array(upTo + 1);
  let log = -n * Math.LN2;
  for (let k = 0; k <= upTo; k++) {
    out[k] = log;
    log += Math.log(n - k) - Math.log(k + 1);
  }
  return out;
}

function logSumExp(values: ArrayLike<number>, count = values.length): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) max = Math.max(max, values[i]);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/**
 * McNemar's exact test: the two-sided binomial test of the discordant pairs, `b` one way (B passed
 * where A failed) against `c` the other, under p = 1/2. With `midP` the mid-p version, which counts
 * half the probability of the observed table and is less conservative on few discordant pairs.
 */
export function mcnemarExact(b: number, c: number, options: { midP?: boolean } = {}): number {
  const n = b + c;
  if (n === 0) return 1;
  const low = Math.min(b, c);
  const logPmf = halfBinomialLogPmf(n, low);
  const tail = Math.exp(logSumExp(logPmf));
  const p = options.midP ? 2 * tail - Math.exp(logPmf[low]) : 2 * tail;
  return Math.min(1, p);
}

/** The four cells of a paired pass/fail table: `a` both pass, `b` only the first, `c` only the second, `d` neither. */
export interface PairedCounts {
  a: number;
  b: number;
  c: number;
  d: number;
}

/**
 * The 95% interval of the difference between two paired proportions, p1 − p2 = (b − c) / n:
 * Newcombe's method 10 (Statistics in Medicine 17:2635, 1998), which combines the Wilson intervals
 * of p1 and p2 with their correlation (φ with Newcombe's continuity correction). It stays inside
 * [−1, 1] and behaves at 0% and 100%, where the Wald interval collapses or overshoots.
 */
export function newcombePairedInterval({ a, b, c, d }: PairedCounts, z = Z95): [number, number] {
  const n = a + b + c + d;
  if (n === 0) return [0, 0];
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const delta = p1 - p2;
  const [l1, u1] = wilsonInterval(a + b, n, z);
  const [l2, u2] = wilsonInterval(a + c, n, z);
  const margins = (a + b) * (c + d) * (a + c) * (b + d);
  let phi = 0;
  if (margins > 0) {
    const cross = a * d - b * c;
    if (cross > n / 2) phi = (cross - n / 2) / Math.sqrt(margins);
    else if (cross < 0) phi = cross / Math.sqrt(margins);
  }
  const lower = Math.sqrt(Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2));
  const upper = Math.sqrt(Math.max(0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2));
  return [Math.max(-1, delta - lower), Math.min(1, delta + upper)];
}

/** Options of {@link bootstrapMean}. */
export interface BootstrapOptions {
  /** Resamples drawn (default 10,000). */
  resamples?: number;
  /** The seed of the resampling; the same seed gives the same interval and p. */
  seed: number;
}

/** The mean of some values, its percentile bootstrap 95% interval, and the bootstrap p of "the mean is 0". */
export interface BootstrapResult {
  mean: number;
  ci95: [number, number];
  p: number;
}

/** Default number of bootstrap resamples. */
export const DEFAULT_RESAMPLES = 10_000;

/**
 * The seeded percentile bootstrap of a mean. Given the per-case differences B − A of paired
 * scores, it is the paired bootstrap of the mean difference: cases are resampled with replacement,
 * so each resample keeps every case's two scores together. The p-value is two-sided, for "the
 * mean is 0": the share of resampled means, shifted to centre on 0, at least as far from 0 as the
 * observed mean, as (1 + count) / (1 + resamples) so it is never exactly 0.
 */
export function bootstrapMean(values: ArrayLike<number>, options: BootstrapOptions): BootstrapResult {
  const n = values.length;
  if (n === 0) return { mean: 0, ci95: [0, 0], p: 1 };
  let total = 0;
  for (let i = 0; i < n; i++) total += values[i];
  const mean = total / n;
  const resamples = Math.max(1, Math.floor(options.resamples ?? DEFAULT_RESAMPLES));
  const data = Float64Array.from(values as ArrayLike<number>);
  // The resampling loop runs resamples × n times (10⁹ at 100,000 cases): the generator is the
  // seeded RNG's own mulberry32 step, inlined, started from a state the seeded RNG draws.
  let state = createRng(options.seed).int(0x100000000);
  const means = new Float64Array(resamples);
  let extreme = 0;
  const observed = Math.abs(mean);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      sum += data[((((t ^ (t >>> 14)) >>> 0) * n) / 4294967296) | 0];
    }
    const m = sum / n;
    means[r] = m;
    // Shifted to centre on 0 (the null), a resample this far from it counts against "no difference".
    if (Math.abs(m - mean) >= observed - 1e-12) extreme++;
  }
  means.sort();
  return {
    mean,
    ci95: [percentile(means, 0.025), percentile(means, 0.975)],
    p: Math.min(1, (1 + extreme) / (1 + resamples)),
  };
}

/** The q-quantile of sorted values, interpolated between the two nearest ranks (R's type 7). */
function percentile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}

/**
 * Holm's step-down adjustment of several p-values (Holm 1979): it controls the chance of any false
 * "better" or "worse" across all the variants compared with one baseline, and is uniformly more
 * powerful than Bonferroni. Returns the adjusted p-values in the input's order.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p || x.i - y.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

// Wichura's coefficients, lowest power first.
const AS241_A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const AS241_B = [
  1.0, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852546,
];
const AS241_C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const AS241_D = [
  1.0, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const AS241_E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
];
const AS241_F = [
  1.0, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
];

/** A polynomial with coefficients lowest power first, by Horner's rule. */
function poly(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) value = value * x + coefficients[i];
  return value;
}

/**
 * The standard normal quantile (inverse CDF), by Wichura's algorithm AS 241 (PPND16), accurate to
 * about 1e-16: z(0.975) = 1.959963984540054.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (p === 1) return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(AS241_A, r)) / poly(AS241_B, r);
  }
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const value =
    r <= 5 ? poly(AS241_C, r - 1.6) / poly(AS241_D, r - 1.6) : poly(AS241_E, r - 5) / poly(AS241_F, r - 5);
  return q < 0 ? -value : value;
}
