import path from "node:path";
import { describe, expect, test } from "vitest";
import { BUILTIN_POOL_NAMES, DEFAULT_COT_TRIGGER } from "../../../src/config/index.js";
import { builtinPools } from "../../../src/fewshot/index.js";
import { BASIC, lines, load, problemAt, problemsOf, SHOT_DEFAULTS, TESTS, TRAIN } from "./helpers.js";

describe("suite settings", () => {
  test("a minimal config gets seed 1, the cache and runs directory beside the config, samples 1", async () => {
    const suite = await load(lines("prompts: [templates/zero-shot.hbs]", TESTS));
    expect(suite.seed).toBe(1);
    expect(suite.cache).toEqual({ enabled: true, path: path.join(BASIC, ".promptsmith/cache.db") });
    expect(suite.runsDir).toBe(path.join(BASIC, ".promptsmith/runs"));
    expect(suite.prompts).toEqual([
      {
        id: "zero-shot",
        baseId: "zero-shot",
        samples: 1,
        templatePath: path.join(BASIC, "templates/zero-shot.hbs"),
        template: "Q: {{question}}\nA:",
      },
    ]);
  });

  test("seed, cache and runsDir as written; paths relative to the config", async () => {
    const suite = await load(
      lines(
        "seed: 42",
        "cache: { path: tmp/c.db }",
        "runsDir: out/runs",
        "keepRuns: 3",
        "prompts: [{ id: p, text: x, shots: { from: fixtures/train.jsonl, k: 1 } }]",
        TESTS,
      ),
    );
    expect(suite.seed).toBe(42);
    expect(suite.cache).toEqual({ enabled: true, path: path.join(BASIC, "tmp/c.db") });
    expect(suite.runsDir).toBe(path.join(BASIC, "out/runs"));
    expect(suite.keepRuns).toBe(3);
    expect((await load(lines("prompts: [templates/cot.hbs]", TESTS))).keepRuns).toBe(10);
    // The shots seed defaults to the suite's.
    expect(suite.prompts[0].shots?.seed).toBe(42);
  });

  test("cache: false and cache: { enabled: false } turn the cache off and keep the default path", async () => {
    for (const cache of ["cache: false", "cache: { enabled: false }"]) {
      const suite = await load(lines(cache, "prompts: [templates/cot.hbs]", TESTS));
      expect(suite.cache, cache).toEqual({ enabled: false, path: path.join(BASIC, ".promptsmith/cache.db") });
    }
    expect((await load(lines("cache: true", "prompts: [templates/cot.hbs]", TESTS))).cache.enabled).toBe(
      true,
    );
  });

  test("bad settings are located, with hints", async () => {
    const problems = await problemsOf(
      lines(
        "seed: 1.5",
        "cache: { enabld: true, path: 3 }",
        "runsDir: ''",
        "keepRuns: 0",
        "prompts: [templates/cot.hbs]",
        TESTS,
      ),
    );
    expect(problemAt(problems, "seed")).toMatchObject({
      at: "suite.yaml:1:7",
      message: "expected a whole number, received 1.5",
      hint: "use a whole number, e.g. 2",
    });
    expect(problemAt(problems, "cache.enabld")).toMatchObject({
      at: "suite.yaml:2:10",
      message: 'unknown key "enabld"',
      hint: 'did you mean "enabled"? (allowed keys here: enabled, path)',
    });
    expect(problemAt(problems, "cache.path")).toMatchObject({
      at: "suite.yaml:2:30",
      message: "expected a string, received 3",
    });
    expect(problemAt(problems, "runsDir").message).toBe('expected a non-empty string, received ""');
    expect(problemAt(problems, "keepRuns")).toMatchObject({ at: "suite.yaml:4:11" });
    expect(problems).toHaveLength(5);

    const cache = await problemsOf(lines("cache: 'off'", "prompts: [templates/cot.hbs]", TESTS));
    expect(problemAt(cache, "cache")).toMatchObject({
      at: "suite.yaml:1:8",
      message: 'expected true or false or an object, received "off"',
    });
  });
});

describe("provider limits and prices", () => {
  test("rpm, tpm and price are kept", async () => {
    const suite = await load(
      lines(
        "prompts: [templates/cot.hbs]",
        TESTS,
        "providers:",
        "  - { id: 'openai:gpt-4o-mini', rpm: 500, tpm: 200000, price: { input: 0.15, output: 0.6 } }",
      ),
    );
    expect(suite.providers[0]).toEqual({
      id: "openai:gpt-4o-mini",
      label: "openai:gpt-4o-mini",
      params: {},
      rpm: 500,
      tpm: 200000,
      price: { input: 0.15, output: 0.6 },
    });
  });

  test("rates must be positive, prices non-negative, and price needs both keys", async () => {
    const problems = await problemsOf(
      lines(
        "prompts: [templates/cot.hbs]",
        TESTS,
        "providers:",
        "  - id: echo",
        "    rpm: 0",
        "    tpm: '100'",
        "    price: { input: -1, outpt: 2 }",
      ),
    );
    expect(problemAt(problems, "providers[0].rpm")).toMatchObject({
      at: "suite.yaml:5:10",
      message: "expected a number > 0, received 0",
      hint: "use a number > 0",
    });
    expect(problemAt(problems, "providers[0].tpm")).toMatchObject({ hint: 'write 100, not "100"' });
    expect(problemAt(problems, "providers[0].price.input")).toMatchObject({
      at: "suite.yaml:7:21",
      message: "expected a number >= 0, received -1",
    });
    expect(problemAt(problems, "providers[0].price.outpt").hint).toBe(
      'did you mean "output"? (allowed keys here: input, output)',
    );
    expect(problemAt(problems, "providers[0].price.output").message).toBe(
      'missing required key "output" (a number)',
    );
    expect(problems).toHaveLength(5);
  });
});

describe("shots", () => {
  test("defaults: select first, field question, label answer, as block, order as-is, draws 1", async () => {
    const suite = await load(
      lines("prompts: [{ id: p, text: x, shots: { from: fixtures/train.jsonl, k: 0 } }]", TESTS),
    );
    expect(suite.prompts[0].shots).toEqual({
      from: TRAIN,
      k: 0,
      ...SHOT_DEFAULTS,
    });
  });

  test("every setting as written", async () => {
    const suite = await load(
      lines(
        "seed: 3",
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots:",
        "      from: fixtures/train.jsonl",
        "      k: 8",
        "      select: random",
        "      seed: 11",
        "      field: q",
        "      label: a",
        "      as: turns",
        "      order: reverse",
        "      maxTokens: 3000",
        "      draws: 4",
        TESTS,
      ),
    );
    expect(suite.prompts[0].shots).toEqual({
      from: TRAIN,
      k: 8,
      select: "random",
      seed: 11,
      field: "q",
      label: "a",
      as: "turns",
      order: "reverse",
      maxTokens: 3000,
      draws: 4,
    });
  });

  test("the test set itself can be the pool: it resolves to the same path as tests", async () => {
    const suite = await load(
      lines("prompts: [{ id: p, text: x, shots: { from: ./fixtures/test.jsonl, k: 2 } }]", TESTS),
    );
    expect(suite.prompts[0].shots?.from).toBe(suite.tests.path);
  });

  test("bad settings are located, with hints", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots:",
        "      from: fixtures/train.jsonl",
        "      k: 2",
        "      select: similer",
        "      as: turn",
        "      order: shuffled",
        "      maxTokens: 0",
        "      draws: 0",
        "      seed: x",
        "      strategy: first",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].shots.select")).toMatchObject({
      at: "suite.yaml:7:15",
      hint: 'did you mean "similar"?',
    });
    expect(problemAt(problems, "prompts[0].shots.as")).toMatchObject({
      message: 'expected "block" or "turns", received "turn"',
      hint: 'did you mean "turns"?',
    });
    expect(problemAt(problems, "prompts[0].shots.order").message).toBe(
      'expected "as-is", "reverse" or "random", received "shuffled"',
    );
    expect(problemAt(problems, "prompts[0].shots.maxTokens")).toMatchObject({
      at: "suite.yaml:10:18",
      message: "expected a number > 0, received 0",
    });
    expect(problemAt(problems, "prompts[0].shots.draws").message).toBe("expected a number > 0, received 0");
    expect(problemAt(problems, "prompts[0].shots.seed").message).toBe('expected a number, received "x"');
    expect(problemAt(problems, "prompts[0].shots.strategy")).toMatchObject({
      at: "suite.yaml:13:7",
      hint: 'did you mean "select"? (allowed keys here: from, k, select, seed, field, label, as, order, maxTokens, draws, embedding, leak)',
    });
    expect(problems).toHaveLength(7);
  });

  test("draws > 1 with nothing random is a problem; with select or order random it is kept", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - { id: p, text: x, shots: { from: fixtures/train.jsonl, k: 2, draws: 3 } }",
        TESTS,
      ),
    );
    expect(problems).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:2:73",
        field: "prompts[0].shots.draws",
        message:
          "draws: 3 would repeat the same shots: nothing random is chosen (select: first, order: as-is)",
        hint: "draws re-runs random choices with other seeds: add select: random or order: random, or remove draws",
      },
    ]);
    const suite = await load(
      lines(
        "prompts:",
        "  - { id: a, text: x, shots: { from: fixtures/train.jsonl, k: 2, draws: 3, select: random } }",
        "  - { id: b, text: x, shots: { from: fixtures/train.jsonl, k: 2, draws: 3, order: random } }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.shots?.draws)).toEqual([3, 3]);
  });

  test("builtin pools by name; an unknown one lists the known ones", async () => {
    const suite = await load(
      lines("prompts: [{ id: p, text: x, shots: { from: 'builtin:gsm8k-cot', k: 8 } }]", TESTS),
    );
    expect(suite.prompts[0].shots?.from).toBe("builtin:gsm8k-cot");
    const problems = await problemsOf(
      lines("prompts: [{ id: p, text: x, shots: { from: 'builtin:gsm8k-cto', k: 8 } }]", TESTS),
    );
    expect(problems).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:1:44",
        field: "prompts[0].shots.from",
        message: 'unknown builtin example pool "builtin:gsm8k-cto"',
        hint: 'did you mean "builtin:gsm8k-cot"? builtin pools: builtin:gsm8k-cot',
      },
    ]);
    const other = await problemsOf(
      lines("prompts: [{ id: p, text: x, shots: { from: 'builtin:mmlu', k: 8 } }]", TESTS),
    );
    expect(problemAt(other, "prompts[0].shots.from").hint).toBe("builtin pools: builtin:gsm8k-cot");
  });

  test("the builtin pool names match the pools the fewshot room ships", () => {
    expect([...BUILTIN_POOL_NAMES].sort()).toEqual(Object.keys(builtinPools).sort());
  });
});

describe("cot, samples and params", () => {
  test("cot: true is the default trigger, a string is its own trigger, false or absent is none", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - { id: a, text: x, cot: true }",
        "  - { id: b, text: x, cot: 'Reason step by step, then answer.' }",
        "  - { id: c, text: x, cot: false }",
        "  - { id: d, text: x }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.cot)).toEqual([
      DEFAULT_COT_TRIGGER,
      "Reason step by step, then answer.",
      undefined,
      undefined,
    ]);
    expect(DEFAULT_COT_TRIGGER).toBe("Let's think step by step.");
    expect("cot" in suite.prompts[2]).toBe(false);
  });

  test("samples and params as written; params get the providers' checks", async () => {
    const suite = await load(
      lines("prompts:", "  - { id: a, text: x, samples: 5, params: { temperature: 0.7, top_k: 40 } }", TESTS),
    );
    expect(suite.prompts[0]).toMatchObject({ samples: 5, params: { temperature: 0.7, top_k: 40 } });
    expect("params" in (await load(lines("prompts: [{ id: a, text: x }]", TESTS))).prompts[0]).toBe(false);
  });

  test("bad cot, samples and params are located", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: a",
        "    text: x",
        "    cot: ''",
        "    samples: 0",
        "    params: { temperature: -1, presense_penalty: 1 }",
        "  - { id: b, text: x, cot: yes please, samples: 1.5 }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].cot")).toMatchObject({
      at: "suite.yaml:4:10",
      message: 'expected true, false or the trigger text, received ""',
      hint: 'write cot: true for "Let\'s think step by step.", or your own trigger in quotes',
    });
    expect(problemAt(problems, "prompts[0].samples")).toMatchObject({
      at: "suite.yaml:5:14",
      message: "expected a number > 0, received 0",
    });
    expect(problemAt(problems, "prompts[0].params.temperature")).toMatchObject({
      at: "suite.yaml:6:28",
      message: "expected a number >= 0, received -1",
    });
    expect(problemAt(problems, "prompts[0].params.presense_penalty")).toMatchObject({
      at: "suite.yaml:6:32",
      hint: 'did you mean "presence_penalty"? (params are sent to the endpoint as written)',
    });
    expect(problemAt(problems, "prompts[1].samples")).toMatchObject({
      message: "expected a whole number, received 1.5",
    });
    expect(problems).toHaveLength(5);
  });
});

describe("extract", () => {
  test("a template file is read; inline text is kept", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - { id: a, text: x, extract: { template: templates/extract.hbs } }",
        "  - { id: b, text: x, extract: { text: 'Final answer only: {{output}}' } }",
        TESTS,
      ),
    );
    expect(suite.prompts[0].extract).toEqual({
      templatePath: path.join(BASIC, "templates/extract.hbs"),
      template: "Given this reasoning:\n{{output}}\nThe final answer, as a number only:\n",
    });
    expect(suite.prompts[1].extract).toEqual({ template: "Final answer only: {{output}}" });
  });

  test("a missing extract template is template-not-found, located, with a near-miss", async () => {
    const problems = await problemsOf(
      lines("prompts:", "  - id: a", "    text: x", "    extract: { template: templates/extrct.hbs }", TESTS),
    );
    expect(problems).toEqual([
      {
        code: "template-not-found",
        at: "suite.yaml:4:26",
        field: "prompts[0].extract.template",
        message: `template not found: "templates/extrct.hbs" (no file at ${path.join(BASIC, "templates/extrct.hbs")})`,
        hint: 'did you mean "templates/extract.hbs"?',
      },
    ]);
  });

  test("exactly one of template and text", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - { id: a, text: x, extract: { template: templates/extract.hbs, text: y } }",
        "  - { id: b, text: x, extract: {} }",
        "  - { id: c, text: x, extract: { txt: y } }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].extract.text")).toMatchObject({
      at: "suite.yaml:2:67",
      message: "extract takes either `template` (a file) or `text` (inline), not both",
    });
    expect(problemAt(problems, "prompts[1].extract")).toMatchObject({
      message: "expected `template` (a file) or `text` (an inline template), received neither",
      hint: expect.stringContaining("`output`"),
    });
    expect(problemAt(problems, "prompts[2].extract.txt").hint).toBe(
      'did you mean "text"? (allowed keys here: template, text)',
    );
    expect(problems.map((problem) => problem.field)).toEqual([
      "prompts[0].extract.text",
      "prompts[1].extract",
      "prompts[2].extract",
      "prompts[2].extract.txt",
    ]);
  });
});

describe("context", () => {
  test("the corpus is made absolute; k defaults to 3 and field to question", async () => {
    const suite = await load(
      lines(
        "prompts:",
        "  - { id: a, text: x, context: { corpus: docs/ } }",
        "  - { id: b, text: x, context: { corpus: docs, k: 5, field: query } }",
        TESTS,
      ),
    );
    expect(suite.prompts.map((prompt) => prompt.context)).toEqual([
      { corpus: path.join(BASIC, "docs"), k: 3, field: "question" },
      { corpus: path.join(BASIC, "docs"), k: 5, field: "query" },
    ]);
  });

  test("a missing corpus, a file for a corpus, a bad k and no corpus are located", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - { id: a, text: x, context: { corpus: doc/ } }",
        "  - { id: b, text: x, context: { corpus: templates/cot.hbs, k: 0 } }",
        "  - { id: c, text: x, context: { k: 2 } }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].context.corpus")).toEqual({
      code: "config-invalid",
      at: "suite.yaml:2:42",
      field: "prompts[0].context.corpus",
      message: `corpus directory not found: "doc/" (no directory at ${path.join(BASIC, "doc")})`,
      hint: 'did you mean "docs"?',
    });
    expect(problemAt(problems, "prompts[1].context.corpus")).toMatchObject({
      message: 'expected a corpus directory, received the file "templates/cot.hbs"',
      hint: "name the directory that holds the files",
    });
    expect(problemAt(problems, "prompts[1].context.k")).toMatchObject({
      at: "suite.yaml:3:64",
      message: "expected a number > 0, received 0",
    });
    expect(problemAt(problems, "prompts[2].context.corpus")).toMatchObject({
      at: "suite.yaml:4:32",
      message: 'missing required key "corpus" (a string)',
      hint: expect.stringContaining("corpus: <directory"),
    });
    expect(problems).toHaveLength(4);
  });
});
