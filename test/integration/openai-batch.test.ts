import { getEventListeners } from "node:events";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { isUserError } from "../../src/errors.js";
import { renderCompletionPrompt } from "../../src/providers/openai.js";
import {
  type BatchClientOptions,
  type BatchOutcome,
  type BatchProgress,
  type BatchRequest,
  createBatchClient,
} from "../../src/providers/openai-batch.js";
import { isProviderError, type ProviderError, type ProviderSpec } from "../../src/providers/types.js";
import {
  type BatchTestServer,
  type BatchTestServerOptions,
  type InputLine,
  startBatchTestServer,
} from "../helpers/batch-test-server.js";

const KEY = "sk-test-secret-4f9a2c";
let server: BatchTestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: BatchTestServerOptions = {}): Promise<BatchTestServer> {
  server = await startBatchTestServer(options);
  return server;
}

/** A spec for the loopback server; SDK retries off so scripted failures surface at once. */
function specFor(target: BatchTestServer, extra: Partial<ProviderSpec> = {}): ProviderSpec {
  return { id: "openai:test-model", label: "test", baseURL: target.url, params: {}, maxRetries: 0, ...extra };
}

function clientFor(
  target: BatchTestServer,
  extra: Partial<ProviderSpec> = {},
  options: BatchClientOptions = {},
) {
  return createBatchClient(specFor(target, extra), { env: { OPENAI_API_KEY: KEY }, ...options });
}

function requestsOf(count: number, extra: (i: number) => Partial<BatchRequest> = () => ({})): BatchRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    customId: `case-${i}`,
    messages: [
      { role: "system" as const, content: "be brief" },
      { role: "user" as const, content: `question ${i}` },
    ],
    params: {},
    ...extra(i),
  }));
}

async function collect(outcomes: AsyncIterable<BatchOutcome>): Promise<Map<string, BatchOutcome>> {
  const byId = new Map<string, BatchOutcome>();
  for await (const outcome of outcomes) {
    expect(byId.has(outcome.customId), `outcome for ${outcome.customId} given twice`).toBe(false);
    byId.set(outcome.customId, outcome);
  }
  return byId;
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isProviderError(error)) throw new Error(`expected a ProviderError, got ${inspect(error)}`);
  return error;
}

/** The JSONL lines of every uploaded file, in upload order. */
function uploadedLines(target: BatchTestServer): InputLine[][] {
  return target.requests
    .filter((request) => request.upload)
    .map((request) =>
      request
        .upload!.content.split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as InputLine),
    );
}

const fast = { sleep: async () => {} };

describe("openai batch: round trip", () => {
  it("submits ~50 chat requests as JSONL, reports progress and reads every outcome back", async () => {
    const target = await serve({ progressSteps: 4 });
    const client = clientFor(target, { params: { seed: 7, temperature: 1, n: 5 } });
    const requests = requestsOf(50, (i) => ({
      params: { temperature: 0.2, max_tokens: 16 },
      ...(i % 10 === 0 ? { n: 3 } : { n: 1 }),
    }));

    const submitted = await client.submit(requests, { metadata: { suite: "smoke" } });
    expect(submitted.batchIds).toHaveLength(1);
    expect(submitted.batches[0].requests).toBe(50);

    const upload = target.requests.find((request) => request.upload)!.upload!;
    expect(upload.fields.purpose).toBe("batch");
    expect(upload.filename).toMatch(/\.jsonl$/);
    const [lines] = uploadedLines(target);
    expect(lines.map((line) => line.custom_id)).toEqual(requests.map((r) => r.customId));
    for (const [i, line] of lines.entries()) {
      expect(line.method).toBe("POST");
      expect(line.url).toBe("/v1/chat/completions");
      expect(line.body).toEqual({
        model: "test-model",
        messages: requests[i].messages,
        seed: 7,
        temperature: 0.2,
        max_tokens: 16,
        ...(i % 10 === 0 ? { n: 3 } : {}),
      });
    }
    const create = target.requests.find((r) => r.method === "POST" && r.path === "/v1/batches");
    expect(create?.body).toEqual({
      input_file_id: submitted.batches[0].inputFileId,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { suite: "smoke" },
    });
    expect(create?.headers.authorization).toBe(`Bearer ${KEY}`);

    const progress: BatchProgress[] = [];
    const slept: number[] = [];
    const status = await client.wait(submitted.batchIds[0], {
      pollIntervalMs: 1234,
      onProgress: (p) => progress.push(p),
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    expect(status.status).toBe("completed");
    expect(status.requestCounts).toEqual({ completed: 50, failed: 0, total: 50 });
    expect(progress.map((p) => p.status)).toEqual(["in_progress", "in_progress", "finalizing", "completed"]);
    expect(progress.map((p) => p.completed)).toEqual([12, 25, 37, 50]);
    expect(progress.every((p) => p.total === 50)).toBe(true);
    expect(slept).toEqual([1234, 1234, 1234]);

    const outcomes = await collect(client.results(submitted.batchIds[0]));
    expect(outcomes.size).toBe(50);
    const first = outcomes.get("case-0")!;
    expect(first.error).toBeUndefined();
    expect(first.response).toEqual({
      outputs: ["question 0", "question 0", "question 0"],
      usage: { prompt: 4, completion: 6 },
      latencyMs: 0,
      model: "test-model",
    });
    expect(outcomes.get("case-7")!.response?.outputs).toEqual(["question 7"]);
    expect(outcomes.get("case-49")!.response?.usage).toEqual({ prompt: 4, completion: 2 });
  });

  it("uses /v1/completions with a rendered prompt and reads choice text", async () => {
    const target = await serve({ progressSteps: 1, respond: (body) => [`A:${String(body.prompt)}`, "B"] });
    const client = clientFor(target, { completions: true });
    const requests = requestsOf(6, (i) => ({ n: i === 0 ? 2 : 1, params: { stop: ["\n"] } }));

    const { batchIds, batches } = await client.submit(requests);
    expect(batches[0].endpoint).toBe("/v1/completions");
    const [lines] = uploadedLines(target);
    expect(lines[0]).toMatchObject({ custom_id: "case-0", url: "/v1/completions" });
    expect(lines[0].body).toEqual({
      model: "test-model",
      prompt: renderCompletionPrompt(requests[0].messages),
      stop: ["\n"],
      n: 2,
    });
    expect(lines[0].body).not.toHaveProperty("messages");
    expect(target.batches.get(batchIds[0])?.endpoint).toBe("/v1/completions");

    await client.wait(batchIds[0], fast);
    const outcomes = await collect(client.results(batchIds[0]));
    const prompt = renderCompletionPrompt(requests[0].messages);
    expect(outcomes.get("case-0")!.response?.outputs).toEqual([`A:${prompt}`, "B"]);
    expect(outcomes.get("case-5")!.response?.outputs).toEqual([
      `A:${renderCompletionPrompt(requests[5].messages)}`,
    ]);
  });

  it("puts chat and completions requests of one submit into one batch per endpoint", async () => {
    const target = await serve({ progressSteps: 1 });
    const client = clientFor(target);
    const { batches } = await client.submit(requestsOf(5, (i) => ({ completions: i % 2 === 1 })));
    expect(batches.map((b) => [b.endpoint, b.requests])).toEqual([
      ["/v1/chat/completions", 3],
      ["/v1/completions", 2],
    ]);
    expect(uploadedLines(target).map((lines) => lines.map((line) => line.custom_id))).toEqual([
      ["case-0", "case-2", "case-4"],
      ["case-1", "case-3"],
    ]);
    expect(uploadedLines(target).map((lines) => lines.map((line) => line.url))).toEqual([
      ["/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions"],
      ["/v1/completions", "/v1/completions"],
    ]);
  });
});

describe("openai batch: failures", () => {
  it("maps per-request error lines to the online provider's kinds", async () => {
    const scripted: Record<string, { status: number; message: string; file?: "output" | "error" }> = {
      "case-1": { status: 429, message: "Rate limit reached" },
      "case-2": { status: 401, message: "Invalid auth" },
      "case-3": { status: 500, message: "The server had an error" },
      "case-4": { status: 400, message: "max_tokens is too large", file: "output" },
      "case-5": { status: 404, message: "The model does not exist" },
    };
    const target = await serve({
      progressSteps: 1,
      respond: (_body, customId) => scripted[customId] ?? "fine",
    });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(7));
    const status = await client.wait(batchIds[0], fast);
    expect(status.requestCounts).toEqual({ completed: 2, failed: 5, total: 7 });
    expect(status.errorFileId).toBeDefined();

    const outcomes = await collect(client.results(batchIds[0]));
    expect(outcomes.size).toBe(7);
    const kinds = Object.fromEntries([...outcomes].map(([id, o]) => [id, o.error?.kind ?? "ok"]));
    expect(kinds).toEqual({
      "case-0": "ok",
      "case-1": "rate-limit",
      "case-2": "auth",
      "case-3": "server",
      "case-4": "bad-request",
      "case-5": "not-found",
      "case-6": "ok",
    });
    expect(outcomes.get("case-4")!.error?.message).toContain("max_tokens is too large");
    expect(outcomes.get("case-4")!.response).toBeUndefined();
    expect(outcomes.get("case-0")!.response?.outputs).toEqual(["fine"]);
  });

  it("reports the requests an expired batch never processed, with and without the ids at hand", async () => {
    const target = await serve({ progressSteps: 2, expireAfter: 4 });
    const client = clientFor(target);
    const requests = requestsOf(10);
    const { batchIds, batches } = await client.submit(requests);
    const status = await client.wait(batchIds[0], fast);
    expect(status.status).toBe("expired");

    const check = (outcomes: Map<string, BatchOutcome>) => {
      expect([...outcomes.keys()].sort()).toEqual(requests.map((r) => r.customId).sort());
      for (const [i, request] of requests.entries()) {
        const outcome = outcomes.get(request.customId)!;
        if (i < 4) {
          expect(outcome.response?.outputs).toEqual([`question ${i}`]);
        } else {
          expect(outcome.response).toBeUndefined();
          expect(outcome.error).toEqual({
            kind: "server",
            message: "not processed before the batch expired",
          });
        }
      }
    };
    check(await collect(client.results(batchIds[0], { customIds: requests.map((r) => r.customId) })));
    const inputReads = () =>
      target.requests.filter((r) => r.path === `/v1/files/${batches[0].inputFileId}/content`).length;
    expect(inputReads()).toBe(0);

    // Without the ids, the client learns them from the batch's input file.
    check(await collect(client.results(batchIds[0])));
    expect(inputReads()).toBe(1);
  });

  it("turns a batch that failed validation into a ProviderError carrying the server's reasons", async () => {
    const target = await serve({ failBatch: true });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(3));
    const status = await client.wait(batchIds[0], fast);
    expect(status.status).toBe("failed");
    expect(status.errors).toEqual([
      "line 1: Model 'test-model' is not supported by the batch API. (body.model)",
    ]);

    const error = await failure(collect(client.results(batchIds[0])));
    expect(error.kind).toBe("bad-request");
    expect(error.fatal).toBe(true);
    expect(error.message).toContain(batchIds[0]);
    expect(error.message).toContain("line 1: Model 'test-model' is not supported by the batch API.");
  });

  it("downloads a result file again when the connection breaks, reading on past the lines it had", async () => {
    const target = await serve({ progressSteps: 1, cutDownloads: 2 });
    const client = clientFor(target);
    const requests = requestsOf(40);
    const { batchIds } = await client.submit(requests);
    await client.wait(batchIds[0], fast);
    const pauses: number[] = [];
    const sleep = async (ms: number) => {
      pauses.push(ms);
    };
    const outcomes = await collect(client.results(batchIds[0], { sleep }));
    expect([...outcomes.keys()]).toEqual(requests.map((r) => r.customId));
    expect(
      [...outcomes.values()].every((o) => o.response?.outputs[0] === `question ${o.customId.slice(5)}`),
    ).toBe(true);
    const { outputFileId } = target.batches.get(batchIds[0])!;
    expect(target.requests.filter((r) => r.path === `/v1/files/${outputFileId}/content`)).toHaveLength(3);
    // The second try brought no new line, so it counts on from the first: 1 s, then 2 s.
    expect(pauses).toEqual([1000, 2000]);
  });

  it("gives up on a download that keeps breaking, after handing out what it read", async () => {
    const target = await serve({ progressSteps: 1, cutDownloads: 100 });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(40));
    await client.wait(batchIds[0], fast);
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const outcome of client.results(batchIds[0], fast)) seen.push(outcome.customId);
      })(),
    );
    expect(error.kind).toBe("network");
    expect(error.message).toMatch(/broke mid-answer/);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(40);
    const { outputFileId } = target.batches.get(batchIds[0])!;
    expect(target.requests.filter((r) => r.path === `/v1/files/${outputFileId}/content`)).toHaveLength(5);
  });

  it("refuses to read the results of a batch that is still running", async () => {
    const target = await serve({ progressSteps: 5 });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(2));
    const error = await failure(collect(client.results(batchIds[0])));
    expect(error.message).toMatch(/still in_progress; wait for it/);
  });

  it("names an unknown batch id as not found", async () => {
    const target = await serve();
    const error = await failure(clientFor(target).wait("batch_nope", fast));
    expect(error.kind).toBe("not-found");
    expect(error.message).toContain('no batch "batch_nope"');
  });

  it("keeps waiting through a few failed polls", async () => {
    const target = await serve({ progressSteps: 2, failPolls: 2 });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(3));
    const progress: string[] = [];
    const status = await client.wait(batchIds[0], { ...fast, onProgress: (p) => progress.push(p.status) });
    expect(status.status).toBe("completed");
    expect(progress).toEqual(["in_progress", "completed"]);
    const polls = target.requests.filter(
      (r) => r.method === "GET" && r.path === `/v1/batches/${batchIds[0]}`,
    );
    expect(polls).toHaveLength(4);
  });

  it("never puts a rejected API key in an error, though the endpoint echoes it", async () => {
    const secret = "sk-live-very-secret-0042";
    const target = await serve({ apiKey: KEY });
    // Wrong key: the server's 401 echoes it back.
    const wrong = createBatchClient(specFor(target), { env: { OPENAI_API_KEY: secret } });
    const error = await failure(wrong.submit(requestsOf(2)));
    expect(error.kind).toBe("auth");
    expect(target.requests.at(-1)?.headers.authorization).toBe(`Bearer ${secret}`);
    expect(error.message).not.toContain(secret);
    expect(inspect(error, { depth: 5 })).not.toContain(secret);

    const unknown = await failure(wrong.wait("batch_1", fast));
    expect(unknown.kind).toBe("auth");
    expect(inspect(unknown, { depth: 5 })).not.toContain(secret);
  });

  it("redacts the key when a result line quotes it", async () => {
    const target = await serve({
      progressSteps: 1,
      respond: () => ({ status: 400, message: `bad request made with key ${KEY} today` }),
    });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(1));
    await client.wait(batchIds[0], fast);
    const outcomes = await collect(client.results(batchIds[0]));
    const message = outcomes.get("case-0")!.error!.message;
    expect(message).toContain("bad request made with key *** today");
    expect(message).not.toContain(KEY);
  });
});

describe("openai batch: ids, re-attaching, aborting, splitting", () => {
  it("lets a second client wait for and read a batch given only its id", async () => {
    const target = await serve({ progressSteps: 3 });
    const { batchIds } = await clientFor(target).submit(requestsOf(12));
    const savedId = batchIds[0];

    const later = clientFor(target);
    const status = await later.wait(savedId, fast);
    expect(status.status).toBe("completed");
    const outcomes = await collect(later.results(savedId));
    expect([...outcomes.keys()]).toEqual(requestsOf(12).map((r) => r.customId));
    expect(outcomes.get("case-11")!.response?.outputs).toEqual(["question 11"]);
  });

  it("stops waiting when the signal aborts, leaving the batch running", async () => {
    const target = await serve({ progressSteps: 10 });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(4));
    const controller = new AbortController();
    const seen: string[] = [];
    // A real timer of a minute: only the abort can end this wait within the test's timeout.
    const error = await failure(
      client.wait(batchIds[0], {
        pollIntervalMs: 60_000,
        onProgress: (p) => {
          seen.push(p.status);
          setImmediate(() => controller.abort());
        },
        signal: controller.signal,
      }),
    );
    expect(error.kind).toBe("aborted");
    expect(error.message).toContain(batchIds[0]);
    expect(seen).toEqual(["in_progress"]);
    expect(target.batches.get(batchIds[0])?.status).toBe("in_progress");
    expect(target.requests.some((r) => r.path.endsWith("/cancel"))).toBe(false);

    const already = await failure(client.wait(batchIds[0], { ...fast, signal: AbortSignal.abort() }));
    expect(already.kind).toBe("aborted");
  });

  it("cancels a batch and reports its unprocessed requests as aborted", async () => {
    const target = await serve({ progressSteps: 4 });
    const client = clientFor(target);
    const { batchIds } = await client.submit(requestsOf(8));
    const polled: number[] = [];
    const controller = new AbortController();
    await failure(
      client.wait(batchIds[0], {
        ...fast,
        signal: controller.signal,
        onProgress: (p) => {
          polled.push(p.completed);
          controller.abort();
        },
      }),
    );
    expect(polled).toEqual([2]);
    const cancelling = await client.cancel(batchIds[0]);
    expect(cancelling.status).toBe("cancelling");
    expect((await client.wait(batchIds[0], fast)).status).toBe("cancelled");
    const outcomes = await collect(client.results(batchIds[0]));
    expect(outcomes.size).toBe(8);
    expect(outcomes.get("case-1")!.response?.outputs).toEqual(["question 1"]);
    expect(outcomes.get("case-2")!.error).toEqual({
      kind: "aborted",
      message: "not processed: the batch was cancelled",
    });
  });

  it("splits requests over several batches above the per-file request limit", async () => {
    const target = await serve({ progressSteps: 1 });
    const client = clientFor(target, {}, { maxRequestsPerBatch: 10 });
    const requests = requestsOf(25);
    const { batchIds, batches } = await client.submit(requests);
    expect(batchIds).toHaveLength(3);
    expect(new Set(batchIds).size).toBe(3);
    expect(batches.map((b) => b.requests)).toEqual([10, 10, 5]);
    expect(
      uploadedLines(target)
        .flat()
        .map((line) => line.custom_id),
    ).toEqual(requests.map((r) => r.customId));
    expect(batches.map((b) => target.batches.get(b.batchId)?.lines.length)).toEqual([10, 10, 5]);

    const all = new Map<string, BatchOutcome>();
    for (const id of batchIds) {
      await client.wait(id, fast);
      for (const [customId, outcome] of await collect(client.results(id))) all.set(customId, outcome);
    }
    expect(all.size).toBe(25);
    expect([...all.values()].every((o) => o.response !== undefined)).toBe(true);
  });

  it("uploads each file as soon as it is full, while the requests are still streaming in", async () => {
    const target = await serve({ progressSteps: 1 });
    const client = clientFor(target, {}, { maxRequestsPerBatch: 10 });
    const pulledWhenCreated: number[] = [];
    let pulled = 0;
    async function* stream() {
      for (const request of requestsOf(25)) {
        // Batches created so far, each noted with how many requests had been pulled by then.
        const created = target.requests.filter((r) => r.method === "POST" && r.path === "/v1/batches").length;
        while (pulledWhenCreated.length < created) pulledWhenCreated.push(pulled);
        pulled++;
        yield request;
      }
    }
    const { batches } = await client.submit(stream());
    expect(batches.map((b) => b.requests)).toEqual([10, 10, 5]);
    // The first two files went up when the 11th and the 21st request arrived, not at the end.
    expect(pulledWhenCreated).toEqual([11, 21]);
  });

  it("splits by bytes too, and refuses a single request larger than a file may be", async () => {
    const target = await serve({ progressSteps: 1 });
    const requests = requestsOf(6);
    const lineBytes = Buffer.byteLength(
      `${JSON.stringify({ custom_id: "case-0", method: "POST", url: "/v1/chat/completions", body: { model: "test-model", messages: requests[0].messages } })}\n`,
    );
    const client = clientFor(target, {}, { maxBytesPerBatch: lineBytes * 2 + 1 });
    const { batches } = await client.submit(requests);
    expect(batches.map((b) => b.requests)).toEqual([2, 2, 2]);

    const tiny = clientFor(target, {}, { maxBytesPerBatch: 50 });
    const error = await tiny.submit(requestsOf(1)).catch((caught: unknown) => caught);
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toMatch(/"case-0" is \d+ bytes, over the 50-byte limit/);
  });

  it("rejects duplicate custom ids before sending anything", async () => {
    const target = await serve();
    const requests = requestsOf(3);
    requests[2].customId = "case-0";
    await expect(clientFor(target).submit(requests)).rejects.toThrow('duplicate batch custom id "case-0"');
    expect(target.requests).toHaveLength(0);
  });

  it("writes each batch file to disk before uploading it, and leaves none behind, whether it succeeds or fails", async () => {
    const target = await serve({ progressSteps: 1 });
    const spoolDir = mkdtempSync(join(tmpdir(), "promptsmith-spool-test-"));
    try {
      const client = clientFor(target, {}, { maxRequestsPerBatch: 10, spoolDir });
      const requests = requestsOf(25);
      let midway: string[] = [];
      async function* watched() {
        for (const [i, request] of requests.entries()) {
          if (i === 15) midway = readdirSync(spoolDir, { recursive: true }) as string[];
          yield request;
        }
      }
      await client.submit(watched());
      // The first file is uploaded; the second is on disk, filling.
      expect(midway).toEqual([
        expect.stringMatching(/^promptsmith-batch-/),
        expect.stringMatching(/part-2\.jsonl$/),
      ]);
      expect(
        uploadedLines(target)
          .flat()
          .map((line) => line.custom_id),
      ).toEqual(requests.map((r) => r.customId));
      expect(readdirSync(spoolDir)).toEqual([]);

      // One batch is made, then the requests break off with a second file half written.
      async function* failing() {
        yield* requestsOf(15);
        throw new Error("the requests broke off");
      }
      await expect(client.submit(failing())).rejects.toThrow("the requests broke off");
      expect(readdirSync(spoolDir)).toEqual([]);

      // A place that cannot hold batch files is the user's to change, not a bug.
      const aFile = join(spoolDir, "a-file");
      writeFileSync(aFile, "");
      const nowhere = clientFor(target, {}, { spoolDir: aFile });
      await expect(nowhere.submit(requestsOf(2))).rejects.toMatchObject({
        code: "file-unwritable",
        message: expect.stringContaining("cannot write batch files here"),
      });
    } finally {
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  // The SDK never removes the abort listener it adds to a request's signal: a batch polled for a day
  // would leave thousands on the caller's signal.
  it("leaves at most one listener on the caller's signal, however many calls it made", async () => {
    const target = await serve({ progressSteps: 25 });
    const client = clientFor(target, {}, { maxRequestsPerBatch: 5 });
    const controller = new AbortController();
    const { batchIds } = await client.submit(requestsOf(20), { signal: controller.signal });
    expect(batchIds).toHaveLength(4);
    for (const id of batchIds) {
      await client.wait(id, { ...fast, signal: controller.signal });
      await collect(client.results(id, { signal: controller.signal }));
    }
    expect(target.requests.length).toBeGreaterThan(100);
    expect(getEventListeners(controller.signal, "abort").length).toBeLessThanOrEqual(1);
  });

  it("refuses a provider that is not openai:<model>", () => {
    let error: unknown;
    try {
      createBatchClient({ id: "echo", label: "echo", params: {} }, { env: {} });
    } catch (caught) {
      error = caught;
    }
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toContain("cannot run as a batch");
  });
});
