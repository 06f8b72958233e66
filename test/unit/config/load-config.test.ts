import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import {
  createSuite,
  defaultProviders,
  defineConfig,
  findConfigFile,
  loadConfig,
  parseConfig,
} from "../../../src/config/index.js";
import { formatUserError } from "../../../src/errors.js";
import { BASIC, FIXTURES, flatten, lines, SHOT_DEFAULTS, userErrorOf } from "./helpers.js";

const JSON_DIR = path.join(FIXTURES, "json");

describe("loadConfig with valid configs", () => {
  test("loads the full YAML example: object and string providers, shots, tests object, scorer object", async () => {
    const suite = await loadConfig(path.join(BASIC, "promptsmith.yaml"), { env: {} });
    expect(suite.configPath).toBe(path.join(BASIC, "promptsmith.yaml"));
    expect(suite.baseDir).toBe(BASIC);
    expect(suite.description).toBe("GSM8K zero-shot vs chain-of-thought");
    expect(suite.providers).toEqual([
      { id: "openai:gpt-4o-mini", label: "openai:gpt-4o-mini", params: {} },
      {
        id: "openai:llama3.1:8b",
        label: "ollama",
        baseURL: "http://127.0.0.1:11434/v1",
        apiKeyEnv: "OLLAMA_API_KEY",
        params: { temperature: 0, max_tokens: 512, seed: 1, stop: ["Q:"] },
        completions: false,
        timeoutMs: 120000,
        maxRetries: 4,
      },
    ]);
    expect(suite.prompts.map((prompt) => prompt.id)).toEqual(["zero-shot", "cot"]);
    expect(suite.prompts[0]).toEqual({
      id: "zero-shot",
      baseId: "zero-shot",
      samples: 1,
      templatePath: path.join(BASIC, "templates/zero-shot.hbs"),
      template: "Q: {{question}}\nA:",
    });
    expect(suite.prompts[1].shots).toEqual({
      ...SHOT_DEFAULTS,
      from: path.join(BASIC, "fixtures/train.jsonl"),
      k: 8,
    });
    expect(suite.tests).toEqual({ path: path.join(BASIC, "fixtures/test.jsonl"), expected: "answer" });
    expect(suite.scorers).toEqual([{ type: "numeric", tolerance: 1e-6 }]);
    expect(suite.partialsDir).toBe(path.join(BASIC, "templates/partials"));
  });

  test("loads JSON: string providers, inline text prompts, builtin shots, tests as a string, a scorer list", async () => {
    const suite = await loadConfig(path.join(JSON_DIR, "promptsmith.json"), { env: {} });
    expect(suite.providers).toEqual([
      { id: "echo", label: "echo", params: {} },
      { id: "openai:gpt-4o-mini", label: "openai:gpt-4o-mini", params: {} },
      // A local model path is made absolute, while the label keeps what the user wrote.
      { id: `local:${path.join(JSON_DIR, "models/tiny.gguf")}`, label: "tiny", params: {} },
    ]);
    expect(suite.prompts).toEqual([
      {
        id: "plain",
        baseId: "plain",
        samples: 1,
        templatePath: path.join(JSON_DIR, "prompts/plain.hbs"),
        template: "{{question}}",
      },
      { id: "prompt-2", baseId: "prompt-2", samples: 1, template: "Answer briefly: {{question}}" },
      {
        id: "shots",
        baseId: "shots",
        samples: 1,
        template: "{{question}}",
        shots: { ...SHOT_DEFAULTS, from: "builtin:gsm8k-cot", k: 0 },
      },
    ]);
    expect(suite.tests).toEqual({ path: path.join(JSON_DIR, "cases.csv"), expected: "expected" });
    expect(suite.scorers).toEqual([
      { type: "exact" },
      { type: "regex", pattern: "\\d+", flags: "i" },
      { type: "f1", threshold: 0.5 },
    ]);
    expect(suite.partialsDir).toBeUndefined();
    expect(suite.description).toBeUndefined();
  });

  test("a directory is searched for promptsmith.yaml, then .yml, then .json", async () => {
    const dir = path.join(FIXTURES, "lookup-order");
    expect(await findConfigFile(dir)).toBe(path.join(dir, "promptsmith.yml"));
    const suite = await loadConfig(dir, { env: {} });
    expect(suite.configPath).toBe(path.join(dir, "promptsmith.yml"));
    expect(suite.prompts[0].template).toBe("A");
    expect((await loadConfig(JSON_DIR, { env: {} })).configPath).toBe(
      path.join(JSON_DIR, "promptsmith.json"),
    );
  });

  test("with no path, the config is looked for in cwd, and relative paths resolve against cwd", async () => {
    expect((await loadConfig(undefined, { cwd: BASIC, env: {} })).configPath).toBe(
      path.join(BASIC, "promptsmith.yaml"),
    );
    const suite = await loadConfig("json/promptsmith.json", { cwd: FIXTURES, env: {} });
    expect(suite.baseDir).toBe(JSON_DIR);
  });

  test("error locations name the config relative to cwd", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "promptsmith-config-"));
    try {
      await writeFile(path.join(dir, "promptsmith.yaml"), lines("prompts: [a.hbs]", "tests: cases.jsonl"));
      const error = await userErrorOf(loadConfig(undefined, { cwd: dir, env: {} }));
      expect(flatten(error).map((problem) => problem.at)).toEqual([
        "promptsmith.yaml:1:11",
        "promptsmith.yaml:2:8",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("missing config", () => {
  test("a missing file is config-not-found, with a hint to run init", async () => {
    const error = await userErrorOf(loadConfig("nope.yaml", { cwd: FIXTURES }));
    expect(error.code).toBe("config-not-found");
    expect(error.message).toBe("config not found: nope.yaml");
    expect(error.hint).toContain("promptsmith init");
  });

  test("a directory without a config is config-not-found, naming the files looked for", async () => {
    const error = await userErrorOf(loadConfig(FIXTURES, { cwd: path.dirname(FIXTURES) }));
    expect(error.code).toBe("config-not-found");
    expect(error.message).toBe("no promptsmith.yaml, promptsmith.yml or promptsmith.json in config");
    expect(error.hint).toBe("run `promptsmith init` to create one, or pass the config file's path");
    expect(await findConfigFile(FIXTURES)).toBeUndefined();
  });
});

describe("defaults", () => {
  const minimal = lines("prompts: [templates/zero-shot.hbs]", "tests: fixtures/test.jsonl");

  test("absent providers default to the built-in local model with no endpoint configured, and the scorer to exact", async () => {
    const suite = await parseConfig(minimal, { file: "suite.yaml", baseDir: BASIC, env: {} });
    expect(suite.providers).toEqual([
      {
        id: "local:hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf",
        label: "local:Qwen2.5-0.5B-Instruct-Q4_K_M",
        params: {},
      },
    ]);
    expect(suite.providerNote).toContain("built-in local model");
    const local = await parseConfig(minimal, {
      file: "suite.yaml",
      baseDir: BASIC,
      env: { PROMPTSMITH_LOCAL_MODEL: "/m/tiny.gguf" },
    });
    expect(local.providers[0]).toMatchObject({ id: "local:/m/tiny.gguf", label: "local:tiny" });
    const withKey = await parseConfig(minimal, {
      file: "suite.yaml",
      baseDir: BASIC,
      env: { OPENAI_API_KEY: "sk-x" },
    });
    expect(withKey.providers).toEqual([
      { id: "openai:gpt-4o-mini", label: "openai:gpt-4o-mini", params: {} },
    ]);
    expect(withKey.providerNote).toBe("no providers in the config: using openai:gpt-4o-mini");
    const listed = await parseConfig(`${minimal}providers: [echo]\n`, {
      file: "suite.yaml",
      baseDir: BASIC,
      env: {},
    });
    expect(listed.providerNote).toBeUndefined();
    expect(suite.scorers).toEqual([{ type: "exact" }]);
    expect(suite.tests.expected).toBe("expected");
  });

  test("a judge with no provider is graded by the first provider, and the note says so", async () => {
    const judged = `${minimal}providers: [echo, { id: "openai:gpt-4o", label: big }]\nscorer:\n  - exact\n  - { type: judge, rubric: "Is it right?" }\n  - { type: preference, provider: big }\n`;
    const suite = await parseConfig(judged, { file: "suite.yaml", baseDir: BASIC, env: {} });
    expect(suite.scorers[1].provider).toMatchObject({ id: "echo", label: "echo" });
    expect(suite.providerNote).toBe(
      "scorer[1] (judge) names no provider: echo, the first provider, grades the answers, its own among them; set provider: to choose the judge",
    );
    // With no providers at all, both defaults are noted, one line each.
    const bare = await parseConfig(`${minimal}scorer: { type: llm-rubric, value: "Is it right?" }\n`, {
      file: "suite.yaml",
      baseDir: BASIC,
      env: { OPENAI_API_KEY: "sk-x" },
    });
    expect(bare.providerNote?.split("\n")).toEqual([
      "no providers in the config: using openai:gpt-4o-mini",
      "scorer (llm-rubric) names no provider: openai:gpt-4o-mini, the first provider, grades the answers, its own among them; set provider: to choose the judge",
    ]);
  });

  test("PROMPTSMITH_MODEL picks the default model; an empty list or an empty key also means the default", async () => {
    const env = { PROMPTSMITH_MODEL: "qwen2.5:7b" };
    for (const extra of ["providers: []", "providers:", ""]) {
      const suite = await parseConfig(minimal + extra, { file: "suite.yaml", baseDir: BASIC, env });
      expect(suite.providers.map((provider) => provider.id)).toEqual(["openai:qwen2.5:7b"]);
    }
    expect(defaultProviders({ PROMPTSMITH_MODEL: "", OPENAI_BASE_URL: "http://127.0.0.1:1/v1" })[0].id).toBe(
      "openai:gpt-4o-mini",
    );
    expect(defaultProviders({ PROMPTSMITH_MODEL: "" })[0].id).toMatch(/^local:/);
  });

  test("parseConfig resolves configPath against cwd and baseDir defaults to the file's directory", async () => {
    const suite = await parseConfig(minimal, { file: "basic/suite.yaml", cwd: FIXTURES, env: {} });
    expect(suite.configPath).toBe(path.join(BASIC, "suite.yaml"));
    expect(suite.baseDir).toBe(BASIC);
  });
});

describe("configs built in code", () => {
  test("createSuite validates and normalizes like a file, with configPath <inline>", async () => {
    const config = defineConfig({
      providers: ["echo"],
      prompts: [{ id: "q", text: "{{question}}" }],
      tests: { path: "fixtures/test.jsonl", expected: "answer" },
      scorer: "numeric",
    });
    const suite = await createSuite(config, { baseDir: BASIC, env: {} });
    expect(suite.configPath).toBe("<inline>");
    expect(suite.baseDir).toBe(BASIC);
    expect(suite.prompts).toEqual([{ id: "q", baseId: "q", samples: 1, template: "{{question}}" }]);
    expect(suite.tests.path).toBe(path.join(BASIC, "fixtures/test.jsonl"));
    expect(suite.scorers).toEqual([{ type: "numeric" }]);
  });

  test("problems in an in-code config name the field, and the file without a line", async () => {
    const error = await userErrorOf(
      createSuite(
        { prompts: [{ id: "q", text: "x", shots: { from: "builtin:gsm8k-cot", k: "8" } }], tests: 3 },
        { baseDir: BASIC },
      ),
    );
    expect(formatUserError(error)).toBe(
      [
        '<inline> prompts[0].shots.k: expected a number, received "8"',
        '  hint: write 8, not "8"',
        "<inline> tests: expected a string or an object, received 3",
        "  hint: write the dataset path, or an object with `path:` (and `expected:`)",
      ].join("\n"),
    );
  });
});
