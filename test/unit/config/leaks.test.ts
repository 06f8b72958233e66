import path from "node:path";
import { describe, expect, test } from "vitest";
import { BASIC, lines, load, problemAt, problemsOf, SHOT_DEFAULTS, TESTS, TRAIN } from "./helpers.js";

describe("the contamination guard's settings", () => {
  test("shots.leak and context.exclude are kept as written, and left out when not written", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - { id: a, text: x, shots: { from: fixtures/train.jsonl, k: 2, leak: warn } }",
        "  - { id: b, text: x, shots: { from: fixtures/train.jsonl, k: 2 }, context: { corpus: docs, exclude: copies } }",
        "  - { id: c, text: x, shots: { from: fixtures/train.jsonl, k: [1, 2], leak: allow } }",
        TESTS,
      ),
    );
    expect(suite.prompts[0].shots).toEqual({ from: TRAIN, k: 2, ...SHOT_DEFAULTS, leak: "warn" });
    expect(suite.prompts[1].shots).toEqual({ from: TRAIN, k: 2, ...SHOT_DEFAULTS });
    expect(suite.prompts[1].context).toEqual({
      corpus: path.join(BASIC, "docs"),
      k: 3,
      field: "question",
      exclude: "copies",
    });
    // Every variant of a sweep carries the policy.
    expect(suite.prompts.slice(2).map((p) => p.shots?.leak)).toEqual(["allow", "allow"]);
  });

  test("a bad value is located, with a guess, and every problem is reported at once", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - { id: a, text: x, shots: { from: fixtures/train.jsonl, k: 2, leak: exlude } }",
        "  - { id: b, text: x, context: { corpus: docs, exclude: copied } }",
        "  - { id: c, text: x, shots: { from: fixtures/train.jsonl, k: 2, leak: [exclude, warn] } }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].shots.leak")).toEqual({
      code: "config-invalid",
      at: "suite.yaml:2:72",
      field: "prompts[0].shots.leak",
      message: 'expected "exclude", "warn" or "allow", received "exlude"',
      hint: 'did you mean "exclude"?',
    });
    expect(problemAt(problems, "prompts[1].context.exclude")).toMatchObject({
      at: "suite.yaml:3:57",
      message: 'expected "copies", received "copied"',
      hint: 'did you mean "copies"?',
    });
    expect(problemAt(problems, "prompts[2].shots.leak")).toMatchObject({ at: "suite.yaml:4:72" });
    expect(problems).toHaveLength(3);
  });
});
