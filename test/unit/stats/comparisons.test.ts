import { describe, expect, it } from "vitest";
import {
  type ComparisonInput,
  createBaseIndex,
  createComparisonAccumulator,
} from "../../../src/stats/comparisons.js";
import { holmAdjust, mcnemarExact, newcombePairedInterval } from "../../../src/stats/paired.js";

const compare = { alpha: 0.05, bootstrap: 2000, midP: false, onError: "fail" as const };

/** One result, scored 1 when it passed unless a score is given. */
function result(
  id: string,
  prompt: string,
  pass: boolean,
  extra: Partial<ComparisonInput> = {},
): ComparisonInput {
  return { id, prompt, provider: "m", pass, score: pass ? 1 : 0, unparsed: false, error: null, ...extra };
}

/**
 * Cases where (baseline, variant) pass as given by the four counts: both, only the variant, only
 * the baseline, neither; each case's results in job order (every prompt of the case together).
 */
function table(counts: { a: number; b: number; c: number; d: number }, variants = ["v"]): ComparisonInput[] {
  const out: ComparisonInput[] = [];
  let n = 0;
  const add = (count: number, base: boolean, variant: boolean) => {
    for (let i = 0; i < count; i++) {
      const id = String(n++);
      out.push(result(id, "base", base));
      for (const v of variants) out.push(result(id, v, variant));
    }
  };
  add(counts.a, true, true);
  add(counts.b, false, true);
  add(counts.c, true, false);
  add(counts.d, false, false);
  return out;
}

describe("createComparisonAccumulator", () => {
  it("pairs pass/fail by case: McNemar on the discordant pairs, Newcombe's interval, a verdict", () => {
    const acc = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 1 });
    for (const r of table({ a: 50, b: 14, c: 3, d: 33 })) acc.add(r);
    const [c] = acc.comparisons();
    expect(c).toMatchObject({
      prompt: "v",
      baseline: { prompt: "base", provider: "m" },
      metric: "accuracy",
      n: 100,
      excluded: 0,
      baselineValue: 0.53,
      value: 0.64,
      wins: 14,
      losses: 3,
      interval: "newcombe",
      verdict: "better",
    });
    expect(c.delta).toBeCloseTo(0.11, 12);
    expect(c.p).toBeCloseTo(mcnemarExact(14, 3), 12);
    expect(c.pHolm).toBeCloseTo(c.p, 12);
    expect(c.ci95).toEqual(newcombePairedInterval({ a: 50, b: 14, c: 3, d: 33 }));
  });

  it("finds no difference in noise of the same size on few cases, and a loss when it is real", () => {
    const few = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 1 });
    for (const r of table({ a: 5, b: 1, c: 3, d: 1 })) few.add(r);
    expect(few.comparisons()[0].verdict).toBe("no detectable difference");
    const many = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 1 });
    for (const r of table({ a: 300, b: 10, c: 40, d: 50 })) many.add(r);
    const [worse] = many.comparisons();
    expect(worse.verdict).toBe("worse");
    expect(worse.delta).toBeCloseTo(-30 / 400, 12);
  });

  it("adjusts the p-values of several variants by Holm and judges on the adjusted ones", () => {
    const acc = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 1 });
    const rows: ComparisonInput[] = [];
    // v1 wins 9 of 10 discordant pairs (p 0.021), v2 wins 8 of 8 (p 0.0078).
    for (let i = 0; i < 30; i++) {
      const id = String(i);
      rows.push(result(id, "base", i >= 10 && i < 20));
      rows.push(result(id, "v1", i < 9 || (i >= 11 && i < 20)));
      rows.push(result(id, "v2", i < 8 || (i >= 10 && i < 20)));
    }
    for (const r of rows) acc.add(r);
    const [v1, v2] = acc.comparisons();
    const raw = [v1.p, v2.p];
    expect(v1.p).toBeCloseTo(mcnemarExact(9, 1), 12);
    expect(v2.p).toBeCloseTo(mcnemarExact(8, 0), 12);
    expect([v1.pHolm, v2.pHolm]).toEqual(holmAdjust(raw));
    expect(v2.pHolm).toBeCloseTo(2 * v2.p, 12);
  });

  it("counts errored and one-sided cases as excluded, never dropping them silently", () => {
    const rows = table({ a: 10, b: 5, c: 0, d: 5 });
    // An errored variant answer on case 0 (a pass for the baseline), and case 99 with the baseline only.
    rows[1] = result("0", "v", false, { error: { kind: "network", message: "x" } });
    rows.push(result("99", "base", true));
    const exclude = createComparisonAccumulator({
      baseline: { prompt: "base" },
      compare: { ...compare, onError: "exclude" },
      seed: 1,
    });
    const fail = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 1 });
    for (const r of rows) {
      exclude.add(r);
      fail.add(r);
    }
    const [excluded] = exclude.comparisons();
    const [failed] = fail.comparisons();
    expect(excluded).toMatchObject({ n: 19, excluded: 2, wins: 5, losses: 0 });
    // Counted as a failure, the errored case is a loss: the run is never better by erroring.
    expect(failed).toMatchObject({ n: 20, excluded: 1, wins: 5, losses: 1 });
  });

  it("compares graded scores by the paired bootstrap, beside accuracy", () => {
    const acc = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 3 });
    for (let i = 0; i < 60; i++) {
      const id = String(i);
      acc.add(result(id, "base", true, { score: 0.5 + (i % 5) / 20 }));
      acc.add(result(id, "v", true, { score: 0.6 + (i % 5) / 20 }));
    }
    const comparisons = acc.comparisons();
    const score = comparisons.find((c) => c.metric === "score")!;
    expect(score.interval).toBe("bootstrap");
    expect(score.delta).toBeCloseTo(0.1, 12);
    expect(score.ci95[0]).toBeCloseTo(0.1, 6);
    expect(score.wins).toBe(60);
    expect(score.verdict).toBe("better");
    expect(comparisons.find((c) => c.metric === "accuracy")!.verdict).toBe("no detectable difference");
  });

  it("folds repeated runs by `require` before pairing", () => {
    const rows: ComparisonInput[] = [];
    for (let i = 0; i < 4; i++) {
      const id = String(i);
      // The baseline passes 1 of 3 runs, the variant 2 of 3.
      for (const pass of [true, false, false]) rows.push(result(id, "base", pass));
      for (const pass of [true, true, false]) rows.push(result(id, "v", pass));
    }
    const of = (require: "all" | "majority" | "any") => {
      const acc = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 1, require });
      for (const r of rows) acc.add(r);
      return acc.comparisons()[0];
    };
    expect(of("majority")).toMatchObject({ baselineValue: 0, value: 1, wins: 4 });
    expect(of("any")).toMatchObject({ baselineValue: 1, value: 1, wins: 0 });
    expect(of("all")).toMatchObject({ baselineValue: 0, value: 0, wins: 0 });
  });

  it("compares providers on one prompt with baselineProvider", () => {
    const acc = createComparisonAccumulator({ baseline: { provider: "small" }, compare, seed: 1 });
    for (let i = 0; i < 10; i++) {
      acc.add({ ...result(String(i), "p", i < 3), provider: "small" });
      acc.add({ ...result(String(i), "p", i < 9), provider: "large" });
    }
    const [c] = acc.comparisons();
    expect(c).toMatchObject({ prompt: "p", provider: "large", baseline: { prompt: "p", provider: "small" } });
    expect(c.wins).toBe(6);
  });

  it("refuses results that are not grouped by case", () => {
    const acc = createComparisonAccumulator({ baseline: { prompt: "base" }, compare, seed: 1 });
    acc.add(result("1", "base", true));
    acc.add(result("2", "base", true));
    expect(() => acc.add(result("1", "v", true))).toThrow(/grouped by case/);
  });

  it("pairs with another run's index case by case (compare, --against)", () => {
    const base = createBaseIndex({ onError: "fail" });
    for (let i = 0; i < 40; i++) base.add(result(String(i), "p", i < 30));
    const index = base.finish();
    expect(index.count("p", "m")).toBe(40);
    const acc = createComparisonAccumulator({ baseline: {}, compare, seed: 1, against: index });
    // The head run drops 12 of the base's passes and has one case the base lacks.
    for (let i = 0; i < 41; i++) acc.add(result(String(i), "p", i < 18 || i === 40));
    const [c] = acc.comparisons();
    expect(c).toMatchObject({ prompt: "p", n: 40, excluded: 1, losses: 12, wins: 0, verdict: "worse" });
    expect(c.baselineValue).toBe(0.75);
  });
});
