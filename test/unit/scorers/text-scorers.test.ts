import { describe, expect, it } from "vitest";
import { score } from "./score.js";

describe("starts-with", () => {
  it("passes when the output (leading blanks aside) begins with the expected text", async () => {
    expect(await score({ type: "starts-with" }, "\n  Yes, it is.", "Yes")).toMatchObject({
      pass: true,
      extracted: "Yes",
    });
    const no = await score({ type: "starts-with" }, "No, it is not.", ["Yes", "Sure"]);
    expect(no.pass).toBe(false);
    expect(no.reason).toContain('not one of "Yes", "Sure"');
    expect((await score({ type: "starts-with", ignoreCase: true }, "yes indeed", "YES")).pass).toBe(true);
    expect((await score({ type: "starts-with" }, "yes indeed", "YES")).pass).toBe(false);
  });

  it("an empty output plainly fails; a missing expected answer cannot be scored", async () => {
    const empty = await score({ type: "starts-with" }, "   ", "Yes");
    expect(empty).toMatchObject({ pass: false, score: 0, reason: "output is empty" });
    expect(empty.unparsed).toBeUndefined();
    expect(await score({ type: "starts-with" }, "Yes", undefined)).toMatchObject({
      pass: false,
      unscored: true,
    });
  });
});

describe("levenshtein", () => {
  it("passes within promptfoo's default of 5 edits, or the threshold given", async () => {
    // kitten → sitting is 3 edits (the textbook example); normalized 3/7.
    const result = await score({ type: "levenshtein" }, "kitten", "sitting");
    expect(result.pass).toBe(true);
    expect(result.score).toBeCloseTo(1 - 3 / 7, 12);
    expect(result.reason).toContain("3 edits");
    expect((await score({ type: "levenshtein", threshold: 2 }, "kitten", "sitting")).pass).toBe(false);
  });

  it("with maxDistance, bounds the normalized distance instead", async () => {
    expect((await score({ type: "levenshtein", maxDistance: 0.5 }, "kitten", "sitting")).pass).toBe(true);
    expect((await score({ type: "levenshtein", maxDistance: 0.4 }, "kitten", "sitting")).pass).toBe(false);
    await expect(
      score({ type: "levenshtein", threshold: 1, maxDistance: 0.1 }, "a", "a"),
    ).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.maxDistance",
    });
  });

  it("takes the closest of several expected texts", async () => {
    const result = await score({ type: "levenshtein", threshold: 0 }, "Paris", ["London", "paris", "Paris"]);
    expect(result).toMatchObject({ pass: true, score: 1 });
  });

  it("counts edits against the answer with the fewest of them, normalized or not", async () => {
    // "abc" → "abcdefghij": 7 insertions (normalized 0.7); "abc" → "x": 1 substitution and 2
    // deletions (normalized 1). By hand.
    const edits = await score({ type: "levenshtein" }, "abc", ["abcdefghij", "x"]);
    expect(edits).toMatchObject({ pass: true, score: 0 });
    expect(edits.reason).toBe('3 edits (normalized distance 1.000) from "x"; within 5 edits');
    const normalized = await score({ type: "levenshtein", maxDistance: 0.7 }, "abc", ["abcdefghij", "x"]);
    expect(normalized.pass).toBe(true);
    expect(normalized.reason).toContain('7 edits (normalized distance 0.700) from "abcdefghij"');
  });
});

describe("rouge-n and rouge-l", () => {
  it("rouge-n is ROUGE-1 recall by default, passing at promptfoo's 0.75", async () => {
    // rouge-score: score("testing one two", "testing") → recall 1/3.
    const low = await score({ type: "rouge-n" }, "testing", "testing one two");
    expect(low.score).toBeCloseTo(1 / 3, 12);
    expect(low.pass).toBe(false);
    const high = await score({ type: "rouge-n", measure: "precision" }, "testing", "testing one two");
    expect(high).toMatchObject({ pass: true, score: 1 });
    // rouge2 of "testing one" against "testing one two": F 2/3.
    const two = await score(
      { type: "rouge-n", n: 2, measure: "f", threshold: 0.6 },
      "testing one",
      "testing one two",
    );
    expect(two.score).toBeCloseTo(2 / 3, 12);
    expect(two.pass).toBe(true);
  });

  it("rouge-l is the LCS F-measure", async () => {
    // rougeL of "testing two" against "testing one two": F 4/5.
    const result = await score({ type: "rouge-l" }, "testing two", "testing one two");
    expect(result.score).toBeCloseTo(0.8, 12);
    expect(result.pass).toBe(true);
    expect(result.reason).toMatch(/^ROUGE-L F 0\.800 \(P 1\.000, R 0\.667\)/);
  });

  it("rejects a measure it does not know", async () => {
    await expect(score({ type: "rouge-l", measure: "f1" }, "a", "a")).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.measure",
    });
  });
});

describe("bleu", () => {
  // sacrebleu test_sentence_bleu.py: 8.493 with exp smoothing and the 13a tokenizer.
  const REF = "producţia de zahăr brut se exprimă în zahăr alb;";
  const SYS = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";

  it("is sacrebleu's sentence BLEU on a 0–1 scale", async () => {
    const result = await score({ type: "bleu", threshold: 0.08 }, SYS, REF);
    expect(Math.abs(result.score * 100 - 8.493)).toBeLessThan(1e-3);
    expect(result.pass).toBe(true);
    expect((await score({ type: "bleu" }, SYS, REF)).pass).toBe(false);
    const floor = await score({ type: "bleu", smoothing: "floor", smoothValue: 0.5 }, SYS, REF);
    expect(Math.abs(floor.score * 100 - 10.1)).toBeLessThan(1e-3);
  });

  it("counts several expected texts as several references", async () => {
    expect((await score({ type: "bleu" }, "the cat sat", ["a dog ran", "the cat sat"])).score).toBeCloseTo(
      1,
      12,
    );
  });
});

describe("length and word-count", () => {
  it("bound the trimmed output's characters or words", async () => {
    expect((await score({ type: "length", max: 5 }, "  héllo  ")).pass).toBe(true);
    const long = await score({ type: "length", max: 4 }, "hello");
    expect(long).toMatchObject({ pass: false, extracted: "5" });
    expect(long.reason).toBe("5 characters, more than at most 4");
    expect((await score({ type: "word-count", min: 2, max: 3 }, "one two three")).pass).toBe(true);
    expect((await score({ type: "word-count", min: 4 }, "one two three")).reason).toBe(
      "3 words, fewer than at least 4",
    );
  });

  it("need a bound, and min no larger than max", async () => {
    await expect(score({ type: "length" }, "x")).rejects.toMatchObject({ code: "scorer-invalid" });
    await expect(score({ type: "word-count", min: 5, max: 2 }, "x")).rejects.toMatchObject({
      field: "scorer.min",
    });
  });
});

describe("is-refusal", () => {
  it("passes on a refusal and fails on an answer", async () => {
    expect((await score({ type: "is-refusal" }, "I'm sorry, but I can't help with that.")).pass).toBe(true);
    expect((await score({ type: "is-refusal" }, "Paris is the capital of France.")).pass).toBe(false);
    expect((await score({ type: "is-refusal" }, "")).pass).toBe(true);
  });
});
