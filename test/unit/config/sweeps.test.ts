import path from "node:path";
import { describe, expect, test } from "vitest";
import { DEFAULT_COT_TRIGGER, MAX_PROMPT_VARIANTS } from "../../../src/config/index.js";
import {
  BASIC,
  K_BY_SELECT_IDS,
  lines,
  load,
  problemAt,
  problemsOf,
  SHOT_DEFAULTS,
  TESTS,
  TRAIN,
} from "./helpers.js";

describe("sweeps expand a prompt into one variant per combination", () => {
  test("k: [0,1,2,4,8] × select: [first, similar] gives 10 variants, named in order", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - id: p",
        "    text: '{{question}}'",
        "    shots: { from: fixtures/train.jsonl, k: [0, 1, 2, 4, 8], select: [first, similar] }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.id)).toEqual(K_BY_SELECT_IDS);
    const variant = suite.prompts[7];
    expect(variant.baseId).toBe("p");
    expect(variant.sweep).toEqual({ k: 4, select: "similar" });
    expect(variant.shots).toEqual({ ...SHOT_DEFAULTS, from: TRAIN, k: 4, select: "similar" });
  });

  test("the axes follow the order the fields are written in, not a fixed order", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - id: p",
        "    samples: [1, 3]",
        "    shots:",
        "      select: [random, similar]",
        "      from: fixtures/train.jsonl",
        "      k: [2]",
        "    text: x",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.id)).toEqual([
      "p@samples=1,select=random,k=2",
      "p@samples=1,select=similar,k=2",
      "p@samples=3,select=random,k=2",
      "p@samples=3,select=similar,k=2",
    ]);
    expect(suite.prompts.map((prompt) => prompt.samples)).toEqual([1, 1, 3, 3]);
  });

  test("a list of one value is still a sweep; a prompt with no list keeps its id and has no sweep", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - { id: one, text: x, samples: [5] }",
        "  - { id: plain, text: x, samples: 5 }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => [prompt.id, prompt.baseId, prompt.sweep, prompt.samples])).toEqual([
      ["one@samples=5", "one", { samples: 5 }, 5],
      ["plain", "plain", undefined, 5],
    ]);
    expect("sweep" in suite.prompts[1]).toBe(false);
  });

  test("cot: [false, true] gives a variant without a trigger and one with the default trigger", async () => {
    const suite = await load(
      lines("prompts:", "  - { id: p, text: x, cot: [false, true, 'Think it through.'] }", TESTS),
    );
    expect(suite.prompts.map((prompt) => [prompt.id, prompt.cot, prompt.sweep])).toEqual([
      ["p@cot=false", undefined, { cot: false }],
      ["p@cot=true", DEFAULT_COT_TRIGGER, { cot: true }],
      ["p@cot=Think it through.", "Think it through.", { cot: "Think it through." }],
    ]);
  });

  test("a template list names variants by file name without extension; the id defaults to prompt-<n>", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - template: [templates/zero-shot.hbs, templates/cot.hbs]",
        "    cot: [false, true]",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.id)).toEqual([
      "prompt-1@template=zero-shot,cot=false",
      "prompt-1@template=zero-shot,cot=true",
      "prompt-1@template=cot,cot=false",
      "prompt-1@template=cot,cot=true",
    ]);
    expect(suite.prompts[2]).toMatchObject({
      baseId: "prompt-1",
      sweep: { template: "cot", cot: false },
      templatePath: path.join(BASIC, "templates/cot.hbs"),
      template: expect.stringContaining("step by step"),
    });
    expect(suite.prompts[0].template).toBe("Q: {{question}}\nA:");
  });

  test("shots.from lists name variants by the file's name, builtin pools as written", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots: { from: [fixtures/train.jsonl, 'builtin:gsm8k-cot'], k: 2 }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => [prompt.id, prompt.sweep, prompt.shots?.from])).toEqual([
      ["p@from=train.jsonl", { from: "train.jsonl" }, TRAIN],
      ["p@from=builtin:gsm8k-cot", { from: "builtin:gsm8k-cot" }, "builtin:gsm8k-cot"],
    ]);
  });

  test("shots.k and context.k swept together are told apart by their whole field", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots: { from: fixtures/train.jsonl, k: [1, 2] }",
        "    context: { corpus: docs, k: [3] }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.id)).toEqual([
      "p@shots.k=1,context.k=3",
      "p@shots.k=2,context.k=3",
    ]);
    expect(suite.prompts[1].sweep).toEqual({ "shots.k": 2, "context.k": 3 });
    expect(suite.prompts[1].context).toEqual({ corpus: path.join(BASIC, "docs"), k: 3, field: "question" });
  });

  test("draws stay on variants that choose at random and drop to 1 on the others", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots: { from: fixtures/train.jsonl, k: 1, select: [first, random], draws: 5 }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => [prompt.id, prompt.shots?.draws])).toEqual([
      ["p@select=first", 1],
      ["p@select=random", 5],
    ]);
  });

  test("every non-swept setting is shared by all variants", async () => {
    const suite = await load(
      lines(
        "seed: 9",
        "prompts:",
        "  - id: p",
        "    text: x",
        "    params: { temperature: 0.7 }",
        "    extract: { text: 'Answer: {{output}}' }",
        "    shots: { from: fixtures/train.jsonl, k: [1, 2], field: q, maxTokens: 100 }",
        TESTS,
      ),
    );
    for (const prompt of suite.prompts) {
      expect(prompt.params).toEqual({ temperature: 0.7 });
      expect(prompt.extract).toEqual({ template: "Answer: {{output}}" });
      expect(prompt.shots).toMatchObject({ seed: 9, field: "q", maxTokens: 100 });
    }
    // Each variant has its own objects, so a consumer changing one does not change the others.
    expect(suite.prompts[0].params).not.toBe(suite.prompts[1].params);
  });
});

describe("problems in sweeps", () => {
  test("a bad value inside a list is located at that element", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots:",
        "      from: fixtures/train.jsonl",
        "      k: [0, 1, -1]",
        "      select: [first, similer]",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].shots.k[2]")).toEqual({
      code: "config-invalid",
      at: "suite.yaml:6:17",
      field: "prompts[0].shots.k[2]",
      message: "expected a number >= 0, received -1",
      hint: "use a number >= 0",
    });
    expect(problemAt(problems, "prompts[0].shots.select[1]")).toMatchObject({
      at: "suite.yaml:7:23",
      message: 'expected "first", "random", "balanced", "similar" or "embedding", received "similer"',
      hint: 'did you mean "similar"?',
    });
    expect(problems).toHaveLength(2);
  });

  test("type mismatches and missing files inside lists point at the element too", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: p",
        "    template: [templates/cot.hbs, templates/zeroshot.hbs]",
        "    samples: [1, '5']",
        "    cot: [true, 3]",
        TESTS,
      ),
    );
    // The first problem carries the bundle's code (config-invalid, as the codes differ).
    expect(problemAt(problems, "prompts[0].template[1]")).toMatchObject({
      at: "suite.yaml:3:35",
      message: expect.stringContaining('template not found: "templates/zeroshot.hbs"'),
      hint: 'did you mean "templates/zero-shot.hbs"?',
    });
    expect(problemAt(problems, "prompts[0].samples[1]")).toMatchObject({
      at: "suite.yaml:4:18",
      message: 'expected a number, received "5"',
      hint: 'write 5, not "5"',
    });
    expect(problemAt(problems, "prompts[0].cot[1]")).toMatchObject({
      at: "suite.yaml:5:17",
      message: "expected true, false or the trigger text, received 3",
    });
    expect(problems).toHaveLength(3);
  });

  test("an empty list is a problem with an example of a sweep", async () => {
    const problems = await problemsOf(
      lines("prompts:", "  - { id: p, text: x, shots: { from: fixtures/train.jsonl, k: [] } }", TESTS),
    );
    expect(problems).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:2:63",
        field: "prompts[0].shots.k",
        message: "expected at least one value to sweep over, received an empty list",
        hint: "list the values to compare, e.g. k: [0, 4, 8], or write one value without brackets",
      },
    ]);
  });

  test("a field that cannot be swept says so", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: [a, b]",
        "    text: x",
        "    shots: { from: fixtures/train.jsonl, k: 1, field: [q, a] }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].id")).toMatchObject({
      message: "expected one value, received a list: `id` cannot be swept",
      hint: expect.stringContaining("template, cot, samples, shots.from, shots.k"),
    });
    expect(problemAt(problems, "prompts[0].shots.field").at).toBe("suite.yaml:4:55");
    expect(problems).toHaveLength(2);
  });

  test("a value listed twice would repeat a variant id", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: p",
        "    template: [templates/cot.hbs, templates/partials/../cot.hbs]",
        "    samples: [1, 2, 1]",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].samples[2]")).toMatchObject({
      at: "suite.yaml:4:21",
      message:
        "duplicate sweep value samples=1 (prompts[0].samples[0] has it too): two variants would share an id",
      hint: "list each value once",
    });
    expect(problemAt(problems, "prompts[0].template[1]")).toMatchObject({
      message:
        "duplicate sweep value template=cot (prompts[0].template[0] has it too): two variants would share an id",
      hint: expect.stringContaining("by its file name"),
    });
    expect(problems).toHaveLength(2);
  });

  test("variant ids must be unique across the suite", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - { id: p, text: x, samples: [1, 2] }",
        "  - { id: 'p@samples=2', text: y }",
        TESTS,
      ),
    );
    expect(problems).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:3:11",
        field: "prompts[1].id",
        message: 'duplicate prompt variant id "p@samples=2" (prompts[0] gives it too)',
        hint: "give the prompts ids that differ before the `@`",
      },
    ]);
  });

  test(`at most ${MAX_PROMPT_VARIANTS} variants in all`, async () => {
    const hundred = `[${Array.from({ length: 100 }, (_, i) => i).join(", ")}]`;
    const shots = (k: string) =>
      `shots: { from: fixtures/train.jsonl, k: ${k}, select: [first, random, similar, balanced, embedding] }`;
    // 100 × 5 × 2 = 1000: exactly the limit.
    // select: embedding takes its endpoint from an openai: provider (last, so line numbers hold).
    const provider = "providers: [openai:gpt-4o-mini]";
    const atLimit = await load(
      lines("prompts:", `  - { id: a, text: x, samples: [1, 2], ${shots(hundred)} }`, TESTS, provider),
    );
    expect(atLimit.prompts).toHaveLength(MAX_PROMPT_VARIANTS);
    expect(new Set(atLimit.prompts.map((prompt) => prompt.id)).size).toBe(MAX_PROMPT_VARIANTS);

    const problems = await problemsOf(
      lines(
        "prompts:",
        `  - { id: a, text: x, samples: [1, 2], ${shots(hundred)} }`,
        "  - { id: b, text: y }",
        TESTS,
        provider,
      ),
    );
    expect(problems).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:2:3",
        field: "prompts",
        message: `the prompts expand to 1001 variants, more than the limit of ${MAX_PROMPT_VARIANTS}`,
        hint: "prompts[0] alone gives 1000 (2 samples × 100 shots.k × 5 shots.select): shorten the swept lists, or split the comparison into several configs",
      },
    ]);
  });

  test("a huge sweep is refused without being built", async () => {
    const list = `[${Array.from({ length: 60 }, (_, i) => i + 1).join(", ")}]`;
    const problems = await problemsOf(
      lines(
        "prompts:",
        `  - { id: a, text: x, samples: ${list}, context: { corpus: docs, k: ${list} }, shots: { from: fixtures/train.jsonl, k: ${list} } }`,
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts").message).toBe(
      `the prompts expand to 216000 variants, more than the limit of ${MAX_PROMPT_VARIANTS}`,
    );
  });
});
