import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { evaluate, loadConfig } from "../../src/index.js";
import type { CaseResult } from "../../src/record/types.js";
import { cosine } from "../../src/scorers/similar.js";
import { copyFixture } from "../helpers/cli.js";
import {
  type RequestBody,
  startTestServer,
  type TestServer,
  testEmbedding,
} from "../helpers/openai-test-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The judge fixture's folder with another config in it. */
function project(config: string[], data: object[]): string {
  const dir = copyFixture("judge");
  writeFileSync(join(dir, "promptsmith.yaml"), `${config.join("\n")}\n`);
  writeFileSync(join(dir, "data/test.jsonl"), `${data.map((row) => JSON.stringify(row)).join("\n")}\n`);
  return dir;
}

function text(body: RequestBody, role: string): string {
  return (body.messages ?? [])
    .filter((m) => m.role === role)
    .map((m) => String(m.content))
    .join("\n");
}

function byId(cases: CaseResult[], prompt: string): Record<string, CaseResult> {
  return Object.fromEntries(cases.filter((c) => c.prompt === prompt).map((c) => [c.id, c]));
}

describe("similar", () => {
  it("scores the cosine similarity of the embeddings, cached", async () => {
    server = await startTestServer();
    const dir = project(
      [
        "providers: [openai:test-model]",
        'prompts: [{ id: echo, text: "{{question}}" }]',
        "tests: data/test.jsonl",
        "scorer: { type: similar, threshold: 0.5, embedding: { model: test-embed } }",
      ],
      [
        { id: "near", question: "the cat sat on the mat", expected: "the cat sat on a mat" },
        { id: "far", question: "stock prices fell sharply", expected: ["the cat sat", "a dog barked"] },
      ],
    );
    const env = { OPENAI_BASE_URL: server.url };
    const { record } = await evaluate({ suite: await loadConfig(dir, { env }), env });
    const cases = byId(record.cases, "echo");
    // testEmbedding is the server's vector: the expected similarity computed from it directly.
    const near = cosine(testEmbedding("the cat sat on the mat"), testEmbedding("the cat sat on a mat"));
    expect(near).toBeGreaterThan(0.5);
    expect(cases.near.score).toBeCloseTo(near, 6);
    expect(cases.near.pass).toBe(true);
    expect(cases.far.pass).toBe(false);
    expect(cases.far.reason).toMatch(
      /^cosine similarity -?\d\.\d{3} to "(the cat sat|a dog barked)" \(test-embed\); below threshold 0\.5$/,
    );
    const embedded = server.requests.filter((r) => r.path === "/v1/embeddings").length;
    expect(embedded).toBeGreaterThan(0);
    await evaluate({ suite: await loadConfig(dir, { env }), env });
    expect(server.requests.filter((r) => r.path === "/v1/embeddings").length).toBe(embedded);
  });
});

/** The preference judge's verdict per question: which of A and B it prefers, scripted. */
function preferenceJudge(body: RequestBody): string {
  const user = text(body, "user");
  const a = /\[Response A\]\n<<<RESPONSE A \w+>>>\n(.*)/.exec(user)?.[1] ?? "";
  const variantIsA = a.startsWith("v2:");
  const question = /q-[a-z]+/.exec(user)?.[0];
  switch (question) {
    case "q-win":
      return `The v2 answer is better.\nWINNER: ${variantIsA ? "A" : "B"}`;
    case "q-lose":
      return `The plain answer is better.\nWINNER: ${variantIsA ? "B" : "A"}`;
    case "q-bias":
      return "The first one, always.\nWINNER: A";
    case "q-tie":
      return "Equally good.\nWINNER: TIE";
    default:
      return "Hard to say.";
  }
}

const PREFERENCE = [
  "providers: [{ id: openai:test-model, maxRetries: 0 }]",
  "prompts:",
  '  - { id: base, text: "{{question}}" }',
  '  - { id: v2, text: "v2: {{question}}" }',
  "tests: data/test.jsonl",
  "baseline: base",
  "scorer: { type: preference, provider: { id: openai:judge-model, label: judge, maxRetries: 0 } }",
];
const QUESTIONS = ["q-win", "q-lose", "q-bias", "q-tie", "q-garbage"].map((q) => ({
  id: q.slice(2),
  question: q,
}));

describe("preference", () => {
  it("asks in both orders so position bias cancels, and scores the baseline's own rows a tie", async () => {
    server = await startTestServer({
      respond: (body) => (body.model === "judge-model" ? preferenceJudge(body) : text(body, "user")),
    });
    const env = { OPENAI_BASE_URL: server.url };
    const dir = project(PREFERENCE, QUESTIONS);
    const { record } = await evaluate({ suite: await loadConfig(dir, { env }), env });
    const v2 = byId(record.cases, "v2");
    expect(v2.win).toMatchObject({ pass: true, score: 1, extracted: "win" });
    expect(v2.lose).toMatchObject({ pass: false, score: 0, extracted: "loss" });
    // A judge that always picks the first shown: better once, worse once.
    expect(v2.bias).toMatchObject({ pass: true, score: 0.5, extracted: "split" });
    expect(v2.bias.reason).toContain("better shown first, worse shown second");
    expect(v2.tie).toMatchObject({ pass: true, score: 0.5, extracted: "tie" });
    expect(v2.garbage).toMatchObject({ pass: false, unparsed: true });
    const calls = v2.win.scores?.preference.calls ?? [];
    expect(calls.map((c) => c.verdict)).toEqual(["A", "B"]);
    const shown = (content: string) =>
      content.replace(/<<<(?:END )?RESPONSE [AB] [0-9a-f]{16}>>>\n?/g, "").split("[Response A]\n")[1];
    expect(shown(calls[0].messages[1].content)).toBe("v2: q-win\n\n[Response B]\nq-win\n");
    expect(shown(calls[1].messages[1].content)).toBe("q-win\n\n[Response B]\nv2: q-win\n");
    const base = byId(record.cases, "base");
    expect(base.win).toMatchObject({
      pass: true,
      score: 0.5,
      reason: "this is the baseline itself: nothing to compare; a tie, at least threshold 0.5",
    });

    // Each answer was asked once: the baseline's answers were shared with the baseline's own jobs.
    const answers = server.completionRequests().filter((r) => r.body?.model === "test-model");
    expect(answers).toHaveLength(10);
    expect(server.completionRequests().filter((r) => r.body?.model === "judge-model")).toHaveLength(10);
  });

  it("compares the variant's whole answer with the baseline's when the variant extracts its answer", async () => {
    server = await startTestServer({
      respond: (body) => (body.model === "judge-model" ? preferenceJudge(body) : text(body, "user")),
    });
    const env = { OPENAI_BASE_URL: server.url };
    const config = PREFERENCE.map((line) =>
      line.startsWith("  - { id: v2")
        ? '  - { id: v2, text: "v2: {{question}}", extract: { text: "short: {{output}}" } }'
        : line,
    );
    const dir = project(config, QUESTIONS.slice(0, 1));
    const { record } = await evaluate({ suite: await loadConfig(dir, { env }), env });
    const v2 = byId(record.cases, "v2").win;
    // The extraction call echoes its prompt: what is scored differs from the answer.
    expect(v2.extraction?.output).toBe("short: v2: q-win");
    const [first] = v2.scores?.preference.calls ?? [];
    expect(first.messages[1].content).toMatch(/\[Response A\]\n<<<RESPONSE A \w+>>>\nv2: q-win\n/);
    expect(first.messages[1].content).not.toContain("short:");
    expect(v2).toMatchObject({ pass: true, score: 1 });
  });

  it("asks for the baseline's answers even when --filter-prompt leaves the baseline out", async () => {
    server = await startTestServer({
      respond: (body) => (body.model === "judge-model" ? preferenceJudge(body) : text(body, "user")),
    });
    const env = { OPENAI_BASE_URL: server.url };
    const dir = project(PREFERENCE, QUESTIONS.slice(0, 2));
    const { record } = await evaluate({ suite: await loadConfig(dir, { env }), env, filterPrompt: ["v2"] });
    expect(record.cases.map((c) => `${c.prompt}/${c.id}/${c.score}`)).toEqual(["v2/win/1", "v2/lose/0"]);
    const asked = server.completionRequests().map((r) => text(r.body!, "user"));
    expect(asked.filter((t) => t === "q-win" || t === "q-lose").sort()).toEqual(["q-lose", "q-win"]);
  });
});
