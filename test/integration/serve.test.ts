import { existsSync } from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompletionRequest, type Provider, ProviderError } from "../../src/providers/types.js";
import { type ServerHandle, serve, startServer } from "../../src/server/index.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Random weights: loading, tokenizing and sampling are real, the text is gibberish.
const MODEL = path.resolve(repoRoot, "../shared/models/llama-2-tiny-random.gguf");

let server: ServerHandle;
let client: OpenAI;
const logLines: string[] = [];

beforeAll(async () => {
  if (!existsSync(MODEL)) {
    throw new Error(
      `test model missing: ${MODEL} (the serve tests need ../shared/models/llama-2-tiny-random.gguf)`,
    );
  }
  // One llama.cpp thread: more spin against each other on a small shared CI box.
  server = await serve({
    model: MODEL,
    port: 0,
    env: { PROMPTSMITH_THREADS: "1" },
    log: (line) => logLines.push(line),
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
});

/** The OpenAI error body every failure answers with. */
interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function errorOf(response: Response): Promise<ErrorBody["error"]> {
  return ((await response.json()) as ErrorBody).error;
}

const messages = [{ role: "user" as const, content: "Say hello." }];
const greedy = { temperature: 0, max_tokens: 10 };

describe("serve with the OpenAI SDK", () => {
  it("lists the model", async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(["llama-2-tiny-random"]);
    expect((await client.models.retrieve("llama-2-tiny-random")).id).toBe("llama-2-tiny-random");
  });

  it("answers chat completions with usage, repeatably at temperature 0", async () => {
    const first = await client.chat.completions.create({ model: "llama-2-tiny-random", messages, ...greedy });
    const second = await client.chat.completions.create({
      model: "llama-2-tiny-random",
      messages,
      ...greedy,
    });
    expect(first.object).toBe("chat.completion");
    expect(first.model).toBe("llama-2-tiny-random");
    expect(first.choices).toHaveLength(1);
    expect(first.choices[0].message.role).toBe("assistant");
    expect(first.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(second.choices[0].message.content).toBe(first.choices[0].message.content);
    expect(first.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(first.usage?.completion_tokens).toBeGreaterThan(0);
    expect(first.usage?.total_tokens).toBe(
      (first.usage?.prompt_tokens ?? 0) + (first.usage?.completion_tokens ?? 0),
    );
  });

  it("returns n choices, mapping seed and max_completion_tokens", async () => {
    const response = await client.chat.completions.create({
      model: "llama-2-tiny-random",
      messages,
      n: 3,
      seed: 5,
      temperature: 1,
      max_completion_tokens: 6,
    });
    expect(response.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(new Set(response.choices.map((choice) => choice.message.content)).size).toBeGreaterThan(1);
    expect(response.usage?.completion_tokens).toBeLessThanOrEqual(18);
  });

  it("streams chat chunks whose text matches the whole answer, then usage", async () => {
    const whole = await client.chat.completions.create({ model: "m", messages, ...greedy });
    const stream = await client.chat.completions.create({
      model: "m",
      messages,
      ...greedy,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      // The first piece of a choice names the role, as OpenAI's do.
      if (chunks === 0) expect(chunk.choices[0].delta.role).toBe("assistant");
      chunks++;
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? "";
        finish = choice.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe("stop");
    expect(usage).toEqual(whole.usage);
  });

  it("answers text completions raw, whole and streamed", async () => {
    const whole = await client.completions.create({ model: "m", prompt: "Once upon a time", ...greedy });
    expect(whole.object).toBe("text_completion");
    expect(whole.choices[0].text.length).toBeGreaterThan(0);
    // The raw prompt is just its tokens (plus BOS): far fewer than a chat template would add.
    const chat = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "Once upon a time" }],
      ...greedy,
    });
    expect(whole.usage?.prompt_tokens).toBeLessThan(chat.usage?.prompt_tokens ?? 0);

    const stream = await client.completions.create({
      model: "m",
      prompt: "Once upon a time",
      ...greedy,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices.map((choice) => choice.text).join("");
    expect(text).toBe(whole.choices[0].text);
  });

  it("answers one choice per prompt when the prompt is a list", async () => {
    const response = await client.completions.create({ model: "m", prompt: ["one", "two"], ...greedy });
    expect(response.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(response.choices.every((choice) => choice.text.length > 0)).toBe(true);
    // Usage adds up the prompts (texts are not compared: prompts run side by side, and batching can flip near-ties).
    const one = await client.completions.create({ model: "m", prompt: "one", ...greedy });
    const two = await client.completions.create({ model: "m", prompt: "two", ...greedy });
    expect(response.usage?.prompt_tokens).toBe(
      (one.usage?.prompt_tokens ?? 0) + (two.usage?.prompt_tokens ?? 0),
    );
  });

  it("turns bad requests into OpenAI-shaped 400s", async () => {
    const missing = client.chat.completions.create({
      model: "m",
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    await expect(missing).rejects.toMatchObject({
      status: 400,
      param: "messages",
      type: "invalid_request_error",
    });
    const wrongType = client.chat.completions.create({
      model: "m",
      messages,
      temperature: "hot" as unknown as number,
    });
    await expect(wrongType).rejects.toMatchObject({ status: 400, param: "temperature" });
    // Range checks come from the provider, still as a 400.
    await expect(
      client.chat.completions.create({ model: "m", messages, temperature: 7 }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe("serve over plain HTTP", () => {
  it("answers invalid JSON with 400 and an OpenAI error body", async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{ not json",
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toEqual({
      error: {
        message: expect.stringContaining("not valid JSON"),
        type: "invalid_request_error",
        param: null,
        code: "invalid_json",
      },
    });
  });

  it("answers unknown routes with 404 and wrong methods with 405", async () => {
    const unknown = await fetch(`${server.url}/v1/nothing-here`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).message).toContain("/v1/nothing-here");
    const wrongMethod = await fetch(`${server.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect((await errorOf(wrongMethod)).type).toBe("invalid_request_error");
  });

  it("refuses a body over the cap with 413 before reading it", async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(64 * 1024 * 1024) },
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect(JSON.parse(body).error.code).toBe("request_too_large");
  });

  it("logs one line per request", () => {
    expect(logLines.some((line) => /^POST \/v1\/chat\/completions 200 \d+ms$/.test(line))).toBe(true);
  });
});

/** A provider scripted by the test: each call waits for `release` unless its signal aborts first. */
function scriptedProvider(answer: (request: CompletionRequest) => Promise<string>) {
  const calls: CompletionRequest[] = [];
  const provider: Provider = {
    id: "scripted",
    label: "scripted-model",
    async complete(request) {
      calls.push(request);
      const text = await answer(request);
      request.onToken?.(text);
      return {
        outputs: Array.from({ length: request.n ?? 1 }, () => text),
        usage: { prompt: 3, completion: 2 },
        latencyMs: 1,
      };
    },
  };
  return { provider, calls };
}

function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () => reject(new ProviderError("aborted", "aborted")), { once: true });
  });
}

describe("startServer over any provider", () => {
  it("aborts the generation when the client goes away", async () => {
    let reached!: () => void;
    const started = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const { provider, calls } = scriptedProvider((request) => {
      reached();
      return untilAborted(request.signal);
    });
    const handle = await startServer({ provider });
    try {
      const controller = new AbortController();
      const pending = fetch(`${handle.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "x", messages }),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      await started;
      controller.abort();
      await pending;
      await expect.poll(() => calls[0].signal?.aborted).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it("reports provider failures as 500 with the message only, bad requests as 400", async () => {
    const { provider } = scriptedProvider(async (request) => {
      if (request.params?.seed === 1) throw new ProviderError("bad-request", "seed 1 is cursed");
      throw new Error("boom");
    });
    const handle = await startServer({ provider, modelName: "scripted" });
    try {
      const post = (body: object) =>
        fetch(`${handle.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(body) });
      const failed = await post({ messages });
      expect(failed.status).toBe(500);
      const body = (await failed.json()) as ErrorBody;
      expect(body.error).toEqual({
        message: "internal error: boom",
        type: "server_error",
        param: null,
        code: null,
      });
      expect(JSON.stringify(body)).not.toContain("at ");
      const bad = await post({ messages, seed: 1 });
      expect(bad.status).toBe(400);
      expect((await errorOf(bad)).message).toBe("seed 1 is cursed");
    } finally {
      await handle.close();
    }
  });

  it("lets in-flight requests finish on close, then stops listening", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const started = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const { provider } = scriptedProvider(async () => {
      reached();
      await gate;
      return "done";
    });
    const handle = await startServer({ provider });
    const pending = fetch(`${handle.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ prompt: "x", n: 2 }),
    });
    await started;
    const closed = handle.close();
    release();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(((await response.json()) as OpenAI.Completion).choices.map((choice) => choice.text)).toEqual([
      "done",
      "done",
    ]);
    await expect(closed).resolves.toBeUndefined();
    await expect(fetch(`${handle.url}/v1/models`)).rejects.toThrow();
  });

  it("aborts what is still running once the grace period is over", async () => {
    let reached!: () => void;
    const started = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const { provider } = scriptedProvider((request) => {
      reached();
      return untilAborted(request.signal);
    });
    const handle = await startServer({ provider, closeGraceMs: 10 });
    const pending = fetch(`${handle.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages }),
    });
    await started;
    await handle.close();
    const response = await pending;
    expect(response.status).toBe(503);
    expect((await errorOf(response)).code).toBe("shutting_down");
  });
});
