import { describe, expect, it } from "vitest";
import { wilsonInterval } from "../../../src/stats/interval.js";
import { createSummaryAccumulator, type SummaryInput } from "../../../src/stats/summary.js";

const run = (id: string, pass: boolean, extra: Partial<SummaryInput> = {}): SummaryInput => ({
  id,
  prompt: "p",
  provider: "m",
  pass,
  unparsed: false,
  error: null,
  latencyMs: 10,
  tokens: { prompt: 1, completion: 1 },
  ...extra,
});

describe("summary of repeated runs", () => {
  // Case 1 passes 3 of 3, case 2 2 of 3, case 3 1 of 3, case 4 0 of 3 (one unparsed, two wrong).
  const runs = [
    ...[true, true, true].map((pass, repeat) => run("1", pass, { repeat })),
    ...[true, false, true].map((pass, repeat) => run("2", pass, { repeat })),
    ...[false, true, false].map((pass, repeat) => run("3", pass, { repeat })),
    ...[false, false, false].map((pass, repeat) => run("4", pass, { repeat, unparsed: repeat === 0 })),
  ];
  const rowFor = (require: "all" | "majority" | "any") => {
    const summary = createSummaryAccumulator({ require });
    for (const r of runs) summary.add(r);
    return summary.rows()[0];
  };

  it("counts cases, each folded by require, and gives pass@k, pass^k and the flaky cases", () => {
    const row = rowFor("majority");
    expect(row).toMatchObject({ total: 4, passed: 2, failed: 2, errors: 0, unparsed: 0 });
    expect(row.repeat).toEqual({
      k: 3,
      require: "majority",
      passAtK: 0.75,
      passHatK: 0.25,
      passAt1: 6 / 12,
      flaky: 2,
      flakyIds: ["2", "3"],
    });
    expect(rowFor("all").passed).toBe(1);
    expect(rowFor("any").passed).toBe(3);
    // Tokens and latencies count every run.
    expect(row.tokens).toEqual({ prompt: 12, completion: 12 });
  });
});

describe("summary compliance and mean score", () => {
  it("gives the share of readable answers and a Wilson interval for pass/fail scores", () => {
    const summary = createSummaryAccumulator();
    summary.add(run("1", true, { score: 1 }));
    summary.add(run("2", false, { score: 0, unparsed: true }));
    summary.add(run("3", false, { score: 0, error: { kind: "x" } }));
    summary.add(run("4", true, { score: 1 }));
    const [row] = summary.rows();
    expect(row.compliance).toBe(0.5);
    expect(row.meanScore).toBe(0.5);
    expect(row.scoreCi95).toEqual(wilsonInterval(2, 4));
  });

  it("bootstraps graded scores, seeded, and an errored case scores 0", () => {
    const make = (seed: number) => {
      const summary = createSummaryAccumulator({ seed, bootstrap: 1000 });
      for (let i = 0; i < 30; i++) summary.add(run(String(i), true, { score: 0.5 + (i % 3) / 10 }));
      summary.add(run("x", true, { score: 0.9, error: { kind: "x" } }));
      return summary.rows()[0];
    };
    const row = make(1);
    expect(row.meanScore).toBeCloseTo((30 * 0.6) / 31, 12);
    expect(row.scoreCi95![0]).toBeLessThan(row.meanScore!);
    expect(row.scoreCi95![1]).toBeGreaterThan(row.meanScore!);
    expect(make(1).scoreCi95).toEqual(row.scoreCi95);
    expect(make(2).scoreCi95).not.toEqual(row.scoreCi95);
  });
});
