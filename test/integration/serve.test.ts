import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CompletionRequest, type Provider, ProviderError } from "../../src/providers/types.js";
import { type ServerHandle, serve, startServer } from "../../src/server/index.js";
import { parseExposition, sampleValue } from "../helpers/prometheus.js";

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
  await server.ready;
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
    expect(finish).toBe(whole.choices[0].finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it('says "length" when max_tokens cut the answer off and "stop" when a stop sequence ended it', async () => {
    const cut = await client.completions.create({ model: "m", prompt: "Once upon a time", ...greedy });
    // Random weights seldom pick the end-of-text token: the answer runs to max_tokens.
    expect(cut.usage?.completion_tokens).toBe(greedy.max_tokens);
    expect(cut.choices[0].finish_reason).toBe("length");
    // A stop sequence taken from the middle of that (repeatable, greedy) answer ends it before its end.
    const stop = cut.choices[0].text.slice(4, 8);
    const stopped = await client.completions.create({
      model: "m",
      prompt: "Once upon a time",
      ...greedy,
      stop,
    });
    expect(stopped.choices[0].finish_reason).toBe("stop");
    expect(cut.choices[0].text.startsWith(stopped.choices[0].text)).toBe(true);
    expect(stopped.usage?.completion_tokens).toBeLessThan(greedy.max_tokens);
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

  it("logs one line per request, with its tokens", () => {
    expect(
      logLines.some((line) => /^POST \/v1\/chat\/completions 200 \d+ms in=\d+ out=\d+$/.test(line)),
    ).toBe(true);
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

/** A provider whose calls each wait until the test releases them (or their signal aborts). */
function gatedProvider() {
  const calls: Array<{ request: CompletionRequest; stoppedAtStart: boolean; release: () => void }> = [];
  const provider: Provider = {
    id: "gated",
    label: "gated-model",
    complete(request) {
      return new Promise((resolve, reject) => {
        request.signal?.addEventListener("abort", () => reject(new ProviderError("aborted", "aborted")), {
          once: true,
        });
        calls.push({
          request,
          stoppedAtStart: request.stopSignal?.aborted ?? false,
          release: () => {
            request.onToken?.("done");
            resolve({ outputs: ["done"], usage: { prompt: 3, completion: 1 }, latencyMs: 1 });
          },
        });
      });
    },
  };
  return { provider, calls };
}

function post(url: string, body: object, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

async function scrape(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/metrics`, { headers });
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

const queueDepth = async (url: string) => sampleValue(await scrape(url), "promptsmith_queue_depth");

describe("startServer's bounded queue", () => {
  it("answers 429 with Retry-After past parallel + queue, and completes every request it admitted", async () => {
    const { provider, calls } = gatedProvider();
    const handle = await startServer({ provider, parallel: 1, queue: 1 });
    try {
      const first = post(handle.url, { messages });
      await expect.poll(() => calls.length).toBe(1);
      const second = post(handle.url, { messages });
      await expect.poll(() => queueDepth(handle.url)).toBe(1);

      const refused = await post(handle.url, { messages });
      expect(refused.status).toBe(429);
      // No generation has finished yet to estimate from: the shortest wait.
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toEqual({
        error: {
          message: expect.stringContaining("busy"),
          type: "rate_limit_error",
          param: null,
          code: "queue_full",
        },
      });
      const sdk = new OpenAI({ baseURL: `${handle.url}/v1`, apiKey: "unused", maxRetries: 0 });
      await expect(sdk.chat.completions.create({ model: "m", messages })).rejects.toBeInstanceOf(
        OpenAI.RateLimitError,
      );

      calls[0].release();
      await expect.poll(() => calls.length).toBe(2);
      calls[1].release();
      for (const response of [await first, await second]) {
        expect(response.status).toBe(200);
        expect(((await response.json()) as OpenAI.ChatCompletion).choices[0].message.content).toBe("done");
      }
      const metrics = await scrape(handle.url);
      const route = "/v1/chat/completions";
      expect(sampleValue(metrics, "promptsmith_requests_total", { route, status: "429" })).toBe(2);
      expect(sampleValue(metrics, "promptsmith_requests_total", { route, status: "200" })).toBe(2);
      expect(sampleValue(metrics, "promptsmith_queue_wait_seconds_count")).toBe(2);
      expect(sampleValue(metrics, "promptsmith_queue_depth")).toBe(0);
      expect(sampleValue(metrics, "promptsmith_requests_running")).toBe(0);
    } finally {
      await handle.close();
    }
  });

  it("gives back the place of a queued request whose client went away; it never reaches the provider", async () => {
    const { provider, calls } = gatedProvider();
    const lines: string[] = [];
    const handle = await startServer({ provider, parallel: 1, queue: 1, log: (line) => lines.push(line) });
    try {
      const first = post(handle.url, { messages });
      await expect.poll(() => calls.length).toBe(1);
      const leaving = new AbortController();
      const gone = post(handle.url, { messages }, {}, leaving.signal).catch((error: unknown) => error);
      await expect.poll(() => queueDepth(handle.url)).toBe(1);
      expect((await post(handle.url, { messages })).status).toBe(429);

      leaving.abort();
      await gone;
      await expect.poll(() => queueDepth(handle.url)).toBe(0);
      const taken = post(handle.url, { messages });
      await expect.poll(() => queueDepth(handle.url)).toBe(1);
      calls[0].release();
      await expect.poll(() => calls.length).toBe(2);
      calls[1].release();
      expect((await first).status).toBe(200);
      expect((await taken).status).toBe(200);
      expect(calls).toHaveLength(2);
      expect(lines.filter((line) => /^POST \/v1\/chat\/completions 499 \d+ms$/.test(line))).toHaveLength(1);
      const metrics = await scrape(handle.url);
      expect(
        sampleValue(metrics, "promptsmith_requests_total", { route: "/v1/chat/completions", status: "499" }),
      ).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it("stops a generation at the timeout with its text so far, not counting the time it queued", async () => {
    let firstStopped!: () => void;
    const stopped = new Promise<void>((resolve) => {
      firstStopped = resolve;
    });
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const starts: boolean[] = [];
    const provider: Provider = {
      id: "slow",
      label: "slow",
      async complete(request) {
        starts.push(request.stopSignal?.aborted ?? false);
        const first = starts.length === 1;
        // Generates until the server says stop, as the local provider does.
        if (!request.stopSignal?.aborted) {
          await new Promise((resolve) =>
            request.stopSignal?.addEventListener("abort", resolve, { once: true }),
          );
        }
        if (first) {
          firstStopped();
          await firstHeld;
        }
        request.onToken?.("so far");
        return {
          outputs: ["so far"],
          usage: { prompt: 3, completion: 2 },
          latencyMs: 1,
          finishReasons: ["length"],
        };
      },
    };
    const timeoutMs = 50;
    const handle = await startServer({ provider, parallel: 1, queue: 1, timeoutMs });
    try {
      const client = new OpenAI({ baseURL: `${handle.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const first = client.chat.completions.create({ model: "m", messages });
      await expect.poll(() => starts.length).toBe(1);
      const second = client.chat.completions.create({ model: "m", messages, stream: true });
      await expect.poll(() => queueDepth(handle.url)).toBe(1);
      await stopped;
      // Not an assertion on time: it makes sure the second request has queued longer than the timeout.
      await new Promise((resolve) => setTimeout(resolve, 2 * timeoutMs));
      releaseFirst();
      const whole = await first;
      expect(whole.choices[0]).toMatchObject({ message: { content: "so far" }, finish_reason: "length" });
      let finish: string | null = null;
      for await (const chunk of await second) finish = chunk.choices[0]?.finish_reason ?? finish;
      expect(finish).toBe("length");
      expect(starts).toEqual([false, false]);
      expect(sampleValue(await scrape(handle.url), "promptsmith_timeouts_total")).toBe(2);
    } finally {
      await handle.close();
    }
  });
});

describe("startServer's API keys", () => {
  it("lets /v1 through only with a key, answers OpenAI's 401, and never logs a key", async () => {
    const { provider } = scriptedProvider(async () => "fine");
    const lines: string[] = [];
    const keys = ["team-key-0123456789", "ci-key-abcdefghij"];
    const handle = await startServer({ provider, apiKeys: keys, log: (line) => lines.push(line) });
    try {
      const bare = await post(handle.url, { messages });
      expect(bare.status).toBe(401);
      expect(bare.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await bare.json()).toEqual({
        error: {
          message: expect.stringContaining("no API key"),
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      });
      const near = "team-key-012345678X";
      const wrong = await post(handle.url, { messages }, { authorization: `Bearer ${near}` });
      expect(wrong.status).toBe(401);
      expect(JSON.stringify(await wrong.json())).not.toContain(near);
      // A key in the query string is not a key, and the log drops the query.
      const queried = await fetch(`${handle.url}/v1/models?api_key=${keys[0]}`);
      expect(queried.status).toBe(401);
      // Auth comes before routing: an unknown /v1 route tells a stranger nothing.
      expect((await fetch(`${handle.url}/v1/secret-route`)).status).toBe(401);
      expect((await fetch(`${handle.url}/elsewhere`)).status).toBe(404);

      for (const key of keys) {
        const client = new OpenAI({ baseURL: `${handle.url}/v1`, apiKey: key, maxRetries: 0 });
        const answer = await client.chat.completions.create({ model: "m", messages });
        expect(answer.choices[0].message.content).toBe("fine");
      }
      const sdk = new OpenAI({ baseURL: `${handle.url}/v1`, apiKey: near, maxRetries: 0 });
      await expect(sdk.models.list()).rejects.toMatchObject({ status: 401, code: "invalid_api_key" });
      await expect(sdk.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

      // Health and metrics answer without a key (orchestrators probe them bare).
      expect((await fetch(`${handle.url}/health`)).status).toBe(200);
      expect(sampleValue(await scrape(handle.url), "promptsmith_requests_total", { status: "401" })).toBe(6);

      expect(lines.length).toBeGreaterThan(8);
      for (const line of lines) for (const secret of [...keys, near]) expect(line).not.toContain(secret);
      expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^GET \/v1\/models 401 \d+ms$/)]));
    } finally {
      await handle.close();
    }
  });

  it("keeps /health and /metrics behind the key with protectHealth", async () => {
    const { provider } = scriptedProvider(async () => "fine");
    const handle = await startServer({ provider, apiKeys: ["k-1"], protectHealth: true });
    try {
      expect((await fetch(`${handle.url}/health`)).status).toBe(401);
      expect((await fetch(`${handle.url}/metrics`)).status).toBe(401);
      const authorization = "Bearer k-1";
      expect((await fetch(`${handle.url}/health`, { headers: { authorization } })).status).toBe(200);
      await scrape(handle.url, { authorization });
    } finally {
      await handle.close();
    }
  });

  it("warns once at start-up when it listens beyond loopback with no key, unless told it is meant", async () => {
    const { provider } = scriptedProvider(async () => "fine");
    for (const [options, warned] of [
      [{}, 1],
      [{ allowNoKey: true }, 0],
      [{ apiKeys: ["k"] }, 0],
    ] as const) {
      const lines: string[] = [];
      const handle = await startServer({
        provider,
        host: "0.0.0.0",
        log: (line) => lines.push(line),
        ...options,
      });
      await handle.close();
      expect(
        lines.filter((line) => line.startsWith("warning: listening on 0.0.0.0 with no API key")),
      ).toHaveLength(warned);
    }
  });
});

describe("startServer while the provider loads", () => {
  it("listens at once: /health and generation answer 503 until the provider is ready, then 200", async () => {
    const { provider } = scriptedProvider(async () => "ready now");
    let resolveProvider!: (provider: Provider) => void;
    const handle = await startServer({
      provider: new Promise<Provider>((resolve) => {
        resolveProvider = resolve;
      }),
      modelName: "later",
    });
    try {
      const loading = await fetch(`${handle.url}/health`);
      expect(loading.status).toBe(503);
      expect(await loading.json()).toEqual({ status: "loading" });
      const early = await post(handle.url, { messages });
      expect(early.status).toBe(503);
      expect(early.headers.get("retry-after")).toBe("1");
      expect((await errorOf(early)).code).toBe("model_loading");
      expect(sampleValue(await scrape(handle.url), "promptsmith_model_loaded")).toBe(0);

      resolveProvider(provider);
      await handle.ready;
      const ready = await fetch(`${handle.url}/health`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ok" });
      expect((await post(handle.url, { messages })).status).toBe(200);
      expect(sampleValue(await scrape(handle.url), "promptsmith_model_loaded")).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it("says failed, and rejects ready, when the provider cannot load", async () => {
    const handle = await startServer({
      provider: Promise.reject(new Error("no such model")),
      modelName: "x",
    });
    try {
      await expect(handle.ready).rejects.toThrow("no such model");
      const health = await fetch(`${handle.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: "failed" });
      expect((await errorOf(await post(handle.url, { messages }))).code).toBe("model_load_failed");
    } finally {
      await handle.close();
    }
  });

  it("serve() answers /health 503 while an hf: model downloads, then serves it", async () => {
    let releaseDownload!: () => void;
    const held = new Promise<void>((resolve) => {
      releaseDownload = resolve;
    });
    const bytes = readFileSync(MODEL);
    // The edge of the process: the download, held until the test has seen the server wait for it.
    const fetchModel = (async () =>
      new Response(
        new ReadableStream({
          async start(controller) {
            await held;
            controller.enqueue(new Uint8Array(bytes));
            controller.close();
          },
        }),
        { headers: { "content-length": String(bytes.length) } },
      )) as unknown as typeof fetch;
    const logs: string[] = [];
    const handle = await serve({
      model: "hf:test/tiny/llama-2-tiny-random.gguf",
      port: 0,
      fetch: fetchModel,
      env: {
        PROMPTSMITH_CACHE: mkdtempSync(join(tmpdir(), "promptsmith-serve-cache-")),
        PROMPTSMITH_THREADS: "1",
      },
      log: (line) => logs.push(line),
    });
    try {
      const loading = await fetch(`${handle.url}/health`);
      expect(loading.status).toBe(503);
      expect(await loading.json()).toEqual({ status: "loading" });
      expect(logs.some((line) => line.startsWith("loaded "))).toBe(false);
      releaseDownload();
      await handle.ready;
      expect((await fetch(`${handle.url}/health`)).status).toBe(200);
      const sdk = new OpenAI({ baseURL: `${handle.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const answer = await sdk.chat.completions.create({ model: "m", messages, ...greedy });
      expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
      expect(logs).toContain("loaded llama-2-tiny-random on the CPU, 1 thread");
    } finally {
      await handle.close();
    }
  });
});
