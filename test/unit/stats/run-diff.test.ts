import { describe, expect, it } from "vitest";
import { diffRuns, statusOf } from "../../../src/stats/run-diff.js";
import { syntheticRecord, type Verdict } from "../../helpers/report-records.js";

const VARIANTS = [
  { prompt: "plain", provider: "m" },
  { prompt: "cot", provider: "m" },
];

describe("diffRuns", () => {
  it("finds the cases that flipped in each variant, those that got worse first", () => {
    const before = (i: number, v: number): Verdict => (i < 6 ? "pass" : v === 0 ? "fail" : "unparsed");
    // Case 2 breaks in plain, 7 and 9 get fixed in cot, 8 errors in plain (still not passing).
    const changes: Record<string, Verdict> = { "2,0": "fail", "7,1": "pass", "9,1": "pass", "8,0": "error" };
    const after = (i: number, v: number): Verdict => changes[`${i},${v}`] ?? before(i, v);
    const diff = diffRuns(
      syntheticRecord({ cases: 10, variants: VARIANTS, verdict: before }),
      syntheticRecord({ cases: 10, variants: VARIANTS, verdict: after }),
    );
    expect(diff.flips.map((f) => [f.id, f.prompt, f.direction, f.from, f.to])).toEqual([
      ["c2", "plain", "worse", "pass", "fail"],
      ["c7", "cot", "better", "unparsed", "pass"],
      ["c9", "cot", "better", "unparsed", "pass"],
    ]);
    expect(diff.variants).toEqual([
      { prompt: "plain", provider: "m", base: 0.6, head: 0.5, fixed: 0, broken: 1 },
      { prompt: "cot", provider: "m", base: 0.6, head: 0.8, fixed: 2, broken: 0 },
    ]);
  });

  it("folds a case's results as the summary does: repeats by require (default majority), and every shot draw must pass", () => {
    const run = (pass: boolean, extra: { draw?: number; error?: boolean } = {}) => ({
      pass,
      unparsed: false,
      error: extra.error ? { kind: "server" as const, message: "x" } : null,
      ...(extra.draw !== undefined ? { draw: extra.draw } : {}),
    });
    expect(statusOf([run(true)])).toBe("pass");
    expect(statusOf([run(true), run(true), run(false)])).toBe("pass");
    expect(statusOf([run(true), run(true), run(false)], "all")).toBe("fail");
    expect(statusOf([run(true), run(false)])).toBe("fail");
    expect(statusOf([run(true), run(false)], "any")).toBe("pass");
    expect(statusOf([run(false, { error: true })])).toBe("error");
    // Two draws: one passed, one not.
    expect(statusOf([run(true, { draw: 0 }), run(false, { draw: 1 })])).toBe("mixed");
  });

  it("flips by that rule: a repeated case passing by majority in both runs is no flip, one that lost its majority is", () => {
    const base = syntheticRecord({ cases: 3, variants: [VARIANTS[0]], verdict: () => "pass" });
    // Each case three times; `failing` says which repeats fail, by case.
    const thrice = (record: typeof base, failing: Record<string, number[]>) => ({
      ...record,
      cases: record.cases.flatMap((c) =>
        [0, 1, 2].map((repeat) => ({ ...c, repeat, pass: !(failing[c.id] ?? []).includes(repeat) })),
      ),
    });
    const before = thrice(base, { c0: [2], c1: [2], c2: [0, 1] });
    const after = thrice(base, { c0: [], c1: [1, 2], c2: [0] });
    // c0: 2/3 then 3/3, passing both times; c1: 2/3 then 1/3, worse; c2: 1/3 then 2/3, better.
    const diff = diffRuns(before, after);
    expect(diff.flips.map((f) => [f.id, f.direction, f.from, f.to])).toEqual([
      ["c1", "worse", "pass", "fail"],
      ["c2", "better", "fail", "pass"],
    ]);
    // The later run's require decides for both runs: with all, c0 is fixed and nothing else changes.
    const all = diffRuns(before, { ...after, config: { repeat: { require: "all" } } });
    expect(all.flips.map((f) => [f.id, f.direction])).toEqual([["c0", "better"]]);
  });

  it("a case that passes in some shot draws (neither 0 nor 1) is no flip; variants of one run alone have none", () => {
    const base = syntheticRecord({ cases: 1, variants: [VARIANTS[0]], verdict: () => "pass" });
    const drawn = (passes: boolean[]) => ({
      ...base,
      cases: passes.map((pass, draw) => ({ ...base.cases[0], draw, pass })),
    });
    expect(diffRuns(drawn([true, true]), drawn([true, false])).flips).toEqual([]);
    expect(diffRuns(drawn([true, false]), drawn([false, false])).flips).toEqual([]);
    expect(diffRuns(drawn([true, true]), drawn([false, false])).flips.map((f) => f.direction)).toEqual([
      "worse",
    ]);
    const head = syntheticRecord({ cases: 1, variants: VARIANTS, verdict: () => "pass" });
    expect(diffRuns(base, head).variants.map((v) => [v.prompt, v.base, v.head])).toEqual([
      ["plain", 1, 1],
      ["cot", undefined, 1],
    ]);
  });
});
