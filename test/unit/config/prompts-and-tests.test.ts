import path from "node:path";
import { describe, expect, test } from "vitest";
import { BASIC, lines, load, problemAt, problemsOf, TESTS } from "./helpers.js";

describe("prompts", () => {
  test("ids default to the template's basename, or prompt-<n> for inline text", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - templates/zero-shot.hbs",
        "  - text: 'Q: {{question}}'",
        "  - { id: mine, text: hi }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.id)).toEqual(["zero-shot", "prompt-2", "mine"]);
    expect(suite.prompts[1]).toEqual({
      id: "prompt-2",
      baseId: "prompt-2",
      samples: 1,
      template: "Q: {{question}}",
    });
  });

  test("a missing template is template-not-found at the template field, with a near-miss suggestion", async () => {
    const problems = await problemsOf(
      lines("prompts:", "  - id: a", "    template: templates/zeroshot.hbs", "  - templates/none.hbs", TESTS),
    );
    expect(problems).toEqual([
      {
        code: "template-not-found",
        at: "suite.yaml:3:15",
        field: "prompts[0].template",
        message: `template not found: "templates/zeroshot.hbs" (no file at ${path.join(BASIC, "templates/zeroshot.hbs")})`,
        hint: 'did you mean "templates/zero-shot.hbs"?',
      },
      expect.objectContaining({
        code: "template-not-found",
        at: "suite.yaml:4:5",
        field: "prompts[1]",
        hint: `paths are relative to the config's directory, ${BASIC}`,
      }),
    ]);
  });

  test("a template path naming a directory is reported as such", async () => {
    const problems = await problemsOf(lines("prompts: [templates/partials]", TESTS));
    expect(problemAt(problems, "prompts[0]").message).toBe(
      'expected a template file, received the directory "templates/partials"',
    );
  });

  test("a template written where a path belongs is pointed to `text:`", async () => {
    const problems = await problemsOf(lines("prompts:", "  - 'Answer: {{question}}'", TESTS));
    expect(problemAt(problems, "prompts[0]")).toMatchObject({
      code: "template-not-found",
      message: 'expected a template file path, received "Answer: {{question}}"',
      hint: expect.stringContaining("- text: …"),
    });
    const keyed = await problemsOf(lines("prompts:", "  - id: a", "    template: 'Q: {{question}}'", TESTS));
    expect(problemAt(keyed, "prompts[0].template")).toMatchObject({
      code: "template-not-found",
      message: 'expected a template file path, received "Q: {{question}}"',
      hint: "to write the template inline, use `text:` instead of `template:`",
    });
  });

  test("exactly one of template and text", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: both",
        "    template: templates/cot.hbs",
        "    text: hi",
        "  - id: neither",
        "  - { text: '' }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].text")).toMatchObject({
      at: "suite.yaml:4:5",
      message: "a prompt takes either `template` (a file) or `text` (inline), not both",
      hint: "keep one of them",
    });
    expect(problemAt(problems, "prompts[1]")).toMatchObject({
      at: "suite.yaml:5:5",
      message: "expected `template` (a file) or `text` (an inline template), received neither",
    });
    expect(problemAt(problems, "prompts[2].text").message).toBe('expected a non-empty string, received ""');
    expect(problems).toHaveLength(3);
  });

  test("prompt ids are unique and non-empty", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - templates/cot.hbs",
        "  - { id: cot, text: again }",
        "  - { id: x, text: a }",
        "  - { id: x, text: b }",
        "  - { id: '', text: c }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[1].id")).toMatchObject({
      at: "suite.yaml:3:11",
      message: 'duplicate prompt id "cot" (prompts[0] has it too)',
      hint: "give each prompt a different id",
    });
    expect(problemAt(problems, "prompts[3].id").message).toBe(
      'duplicate prompt id "x" (prompts[2] has it too)',
    );
    expect(problemAt(problems, "prompts[4].id").message).toBe('expected a non-empty string, received ""');
    expect(problems).toHaveLength(3);
  });

  test("templates with the same basename in different folders need an id", async () => {
    const problems = await problemsOf(
      lines("prompts: [templates/cot.hbs, templates/partials/../cot.hbs]", TESTS),
    );
    expect(problemAt(problems, "prompts[1]")).toMatchObject({
      message: 'duplicate prompt id "cot" (prompts[0] has it too)',
      hint: "add an `id:` to tell them apart",
    });
  });
});

describe("shots", () => {
  test("from resolves against the config; builtin: sources are kept as written", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - { id: a, text: x, shots: { from: fixtures/train.jsonl, k: 2 } }",
        "  - { id: b, text: x, shots: { from: 'builtin:gsm8k-cot', k: 0 } }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.shots)).toEqual([
      expect.objectContaining({ from: path.join(BASIC, "fixtures/train.jsonl"), k: 2 }),
      expect.objectContaining({ from: "builtin:gsm8k-cot", k: 0 }),
    ]);
  });

  test("a missing examples file, a bad extension and a negative k are each located", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: a",
        "    text: x",
        "    shots:",
        "      from: fixtures/trian.jsonl",
        "      k: -1",
        "  - { id: b, text: x, shots: { from: examples.txt, k: 1 } }",
        TESTS,
      ),
    );
    // The first problem also stands for the whole bundle, so it carries the bundle's code.
    expect(problemAt(problems, "prompts[0].shots.from")).toMatchObject({
      code: "config-invalid",
      at: "suite.yaml:5:13",
      hint: 'did you mean "fixtures/train.jsonl"?',
    });
    expect(problemAt(problems, "prompts[0].shots.k")).toMatchObject({
      at: "suite.yaml:6:10",
      message: "expected a number >= 0, received -1",
    });
    expect(problemAt(problems, "prompts[1].shots.from").message).toBe(
      'expected a dataset file (.jsonl .ndjson .json .csv .yaml .yml), received "examples.txt"',
    );
    expect(problems).toHaveLength(3);
  });

  test("a missing examples file alone is dataset-not-found", async () => {
    const problems = await problemsOf(
      lines("prompts: [{ id: a, text: x, shots: { from: fixtures/none.jsonl, k: 1 } }]", TESTS),
    );
    expect(problems.map((problem) => [problem.code, problem.field])).toEqual([
      ["dataset-not-found", "prompts[0].shots.from"],
    ]);
  });
});

describe("tests", () => {
  test("a string is the path; the object form sets the expected field", async () => {
    expect((await load(lines("prompts: [templates/cot.hbs]", "tests: fixtures/test.jsonl"))).tests).toEqual({
      path: path.join(BASIC, "fixtures/test.jsonl"),
      expected: "expected",
    });
    const suite = await load(
      lines("prompts: [templates/cot.hbs]", "tests: { path: fixtures/test.jsonl, expected: answer }"),
    );
    expect(suite.tests.expected).toBe("answer");
  });

  test("a missing dataset is located at the path, with a hint", async () => {
    const problems = await problemsOf(
      lines("prompts: [templates/cot.hbs]", "tests:", "  path: data/test.jsonl"),
    );
    expect(problems).toEqual([
      {
        code: "dataset-not-found",
        at: "suite.yaml:3:9",
        field: "tests.path",
        message: `dataset not found: "data/test.jsonl" (no file at ${path.join(BASIC, "data/test.jsonl")})`,
        hint: `paths are relative to the config's directory, ${BASIC}`,
      },
    ]);
  });

  test("only dataset extensions are accepted", async () => {
    const problems = await problemsOf(lines("prompts: [templates/cot.hbs]", "tests: templates/cot.hbs"));
    expect(problemAt(problems, "tests")).toMatchObject({
      at: "suite.yaml:2:8",
      message: 'expected a dataset file (.jsonl .ndjson .json .csv .yaml .yml), received "templates/cot.hbs"',
    });
  });
});
