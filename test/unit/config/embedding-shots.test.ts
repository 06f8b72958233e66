import { describe, expect, test } from "vitest";
import { DEFAULT_EMBEDDING_MODEL } from "../../../src/config/defaults.js";
import { lines, load, problemAt, problemsOf, TESTS } from "./helpers.js";

describe("shots.embedding", () => {
  test("select: embedding takes the first openai: provider's endpoint and key variable, and the default model", async () => {
    const suite = await load(
      lines(
        "providers:",
        "  - echo",
        "  - { id: openai:llama, baseURL: http://127.0.0.1:8080/v1, apiKeyEnv: LOCAL_KEY }",
        "  - { id: openai:gpt-4o-mini, label: cloud }",
        "prompts:",
        "  - { id: p, text: x, shots: { from: fixtures/train.jsonl, k: 2, select: embedding } }",
        TESTS,
      ),
    );
    expect(suite.prompts[0].shots?.embedding).toEqual({
      model: DEFAULT_EMBEDDING_MODEL,
      baseURL: "http://127.0.0.1:8080/v1",
      apiKeyEnv: "LOCAL_KEY",
    });
    expect(DEFAULT_EMBEDDING_MODEL).toBe("text-embedding-3-small");
  });

  test("embedding.provider names a provider by label or by id; model as written", async () => {
    const config = (provider: string) =>
      lines(
        "providers:",
        "  - { id: openai:llama, baseURL: http://127.0.0.1:8080/v1 }",
        "  - { id: openai:gpt-4o-mini, label: cloud, apiKeyEnv: TEAM_KEY }",
        "prompts:",
        "  - id: p",
        "    text: x",
        `    shots: { from: fixtures/train.jsonl, k: 2, select: embedding, embedding: { model: e5, provider: ${provider} } }`,
        TESTS,
      );
    for (const name of ["cloud", "openai:gpt-4o-mini"]) {
      const suite = await load(config(name));
      expect(suite.prompts[0].shots?.embedding, name).toEqual({ model: "e5", apiKeyEnv: "TEAM_KEY" });
    }
  });

  test("with no providers, the default openai: provider serves the embeddings when the environment names one", async () => {
    const config = lines(
      "prompts:",
      "  - { id: p, text: x, shots: { from: fixtures/train.jsonl, k: 1, select: embedding } }",
      TESTS,
    );
    const suite = await load(config, { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" });
    expect(suite.providers[0].id).toMatch(/^openai:/);
    expect(suite.prompts[0].shots?.embedding).toEqual({ model: DEFAULT_EMBEDDING_MODEL });
    // Else the default is the built-in local model, which serves no embeddings.
    const problems = await problemsOf(config);
    expect(problemAt(problems, "prompts[0].shots.select").message).toContain("no openai: provider");
  });

  test("other selections carry no embedding unless it is written; in a sweep, only the embedding variants", async () => {
    const plain = await load(
      lines(
        "prompts:",
        "  - { id: p, text: x, shots: { from: fixtures/train.jsonl, k: 1, select: similar } }",
        TESTS,
      ),
    );
    expect(plain.prompts[0].shots).not.toHaveProperty("embedding");

    const written = await load(
      lines(
        "providers: [openai:gpt-4o-mini]",
        "prompts:",
        "  - { id: p, text: x, shots: { from: fixtures/train.jsonl, k: 1, embedding: { model: e5 } } }",
        TESTS,
      ),
    );
    expect(written.prompts[0].shots).toMatchObject({ select: "first", embedding: { model: "e5" } });

    const swept = await load(
      lines(
        "providers: [openai:gpt-4o-mini]",
        "prompts:",
        "  - { id: p, text: x, shots: { from: fixtures/train.jsonl, k: 1, select: [first, embedding] } }",
        TESTS,
      ),
    );
    expect(swept.prompts.map((p) => [p.id, p.shots?.embedding?.model])).toEqual([
      ["p@select=first", undefined],
      ["p@select=embedding", DEFAULT_EMBEDDING_MODEL],
    ]);
  });

  test("select: embedding without any openai: provider is located at select, with a hint", async () => {
    const problems = await problemsOf(
      lines(
        "providers: [echo]",
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots: { from: fixtures/train.jsonl, k: 2, select: embedding }",
        TESTS,
      ),
    );
    expect(problems).toHaveLength(1);
    expect(problemAt(problems, "prompts[0].shots.select")).toMatchObject({
      code: "config-invalid",
      at: "suite.yaml:5:56",
      message: expect.stringContaining("no openai: provider"),
      hint: expect.stringMatching(/add an openai: provider.*shots\.embedding\.provider/),
    });
  });

  test("an unknown provider name gets a did-you-mean; a provider that is not openai: is refused", async () => {
    const config = (provider: string) =>
      lines(
        "providers:",
        "  - { id: openai:gpt-4o-mini, label: cloud }",
        "  - echo",
        "prompts:",
        "  - id: p",
        "    text: x",
        "    shots:",
        "      from: fixtures/train.jsonl",
        "      k: 2",
        "      select: embedding",
        `      embedding: { provider: ${provider} }`,
        TESTS,
      );
    const unknown = problemAt(await problemsOf(config("clod")), "prompts[0].shots.embedding.provider");
    expect(unknown).toMatchObject({
      at: "suite.yaml:11:30",
      message: 'no provider is labelled or named "clod"',
    });
    expect(unknown.hint).toContain('did you mean "cloud"?');
    expect(unknown.hint).toContain("cloud, echo");

    const echo = problemAt(await problemsOf(config("echo")), "prompts[0].shots.embedding.provider");
    expect(echo.message).toContain("is not an openai: provider");
  });

  test("embedding cannot be swept, and its keys are checked", async () => {
    const problems = await problemsOf(
      lines(
        "prompts:",
        "  - id: a",
        "    text: x",
        "    shots: { from: fixtures/train.jsonl, k: 1, select: embedding, embedding: { model: [a, b] } }",
        "  - id: b",
        "    text: x",
        "    shots: { from: fixtures/train.jsonl, k: 1, select: embedding, embedding: [{ model: a }] }",
        "  - id: c",
        "    text: x",
        "    shots: { from: fixtures/train.jsonl, k: 1, select: embedding, embedding: { modle: a } }",
        TESTS,
      ),
    );
    expect(problemAt(problems, "prompts[0].shots.embedding.model").message).toBe(
      "expected one value, received a list: `model` cannot be swept",
    );
    expect(problemAt(problems, "prompts[1].shots.embedding").message).toBe(
      "expected one value, received a list: `embedding` cannot be swept",
    );
    expect(problemAt(problems, "prompts[2].shots.embedding.modle")).toMatchObject({
      message: 'unknown key "modle"',
      hint: expect.stringContaining('did you mean "model"?'),
    });
  });
});
