import { describe, expect, it } from "vitest";
import { readGrade, readScore, readWinner } from "../../../src/scorers/verdict.js";

describe("reading a judge's verdict", () => {
  it.each([
    ["Reasoning.\nGRADE: PASS", "pass"],
    ["grade: fail", "fail"],
    ["**GRADE:** PASS", "pass"],
    ["`GRADE: PASS`", "pass"],
    ["> GRADE: FAIL.", "fail"],
    ["GRADE: FAIL\nthen again…\nGRADE: PASS", "pass"], // the last verdict line decides
    ["GRADE: PASS\n\nThe response names the right city.", "pass"], // text may follow the verdict line
  ])("reads %j as %s", (text, grade) => {
    expect(readGrade(text)).toMatchObject({ ok: true, value: grade });
  });

  it.each([
    ["Looks good!", "the judge's answer has no line GRADE: PASS or GRADE: FAIL"],
    ["I would say GRADE: PASS here.", "the judge's answer has no line GRADE: PASS or GRADE: FAIL"],
    ["GRADE: PASS\nGRADE: maybe", 'the judge\'s last GRADE line reads "maybe", not PASS or FAIL'],
    ["GRADE: PASS or FAIL", 'the judge\'s last GRADE line reads "PASS or FAIL", not PASS or FAIL'],
  ])("does not guess at %j", (text, reason) => {
    expect(readGrade(text)).toEqual({ ok: false, reason });
  });

  it("reads a score in range only", () => {
    expect(readScore("SCORE: 4", 5)).toMatchObject({ ok: true, value: 4 });
    expect(readScore("Score: 4/5", 5)).toMatchObject({ ok: true, value: 4 });
    expect(readScore("SCORE: 10", 10)).toMatchObject({ ok: true, value: 10 });
    expect(readScore("SCORE: 7", 5)).toEqual({ ok: false, reason: "the judge's score 7 is outside 1–5" });
    expect(readScore("SCORE: 0", 5)).toEqual({ ok: false, reason: "the judge's score 0 is outside 1–5" });
    expect(readScore("SCORE: 3.5", 5)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("not a whole number"),
    });
    expect(readScore("SCORE: 8/10", 5)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("scale other than"),
    });
    expect(readScore("no score", 5)).toEqual({
      ok: false,
      reason: "the judge's answer has no line SCORE: n (1–5)",
    });
  });

  it("reads a pairwise winner", () => {
    expect(readWinner("B is clearer.\nWINNER: B")).toMatchObject({ ok: true, value: "B" });
    expect(readWinner("WINNER: Response A")).toMatchObject({ ok: true, value: "A" });
    expect(readWinner("winner: tie")).toMatchObject({ ok: true, value: "tie" });
    expect(readWinner("WINNER: both")).toMatchObject({ ok: false });
  });
});
