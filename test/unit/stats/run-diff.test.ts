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

  it("a case with several results passes only when all passed; variants of one run alone have no flips", () => {
    expect(statusOf([{ pass: true, unparsed: false, error: null }])).toBe("pass");
    expect(
      statusOf([
        { pass: true, unparsed: false, error: null },
        { pass: false, unparsed: false, error: null },
      ]),
    ).toBe("mixed");
    expect(statusOf([{ pass: false, unparsed: false, error: { kind: "server", message: "x" } }])).toBe(
      "error",
    );
    const base = syntheticRecord({
      cases: 2,
      variants: [VARIANTS[0]],
      verdict: () => "pass",
      extra: () => ({ repeat: 0 }),
    });
    // Each case twice (two repeats); case c1's second repeat fails in the later run.
    const twice = (record: typeof base, failing?: string) => ({
      ...record,
      cases: record.cases.flatMap((c) => [c, { ...c, repeat: 1, pass: c.id !== failing }]),
    });
    const head = syntheticRecord({ cases: 2, variants: VARIANTS, verdict: () => "pass" });
    const diff = diffRuns(twice(base), twice(head, "c1"));
    expect(diff.flips.map((f) => [f.id, f.prompt, f.from, f.to])).toEqual([["c1", "plain", "pass", "mixed"]]);
    expect(diff.variants.map((v) => [v.prompt, v.base, v.head])).toEqual([
      ["plain", 1, 1],
      ["cot", undefined, 1],
    ]);
  });
});
