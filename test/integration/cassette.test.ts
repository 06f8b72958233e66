import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EvaluateOptions, evaluate, isUserError, loadConfig, readRecord } from "../../src/index.js";
import type { RunRecord } from "../../src/record/types.js";
import { ciFaults, ciModel } from "../helpers/ci-model.js";
import { copyFixture } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

const KEY = "sk-cassette-test-DO-NOT-LEAK-7f3a";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Records fixtures/ci against the loopback server (which checks the key), then closes the server. */
async function recorded(): Promise<{ dir: string; cassette: string; record: RunRecord; requests: number }> {
  server = await startTestServer({ respond: ciModel, faults: ciFaults, apiKey: KEY });
  const dir = copyFixture("ci");
  const cassette = join(dir, "cassette.jsonl");
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: KEY };
  const suite = await loadConfig(dir, { env });
  await evaluate({ suite, env, record: cassette, outputs: [join(dir, "recorded.json")], cache: "off" });
  const requests = server.completionRequests().length;
  await server.close();
  server = undefined;
  return { dir, cassette, record: await readRecord(join(dir, "recorded.json")), requests };
}

async function replayed(dir: string, options: Partial<EvaluateOptions>): Promise<RunRecord> {
  // The server is gone: any call that reached for the network would fail.
  const env = { OPENAI_BASE_URL: "http://127.0.0.1:9/v1", OPENAI_API_KEY: KEY };
  const suite = await loadConfig(dir, { env });
  const out = join(dir, `replayed-${Math.random().toString(36).slice(2)}.json`);
  await evaluate({ suite, env, outputs: [out], ...options });
  return readRecord(out);
}

describe("record and replay", () => {
  it("replays a recorded run with no server: the same verdicts, outputs, tokens, latencies and summary", async () => {
    const { dir, cassette, record, requests } = await recorded();
    // The recording covers what makes a case: samples, the extraction call, and a failed call.
    expect(record.summary.map((r) => [r.prompt, r.passed, r.failed, r.unparsed, r.errors])).toEqual([
      ["plain", 2, 1, 1, 1],
      ["voted", 4, 1, 0, 0],
      ["extracted", 2, 1, 1, 1],
    ]);
    expect(requests).toBeGreaterThan(10);

    const again = await replayed(dir, { replay: cassette });
    expect(again.cases).toEqual(record.cases);
    expect(again.summary).toEqual(record.summary);
  });

  it("stands a config's replay: provider in for the recorded one it is labelled as", async () => {
    const { dir, record } = await recorded();
    const config = join(dir, "promptsmith.yaml");
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace(
        /providers:\n(?: {2}.*\n)+?prompts:/,
        "providers:\n  - id: replay:cassette.jsonl\n    label: openai:test-model\nprompts:",
      ),
    );
    const again = await replayed(dir, {});
    expect(again.summary).toEqual(record.summary);
    expect(again.cases.map((c) => [c.id, c.prompt, c.output, c.pass])).toEqual(
      record.cases.map((c) => [c.id, c.prompt, c.output, c.pass]),
    );
  });

  it("stores the requests themselves and never the API key", async () => {
    const { cassette } = await recorded();
    const text = readFileSync(cassette, "utf8");
    expect(text).not.toContain(KEY);
    expect(text.toLowerCase()).not.toContain("authorization");
    const [header, ...entries] = text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(header).toEqual({
      promptsmith: "cassette",
      version: 1,
      providers: [
        { label: "openai:test-model", model: "test-model", params: { temperature: 0, max_tokens: 64 } },
      ],
    });
    const first = entries.find((e) => e.case === "a" && e.prompt === "plain");
    expect(first).toMatchObject({
      provider: "openai:test-model",
      request: {
        model: "test-model",
        messages: [
          { role: "system", content: "Answer with a number." },
          { role: "user", content: "Q: What is 2 + 2?" },
        ],
        params: { temperature: 0, max_tokens: 64 },
        sample: 0,
      },
      response: { output: "The answer is 4." },
    });
    expect(
      entries.filter((e) => e.case === "a" && e.prompt === "voted").map((e) => e.request.sample),
    ).toEqual([0, 1, 2]);
    expect(entries.some((e) => e.call === "extract")).toBe(true);
    expect(entries.find((e) => e.case === "c")?.error).toEqual({
      kind: "server",
      message: expect.stringContaining("scripted outage"),
    });
    // plain and extracted send the same first request: each keeps its own answer.
    const shared = entries.filter(
      (e) => e.case === "a" && e.call === undefined && e.request.params.temperature === 0,
    );
    expect(shared.map((e) => e.prompt)).toEqual(["plain", "extracted"]);
    expect(shared[0].key).toBe(shared[1].key);
  });

  it("stops at a request the cassette lacks, naming the case, the prompt and the nearest recorded request", async () => {
    const { dir, cassette } = await recorded();
    writeFileSync(
      join(dir, "templates", "plain.hbs"),
      "{{#system}}Answer with a number.{{/system}}\n{{#user}}Q:  {{question}}{{/user}}\n",
    );
    // One call at a time, so the first job (case a, plain) is the first to miss.
    const error = await replayed(dir, { replay: cassette, concurrency: 1 }).catch((e: unknown) => e);
    if (!isUserError(error)) throw error;
    expect(error.code).toBe("replay-missing");
    expect(error.location).toEqual({ file: cassette });
    expect(error.field).toBe('case "a" · prompt "plain" · provider "openai:test-model"');
    expect(error.message).toBe(
      'no recorded answer for this request in the cassette; the nearest recorded request (case "a" · prompt "plain") differs in messages[1].content: "Q: What is 2 + 2?" → "Q:  What is 2 + 2?"',
    );
    expect(error.hint).toContain("--replay-missing skip");
  });

  it("leaves out the jobs a cassette lacks with replayMissing: skip, and keeps the rest as recorded", async () => {
    const { dir, cassette, record } = await recorded();
    const tests = join(dir, "data", "test.jsonl");
    writeFileSync(
      tests,
      `${readFileSync(tests, "utf8")}{"id": "f", "question": "What is 6 * 7?", "answer": 42}\n`,
    );
    const env = { OPENAI_API_KEY: KEY };
    const suite = await loadConfig(dir, { env });
    const result = await evaluate({ suite, env, replay: cassette, replayMissing: "skip" });
    expect(result.skipped?.count).toBe(3);
    expect(result.skipped?.first).toMatch(/^case "f" · prompt "plain"/);
    expect(result.record.summary).toEqual(record.summary);
  });

  it("refuses to record a replay, or a resumed run", async () => {
    const suite = await loadConfig(copyFixture("ci"), { env: {} });
    for (const options of [
      { record: "x.jsonl", replay: "y.jsonl" },
      { record: "x.jsonl", resume: true as const },
    ]) {
      const error = await evaluate({ suite, env: {}, ...options }).catch((e: unknown) => e);
      expect(isUserError(error) && error.field).toBe("--record");
    }
  });

  it("records a judge's calls and the baseline answers of a pairwise judge, and replays them with no server", async () => {
    const lastUser = (body: RequestBody) => String(body.messages?.at(-1)?.content ?? "");
    server = await startTestServer({
      apiKey: KEY,
      // The judges read their own line: GRADE for judge, WINNER for preference.
      respond: (body) =>
        body.model === "judge-model"
          ? `${lastUser(body).includes("q-good") ? "GRADE: PASS" : "GRADE: FAIL"}\nWINNER: A`
          : lastUser(body),
    });
    const judge = "{ id: openai:judge-model, label: grader, maxRetries: 0 }";
    const dir = project(
      [
        "providers: [{ id: openai:test-model, maxRetries: 0 }]",
        "prompts:",
        '  - { id: base, text: "{{question}}" }',
        '  - { id: v2, text: "v2: {{question}}" }',
        "tests: data/test.jsonl",
        "baseline: base",
        "scorer:",
        `  - { type: judge, provider: ${judge}, rubric: "The response answers {{question}}." }`,
        `  - { type: preference, provider: ${judge} }`,
      ],
      [
        { id: "good", question: "q-good" },
        { id: "bad", question: "q-bad" },
      ],
    );
    const cassette = join(dir, "cassette.jsonl");
    const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: KEY };
    const out = join(dir, "recorded.json");
    await evaluate({
      suite: await loadConfig(dir, { env }),
      env,
      record: cassette,
      outputs: [out],
      cache: "off",
    });
    const record = await readRecord(out);
    await server.close();
    server = undefined;
    expect(record.cases.find((c) => c.id === "good" && c.prompt === "v2")?.scores?.judge.pass).toBe(true);

    const [header, ...entries] = readFileSync(cassette, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(header.providers.map((p: { label: string }) => p.label)).toEqual(["openai:test-model", "grader"]);
    // Per case: 2 answers, 2 judge verdicts, 2 preference verdicts for v2, and v2's baseline answer.
    const calls = (call: string | undefined) => entries.filter((e) => e.call === call);
    expect(calls(undefined)).toHaveLength(4);
    expect(calls("judge")).toHaveLength(4 + 4);
    expect(calls("judge").every((e) => e.provider === "grader")).toBe(true);
    expect(calls("baseline").map((e) => [e.case, e.prompt, e.provider, e.response.output])).toEqual([
      ["good", "v2", "openai:test-model", "q-good"],
      ["bad", "v2", "openai:test-model", "q-bad"],
    ]);

    const again = await replayed(dir, { replay: cassette });
    expect(again.cases).toEqual(record.cases);
    expect(again.summary).toEqual(record.summary);
  });

  it("replays a failed call with the samples the cache had answered, as the recorded run ended", async () => {
    let failing = false;
    server = await startTestServer({
      apiKey: KEY,
      respond: (body) => ["7", "7", "8"].slice(0, body.n ?? 1),
      faults: () => (failing ? { status: 500, retryAfterMs: 0, message: "scripted outage" } : undefined),
    });
    const config = (samples: number) => [
      "providers: [{ id: openai:test-model, maxRetries: 0 }]",
      `prompts: [{ id: voted, text: "{{question}}", samples: ${samples}, params: { temperature: 0.7 } }]`,
      "tests: { path: data/test.jsonl, expected: answer }",
      "scorer: numeric",
    ];
    const dir = project(config(2), [{ id: "a", question: "What is 3 + 4?", answer: 7 }]);
    const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: KEY };
    // Samples 0 and 1 go into the cache; then a third sample is asked for, and its call fails.
    await evaluate({ suite: await loadConfig(dir, { env }), env });
    writeFileSync(join(dir, "promptsmith.yaml"), `${config(3).join("\n")}\n`);
    failing = true;
    const cassette = join(dir, "cassette.jsonl");
    const out = join(dir, "recorded.json");
    await evaluate({ suite: await loadConfig(dir, { env }), env, record: cassette, outputs: [out] });
    const record = await readRecord(out);
    expect(record.cases[0].error?.message).toContain("scripted outage");
    const entries = readFileSync(cassette, "utf8")
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((line) => JSON.parse(line));
    expect(entries.map((e) => [e.request.sample, e.response?.output ?? e.error.kind])).toEqual([
      [0, "7"],
      [1, "7"],
      [2, "server"],
    ]);
    await server.close();
    server = undefined;

    const again = await replayed(dir, { replay: cassette });
    expect(again.cases).toEqual(record.cases);
    expect(again.summary).toEqual(record.summary);
  });

  it("refuses to replay a config that embeds through an endpoint, naming what needs it", async () => {
    const dir = project(
      [
        "providers: [openai:test-model]",
        'prompts: [{ id: echo, text: "{{question}}" }]',
        "tests: data/test.jsonl",
        "scorer: { type: similar, name: meaning, embedding: { model: test-embed } }",
      ],
      [{ id: "a", question: "q", expected: "q" }],
    );
    const env = { OPENAI_BASE_URL: "http://127.0.0.1:9/v1", OPENAI_API_KEY: KEY };
    const error = await evaluate({
      suite: await loadConfig(dir, { env }),
      env,
      replay: join(dir, "cassette.jsonl"),
    }).catch((e: unknown) => e);
    if (!isUserError(error)) throw error;
    expect(error.field).toBe("--replay");
    expect(error.message).toBe(
      'a replay reaches no network, but the similar scorer "meaning" needs the embeddings endpoint, and a cassette holds no embeddings',
    );
  });
});

/** A config and its cases in a fresh folder. */
function project(config: string[], rows: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), "promptsmith-cassette-"));
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "promptsmith.yaml"), `${config.join("\n")}\n`);
  writeFileSync(join(dir, "data", "test.jsonl"), `${rows.map((row) => JSON.stringify(row)).join("\n")}\n`);
  return dir;
}
