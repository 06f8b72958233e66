import { describe, expect, test } from "vitest";
import { parseConfig } from "../../../src/config/index.js";
import { formatUserError } from "../../../src/errors.js";
import { BASIC, lines, problemAt, problemsOf, userErrorOf } from "./helpers.js";

describe("syntax", () => {
  test("a YAML syntax error is config-syntax at its line and column", async () => {
    const error = await userErrorOf(
      parseConfig(lines("prompts: [a.hbs", "tests: x.jsonl"), { file: "suite.yaml", baseDir: BASIC }),
    );
    expect(error.code).toBe("config-syntax");
    expect(error.location).toEqual({ file: "suite.yaml", line: 2, column: 1 });
    expect(error.hint).toBeTruthy();
  });

  test("a duplicate key is a syntax error with its own hint", async () => {
    const error = await userErrorOf(
      parseConfig(lines("tests: a.jsonl", "prompts: [a.hbs]", "tests: b.jsonl"), {
        file: "s.yaml",
        baseDir: BASIC,
      }),
    );
    expect(error.code).toBe("config-syntax");
    expect(error.location).toEqual({ file: "s.yaml", line: 3, column: 1 });
    expect(error.message).toBe("Map keys must be unique");
    expect(error.hint).toContain("remove or rename");
  });

  test("a JSON syntax error is located too", async () => {
    const error = await userErrorOf(
      parseConfig('{\n  "prompts": ["a.hbs"],\n  "tests": "x.jsonl",,\n}\n', {
        file: "s.json",
        baseDir: BASIC,
      }),
    );
    expect(error.code).toBe("config-syntax");
    expect(error.location?.line).toBe(3);
    expect(error.hint).toContain("stray character");
  });

  test("an unquoted value holding a colon gets a hint to quote it", async () => {
    const error = await userErrorOf(
      parseConfig(lines("prompts: [a.hbs]", "tests: a.jsonl", "providers:", "  - id: openai:"), {
        file: "s.yaml",
        baseDir: BASIC,
      }),
    );
    expect(error.code).toBe("config-syntax");
    expect(error.location?.line).toBe(4);
    expect(error.hint).toBe(
      'quote a value that contains ": " or ends with ":", e.g. id: "openai:gpt-4o-mini"',
    );
  });

  test("anchors and merge keys work, and CRLF line endings keep positions right", async () => {
    const yaml = [
      "prompts: [templates/cot.hbs]",
      "tests: fixtures/test.jsonl",
      "providers:",
      "  - { id: 'openai:a', params: &shared { temperature: 0, seed: 1 } }",
      "  - { id: 'openai:b', params: { <<: *shared, seed: 2 } }",
      "  - { id: 'openai:c', maxRetries: '2' }",
      "",
    ].join("\r\n");
    const problems = await problemsOf(yaml);
    expect(problems.map((problem) => [problem.at, problem.field])).toEqual([
      ["suite.yaml:6:35", "providers[2].maxRetries"],
    ]);
    const suite = await parseConfig(yaml.replace("'2'", "2"), { file: "s.yaml", baseDir: BASIC });
    expect(suite.providers[1].params).toEqual({ temperature: 0, seed: 2 });
  });

  test("an empty file and a non-object are config-invalid", async () => {
    const empty = await userErrorOf(parseConfig("# nothing\n", { file: "s.yaml", baseDir: BASIC }));
    expect([empty.code, empty.message]).toEqual(["config-invalid", "the config is empty"]);
    const list = await problemsOf("- a\n- b\n");
    expect(list).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:1:1",
        field: undefined,
        message: "expected an object, received a list",
        hint: "a config is a mapping with keys such as `prompts:` and `tests:`",
      },
    ]);
  });
});

describe("type mismatches say what was expected and what was received", () => {
  test('k: "8" is `expected a number, received "8"` with the hint `write 8, not "8"`', async () => {
    const yaml = lines(
      "prompts:",
      "  - templates/zero-shot.hbs",
      "  - id: cot",
      "    template: templates/cot.hbs",
      "    shots:",
      "      from: fixtures/train.jsonl",
      '      k: "8"',
      "tests: fixtures/test.jsonl",
    );
    const error = await userErrorOf(parseConfig(yaml, { file: "suite.yaml", baseDir: BASIC }));
    expect(formatUserError(error)).toBe(
      'suite.yaml:7:10 prompts[1].shots.k: expected a number, received "8"\n  hint: write 8, not "8"',
    );
    expect(error.code).toBe("config-invalid");
  });

  test("whole numbers, booleans, strings, empty values and missing keys", async () => {
    const problems = await problemsOf(
      lines(
        "description: 42",
        "prompts:",
        "  - id: a",
        "    template: templates/cot.hbs",
        "    shots: { from: fixtures/train.jsonl, k: 1.5 }",
        "  - id: b",
        "    template: templates/cot.hbs",
        "    shots: { from: fixtures/train.jsonl }",
        "providers:",
        "  - id: echo",
        '    completions: "yes"',
        "    maxRetries: -1",
        "tests:",
      ),
    );
    expect(problemAt(problems, "description")).toMatchObject({
      at: "suite.yaml:1:14",
      message: "expected a string, received 42",
      hint: 'quote it to make it a string: "42"',
    });
    expect(problemAt(problems, "prompts[0].shots.k")).toMatchObject({
      at: "suite.yaml:5:45",
      message: "expected a whole number, received 1.5",
      hint: "use a whole number, e.g. 2",
    });
    // A missing key points at the object that lacks it.
    expect(problemAt(problems, "prompts[1].shots.k")).toMatchObject({
      at: "suite.yaml:8:12",
      message: 'missing required key "k" (a number)',
      hint: "add `k: <number of examples>`",
    });
    expect(problemAt(problems, "providers[0].completions")).toMatchObject({
      at: "suite.yaml:11:18",
      message: 'expected true or false, received "yes"',
      hint: 'write true, not "yes"',
    });
    expect(problemAt(problems, "providers[0].maxRetries")).toMatchObject({
      at: "suite.yaml:12:17",
      message: "expected a number >= 0, received -1",
    });
    expect(problemAt(problems, "tests")).toMatchObject({
      message: "expected a string or an object, received an empty value",
      hint: "give it a value, or remove the key",
    });
    expect(problems).toHaveLength(6);
  });

  test("missing required top-level keys are named, with how to add them", async () => {
    const problems = await problemsOf("description: nothing else\n");
    expect(problemAt(problems, "prompts")).toMatchObject({
      at: "suite.yaml:1:1",
      message: 'missing required key "prompts" (a list)',
    });
    expect(problemAt(problems, "tests")).toMatchObject({
      message: 'missing required key "tests" (a string or an object)',
      hint: "add `tests: path/to/cases.jsonl`",
    });
  });

  test("an empty prompts list and a value of none of the accepted kinds", async () => {
    const problems = await problemsOf(lines("prompts: []", "tests: fixtures/test.jsonl", "scorer: 5"));
    expect(problemAt(problems, "prompts")).toMatchObject({
      at: "suite.yaml:1:10",
      message: "expected at least 1 item, received an empty list",
    });
    expect(problemAt(problems, "scorer")).toMatchObject({
      at: "suite.yaml:3:9",
      message: "expected a string, an object or a list, received 5",
      hint: expect.stringContaining("scorer type"),
    });
  });
});

describe("unknown keys", () => {
  test("point at the key, with a did-you-mean from the keys allowed there", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: a",
        "    templat: templates/cot.hbs",
        "tests: { path: fixtures/test.jsonl, expect: answer }",
        "provider: [echo]",
      ),
    );
    expect(problemAt(problems, "prompts[0].templat")).toEqual({
      code: "config-invalid",
      at: "suite.yaml:3:5",
      field: "prompts[0].templat",
      message: 'unknown key "templat"',
      hint: 'did you mean "template"? (allowed keys here: id, template, text, shots, cot, extract, samples, params, context, thresholds)',
    });
    expect(problemAt(problems, "tests.expect")).toMatchObject({
      at: "suite.yaml:4:37",
      hint: 'did you mean "expected"? (allowed keys here: path, expected)',
    });
    expect(problemAt(problems, "provider")).toMatchObject({
      at: "suite.yaml:5:1",
      hint: 'did you mean "providers"? (allowed keys here: description, providers, prompts, tests, scorer, seed, cache, runsDir, keepRuns, baseline, baselineProvider, alpha, midP, bootstrap, onError, thresholds, repeat, require, combine)',
    });
    // The misspelled `templat` leaves the prompt with neither template nor text.
    expect(problemAt(problems, "prompts[0]").message).toContain("received neither");
    expect(problems).toHaveLength(4);
  });

  test("keys from other tools get the key this format uses, and unrelated keys get the allowed list", async () => {
    const problems = await problemsOf(
      lines(
        "prompts: [templates/cot.hbs]",
        "dataset: fixtures/test.jsonl",
        "tests: fixtures/test.jsonl",
        "zzz: 1",
      ),
    );
    expect(problemAt(problems, "dataset").hint).toMatch(/^did you mean "tests"\?/);
    expect(problemAt(problems, "zzz").hint).toBe(
      "allowed keys here: description, providers, prompts, tests, scorer, seed, cache, runsDir, keepRuns, baseline, baselineProvider, alpha, midP, bootstrap, onError, thresholds, repeat, require, combine",
    );
  });
});

describe("several problems from one file", () => {
  test("three mistakes give three problems in one config-invalid error, in file order", async () => {
    const yaml = lines(
      "providers: [echo]",
      "prompts:",
      "  - id: cot",
      "    template: templates/cot.hbs",
      '    shots: { from: fixtures/train.jsonl, k: "8" }',
      "tests: fixtures/test.jsonl",
      "scorer: numerc",
      "temprature: 0",
    );
    const error = await userErrorOf(parseConfig(yaml, { file: "suite.yaml", baseDir: BASIC }));
    expect(error.code).toBe("config-invalid");
    expect(error.related).toHaveLength(2);
    expect(formatUserError(error)).toBe(
      [
        'suite.yaml:5:45 prompts[0].shots.k: expected a number, received "8"',
        '  hint: write 8, not "8"',
        'suite.yaml:7:9 scorer: unknown scorer type "numerc"',
        '  hint: did you mean "numeric"? known types: exact, normalized, contains, icontains, regex, numeric, choice, f1, js, starts-with, levenshtein, rouge-n, rouge-l, bleu, length, word-count, is-refusal, json, similar, judge, preference (and the promptfoo names equals, is-json, contains-json, javascript, llm-rubric; any with a not- prefix)',
        'suite.yaml:8:1 temprature: unknown key "temprature"',
        "  hint: allowed keys here: description, providers, prompts, tests, scorer, seed, cache, runsDir, keepRuns, baseline, baselineProvider, alpha, midP, bootstrap, onError, thresholds, repeat, require, combine",
      ].join("\n"),
    );
  });

  test("a schema problem in one part does not hide a missing file in another", async () => {
    const problems = await problemsOf(
      lines("prompts:", "  - id: 5", "    template: templates/nope.hbs", "tests: fixtures/missing.jsonl"),
    );
    expect(problems.map((problem) => [problem.code, problem.field])).toEqual([
      ["config-invalid", "prompts[0].id"],
      ["template-not-found", "prompts[0].template"],
      ["dataset-not-found", "tests"],
    ]);
  });
});
