import { describe, expect, it } from "vitest";
import { normalizeAnswer, tokenF1 } from "../../../src/scorers/squad.js";
import { score } from "./score.js";

describe("normalizeAnswer (SQuAD v1.1)", () => {
  it.each([
    ["The Eiffel Tower", "eiffel tower"],
    ["  the  CAT, sat. ", "cat sat"],
    ["an apple a day", "apple day"],
    ["Theatre and anthem", "theatre and anthem"], // articles only as whole words
    ["U.S.A.", "usa"],
    ["Denver Broncos!", "denver broncos"],
    ["rock-and-roll", "rockandroll"], // string.punctuation includes the hyphen
    ["l'été", "lété"],
    ["théa the", "théa"], // a non-ASCII letter is part of the word, as with Python's \b
  ])("normalizes %j to %j", (text, normalized) => {
    expect(normalizeAnswer(text)).toBe(normalized);
  });
});

describe("tokenF1", () => {
  it("computes bag-of-tokens F1", () => {
    // "cat sat on mat" vs "cat on mat": 3 shared, precision 3/4, recall 3/3, F1 = 2·0.75·1/1.75 = 6/7.
    const overlap = tokenF1("the cat sat on the mat", "a cat on a mat");
    expect(overlap.precision).toBeCloseTo(0.75, 12);
    expect(overlap.recall).toBeCloseTo(1, 12);
    expect(overlap.f1).toBeCloseTo(6 / 7, 12);
  });

  it("counts repeated tokens at most as often as the gold has them", () => {
    // pred "go go go" vs gold "go": 1 shared, precision 1/3, recall 1, F1 = 0.5.
    expect(tokenF1("go go go", "go").f1).toBeCloseTo(0.5, 12);
  });

  it("is 0 with nothing in common", () => {
    expect(tokenF1("the", "a").f1).toBe(0);
    expect(tokenF1("London", "Paris").f1).toBe(0);
  });
});

describe("normalized scorer", () => {
  it("passes answers that differ only by case, punctuation and articles", async () => {
    const result = await score({ type: "normalized" }, "The Denver Broncos.", "denver broncos");
    expect(result).toMatchObject({ pass: true, score: 1, extracted: "denver broncos" });
    expect(result.reason).toContain("equals");
  });

  it("fails different answers and accepts any of several", async () => {
    const wrong = await score({ type: "normalized" }, "Carolina Panthers", "Denver Broncos");
    expect(wrong.pass).toBe(false);
    expect(wrong.reason).toContain('"carolina panthers" does not equal expected "denver broncos"');
    expect((await score({ type: "normalized" }, "Broncos", ["Denver Broncos", "the Broncos"])).pass).toBe(
      true,
    );
  });

  it("takes no options", async () => {
    await expect(score({ type: "normalized", ignoreCase: true }, "a", "a")).rejects.toMatchObject({
      code: "scorer-invalid",
      hint: 'the normalized scorer takes no options; remove "ignoreCase"',
    });
  });
});

describe("f1 scorer", () => {
  it("scores partial overlap with the hand-computed F1", async () => {
    const result = await score({ type: "f1" }, "the cat sat on the mat", "a cat on a mat");
    expect(result.score).toBeCloseTo(6 / 7, 12);
    expect(result.pass).toBe(true);
    expect(result.reason).toBe(
      'F1 0.86 (precision 0.75, recall 1.00) against "a cat on a mat"; at least threshold 0.5',
    );
  });

  it("fails below the threshold", async () => {
    // "denver" vs "denver broncos super bowl": precision 1, recall 1/4, F1 = 0.4.
    const result = await score({ type: "f1", threshold: 0.5 }, "Denver", "Denver Broncos Super Bowl");
    expect(result.score).toBeCloseTo(0.4, 12);
    expect(result.pass).toBe(false);
    expect(result.reason).toContain("below threshold 0.5");
    expect((await score({ type: "f1", threshold: 0.4 }, "Denver", "Denver Broncos Super Bowl")).pass).toBe(
      true,
    );
  });

  it("takes the best of several expected answers", async () => {
    const result = await score({ type: "f1" }, "Broncos", ["Carolina Panthers", "Denver Broncos"]);
    expect(result.score).toBeCloseTo(2 / 3, 12);
    expect(result.reason).toContain('"Denver Broncos" (best of 2 answers)');
  });

  it("rejects a threshold outside [0, 1]", async () => {
    await expect(score({ type: "f1", threshold: 2 }, "a", "a")).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.threshold",
    });
  });
});

describe("SQuAD 2.0's rule for unanswerable questions", () => {
  // The SQuAD 2.0 evaluation script (compute_f1, compute_exact): when either side normalizes to no
  // tokens, F1 and exact match are 1 if both are empty and 0 otherwise.
  it("an empty expected answer is matched by an output that normalizes to nothing", async () => {
    expect(await score({ type: "f1" }, "", "")).toMatchObject({ pass: true, score: 1 });
    expect(await score({ type: "f1" }, "The.", "")).toMatchObject({ pass: true, score: 1 });
    expect(await score({ type: "normalized" }, " ", "")).toMatchObject({ pass: true, score: 1 });
    expect(await score({ type: "normalized" }, "an", [""])).toMatchObject({ pass: true });
  });

  it("and by nothing else: an answer to an unanswerable question scores 0", async () => {
    const f1 = await score({ type: "f1" }, "Paris", "");
    expect(f1).toMatchObject({ pass: false, score: 0 });
    expect(f1.unparsed).toBeUndefined();
    expect((await score({ type: "normalized" }, "Paris", "")).pass).toBe(false);
  });

  it("an empty output is still unparsed when the question has an answer", async () => {
    expect((await score({ type: "f1" }, "", "Paris")).unparsed).toBe(true);
    expect((await score({ type: "normalized" }, "", "Paris")).unparsed).toBe(true);
  });
});
