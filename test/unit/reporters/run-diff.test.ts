import { describe, expect, it } from "vitest";
import { renderRunDiff } from "../../../src/reporters/run-diff.js";
import { diffRuns } from "../../../src/stats/run-diff.js";
import { syntheticRecord, type Verdict } from "../../helpers/report-records.js";

const VARIANTS = [{ prompt: "plain", provider: "m" }];

describe("renderRunDiff", () => {
  it("prints accuracy before and after per variant, then the flips with what the later run answered", () => {
    const before = (i: number): Verdict => (i < 3 ? "pass" : "fail");
    const after = (i: number): Verdict => (i === 0 ? "fail" : i === 4 ? "pass" : before(i));
    const diff = diffRuns(
      syntheticRecord({ cases: 5, variants: [VARIANTS[0]], verdict: before }),
      syntheticRecord({
        cases: 5,
        variants: [VARIANTS[0]],
        verdict: after,
        output: (i) => (i === 0 ? "\u001b[2Jwrong" : `answer ${i}`),
      }),
    );
    const text = renderRunDiff(diff, { labels: { base: "old.json", head: "new.json" } });
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^prompt\s+provider\s+old\.json\s+new\.json\s+change\s+fixed\s+broken$/);
    expect(lines[1]).toMatch(/^plain\s+m\s+60\.0%\s+60\.0%\s+\+0\.0 pts\s+1\s+1$/);
    expect(text).toContain("Flipped (2: 1 worse, 1 better)");
    expect(text).toMatch(/✓→✗ plain · m · case c0\s+expected 0\s+extracted 1\n/);
    expect(text).toMatch(/✗→✓ plain · m · case c4\s+expected 8\s+extracted 8\n/);
    expect(text.indexOf("case c0")).toBeLessThan(text.indexOf("case c4"));
    expect(text).not.toContain("\u001b");
    expect(renderRunDiff({ variants: diff.variants, flips: [] })).toContain("no case flipped");
    expect(renderRunDiff(diff, { maxFlips: 1 })).toContain("Flipped (2: 1 worse, 1 better), the first 1");
  });
});
