import { describe, expect, it } from "vitest";
import { cohenKappa } from "../../../src/stats/kappa.js";

describe("cohenKappa", () => {
  it("matches the SAS PROC FREQ example statsmodels tests against", () => {
    // statsmodels/stats/tests/test_inter_rater.py, UnweightedCohens: table [[0,4,1],[0,8,0],[0,1,5]]
    // gives (from a SAS printout) Kappa 0.4842, ASE 0.1380, 95% CI 0.2137–0.7547, ASE under H0 0.1484.
    const k = cohenKappa([
      [0, 4, 1],
      [0, 8, 0],
      [0, 1, 5],
    ])!;
    expect(k.kappa).toBeCloseTo(0.4842, 4);
    expect(k.se).toBeCloseTo(0.138, 4);
    expect(k.ci95[0]).toBeCloseTo(0.2137, 4);
    expect(k.ci95[1]).toBeCloseTo(0.7547, 4);
    expect(k.se0).toBeCloseTo(0.1484, 4);
    expect(k.n).toBe(19);
  });

  it("matches the textbook two-rater example (Wikipedia, Cohen's kappa): κ = 0.4", () => {
    // 50 proposals: both yes 20, both no 15, yes/no 5, no/yes 10 → po 0.7, pe 0.5.
    const k = cohenKappa([
      [20, 5],
      [10, 15],
    ])!;
    expect(k.po).toBeCloseTo(0.7, 12);
    expect(k.pe).toBeCloseTo(0.5, 12);
    expect(k.kappa).toBeCloseTo(0.4, 12);
  });

  it("is 1 for perfect agreement, 0 for chance, and undefined when one category is all there is", () => {
    expect(
      cohenKappa([
        [3, 0],
        [0, 7],
      ])!.kappa,
    ).toBeCloseTo(1, 12);
    expect(
      cohenKappa([
        [3, 0],
        [0, 7],
      ])!.se,
    ).toBeCloseTo(0, 12);
    expect(
      cohenKappa([
        [25, 25],
        [25, 25],
      ])!.kappa,
    ).toBeCloseTo(0, 12);
    expect(
      cohenKappa([
        [10, 0],
        [0, 0],
      ]),
    ).toBeNull();
    expect(
      cohenKappa([
        [0, 0],
        [0, 0],
      ]),
    ).toBeNull();
    expect(() => cohenKappa([[1, 2]])).toThrow();
  });
});
