import path from "node:path";
import { describe, expect, test } from "vitest";
import { isProviderId, parseConfig } from "../../../src/config/index.js";
import { BASIC, lines, problemAt, problemsOf } from "./helpers.js";

const HEAD = ["prompts: [templates/cot.hbs]", "tests: fixtures/test.jsonl", "providers:"];

describe("provider ids", () => {
  test("isProviderId accepts openai:<model>, echo and local:<path>", () => {
    for (const id of ["openai:gpt-4o-mini", "openai:llama3.1:8b", "echo", "echo:slow", "local:m.gguf"]) {
      expect(isProviderId(id), id).toBe(true);
    }
    for (const id of ["openai:", "local:", "gpt-4o", "echoes", "ollama:llama3", ""]) {
      expect(isProviderId(id), id).toBe(false);
    }
  });

  test("a bad id is located, says what ids look like, and suggests the likely spelling", async () => {
    const problems = await problemsOf(
      lines(
        ...HEAD,
        "  - gpt-4o",
        "  - ollama:llama3",
        "  - model.gguf",
        "  - id: 'openai:'",
        "  - id: 'local:'",
      ),
    );
    expect(problemAt(problems, "providers[0]")).toEqual({
      code: "config-invalid",
      at: "suite.yaml:4:5",
      field: "providers[0]",
      message:
        'expected a provider id "openai:<model>", "echo", "local:<path.gguf>" or "replay:<cassette.jsonl>", received "gpt-4o"',
      hint: 'write "openai:gpt-4o" for a model behind an OpenAI-compatible endpoint',
    });
    expect(problemAt(problems, "providers[1]").hint).toContain("baseURL: http://127.0.0.1:11434/v1");
    expect(problemAt(problems, "providers[2]").hint).toBe('write "local:model.gguf" for a model file');
    expect(problemAt(problems, "providers[3].id")).toMatchObject({
      at: "suite.yaml:7:9",
      hint: 'name the model, e.g. "openai:gpt-4o-mini"',
    });
    expect(problemAt(problems, "providers[4].id").hint).toContain("local:models/qwen.gguf");
    expect(problems).toHaveLength(5);
  });

  test("`openai: model` (a space after the colon) reads as a mapping in YAML, and is explained as one problem", async () => {
    const problems = await problemsOf(lines(...HEAD, "  - openai: gpt-4o-mini", "  - openai:"));
    expect(problems).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:4:5",
        field: "providers[0]",
        message:
          'expected a provider id such as "openai:<model>", received the mapping "openai: gpt-4o-mini"',
        hint: 'write "openai:gpt-4o-mini", with no space after the colon (YAML reads "key: value" as a mapping)',
      },
      expect.objectContaining({
        field: "providers[1]",
        hint: 'name the model after the colon, e.g. "openai:gpt-4o-mini"',
      }),
    ]);
  });

  test("a relative local model path resolves against the config's directory; a bare name stays", async () => {
    const suite = await parseConfig(lines(...HEAD, "  - local:models/m.gguf", "  - local:qwen"), {
      file: "suite.yaml",
      baseDir: BASIC,
    });
    expect(suite.providers.map((provider) => [provider.id, provider.label])).toEqual([
      [`local:${path.join(BASIC, "models/m.gguf")}`, "local:models/m.gguf"],
      ["local:qwen", "local:qwen"],
    ]);
  });
});

describe("provider labels", () => {
  test("two providers with the same id need a label to tell them apart", async () => {
    const problems = await problemsOf(lines(...HEAD, "  - openai:gpt-4o-mini", "  - id: openai:gpt-4o-mini"));
    expect(problems).toEqual([
      {
        code: "config-invalid",
        at: "suite.yaml:5:9",
        field: "providers[1].id",
        message: 'duplicate provider label "openai:gpt-4o-mini" (providers[0] has it too)',
        hint: "add a label to tell them apart",
      },
    ]);
  });

  test("an explicit duplicate label is reported at the label", async () => {
    const problems = await problemsOf(
      lines(...HEAD, "  - { id: echo, label: same }", "  - { id: 'openai:x', label: same }"),
    );
    expect(problemAt(problems, "providers[1].label")).toMatchObject({
      at: "suite.yaml:5:30",
      hint: "give each provider a different label",
    });
  });

  test("labels tell apart providers with the same id", async () => {
    const suite = await parseConfig(
      lines(
        ...HEAD,
        "  - { id: 'openai:m', label: a }",
        "  - { id: 'openai:m', label: b, baseURL: 'http://127.0.0.1:1/v1' }",
      ),
      { file: "suite.yaml", baseDir: BASIC },
    );
    expect(suite.providers.map((provider) => provider.label)).toEqual(["a", "b"]);
  });
});

describe("provider fields", () => {
  test("baseURL must be an http(s) URL; apiKeyEnv a variable name, never echoing a key", async () => {
    const problems = await problemsOf(
      lines(
        ...HEAD,
        "  - id: openai:m",
        "    baseURL: localhost:11434",
        "    apiKeyEnv: sk-proj-0123456789abcdef",
        "  - id: openai:n",
        "    baseURL: ftp://example.com/v1",
        "    apiKeyEnv: my key",
      ),
    );
    expect(problemAt(problems, "providers[0].baseURL")).toMatchObject({
      at: "suite.yaml:5:14",
      message: 'expected an http(s) URL, received "localhost:11434"',
      hint: 'write "http://localhost:11434" (most servers want the /v1 suffix)',
    });
    const key = problemAt(problems, "providers[0].apiKeyEnv");
    expect(key.message).toBe(
      "expected the name of an environment variable, received what looks like an API key",
    );
    expect(JSON.stringify(key)).not.toContain("0123456789abcdef");
    expect(problemAt(problems, "providers[1].baseURL").hint).toBe("use http:// or https://");
    expect(problemAt(problems, "providers[1].apiKeyEnv").message).toBe(
      'expected the name of an environment variable (letters, digits, _), received "my key"',
    );
  });

  test("params pass through, known ones are type-checked, and near misses of known ones are typos", async () => {
    const problems = await problemsOf(
      lines(
        ...HEAD,
        "  - id: echo",
        '    params: { tempurature: 0, max_token: 5, top_k: 3, custom_flag: true, temperature: "0.5", stop: 3 }',
      ),
    );
    expect(problemAt(problems, "providers[0].params.tempurature")).toMatchObject({
      at: "suite.yaml:5:15",
      message: 'unknown parameter "tempurature"',
      hint: 'did you mean "temperature"? (params are sent to the endpoint as written)',
    });
    expect(problemAt(problems, "providers[0].params.max_token").hint).toMatch(/^did you mean "max_tokens"\?/);
    expect(problemAt(problems, "providers[0].params.temperature").hint).toBe('write 0.5, not "0.5"');
    expect(problemAt(problems, "providers[0].params.stop").message).toBe(
      "expected a string or a list, received 3",
    );
    expect(problems).toHaveLength(4);

    const suite = await parseConfig(
      lines(...HEAD, "  - id: echo", "    params: { top_k: 3, custom_flag: true }"),
      {
        file: "suite.yaml",
        baseDir: BASIC,
      },
    );
    expect(suite.providers[0].params).toEqual({ top_k: 3, custom_flag: true });
  });

  test("timeoutMs and maxRetries must be whole numbers in range", async () => {
    const problems = await problemsOf(lines(...HEAD, "  - { id: echo, timeoutMs: 0, maxRetries: 1.5 }"));
    expect(problemAt(problems, "providers[0].timeoutMs").message).toBe("expected a number > 0, received 0");
    expect(problemAt(problems, "providers[0].maxRetries").message).toBe(
      "expected a whole number, received 1.5",
    );
  });
});
