import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { evaluateBatch } from "../../src/batch/batch.js";
import { evaluate, isUserError, loadConfig } from "../../src/index.js";
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

/** Runs of the arithmetic fixture (10 requests) against `target`, 4 requests to a batch file; `lines` collects their progress. */
async function inFilesOfFour(target: BatchTestServer) {
  const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
  const lines: string[] = [];
  const run = () =>
    evaluateBatch({
      suite,
      env: { OPENAI_BASE_URL: target.url },
      pollIntervalMs: 1,
      maxRequestsPerBatch: 4,
      onBatchProgress: (line) => lines.push(line),
    });
  return { run, lines };
}

let server: BatchTestServer | undefined;

/**
 * A batch server that makes batch 1 (4 requests) and then answers 503 to the next upload and to
 * the cancel, so batch 1 stays on the server, paid for; and the run that failed against it.
 */
async function cutOffAfterBatchOne() {
  server = await startBatchTestServer({
    respond: (body) => answer(body),
    progressSteps: 1,
    outage: { afterBatches: 1, requests: 2 },
  });
  const cutOff = await inFilesOfFour(server);
  await expect(cutOff.run()).rejects.toMatchObject({ code: "provider-unreachable" });
  return { ...cutOff, target: server };
}

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

  it("sends a request that several cases share once, and scores every case with its answer", async () => {
    server = await startBatchTestServer({ respond: (body) => answer(body), progressSteps: 1 });
    const dir = copyFixture("arithmetic");
    // Two rows repeat earlier questions under other ids, as real datasets do.
    appendFileSync(
      join(dir, "data/test.jsonl"),
      '{"id": "a2", "question": "What is 2 + 2?", "answer": 4}\n{"id": "d2", "question": "What is 7 - 8?", "answer": -1}\n',
    );
    const suite = await loadConfig(dir, { env: {} });
    const lines: string[] = [];
    const { record } = await evaluateBatch({
      suite,
      env: { OPENAI_BASE_URL: server.url },
      filterPrompt: ["plain"],
      pollIntervalMs: 1,
      retainCases: "all",
      onBatchProgress: (line) => lines.push(line),
    });
    expect(lines[0]).toMatch(/^submitted 5 requests /);
    expect([...server.batches.values()].map((b) => b.lines.length)).toEqual([5]);
    expect(server.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);
    const scored = Object.fromEntries(record.cases.map((c) => [c.id, c.pass]));
    expect(scored).toEqual({ a: true, b: true, c: true, d: false, e: false, a2: true, d2: false });
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

  it("after an outage mid-submit, takes over the batches made and submits only the requests they lack", async () => {
    const { run, lines, target } = await cutOffAfterBatchOne();
    expect([...target.batches.keys()]).toEqual(["batch_1"]);

    const { record, status } = await run();
    expect(status).toBe("complete");
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^attaching to batch batch_1 \(4 requests for openai:test-model, made .+ by an earlier run that stopped while submitting\); submitting the requests they lack$/,
        ),
        "submitted 6 requests for openai:test-model as batch batch_2, batch_3",
      ]),
    );
    // Every request went into exactly one batch, and none was sent online.
    const ids = [...target.batches.values()].flatMap((b) => b.lines.map((line) => line.custom_id));
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect(target.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);
    expect(record.summary.map((s) => [s.passed, s.total, s.errors])).toEqual([
      [3, 5, 0],
      [3, 5, 0],
    ]);
  });

  it("a batch gone from the server is let go: taken over or attached to, the run after goes on without it", async () => {
    const { run, lines, target } = await cutOffAfterBatchOne();
    // Batch 1 of the cut-off submission expires before the next run takes it over.
    target.batches.delete("batch_1");
    const { status } = await run();
    expect(status).toBe("complete");
    expect(lines).toEqual(
      expect.arrayContaining([
        "batch batch_1 is no longer on the server: its requests are submitted again",
        "submitted 10 requests for openai:test-model as batch batch_2, batch_3, batch_4",
      ]),
    );

    // A whole submission not read yet (Ctrl-C while waiting), gone before the next run attaches.
    target.batches.clear();
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const env = { OPENAI_BASE_URL: target.url };
    const controller = new AbortController();
    const submitted: string[] = [];
    const attempt = (signal?: AbortSignal) =>
      evaluateBatch({
        suite,
        env,
        pollIntervalMs: 1,
        signal,
        onBatchProgress: (line) => {
          if (!line.startsWith("submitted")) return;
          submitted.push(line);
          controller.abort();
        },
      });
    await expect(attempt(controller.signal)).rejects.toMatchObject({ kind: "aborted" });
    const [gone] = [...target.batches.keys()];
    target.batches.clear();
    await expect(attempt()).rejects.toMatchObject({
      code: "provider-invalid",
      message: expect.stringMatching(
        new RegExp(`^provider openai:test-model: batch ${gone} is no longer on the server`),
      ),
      hint: "run the same command again to go on without it",
    });
    expect((await attempt()).status).toBe("complete");
    expect(submitted).toHaveLength(2);
    expect(submitted[1]).toMatch(/^submitted 10 requests for openai:test-model as batch \S+$/);
    expect(submitted[1]).not.toMatch(new RegExp(`\\b${gone}\\b`));
  });

  it("a batch cancelled by a failed submit is not attached to: the next run submits everything anew", async () => {
    // The second upload meets a 503; the cancel of batch 1 goes through.
    server = await startBatchTestServer({ progressSteps: 1, outage: { afterBatches: 1, requests: 1 } });
    const { run, lines } = await inFilesOfFour(server);
    await expect(run()).rejects.toMatchObject({ code: "provider-unreachable" });
    expect(server.batches.get("batch_1")?.status).toBe("cancelling");
    await run();
    expect(lines[0]).toBe("submitted 10 requests for openai:test-model as batch batch_2, batch_3, batch_4");
  });

  it("reports a batch the server failed as a user error, and the next run submits anew", async () => {
    server = await startBatchTestServer({ failBatch: true, progressSteps: 1 });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const run = () => evaluateBatch({ suite, env: { OPENAI_BASE_URL: server!.url }, pollIntervalMs: 1 });
    const error = await run().catch((caught: unknown) => caught);
    expect(isUserError(error)).toBe(true);
    expect(error).toMatchObject({ code: "provider-invalid" });
    expect((error as Error).message).toMatch(
      /^provider openai:test-model: batch batch_1 failed: line 1: Model 'test-model' is not supported by the batch API/,
    );
    // Attaching to the failed batch again would fail the same way for ever.
    await expect(run()).rejects.toThrow(/batch batch_2 failed/);
    expect(server.requests.filter((r) => r.method === "POST" && r.path === "/v1/batches")).toHaveLength(2);
  });

  it("says how to come back to a batch it stopped waiting for: on Ctrl-C, and when the endpoint goes away", async () => {
    server = await startBatchTestServer({ failPolls: 100 });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const env = { OPENAI_BASE_URL: server.url };
    const unreachable = await evaluateBatch({ suite, env, pollIntervalMs: 1, sleep: async () => {} }).catch(
      (caught: unknown) => caught,
    );
    expect(isUserError(unreachable)).toBe(true);
    expect(unreachable).toMatchObject({
      code: "provider-unreachable",
      hint: "the batch keeps running on the server; run the same command again to attach to it, or use --batch-id batch_1",
    });

    const controller = new AbortController();
    const stopped = await evaluateBatch({
      suite,
      env,
      pollIntervalMs: 1,
      signal: controller.signal,
      onBatchProgress: (line) => {
        if (line.startsWith("attaching")) controller.abort();
      },
    }).catch((caught: unknown) => caught);
    expect(stopped).toMatchObject({
      kind: "aborted",
      message:
        "stopped waiting for batch batch_1: it keeps running on the server; run the same command again to attach to it, or use --batch-id batch_1",
    });
    expect(server.requests.filter((r) => r.method === "POST" && r.path === "/v1/batches")).toHaveLength(1);
  });

  it("prints a progress line when the batch moves, not at every poll", async () => {
    server = await startBatchTestServer({ progressSteps: 1_000_000 });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const lines: string[] = [];
    const controller = new AbortController();
    let polls = 0;
    await evaluateBatch({
      suite,
      env: { OPENAI_BASE_URL: server.url },
      signal: controller.signal,
      onBatchProgress: (line) => lines.push(line),
      sleep: async () => {
        if (++polls === 30) controller.abort();
      },
    }).catch(() => undefined);
    expect(
      server.requests.filter((r) => r.method === "GET" && r.path === "/v1/batches/batch_1"),
    ).toHaveLength(30);
    expect(lines.filter((line) => line.startsWith("batch batch_1:"))).toEqual([
      "batch batch_1: in_progress 0/10",
    ]);
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
      /^attaching to batch \S+ \(not read yet; submitted .+ by an earlier run, 10 requests for openai:test-model in all\)/,
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
