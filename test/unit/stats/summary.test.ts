import { describe, expect, it } from "vitest";
import { createSummaryAccumulator, type SummaryInput } from "../../../src/stats/summary.js";

function result(over: Partial<SummaryInput>): SummaryInput {
  return {
    prompt: "p",
    provider: "m",
    pass: true,
    unparsed: false,
    error: null,
    latencyMs: 10,
    tokens: { prompt: 1, completion: 1 },
    ...over,
  };
}

describe("per-scorer columns of the summary", () => {
  it("average each scorer's score and count its passes over the cases it scored", () => {
    const summary = createSummaryAccumulator();
    summary.add(
      result({ scores: { contains: { pass: true, score: 1 }, "rouge-l": { pass: false, score: 0.25 } } }),
    );
    summary.add(
      result({ scores: { contains: { pass: false, score: 0 }, "rouge-l": { pass: true, score: 0.75 } } }),
    );
    summary.add(
      result({
        scores: {
          contains: { pass: false, score: 0, unparsed: true },
          "rouge-l": { pass: true, score: 0.8 },
        },
      }),
    );
    // An errored case has no scores and is left out of the scorers' numbers.
    summary.add(result({ pass: false, error: { kind: "server" } }));
    const [row] = summary.rows();
    expect(row.total).toBe(4);
    expect(row.scorers).toEqual({
      contains: { n: 3, mean: 1 / 3, passRate: 1 / 3, unparsed: 1 },
      "rouge-l": { n: 3, mean: 0.6, passRate: 2 / 3, unparsed: 0 },
    });
  });

  it("has no scorer columns when the cases carry no per-scorer results", () => {
    const summary = createSummaryAccumulator();
    summary.add(result({}));
    expect(summary.rows()[0].scorers).toBeUndefined();
  });
});
