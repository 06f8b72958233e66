import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createProvider } from "../../src/providers/index.js";
import { isProviderError, type ProviderError, type ProviderSpec } from "../../src/providers/types.js";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/openai-test-server.js";

const KEY = "sk-test-secret-4f9a2c";
let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: TestServerOptions = {}): Promise<TestServer> {
  server = await startTestServer(options);
  return server;
}

/** A spec for the loopback server; retries off unless a test wants them, so failures stay fast. */
function specFor(target: TestServer, extra: Partial<ProviderSpec> = {}): ProviderSpec {
  return { id: "openai:test-model", label: "test", baseURL: target.url, params: {}, maxRetries: 0, ...extra };
}

async function providerFor(
  target: TestServer,
  extra: Partial<ProviderSpec> = {},
  env: NodeJS.ProcessEnv = { OPENAI_API_KEY: KEY },
) {
  return createProvider(specFor(target, extra), { env });
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isProviderError(error)) throw new Error(`expected a ProviderError, got ${inspect(error)}`);
  return error;
}

const user = (content: string) => [{ role: "user" as const, content }];

describe("openai provider: chat", () => {
  it("sends messages to /v1/chat/completions and returns the answer with usage", async () => {
    const target = await serve();
    const provider = await providerFor(target);
    const response = await provider.complete({
      messages: [{ role: "system", content: "be brief" }, ...user("hello there")],
    });

    expect(response.outputs).toEqual(["hello there"]);
    expect(response.usage).toEqual({ prompt: 4, completion: 2 });
    expect(response.model).toBe("test-model");
    expect(response.latencyMs).toBeGreaterThanOrEqual(0);
    const [request] = target.completionRequests();
    expect(request.path).toBe("/v1/chat/completions");
    expect(request.body?.model).toBe("test-model");
    expect(request.body?.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "hello there" },
    ]);
    expect(request.body).not.toHaveProperty("n");
    expect(request.body).not.toHaveProperty("stream");
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("keeps colons in the model name and reads the key from apiKeyEnv", async () => {
    const target = await serve();
    const provider = await providerFor(
      target,
      { id: "openai:llama3.1:8b", apiKeyEnv: "LOCAL_KEY" },
      { LOCAL_KEY: "local-key-1" },
    );
    await provider.complete({ messages: user("hi") });
    const [request] = target.completionRequests();
    expect(request.body?.model).toBe("llama3.1:8b");
    expect(request.headers.authorization).toBe("Bearer local-key-1");
  });

  it("sends a placeholder key to a custom baseURL when no key is set", async () => {
    const target = await serve();
    const provider = await providerFor(target, {}, {});
    const response = await provider.complete({ messages: user("no key needed") });
    expect(response.outputs).toEqual(["no key needed"]);
    expect(target.completionRequests()[0].headers.authorization).toBe("Bearer sk-no-key-required");
  });

  it("uses OPENAI_BASE_URL from the injected env when the spec has no baseURL", async () => {
    const target = await serve();
    const provider = await createProvider(
      { id: "openai:test-model", label: "t", params: {}, maxRetries: 0 },
      { env: { OPENAI_BASE_URL: target.url } },
    );
    expect((await provider.complete({ messages: user("via env") })).outputs).toEqual(["via env"]);
    expect(target.completionRequests()).toHaveLength(1);
  });
});

describe("openai provider: completions mode", () => {
  it("posts a prompt string to /v1/completions", async () => {
    const target = await serve();
    const provider = await providerFor(target, { completions: true });
    const single = await provider.complete({ messages: user("Once upon a time") });
    const multi = await provider.complete({
      messages: [
        { role: "system", content: "You continue stories." },
        { role: "user", content: "Once" },
      ],
    });

    expect(single.outputs).toEqual(["Once upon a time"]);
    expect(multi.outputs).toEqual(["system: You continue stories.\n\nuser: Once"]);
    const [first, second] = target.completionRequests();
    expect(first.path).toBe("/v1/completions");
    expect(first.body?.prompt).toBe("Once upon a time");
    expect(first.body).not.toHaveProperty("messages");
    expect(second.body?.prompt).toBe("system: You continue stories.\n\nuser: Once");
    expect(single.usage).toEqual({ prompt: 4, completion: 4 });
  });
});

describe("openai provider: params", () => {
  it("passes spec params merged with request params through as-is", async () => {
    const target = await serve();
    const provider = await providerFor(target, {
      params: {
        temperature: 0.2,
        max_tokens: 50,
        stop: ["\n"],
        top_p: 0.9,
        top_k: 40,
        model: "ignored",
        stream: true,
      },
    });
    await provider.complete({ messages: user("x"), params: { temperature: 0.7, seed: 7 } });
    const body = target.completionRequests()[0].body;
    expect(body).toMatchObject({
      model: "test-model",
      temperature: 0.7,
      max_tokens: 50,
      stop: ["\n"],
      top_p: 0.9,
      top_k: 40,
      seed: 7,
    });
    // stream is the provider's to decide (onToken), not a param's.
    expect(body).not.toHaveProperty("stream");
  });
});

describe("openai provider: streaming", () => {
  it("calls onToken for each delta in order and reads streamed usage", async () => {
    const target = await serve({ respond: () => "the quick brown fox" });
    const provider = await providerFor(target);
    const tokens: string[] = [];
    const response = await provider.complete({ messages: user("go"), onToken: (text) => tokens.push(text) });

    expect(tokens).toEqual(["the ", "quick ", "brown ", "fox"]);
    expect(response.outputs).toEqual(["the quick brown fox"]);
    expect(response.usage).toEqual({ prompt: 1, completion: 4 });
    const body = target.completionRequests()[0].body;
    expect(body?.stream).toBe(true);
    expect(body?.stream_options).toEqual({ include_usage: true });
  });

  it("assembles interleaved choices by index when streaming n samples", async () => {
    const target = await serve({ respond: () => ["alpha beta gamma", "one two"] });
    const provider = await providerFor(target);
    const tokens: string[] = [];
    const response = await provider.complete({
      messages: user("go"),
      n: 2,
      onToken: (text) => tokens.push(text),
    });

    expect(response.outputs).toEqual(["alpha beta gamma", "one two"]);
    // The server interleaves the two choices word by word.
    expect(tokens).toEqual(["alpha ", "one ", "beta ", "two", "gamma"]);
    expect(target.completionRequests()).toHaveLength(1);
  });

  it("streams text completions", async () => {
    const target = await serve();
    const provider = await providerFor(target, { completions: true });
    const tokens: string[] = [];
    const response = await provider.complete({
      messages: user("a b c"),
      onToken: (text) => tokens.push(text),
    });
    expect(tokens).toEqual(["a ", "b ", "c"]);
    expect(response.outputs).toEqual(["a b c"]);
    expect(response.usage).toEqual({ prompt: 3, completion: 3 });
  });

  it("rethrows an exception from onToken unchanged", async () => {
    const target = await serve();
    const provider = await providerFor(target);
    const boom = new Error("callback failed");
    await expect(
      provider.complete({
        messages: user("x y"),
        onToken: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });

  it("reports a stream cut off mid-answer as a network error", async () => {
    const target = await serve({ faults: [{ drop: true, afterChunks: 2 }] });
    const provider = await providerFor(target);
    const error = await failure(
      provider.complete({ messages: user("one two three four"), onToken: () => {} }),
    );
    expect(error.kind).toBe("network");
    expect(error.fatal).toBe(false);
  });
});

describe("openai provider: n samples", () => {
  it("asks once with n when the server honours it", async () => {
    const target = await serve({ respond: () => ["a", "b", "c"] });
    const provider = await providerFor(target);
    const response = await provider.complete({ messages: user("x"), n: 3 });
    expect(response.outputs).toEqual(["a", "b", "c"]);
    expect(target.completionRequests().map((r) => r.body?.n)).toEqual([3]);
  });

  it("tops up with further requests when the server ignores n, summing usage", async () => {
    const target = await serve({ supportsN: false, respond: (_body, index) => `sample ${index}` });
    const provider = await providerFor(target);
    const response = await provider.complete({ messages: user("four words of prompt"), n: 3 });

    expect(response.outputs).toEqual(["sample 0", "sample 1", "sample 2"]);
    expect(target.completionRequests().map((r) => r.body?.n)).toEqual([3, 2, undefined]);
    expect(response.usage).toEqual({ prompt: 12, completion: 6 });
  });
});

describe("openai provider: retries", () => {
  it("retries a 429 after its Retry-After and succeeds", async () => {
    const target = await serve({ faults: [{ status: 429, retryAfter: 0 }] });
    const provider = await providerFor(target, { maxRetries: 2 });
    const response = await provider.complete({ messages: user("after the wait") });
    expect(response.outputs).toEqual(["after the wait"]);
    expect(target.completionRequests()).toHaveLength(2);
  });

  it("gives up on a 429 that persists with a non-fatal rate-limit error", async () => {
    const target = await serve({ faults: () => ({ status: 429, retryAfter: 0 }) });
    const provider = await providerFor(target, { maxRetries: 1 });
    const error = await failure(provider.complete({ messages: user("x") }));
    expect(error.kind).toBe("rate-limit");
    expect(error.fatal).toBe(false);
    expect(error.status).toBe(429);
    expect(target.completionRequests()).toHaveLength(2);
  });

  it("retries a 500 and succeeds", async () => {
    const target = await serve({ faults: [{ status: 500, retryAfterMs: 0 }] });
    const provider = await providerFor(target, { maxRetries: 2 });
    const response = await provider.complete({ messages: user("second time lucky") });
    expect(response.outputs).toEqual(["second time lucky"]);
    expect(target.completionRequests()).toHaveLength(2);
  });

  it("turns a 500 that never clears into a non-fatal server error", async () => {
    const target = await serve({ faults: () => ({ status: 503, retryAfterMs: 0, message: "overloaded" }) });
    const provider = await providerFor(target, { maxRetries: 2 });
    const error = await failure(provider.complete({ messages: user("x") }));
    expect(error.kind).toBe("server");
    expect(error.fatal).toBe(false);
    expect(error.status).toBe(503);
    expect(error.message).toContain("overloaded");
    expect(target.completionRequests()).toHaveLength(3);
  });

  it("retries a dropped connection and succeeds", async () => {
    const target = await serve({ faults: [{ drop: true }] });
    const provider = await providerFor(target, { maxRetries: 1 });
    const response = await provider.complete({ messages: user("reconnected") });
    expect(response.outputs).toEqual(["reconnected"]);
    expect(target.completionRequests()).toHaveLength(2);
  });

  it("reports a connection that keeps dropping as a network error naming the URL", async () => {
    const target = await serve({ faults: () => ({ drop: true }) });
    const provider = await providerFor(target);
    const error = await failure(provider.complete({ messages: user("x") }));
    expect(error.kind).toBe("network");
    expect(error.fatal).toBe(false);
    expect(error.message).toContain(target.url);
    expect(error.hint).toMatch(/server running/);
  });

  it("reports a server that is not listening as a network error", async () => {
    const target = await startTestServer();
    const url = target.url;
    await target.close();
    const provider = await createProvider(
      { id: "openai:m", label: "m", baseURL: url, params: {}, maxRetries: 0 },
      { env: {} },
    );
    const error = await failure(provider.complete({ messages: user("x") }));
    expect(error.kind).toBe("network");
    expect(error.message).toContain(url);
  });
});

describe("openai provider: errors", () => {
  it("maps a malformed body to bad-response", async () => {
    const target = await serve({ faults: [{ malformed: "non-json" }, { malformed: "no-choices" }] });
    const provider = await providerFor(target);
    const notJson = await failure(provider.complete({ messages: user("x") }));
    const noChoices = await failure(provider.complete({ messages: user("x") }));
    expect(notJson.kind).toBe("bad-response");
    expect(noChoices.kind).toBe("bad-response");
    expect(noChoices.message).toContain("choices");
    expect(notJson.fatal || noChoices.fatal).toBe(false);
  });

  it("maps 401 to a fatal auth error that names the variable and never the key", async () => {
    // The server echoes the key back, as some proxies do; the provider must redact it.
    const target = await serve({ faults: [{ status: 401, message: `Incorrect API key provided: ${KEY}` }] });
    const provider = await providerFor(target, { maxRetries: 3 });
    const error = await failure(provider.complete({ messages: user("x") }));

    expect(error.kind).toBe("auth");
    expect(error.fatal).toBe(true);
    expect(error.status).toBe(401);
    expect(error.message).toContain("OPENAI_API_KEY");
    expect(error.message).not.toContain(KEY);
    expect(inspect(error, { depth: 10 })).not.toContain(KEY);
    expect(JSON.stringify(error)).not.toContain(KEY);
    // Auth failures are not retried.
    expect(target.completionRequests()).toHaveLength(1);
  });

  it("maps a 404 for an unknown model to a fatal not-found naming the model and URL", async () => {
    const target = await serve({ models: ["llama3"] });
    const provider = await providerFor(target, { id: "openai:no-such-model" });
    const error = await failure(provider.complete({ messages: user("x") }));
    expect(error.kind).toBe("not-found");
    expect(error.fatal).toBe(true);
    expect(error.message).toContain("no-such-model");
    expect(error.message).toContain(target.url);
  });

  it("maps 400 to a non-fatal bad-request", async () => {
    const target = await serve({ faults: [{ status: 400, message: "max_tokens is too large" }] });
    const provider = await providerFor(target);
    const error = await failure(provider.complete({ messages: user("x") }));
    expect(error.kind).toBe("bad-request");
    expect(error.fatal).toBe(false);
    expect(error.message).toContain("max_tokens is too large");
  });

  it("maps a response slower than timeoutMs to timeout", async () => {
    const target = await serve({ latencyMs: 10_000 });
    const provider = await providerFor(target, { timeoutMs: 100 });
    const error = await failure(provider.complete({ messages: user("x") }));
    expect(error.kind).toBe("timeout");
    expect(error.fatal).toBe(false);
  });
});

describe("openai provider: abort", () => {
  it("maps an abort during the request to aborted", async () => {
    const target = await serve({ latencyMs: 10_000 });
    const provider = await providerFor(target);
    const controller = new AbortController();
    const pending = failure(provider.complete({ messages: user("x"), signal: controller.signal }));
    while (target.completionRequests().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const error = await pending;
    expect(error.kind).toBe("aborted");
  });

  it("sends nothing when the signal is already aborted", async () => {
    const target = await serve();
    const provider = await providerFor(target);
    const error = await failure(provider.complete({ messages: user("x"), signal: AbortSignal.abort() }));
    expect(error.kind).toBe("aborted");
    expect(target.completionRequests()).toHaveLength(0);
  });

  it("does not pass a stream cut short by an abort as a complete answer", async () => {
    const target = await serve({ respond: () => "one two three four five" });
    const provider = await providerFor(target);
    const controller = new AbortController();
    const error = await failure(
      provider.complete({
        messages: user("x"),
        signal: controller.signal,
        onToken: () => controller.abort(),
      }),
    );
    expect(error.kind).toBe("aborted");
  });
});
