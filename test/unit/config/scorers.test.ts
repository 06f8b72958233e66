import path from "node:path";
import { describe, expect, test } from "vitest";
import { isScorerType, parseConfig, SCORER_TYPES } from "../../../src/config/index.js";
import { PROMPTFOO_SCORER_NAMES } from "../../../src/config/scorer-specs.js";
import { PROMPTFOO_ALIASES } from "../../../src/scorers/aliases.js";
import { scorerNames } from "../../../src/scorers/registry.js";
import { BASIC, lines, problemAt, problemsOf } from "./helpers.js";

const HEAD = ["prompts: [templates/cot.hbs]", "tests: fixtures/test.jsonl"];

async function scorersOf(scorer: string) {
  return (await parseConfig(lines(...HEAD, scorer), { file: "suite.yaml", baseDir: BASIC, env: {} })).scorers;
}

describe("scorer forms", () => {
  test("a string, an object and a list all normalize to ScorerSpec[]", async () => {
    expect(await scorersOf("scorer: numeric")).toEqual([{ type: "numeric" }]);
    expect(await scorersOf("scorer: { type: numeric, tolerance: 1e-6, relative: 0.01 }")).toEqual([
      { type: "numeric", tolerance: 1e-6, relative: 0.01 },
    ]);
    expect(
      await scorersOf(
        lines(
          "scorer:",
          "  - exact",
          "  - { type: exact, trim: false, ignoreCase: true }",
          "  - { type: regex, pattern: '\\d+', flags: i }",
          "  - { type: choice, choices: ABCD }",
          "  - { type: f1, threshold: 0.8 }",
          "  - normalized",
          "  - contains",
          "  - icontains",
        ),
      ),
    ).toEqual([
      { type: "exact" },
      { type: "exact", trim: false, ignoreCase: true },
      { type: "regex", pattern: "\\d+", flags: "i" },
      { type: "choice", choices: "ABCD" },
      { type: "f1", threshold: 0.8 },
      { type: "normalized" },
      { type: "contains" },
      { type: "icontains" },
    ]);
  });

  test("a js scorer's path is made absolute", async () => {
    expect(await scorersOf("scorer: { type: js, path: scorers/same.js, export: default }")).toEqual([
      { type: "js", path: path.join(BASIC, "scorers/same.js"), export: "default" },
    ]);
  });

  test("the config's scorer types are exactly the scorer registry's", () => {
    expect([...SCORER_TYPES].sort()).toEqual([...scorerNames].sort());
    expect([...PROMPTFOO_SCORER_NAMES].sort()).toEqual(Object.keys(PROMPTFOO_ALIASES).sort());
    expect(isScorerType("f1")).toBe(true);
    expect(isScorerType("llm-rubric")).toBe(true);
    expect(isScorerType("blue")).toBe(false);
  });
});

describe("scorer problems", () => {
  test("an unknown type lists the known ones with a did-you-mean", async () => {
    const problems = await problemsOf(lines(...HEAD, "scorer:", "  - numerc", "  - { type: purple }"));
    expect(problemAt(problems, "scorer[0]")).toEqual({
      code: "config-invalid",
      at: "suite.yaml:4:5",
      field: "scorer[0]",
      message: 'unknown scorer type "numerc"',
      hint: 'did you mean "numeric"? known types: exact, normalized, contains, icontains, regex, numeric, choice, f1, js, starts-with, levenshtein, rouge-n, rouge-l, bleu, length, word-count, is-refusal, json, similar, judge, preference (and the promptfoo names equals, is-json, contains-json, javascript, llm-rubric; any with a not- prefix)',
    });
    expect(problemAt(problems, "scorer[1].type")).toMatchObject({
      at: "suite.yaml:5:13",
      hint: "known types: exact, normalized, contains, icontains, regex, numeric, choice, f1, js, starts-with, levenshtein, rouge-n, rouge-l, bleu, length, word-count, is-refusal, json, similar, judge, preference (and the promptfoo names equals, is-json, contains-json, javascript, llm-rubric; any with a not- prefix)",
    });
  });

  test("options are checked against the type: unknown keys, types and ranges", async () => {
    const problems = await problemsOf(
      lines(
        ...HEAD,
        "scorer:",
        "  - { type: exact, trim: 'yes', ignorecase: true }",
        "  - { type: f1, threshold: 1.5 }",
        "  - { type: numeric, tolerance: '1e-6' }",
        "  - { type: contains, pattern: x }",
      ),
    );
    expect(problemAt(problems, "scorer[0].trim")).toMatchObject({
      at: "suite.yaml:4:26",
      message: 'expected true or false, received "yes"',
      hint: 'write true, not "yes"',
    });
    expect(problemAt(problems, "scorer[0].ignorecase")).toMatchObject({
      at: "suite.yaml:4:33",
      hint: 'did you mean "ignoreCase"? (allowed keys here: type, not, name, value, trim, ignoreCase)',
    });
    expect(problemAt(problems, "scorer[1].threshold").message).toBe("expected a number <= 1, received 1.5");
    expect(problemAt(problems, "scorer[2].tolerance").hint).toBe('write 1e-6, not "1e-6"');
    expect(problemAt(problems, "scorer[3].pattern").hint).toBe("allowed keys here: type, not, name, value");
    expect(problems).toHaveLength(5);
  });

  test("regex needs a pattern that compiles, and valid flags", async () => {
    const problems = await problemsOf(
      lines(
        ...HEAD,
        "scorer:",
        "  - regex",
        "  - { type: regex }",
        "  - { type: regex, pattern: '(' }",
        "  - { type: regex, pattern: a, flags: zz }",
      ),
    );
    expect(problemAt(problems, "scorer[0]")).toMatchObject({
      at: "suite.yaml:4:5",
      message: 'scorer "regex" needs `pattern`',
      hint: "write it as an object: { type: regex, pattern: … }",
    });
    expect(problemAt(problems, "scorer[1].pattern")).toMatchObject({
      at: "suite.yaml:5:5",
      message: 'missing required key "pattern" (a string)',
    });
    expect(problemAt(problems, "scorer[2].pattern")).toMatchObject({
      at: "suite.yaml:6:29",
      message: expect.stringMatching(/^pattern does not compile: .*Unterminated group/),
      hint: expect.stringContaining("single-quote"),
    });
    expect(problemAt(problems, "scorer[3].flags").message).toBe(
      'expected regular expression flags (any of d g i m s u v y), received "zz"',
    );
  });

  test("js needs an existing .js module; choice needs distinct letters", async () => {
    const problems = await problemsOf(
      lines(
        ...HEAD,
        "scorer:",
        "  - { type: js, path: scorers/sme.js }",
        "  - { type: js, path: scorers/same.ts }",
        "  - { type: js }",
        "  - { type: choice, choices: AAB }",
      ),
    );
    expect(problemAt(problems, "scorer[0].path")).toMatchObject({
      at: "suite.yaml:4:23",
      message: `scorer module not found: "scorers/sme.js" (no file at ${path.join(BASIC, "scorers/sme.js")})`,
      hint: 'did you mean "scorers/same.js"?',
    });
    expect(problemAt(problems, "scorer[1].path").message).toBe(
      'expected a .js, .mjs or .cjs module, received "scorers/same.ts"',
    );
    expect(problemAt(problems, "scorer[2].path").message).toBe('missing required key "path" (a string)');
    expect(problemAt(problems, "scorer[3].choices").message).toBe(
      'expected distinct option letters, received "AAB"',
    );
  });

  test("an entry of the wrong shape, and an object without a type", async () => {
    const problems = await problemsOf(lines(...HEAD, "scorer: [7, { trim: true }]"));
    expect(problemAt(problems, "scorer[0]").message).toBe("expected a string or an object, received 7");
    expect(problemAt(problems, "scorer[1].type")).toMatchObject({
      message: 'missing required key "type" (a string)',
      hint: "add `type: …` naming the scorer, e.g. `type: exact`",
    });
  });
});
