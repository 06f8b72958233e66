/**
 * Planning a paired comparison: how many cases McNemar's test needs to see a difference, and the
 * smallest difference a given number of cases can see. Pure functions.
 */
import { normalQuantile } from "./paired.js";

/** The test's level and power (defaults 0.05 and 0.8). */
export interface PowerOptions {
  alpha?: number;
  power?: number;
}

/**
 * Cases McNemar's test needs to detect a difference `delta` in accuracy (p_B − p_A) when a share
 * `discordant` of the cases are answered right by one variant and wrong by the other (ψ = p10 + p01),
 * at two-sided level α and the given power: Connor's formula (Biometrics 43:207, 1987),
 * n = (z₁₋α/₂ √ψ + z₁₋β √(ψ − δ²))² / δ², rounded up. Infinite when δ is 0 or ψ cannot hold δ.
 */
export function pairedSampleSize(delta: number, discordant: number, options: PowerOptions = {}): number {
  const d = Math.abs(delta);
  if (d === 0 || discordant < d || discordant > 1) return Number.POSITIVE_INFINITY;
  const zAlpha = normalQuantile(1 - (options.alpha ?? 0.05) / 2);
  const zBeta = normalQuantile(options.power ?? 0.8);
  const root = zAlpha * Math.sqrt(discordant) + zBeta * Math.sqrt(Math.max(0, discordant - d * d));
  return Math.ceil((root * root) / (d * d));
}

/**
 * The share of discordant pairs when nothing is known of how the two variants' answers go
 * together: the variants are taken to be right or wrong independently of each other, given their
 * accuracies. Real prompt variants of one model agree far more often than that, so this is the
 * cautious end: it asks for more cases than a measured discordance would.
 */
export function independentDiscordance(baseline: number, other: number): number {
  return baseline * (1 - other) + other * (1 - baseline);
}

/**
 * The smallest improvement over a baseline accuracy that `n` paired cases detect at the given
 * level and power, found by bisection on {@link pairedSampleSize}. `discordance(delta)` gives ψ for
 * a difference δ (by default {@link independentDiscordance} around the baseline). Infinite when no
 * difference up to 1 − baseline is detectable with n cases.
 */
export function minimumDetectableDifference(
  n: number,
  baseline: number,
  options: PowerOptions & { discordance?: (delta: number) => number } = {},
): number {
  const discordance =
    options.discordance ?? ((delta: number) => independentDiscordance(baseline, baseline + delta));
  const needs = (delta: number) => pairedSampleSize(delta, Math.max(discordance(delta), delta), options);
  let high = 1 - baseline;
  if (high <= 0 || needs(high) > n) return Number.POSITIVE_INFINITY;
  let low = 0;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (needs(mid) <= n) high = mid;
    else low = mid;
  }
  return high;
}

/**
 * Cases per variant an unpaired test of two proportions would need for the same difference (the
 * normal-approximation formula without continuity correction, Fleiss et al. 2003, eq. 4.14): what
 * ignoring the pairing costs.
 */
export function unpairedSampleSize(baseline: number, other: number, options: PowerOptions = {}): number {
  const d = Math.abs(other - baseline);
  if (d === 0) return Number.POSITIVE_INFINITY;
  const zAlpha = normalQuantile(1 - (options.alpha ?? 0.05) / 2);
  const zBeta = normalQuantile(options.power ?? 0.8);
  const mean = (baseline + other) / 2;
  const root =
    zAlpha * Math.sqrt(2 * mean * (1 - mean)) +
    zBeta * Math.sqrt(baseline * (1 - baseline) + other * (1 - other));
  return Math.ceil((root * root) / (d * d));
}

/** What `plan` found. */
export interface PlanResult {
  /** Cases in the configured dataset. */
  cases: number;
  alpha: number;
  power: number;
  baseline: { accuracy: number; from?: string; variant?: string };
  /** Share of cases two variants answer differently (right/wrong), when measured. */
  discordance?: { value: number; from: string; pairs: string };
  /** The smallest improvement over the baseline the cases can show (Infinity: none). */
  detectable: number;
  /** With --delta: the cases needed, paired and (for contrast) unpaired per variant. */
  needed?: { delta: number; paired: number; unpaired: number };
  /** Each assumption behind the numbers, in a sentence. */
  assumptions: string[];
}
