/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a binomial proportion. Unlike the normal approximation it stays inside
 * [0, 1] and behaves at 0% and 100%, which prompt accuracies often hit on small test sets.
 */
export function wilsonInterval(successes: number, total: number, z = Z95): [number, number] {
  if (total <= 0) return [0, 0];
  const p = successes / total;
  const z2 = z * z;
  const denominator = 1 + z2 / total;
  const centre = (p + z2 / (2 * total)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total))) / denominator;
  // At 0% and 100% the bound is exactly 0 or 1; say so rather than 0.9999999999999999.
  const lower = successes === 0 ? 0 : Math.max(0, centre - half);
  const upper = successes === total ? 1 : Math.min(1, centre + half);
  return [lower, upper];
}

/** The q-quantile (0..1) of sorted values, nearest-rank; 0 for an empty list. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
