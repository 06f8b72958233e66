import { describe, expect, it } from "vitest";
import { fillValue, resolveSpec } from "../../../src/scorers/aliases.js";
import { createScorers } from "../../../src/scorers/registry.js";
import type { ScorerSpec } from "../../../src/scorers/types.js";
import { score } from "./score.js";

async function combined(
  specs: ScorerSpec[],
  combine: { weights?: number[] | Record<string, number>; threshold?: number },
) {
  return createScorers(specs, { baseDir: ".", combine });
}

describe("negation", () => {
  it("not: true and the not- prefix turn pass into fail and score into 1 − score", async () => {
    const plain = await score({ type: "contains" }, "the sky is blue", "blue");
    expect(plain.pass).toBe(true);
    const negated = await score({ type: "contains", not: true }, "the sky is blue", "blue");
    expect(negated).toMatchObject({ pass: false, score: 0 });
    expect(negated.reason).toBe('not: output contains "blue"');
    expect(await score({ type: "not-contains" }, "the sky is grey", "blue")).toMatchObject({
      pass: true,
      score: 1,
    });
    const rouge = await score({ type: "not-rouge-l", threshold: 0.5 }, "testing two", "testing one two");
    expect(rouge.score).toBeCloseTo(0.2, 12);
    expect(rouge.pass).toBe(false);
  });

  it("leaves unparsed and unscorable results as they are", async () => {
    expect(await score({ type: "not-exact" }, "", "blue")).toMatchObject({ pass: false, unparsed: true });
    // No expected answer: not-contains must not pass merely because contains could not judge.
    expect(await score({ type: "not-contains" }, "blue", undefined)).toMatchObject({
      pass: false,
      unscored: true,
    });
  });
});

describe("an empty output", () => {
  it("is a plain fail of the checks and metrics, so their negations pass as promptfoo's do", async () => {
    const cases: [ScorerSpec, unknown][] = [
      [{ type: "is-json" }, undefined],
      [{ type: "contains-json" }, undefined],
      [{ type: "json" }, undefined],
      [{ type: "contains" }, "blue"],
      [{ type: "icontains" }, "blue"],
      [{ type: "starts-with" }, "blue"],
      [{ type: "rouge-n" }, "blue sky"],
      [{ type: "rouge-l" }, "blue sky"],
      [{ type: "bleu" }, "blue sky"],
      [{ type: "levenshtein", threshold: 1 }, "blue"],
    ];
    for (const [spec, expected] of cases) {
      for (const output of ["", "  \n"]) {
        const plain = await score(spec, output, expected);
        expect(plain, spec.type).toMatchObject({ pass: false, score: 0 });
        expect(plain.unparsed, spec.type).toBeUndefined();
        const negated = await score({ ...spec, not: true }, output, expected);
        expect(negated, spec.type).toMatchObject({ pass: true, score: 1 });
      }
    }
    // An empty output is within 5 edits of a short answer: the distance is simply its length.
    expect(await score({ type: "levenshtein" }, "", "blue")).toMatchObject({ pass: true, score: 0 });
  });

  it("stays unparsed where a scorer reads an answer out of the output", async () => {
    for (const [spec, expected] of [
      [{ type: "exact" }, "B"],
      [{ type: "equals" }, "B"],
      [{ type: "numeric" }, "3"],
      [{ type: "choice" }, "B"],
    ] as [ScorerSpec, string][]) {
      const negated = await score({ ...spec, not: true }, "", expected);
      expect(negated, spec.type).toMatchObject({ pass: false, unparsed: true });
    }
  });
});

describe("promptfoo names", () => {
  it("map to native specs, value going where each puts it", () => {
    expect(resolveSpec({ type: "equals", value: "Paris" })).toMatchObject({
      spec: { type: "exact", trim: false },
      expected: "Paris",
      negate: false,
      name: "equals",
    });
    expect(resolveSpec({ type: "not-is-json", value: { type: "object" } })).toMatchObject({
      spec: { type: "json", strict: true, schema: { type: "object" } },
      negate: true,
      name: "not-is-json",
    });
    expect(resolveSpec({ type: "contains-json" }).spec).toEqual({ type: "json", contains: true });
    expect(resolveSpec({ type: "javascript", value: "file://check.js" }).spec).toEqual({
      type: "js",
      path: "check.js",
    });
    expect(resolveSpec({ type: "javascript", value: "output.length < 5" }).spec).toEqual({
      type: "js",
      code: "output.length < 5",
    });
    expect(resolveSpec({ type: "llm-rubric", value: "is polite" }).spec).toMatchObject({
      type: "judge",
      rubric: "is polite",
      scale: "pass-fail",
    });
    expect(resolveSpec({ type: "regex", value: "^\\d+$" })).toEqual({
      spec: { type: "regex", pattern: "^\\d+$", match: true },
      written: "regex",
      negate: false,
      name: "regex",
    });
    expect(resolveSpec({ type: "contains", not: true, name: "no-blue" })).toMatchObject({
      name: "no-blue",
      negate: true,
    });
    expect(resolveSpec({ type: "contains", not: true }).name).toBe("not-contains");
  });

  it("score as promptfoo's assertions do", async () => {
    expect((await score({ type: "equals", value: "Paris" }, "Paris", "ignored")).pass).toBe(true);
    expect((await score({ type: "equals", value: "Paris" }, "Paris\n", "Paris")).pass).toBe(false);
    expect((await score({ type: "icontains", value: "PARIS" }, "paris, France")).pass).toBe(true);
    expect((await score({ type: "regex", value: "^\\d{3}$" }, "123", "999")).pass).toBe(true);
    expect((await score({ type: "not-regex", value: "\\d" }, "no digits here")).pass).toBe(true);
    expect((await score({ type: "is-json" }, '{"a": 1}')).pass).toBe(true);
    expect((await score({ type: "is-json", value: { type: "array" } }, '{"a": 1}')).reason).toBe(
      "JSON does not match the schema: the top level must be array (keyword type)",
    );
    expect((await score({ type: "contains-json" }, 'see {"a": 1}')).pass).toBe(true);
    expect((await score({ type: "javascript", value: "output.length < 5" }, "abc")).pass).toBe(true);
    expect(
      (await score({ type: "javascript", value: "return output.length / 10;", threshold: 0.5 }, "abc")).score,
    ).toBeCloseTo(0.3, 12);
    expect((await score({ type: "levenshtein", value: "hello" }, "hallo")).pass).toBe(true);
    expect((await score({ type: "starts-with", value: "Dear" }, "Dear Sir")).pass).toBe(true);
  });

  it("fill {{var}} in a value from the case", async () => {
    expect(fillValue("Hello {{name}} of {{place.city}}", { name: "Ada", place: { city: "London" } })).toEqual(
      {
        value: "Hello Ada of London",
      },
    );
    expect(fillValue(["{{a}}", 3], { a: "x" })).toEqual({ value: ["x", 3] });
    expect(fillValue("{{missing}}", {})).toEqual({
      error: 'value "{{missing}}" names {{missing}}, which the case does not have',
    });
    const result = await score({ type: "contains", value: "{{city}}" }, "It is Paris.", undefined, {
      vars: { city: "Paris" },
    });
    expect(result.pass).toBe(true);
    expect(await score({ type: "contains", value: "{{town}}" }, "Paris", undefined)).toMatchObject({
      unscored: true,
    });
  });
});

describe("combining scorers by weight", () => {
  const specs: ScorerSpec[] = [
    { type: "contains", value: "Paris" },
    { type: "word-count", max: 3 },
  ];
  const input = { output: "The capital is Paris.", expected: undefined, vars: {} };

  it("scores the weighted mean and passes at the threshold", async () => {
    // contains passes (1), word-count fails (4 words > 3: 0): weights 3 and 1 → 0.75.
    const result = await (await combined(specs, { weights: [3, 1], threshold: 0.7 }))(input);
    expect(result).toMatchObject({ pass: true, score: 0.75 });
    expect(result.reason).toMatch(
      /^weighted score 0\.750 ≥ threshold 0\.7; contains \(×3\): .*; word-count \(×1\): /,
    );
    const strict = await (await combined(specs, { weights: [3, 1], threshold: 0.8 }))(input);
    expect(strict).toMatchObject({ pass: false, score: 0.75 });
    // Without combine, every scorer must pass.
    expect((await (await createScorers(specs, { baseDir: "." }))(input)).pass).toBe(false);
  });

  it("keeps each scorer's own result under its name", async () => {
    const result = await (await combined(specs, { weights: { "word-count": 0 } }))(input);
    expect(result.score).toBe(1);
    expect(result.parts).toEqual({
      contains: { pass: true, score: 1, reason: 'output contains "Paris"' },
      "word-count": { pass: false, score: 0, reason: "4 words, more than at most 3" },
    });
    const twice = await (
      await createScorers(
        [
          { type: "contains", value: "a" },
          { type: "contains", value: "b" },
        ],
        { baseDir: "." },
      )
    )({ output: "a", expected: undefined, vars: {} });
    expect(Object.keys(twice.parts ?? {})).toEqual(["contains", "contains#2"]);
  });

  it("is unparsed when a part that could not be read is what keeps it from passing", async () => {
    // numeric finds no number in the output: unparsed. contains passes, word-count fails.
    const reads = { type: "contains", value: "Paris" };
    const unread = { type: "numeric", value: "3" };
    const fails = { type: "word-count", max: 1 };
    const plain = async (specs: ScorerSpec[]) => (await createScorers(specs, { baseDir: "." }))(input);
    expect(await plain([reads, unread])).toMatchObject({ pass: false, unparsed: true });
    expect(await plain([unread, reads])).toMatchObject({ pass: false, unparsed: true });
    // A part that failed outright decides the case, whatever the unread one would have said.
    expect((await plain([reads, unread, fails])).unparsed).toBeUndefined();

    const weighted = async (specs: ScorerSpec[], weights: number[], threshold = 0.5) =>
      (await combined(specs, { weights, threshold }))(input);
    // 1 of 4 read and passed: the unread part (×3) could carry it to 1.
    expect(await weighted([reads, unread], [1, 3])).toMatchObject({ pass: false, unparsed: true });
    // Weight 0: it cannot change anything, so the fail stands.
    expect((await weighted([fails, unread], [1, 0])).unparsed).toBeUndefined();
    // Even a passing unread part (×1 of 5) cannot reach 0.5: a certain fail.
    expect((await weighted([fails, unread], [4, 1])).unparsed).toBeUndefined();
    expect(await weighted([fails, unread], [1, 1])).toMatchObject({ pass: false, unparsed: true });
  });

  it("rejects weights that do not fit the scorers", async () => {
    await expect(combined(specs, { weights: [1] })).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "combine.weights",
      message: "combine.weights has 1 weights for 2 scorers (scorers)",
    });
    await expect(combined(specs, { weights: { nope: 1 } })).rejects.toMatchObject({
      message: 'combine.weights names "nope", which is no scorer\'s name',
    });
    await expect(combined(specs, { weights: [0, 0] })).rejects.toMatchObject({
      message: "combine.weights are all 0",
    });
  });
});
