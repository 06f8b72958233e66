import { describe, expect, it } from "vitest";
import { isUserError } from "../../../src/errors.js";
import { createScorer, createScorers, isScorerName, scorerNames } from "../../../src/scorers/registry.js";
import { score } from "./score.js";

describe("scorer registry", () => {
  it("lists every scorer type", () => {
    expect([...scorerNames].sort()).toEqual(
      [
        ...["choice", "contains", "exact", "f1", "icontains", "js", "normalized", "numeric", "regex"],
        ...["starts-with", "levenshtein", "rouge-n", "rouge-l", "bleu", "length", "word-count"],
        ...["is-refusal", "json", "similar", "judge", "preference"],
      ].sort(),
    );
    expect(isScorerName("numeric")).toBe(true);
    expect(isScorerName("toString")).toBe(false);
  });

  it("rejects an unknown type with the known names and a suggestion", async () => {
    const error = await createScorer(
      { type: "numerc" },
      { baseDir: ".", field: "scorers[1]", file: "suite.yaml" },
    ).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "scorer-invalid",
      message: 'unknown scorer type "numerc"',
      field: "scorers[1].type",
      location: { file: "suite.yaml" },
    });
    const hint = (error as { hint: string }).hint;
    expect(hint).toContain('did you mean "numeric"?');
    for (const name of scorerNames) expect(hint).toContain(name);
  });

  it("rejects a spec without a type", async () => {
    await expect(createScorer({} as { type: string }, { baseDir: "." })).rejects.toMatchObject({
      code: "scorer-invalid",
      message: "a scorer needs a type",
    });
  });

  it("points option errors of a list at the spec's index", async () => {
    await expect(
      createScorers([{ type: "exact" }, { type: "numeric", tolerance: "x" }], { baseDir: "." }),
    ).rejects.toMatchObject({ code: "scorer-invalid", field: "scorers[1].tolerance" });
    await expect(createScorers([], { baseDir: "." })).rejects.toMatchObject({ code: "scorer-invalid" });
  });
});

describe("combined scorers", () => {
  const specs = [{ type: "numeric" }, { type: "contains" }];

  it("passes only when all pass and joins the reasons", async () => {
    const result = await score(specs, "The answer is 18", "18");
    expect(result).toMatchObject({ pass: true, score: 1, extracted: "18" });
    expect(result.reason).toBe(
      'numeric: expected 18, extracted 18 (within 1e-6); contains: output contains "18"',
    );
  });

  it("averages the scores and fails when one fails", async () => {
    const result = await score(
      [{ type: "f1" }, { type: "exact" }],
      "the cat sat on the mat",
      "a cat on a mat",
    );
    expect(result.pass).toBe(false);
    expect(result.score).toBeCloseTo((6 / 7 + 0) / 2, 12);
    expect(result.reason).toMatch(/^f1: F1 0\.86 .*; exact: expected "a cat on a mat", got /);
  });

  it("takes extracted from the first scorer, and is unparsed only when an unread part could have passed it", async () => {
    // numeric reads no number (unparsed), but contains fails outright: a plain fail either way.
    const result = await score(specs, "I can't help with that.", "18");
    expect(result).toMatchObject({ pass: false, score: 0, extracted: null });
    expect(result.unparsed).toBeUndefined();
    // numeric reads a refusal (unparsed) and contains passes: the unread part decides, unparsed.
    const open = await score(specs, "I can't help with 18 things.", "18");
    expect(open).toMatchObject({ pass: false, score: 0.5, extracted: null, unparsed: true });
    const second = await score([{ type: "contains" }, { type: "numeric" }], "no digits", "digits");
    expect(second.unparsed).toBeUndefined();
    expect(second.extracted).toBe("digits");
    expect(second.score).toBe(0.5);
  });

  it("gives a single scorer unchanged", async () => {
    const result = await score([{ type: "numeric" }], "18", 18);
    expect(result.reason).toBe("expected 18, extracted 18 (within 1e-6)");
  });
});
