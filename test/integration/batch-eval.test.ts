import { afterEach, describe, expect, it } from "vitest";
import { evaluate, loadConfig } from "../../src/index.js";
import { evaluateBatch } from "../../src/runner/batch.js";
import { type BatchTestServer, startBatchTestServer } from "../helpers/batch-test-server.js";
import { copyFixture, priced } from "../helpers/cli.js";
import { scriptedProvider } from "../helpers/scripted-provider.js";

/** Right on a, b and c; wrong on d and e. */
function answer(body: { messages?: unknown[] }): string {
  const last = body.messages?.at(-1) as { content?: unknown } | undefined;
  const q = String(last?.content ?? "");
  const answers: Record<string, string> = {
    "2 + 2": "4",
    "3 * 3": "9",
    "10 / 2": "5",
    "7 - 8": "7",
    "100 + 1": "0",
  };
  return Object.entries(answers).find(([question]) => q.includes(`What is ${question}?`))?.[1] ?? "?";
}

let server: BatchTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("eval --batch", () => {
  it("submits one batch, waits for it, and scores it into the same results as an online run", async () => {
    server = await startBatchTestServer({ respond: (body) => answer(body), progressSteps: 2 });
    const dir = copyFixture("arithmetic");
    const suite = await loadConfig(dir, { env: {} });
    const lines: string[] = [];
    const { record, status } = await evaluateBatch({
      suite,
      env: { OPENAI_BASE_URL: server.url },
      pollIntervalMs: 1,
      onBatchProgress: (line) => lines.push(line),
    });
    expect(status).toBe("complete");
    expect(lines[0]).toMatch(/^submitted 10 requests for openai:test-model as batch \S+/);
    expect(lines.some((l) => l.includes("--batch-id"))).toBe(true);
    expect(record.summary.map((s) => [s.prompt, s.passed, s.total])).toEqual([
      ["plain", 3, 5],
      ["few-shot", 3, 5],
    ]);
    const uploaded = server.requests.filter((r) => r.method === "POST" && r.path === "/v1/files");
    expect(uploaded).toHaveLength(1);
    // No chat completion was sent online.
    expect(server.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);

    // The batch filled the cache: an online run now makes no request at all.
    const before = server.requests.length;
    const online = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url } });
    expect(server.requests.length).toBe(before);
    expect(online.record.summary.map((s) => s.passed)).toEqual([3, 3]);
  });

  it("re-attaches to a submitted batch by id and scores it", async () => {
    server = await startBatchTestServer({ respond: (body) => answer(body), progressSteps: 1 });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const lines: string[] = [];
    // The first process submits and "dies" before the results: simulate by aborting the wait.
    const controller = new AbortController();
    await expect(
      evaluateBatch({
        suite,
        env: { OPENAI_BASE_URL: server.url },
        pollIntervalMs: 1,
        signal: controller.signal,
        onBatchProgress: (line) => {
          lines.push(line);
          if (line.includes("--batch-id")) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ kind: "aborted" });
    const batchId = /--batch-id (\S+)/.exec(lines.join("\n"))![1];

    const fresh = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const { record } = await evaluateBatch({
      suite: fresh,
      env: { OPENAI_BASE_URL: server.url },
      pollIntervalMs: 1,
      batchId,
    });
    expect(record.summary.map((s) => s.passed)).toEqual([3, 3]);
    expect(server.requests.filter((r) => r.method === "POST" && r.path === "/v1/batches")).toHaveLength(1);
  });

  it("judges --budget before submitting: over it nothing is sent, under it the batch runs to the end", async () => {
    server = await startBatchTestServer({ respond: (body) => answer(body), progressSteps: 1 });
    // 10 requests × up to 64 completion tokens at $1000 per 1M tokens: well over $0.10 at any discount.
    const dir = priced(copyFixture("arithmetic"));
    const suite = await loadConfig(dir, { env: {} });
    const run = (budget: number) =>
      evaluateBatch({ suite, env: { OPENAI_BASE_URL: server!.url }, pollIntervalMs: 1, budget });
    await expect(run(0.1)).rejects.toThrow(
      /the batch could cost up to \$0\.\d+ at the Batch API's price, over --budget 0\.1; nothing was submitted/,
    );
    expect(server.requests).toHaveLength(0);

    // Under the budget the whole batch is scored: the spend is not judged again while reading it.
    const { record, status } = await run(10);
    expect(status).toBe("complete");
    expect(record.summary.map((s) => s.total)).toEqual([5, 5]);
  });

  it("refuses --budget with --batch-id and with a provider whose price is unknown", async () => {
    server = await startBatchTestServer({ respond: (body) => answer(body) });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const env = { OPENAI_BASE_URL: server.url };
    await expect(evaluateBatch({ suite, env, budget: 1, batchId: "batch_1" })).rejects.toThrow(
      "--budget cannot limit a batch that is already submitted",
    );
    await expect(evaluateBatch({ suite, env, budget: 1 })).rejects.toThrow(
      "--budget 1 cannot be kept: no price is known for openai:test-model",
    );
    expect(server.requests).toHaveLength(0);
  });

  it("with --resume submits only what the run's journal lacks, even with the cache off", async () => {
    server = await startBatchTestServer({ respond: (body) => answer(body), progressSteps: 1 });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    // An online run stopped part-way, as Ctrl-C would.
    const controller = new AbortController();
    let done = 0;
    const first = await evaluate({
      suite,
      env: {},
      cache: "off",
      concurrency: 1,
      signal: controller.signal,
      createProvider: scriptedProvider(() => "4"),
      onResult: () => {
        if (++done === 4) controller.abort();
      },
    });
    expect(first.status).toBe("interrupted");

    const lines: string[] = [];
    const { record, status } = await evaluateBatch({
      suite,
      env: { OPENAI_BASE_URL: server.url },
      cache: "off",
      resume: true,
      pollIntervalMs: 1,
      retainCases: "all",
      onBatchProgress: (line) => lines.push(line),
    });
    expect(lines[0]).toMatch(new RegExp(`^submitted ${10 - done} requests for openai:test-model`));
    expect(status).toBe("complete");
    expect(record.cases).toHaveLength(10);
    expect(server.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);
  });

  it("run again after it was stopped, attaches to the batch already submitted instead of paying twice", async () => {
    server = await startBatchTestServer({ respond: (body) => answer(body), progressSteps: 1 });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const env = { OPENAI_BASE_URL: server.url };
    const created = () =>
      server!.requests.filter((r) => r.method === "POST" && r.path === "/v1/batches").length;
    const controller = new AbortController();
    await expect(
      evaluateBatch({
        suite,
        env,
        cache: "off",
        pollIntervalMs: 1,
        signal: controller.signal,
        onBatchProgress: (line) => {
          if (line.includes("--batch-id")) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ kind: "aborted" });
    expect(created()).toBe(1);

    const lines: string[] = [];
    const again = await evaluateBatch({
      suite,
      env,
      cache: "off",
      pollIntervalMs: 1,
      onBatchProgress: (line) => lines.push(line),
    });
    expect(lines[0]).toMatch(
      /^attaching to batch \S+ \(10 requests for openai:test-model, submitted .+ by an earlier run and not read yet\)/,
    );
    expect(created()).toBe(1);
    expect(again.record.summary.map((s) => s.passed)).toEqual([3, 3]);

    // Once read and scored it is done with: the next --batch (no cache to answer) submits anew,
    // and so does one with another selection.
    await evaluateBatch({ suite, env, cache: "off", pollIntervalMs: 1 });
    expect(created()).toBe(2);
    await evaluateBatch({ suite, env, cache: "off", pollIntervalMs: 1, limit: 2 });
    expect(created()).toBe(3);
  });
});
