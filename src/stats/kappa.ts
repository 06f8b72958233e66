/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/** Cohen's kappa of two raters, with its standard errors and interval. */
export interface Kappa {
  /** Agreement beyond chance: (po − pe) / (1 − pe). */
  kappa: number;
  /** Observed agreement: the share of items both raters put in the same category. */
  po: number;
  /** Agreement expected by chance from the two raters' margins. */
  pe: number;
  /** Items rated. */
  n: number;
  /** Asymptotic standard error (Fleiss, Cohen & Everitt 1969), as SAS PROC FREQ's ASE. */
  se: number;
  /** kappa ± 1.96·se, clipped to [−1, 1]: the Wald interval SAS reports. */
  ci95: [number, number];
  /** Standard error under the null hypothesis κ = 0, for the z test. */
  se0: number;
}

/**
 * Cohen's kappa of a square agreement table (`table[i][j]`: items rater 1 put in category i and
 * rater 2 in category j), with the large-sample variance of Fleiss, Cohen & Everitt (1969):
 *
 *   var(κ) = [A + B − C] / [n (1 − pe)²], where
 *   A = Σᵢ pᵢᵢ [1 − (pᵢ· + p·ᵢ)(1 − κ)]², B = (1 − κ)² Σ_{i≠j} pᵢⱼ (p·ᵢ + pⱼ·)², C = [κ − pe(1 − κ)]².
 *
 * Undefined (null) when the table is empty or chance agreement is total (pe = 1: both raters used
 * one and the same category for everything).
 */
export function cohenKappa(table: readonly (readonly number[])[]): Kappa | null {
  const k = table.length;
  if (k === 0 || table.some((row) => row.length !== k)) throw new Error("cohenKappa needs a square table");
  let n = 0;
  for (const row of table) for (const count of row) n += count;
  if (n === 0) return null;
  const p = table.map((row) => row.map((count) => count / n));
  const rows = p.map((row) => row.reduce((a, b) => a + b, 0));
  const cols = p[0].map((_v, j) => p.reduce((sum, row) => sum + row[j], 0));
  let po = 0;
  let pe = 0;
  for (let i = 0; i < k; i++) {
    po += p[i][i];
    pe += rows[i] * cols[i];
  }
  if (1 - pe <= 1e-12) return null;
  const kappa = (po - pe) / (1 - pe);
  let a = 0;
  let b = 0;
  for (let i = 0; i < k; i++) {
    a += p[i][i] * (1 - (rows[i] + cols[i]) * (1 - kappa)) ** 2;
    for (let j = 0; j < k; j++) if (i !== j) b += p[i][j] * (cols[i] + rows[j]) ** 2;
  }
  b *= (1 - kappa) ** 2;
  const c = (kappa - pe * (1 - kappa)) ** 2;
  const se = Math.sqrt(Math.max(0, a + b - c) / n) / (1 - pe);
  let margins = 0;
  for (let i = 0; i < k; i++) margins += rows[i] * cols[i] * (rows[i] + cols[i]);
  const se0 = Math.sqrt(Math.max(0, pe + pe * pe - margins) / n) / (1 - pe);
  return {
    kappa,
    po,
    pe,
    n,
    se,
    ci95: [Math.max(-1, kappa - Z95 * se), Math.min(1, kappa + Z95 * se)],
    se0,
  };
}
