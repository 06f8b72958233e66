import path from "node:path";
import { describe, expect, test } from "vitest";
import { parseConfig } from "../../../src/config/index.js";
import { BASIC, lines, problemAt, problemsOf } from "./helpers.js";

const PROVIDERS = [
  "providers:",
  "  - openai:gpt-4o-mini",
  "  - { id: openai:gpt-4o, label: big, baseURL: http://127.0.0.1:9/v1, params: { max_tokens: 99 } }",
];
const HEAD = [...PROVIDERS, "prompts: [templates/cot.hbs]", "tests: fixtures/test.jsonl"];

async function suiteOf(...rest: string[]) {
  return parseConfig(lines(...HEAD, ...rest), { file: "suite.yaml", baseDir: BASIC, env: {} });
}

describe("judge scorers in a config", () => {
  test("the provider is a suite provider's label, an id, an object, or by default the first provider", async () => {
    const { scorers } = await suiteOf(
      "scorer:",
      "  - { type: judge, rubric: polite, provider: big }",
      "  - { type: judge, rubric: polite, provider: 'openai:o3' }",
      "  - { type: judge, rubric: polite, provider: { id: 'openai:o3', label: o3, apiKeyEnv: O3_KEY } }",
      "  - { type: llm-rubric, value: polite }",
    );
    expect(scorers[0].provider).toEqual({
      id: "openai:gpt-4o",
      label: "big",
      baseURL: "http://127.0.0.1:9/v1",
      params: { max_tokens: 99 },
    });
    expect(scorers[1].provider).toEqual({ id: "openai:o3", label: "openai:o3", params: {} });
    expect(scorers[2].provider).toEqual({ id: "openai:o3", label: "o3", apiKeyEnv: "O3_KEY", params: {} });
    // promptfoo's llm-rubric: value is the rubric; the judge is the suite's first provider.
    expect(scorers[3]).toEqual({
      type: "llm-rubric",
      rubric: "polite",
      provider: { id: "openai:gpt-4o-mini", label: "openai:gpt-4o-mini", params: {} },
    });
  });

  test("a rubric file is made absolute; builtin rubrics are checked", async () => {
    const { scorers } = await suiteOf(
      "scorer:",
      "  - { type: judge, rubric: templates/cot.hbs }",
      "  - { type: judge, rubric: 'builtin:correctness', scale: 1-5, threshold: 3 }",
    );
    expect(scorers[0].rubric).toBe(path.join(BASIC, "templates/cot.hbs"));
    expect(scorers[1]).toMatchObject({ rubric: "builtin:correctness", scale: "1-5", threshold: 3 });
  });

  test("problems: no rubric, an unknown provider or builtin, a missing file, a threshold off the scale", async () => {
    const problems = await problemsOf(
      lines(
        ...HEAD,
        "scorer:",
        "  - { type: judge }",
        "  - { type: judge, rubric: x, provider: bigg }",
        "  - { type: judge, rubric: 'builtin:correctnes' }",
        "  - { type: judge, rubric: rubrics/none.hbs }",
        "  - { type: judge, rubric: x, scale: 1-5, threshold: 9 }",
        "  - { type: judge, rubric: x, scale: 7 }",
      ),
    );
    expect(problemAt(problems, "scorer[0]").message).toBe('missing required key "rubric"');
    expect(problemAt(problems, "scorer[1].provider")).toMatchObject({
      message: 'no provider is labelled or named "bigg", and it is no provider id',
      hint: expect.stringContaining('did you mean "big"?'),
    });
    expect(problemAt(problems, "scorer[2].rubric").hint).toContain('did you mean "builtin:correctness"?');
    expect(problemAt(problems, "scorer[3].rubric").message).toMatch(/^rubric template not found/);
    expect(problemAt(problems, "scorer[4].threshold").message).toBe(
      "expected a score from 1 to 5, received 9",
    );
    expect(problemAt(problems, "scorer[5].scale").message).toMatch(/^expected "pass-fail", "1-5" or "1-10"/);
  });
});

describe("other scorers in a config", () => {
  test("not- prefixes, similar's embedding endpoint, an is-json schema file, combine", async () => {
    const suite = await suiteOf(
      "scorer:",
      "  - not-contains",
      "  - { type: similar, threshold: 0.8, embedding: { provider: big } }",
      "  - { type: is-json, value: scorers/same.js }",
      "  - { type: bleu, name: overlap }",
      "combine: { weights: { overlap: 2 }, threshold: 0.6 }",
    );
    expect(suite.scorers[0]).toEqual({ type: "not-contains" });
    expect(suite.scorers[1]).toEqual({
      type: "similar",
      threshold: 0.8,
      embedding: { model: "text-embedding-3-small", baseURL: "http://127.0.0.1:9/v1" },
    });
    expect(suite.scorers[2].value).toBe(path.join(BASIC, "scorers/same.js"));
    expect(suite.combine).toEqual({ weights: { overlap: 2 }, threshold: 0.6 });
  });

  test("problems: an unknown negated type, weights that do not fit, similar with no endpoint", async () => {
    const problems = await problemsOf(
      lines(...HEAD, "scorer: [not-contians, bleu]", "combine: { weights: [1, 2, 3] }"),
    );
    expect(problemAt(problems, "scorer[0]").hint).toMatch(/^did you mean "not-contains"\?/);
    expect(problemAt(problems, "combine.weights").message).toBe(
      "expected 2 weights (one per scorer), received 3",
    );
    const named = await problemsOf(
      lines(...HEAD, "scorer: [bleu, rouge-l]", "combine: { weights: { roug-l: 1 } }"),
    );
    expect(problemAt(named, "combine.weights.roug-l").hint).toMatch(/^did you mean "rouge-l"\?/);
    const local = await problemsOf(
      lines(
        "providers: [echo]",
        "prompts: [templates/cot.hbs]",
        "tests: fixtures/test.jsonl",
        "scorer: similar",
      ),
    );
    expect(problemAt(local, "scorer").message).toMatch(
      /^similar needs an OpenAI-compatible \/v1\/embeddings endpoint/,
    );
  });
});
