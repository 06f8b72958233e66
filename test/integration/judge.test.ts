import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { estimate, evaluate, loadConfig } from "../../src/index.js";
import type { CaseResult } from "../../src/record/types.js";
import { copyFixture } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const GRADES: Record<string, string> = {
  "q-pass": "The response is correct.\nGRADE: PASS",
  "q-fail": "The response is wrong.\nGRADE: FAIL",
  "q-garbage": "Looks fine to me!",
  "q-middle": "One could write GRADE: PASS here, but I will not commit.",
  "q-last": "GRADE: FAIL\nOn reflection it is right.\n**GRADE:** PASS",
  "q-think": "<think>weighing it</think>Good enough.\nGRADE: PASS",
  "q-range": "GRADE: PASS",
};
const STARS: Record<string, string> = { "q-range": "SCORE: 7", "q-fail": "SCORE: 2" };

function text(body: RequestBody, role: string): string {
  return (body.messages ?? [])
    .filter((m) => m.role === role)
    .map((m) => String(m.content))
    .join("\n");
}

/** Answers echo the question; the judge's verdicts are scripted per question. */
function respond(body: RequestBody): string {
  if (body.model !== "judge-model") return text(body, "user");
  const question = /q-[a-z]+/.exec(text(body, "user"))?.[0] ?? "";
  return text(body, "system").includes("GRADE") ? GRADES[question] : (STARS[question] ?? "Decent.\nSCORE: 4");
}

function byId(cases: CaseResult[]): Record<string, CaseResult> {
  return Object.fromEntries(cases.map((c) => [c.id, c]));
}

describe("a model judge", () => {
  it("reads verdicts strictly: unreadable ones are unparsed, never failed", async () => {
    server = await startTestServer({ respond });
    const suite = await loadConfig(copyFixture("judge"), { env: {} });
    const { record } = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url } });
    const cases = byId(record.cases);
    const judge = (id: string) => cases[id].scores?.judge;
    expect(judge("pass")).toMatchObject({ pass: true, score: 1 });
    expect(judge("fail")).toMatchObject({ pass: false, score: 0 });
    expect(judge("fail")?.unparsed).toBeUndefined();
    expect(judge("garbage")).toMatchObject({ pass: false, unparsed: true });
    expect(judge("garbage")?.reason).toBe(
      "judge grader: the judge's answer has no line GRADE: PASS or GRADE: FAIL",
    );
    // A verdict inside a sentence is not a verdict line.
    expect(judge("middle")).toMatchObject({ unparsed: true });
    // The last verdict line decides, bold or not.
    expect(judge("last")).toMatchObject({ pass: true });
    expect(judge("think")).toMatchObject({ pass: true });
    // Out of the 1–5 range: unparsed, not a fail.
    expect(cases.range.scores?.stars).toMatchObject({ pass: false, unparsed: true });
    expect(cases.range.scores?.stars?.reason).toBe("judge grader: the judge's score 7 is outside 1–5");
    expect(cases.fail.scores?.stars).toMatchObject({ pass: false, score: 0.25 });
    expect(cases.pass.scores?.stars).toMatchObject({ pass: true, score: 0.75 });
    // The case passes when both judges pass; when an unreadable verdict is all that stands in the
    // way, whichever judge gave it, the case is unparsed, not failed.
    expect(cases.pass).toMatchObject({ pass: true, unparsed: false });
    expect(cases.garbage).toMatchObject({ pass: false, unparsed: true });
    expect(cases.range).toMatchObject({ pass: false, unparsed: true });
    expect(cases.fail).toMatchObject({ pass: false, unparsed: false });

    const [row] = record.summary;
    expect(row.scorers).toEqual({
      judge: { n: 7, mean: 4 / 7, passRate: 4 / 7, unparsed: 2 },
      stars: { n: 7, mean: (5 * 0.75 + 0.25) / 7, passRate: 5 / 7, unparsed: 1 },
    });
  });

  it("keeps the judge's messages, answer, reasoning and verdict on the case, and asks deterministically", async () => {
    server = await startTestServer({ respond });
    const suite = await loadConfig(copyFixture("judge"), { env: {} });
    const { record } = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url } });
    const think = byId(record.cases).think.scores?.judge;
    expect(think?.calls).toHaveLength(1);
    const [call] = think!.calls!;
    expect(call).toMatchObject({
      provider: "grader",
      output: "Good enough.\nGRADE: PASS",
      reasoning: "weighing it",
      verdict: "pass",
    });
    expect(call.messages[0]).toMatchObject({
      role: "system",
      content: expect.stringContaining("GRADE: PASS"),
    });
    // The inline rubric is a template over the case's variables, framed with the prompt and the response.
    // The response stands between marker lines named after its hash, which it cannot forge.
    expect(call.messages[1].content).toMatch(
      /^\[Criteria\]\nThe response answers q-think well\.\n\n\[Prompt\]\nq-think\n\n\[Response\]\n<<<RESPONSE ([0-9a-f]{16})>>>\nq-think\n<<<END RESPONSE \1>>>$/,
    );
    const stars = byId(record.cases).pass.scores?.stars?.calls?.[0];
    expect(stars?.messages[1]).toEqual({
      role: "user",
      content: 'Rate the response to "q-pass" from 1 to 5.\n\nResponse:\nq-pass',
    });
    expect(stars?.verdict).toBe(4);
    const judged = server.completionRequests().filter((r) => r.body?.model === "judge-model");
    expect(judged).toHaveLength(14);
    // Temperature 0 and the suite's seed, whatever the answering provider's temperature.
    for (const request of judged) expect(request.body).toMatchObject({ temperature: 0, seed: 1 });
  });

  it("caches judge calls like any call: a second run asks nothing", async () => {
    server = await startTestServer({ respond });
    const dir = copyFixture("judge");
    const first = await evaluate({
      suite: await loadConfig(dir, { env: {} }),
      env: { OPENAI_BASE_URL: server.url },
    });
    const asked = server.completionRequests().length;
    expect(asked).toBe(7 + 14);
    const second = await evaluate({
      suite: await loadConfig(dir, { env: {} }),
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(server.completionRequests().length).toBe(asked);
    const strip = (c: CaseResult) =>
      Object.entries(c.scores ?? {}).map(([n, s]) => [n, s.pass, s.score, s.reason]);
    expect(second.record.cases.map(strip)).toEqual(first.record.cases.map(strip));
    expect(second.record.cases[0].scores?.judge.calls?.[0].cached).toBe(true);
  });

  it("records a failed judge call on its case, and counts the judge's price against --budget", async () => {
    server = await startTestServer({
      respond,
      faults: (_i, request) =>
        request.body?.model === "judge-model" && /q-fail/.test(request.rawBody) ? { status: 400 } : null,
    });
    const suite = await loadConfig(copyFixture("judge"), { env: {} });
    const { record } = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url }, cache: "off" });
    const failed = byId(record.cases).fail;
    expect(failed.error).toMatchObject({
      kind: "bad-request",
      message: expect.stringMatching(/^judge grader: /),
    });
    expect(record.summary[0].errors).toBe(1);

    // The answers are free; only the judge costs, so a tiny budget stops the run on judge spend.
    const stopped = await evaluate({
      suite: await loadConfig(copyFixture("judge"), { env: {} }),
      env: { OPENAI_BASE_URL: server.url },
      cache: "off",
      budget: 1e-9,
      concurrency: 1,
    });
    expect(stopped.status).toBe("stopped");
    expect(stopped.record.stopReason).toMatch(/estimated spend reached/);
  });

  it("keeps the judges' tokens on each case and in the summary, priced at the judge's own price", async () => {
    server = await startTestServer({ respond });
    const suite = await loadConfig(copyFixture("judge"), { env: {} });
    const { record } = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url } });
    const pass = byId(record.cases).pass;
    const calls = Object.values(pass.scores ?? {}).flatMap((s) => s.calls ?? []);
    expect(calls).toHaveLength(2);
    // The test server counts words: "The response is correct.\nGRADE: PASS" and "Decent.\nSCORE: 4".
    expect(calls.map((c) => c.usage?.completion)).toEqual([6, 3]);
    expect(pass.judgeTokens).toEqual({
      grader: {
        prompt: calls[0].usage!.prompt + calls[1].usage!.prompt,
        completion: 9,
      },
    });
    // The answer's own tokens stay apart.
    expect(pass.tokens).toEqual({ prompt: 1, completion: 1 });
    const [row] = record.summary;
    const total = { prompt: 0, completion: 0 };
    for (const c of record.cases) {
      total.prompt += c.judgeTokens!.grader.prompt;
      total.completion += c.judgeTokens!.grader.completion;
    }
    expect(row.judgeTokens).toEqual({ grader: total });
    expect(row.tokens).toEqual({ prompt: 7, completion: 7 });
    // The answers are free (no price recorded); the judge costs $1 in and $2 out per million.
    expect(record.config.judges).toEqual([
      { id: "openai:judge-model", label: "grader", price: { input: 1, output: 2 } },
    ]);
    expect(row.cost).toBeCloseTo((total.prompt * 1 + total.completion * 2) / 1e6, 15);
  });

  it("is priced in a dry run", async () => {
    const dir = copyFixture("judge");
    const result = await estimate({ suite: await loadConfig(dir, { env: {} }), env: {} });
    expect(result.rows.map((r) => [r.prompt, r.provider, r.requests])).toEqual([
      ["plain", "openai:test-model", 7],
      ["plain · judge", "grader", 7],
      ["plain · stars", "grader", 7],
    ]);
    const judgeRow = result.rows[1];
    // Priced at the judge's $1/$2 per million: its prompt tokens and an assumed 256 completion tokens a call.
    expect(judgeRow.completionTokens).toBe(7 * 256);
    expect(judgeRow.cost).toBeCloseTo((judgeRow.promptTokens * 1 + judgeRow.completionTokens * 2) / 1e6, 12);
    expect(result.assumptions.join("\n")).toContain("judge calls counted as uncached");
  });

  it("a config names judges by a provider's label, and rejects one it cannot find", async () => {
    const dir = copyFixture("judge");
    const file = join(dir, "promptsmith.yaml");
    const yaml = readFileSync(file, "utf8");
    writeFileSync(file, yaml.replace(/provider: \{ id: "openai:judge-model"[^\n]*\n/, "provider: graderr\n"));
    await expect(loadConfig(dir, { env: {} })).rejects.toMatchObject({
      code: "config-invalid",
      message: expect.stringContaining('no provider is labelled or named "graderr"'),
    });
  });
});
