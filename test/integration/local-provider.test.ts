import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUserError } from "../../src/errors.js";
import { createLocalProvider, type LocalProvider } from "../../src/providers/local.js";
import { type ChatMessage, isProviderError, type ProviderSpec } from "../../src/providers/types.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Random weights: loading, tokenizing and sampling are real, the text is gibberish.
const MODEL = path.resolve(repoRoot, "../shared/models/llama-2-tiny-random.gguf");

function spec(overrides: Partial<ProviderSpec> = {}): ProviderSpec {
  // One thread: on a small shared CI box more threads spin against each other and are far slower for this model.
  return { id: `local:${MODEL}`, label: "tiny", params: { threads: 1 }, ...overrides };
}

const hello: ChatMessage[] = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello." },
];
const greedy = { temperature: 0, max_tokens: 12 };

let chat: LocalProvider;
let raw: LocalProvider;

beforeAll(async () => {
  if (!existsSync(MODEL)) {
    throw new Error(
      `test model missing: ${MODEL} (the local-provider tests need ../shared/models/llama-2-tiny-random.gguf)`,
    );
  }
  chat = await createLocalProvider(spec());
  raw = await createLocalProvider(spec({ id: `local:${MODEL}`, completions: true }));
});

afterAll(async () => {
  await chat?.close?.();
  await raw?.close?.();
});

describe("local provider (chat)", () => {
  it("repeats itself at temperature 0 and reports usage", async () => {
    const first = await chat.complete({ messages: hello, params: { ...greedy, seed: 1 } });
    const second = await chat.complete({ messages: hello, params: { ...greedy, seed: 1 } });
    expect(first.outputs).toHaveLength(1);
    expect(first.outputs[0].length).toBeGreaterThan(0);
    expect(second.outputs).toEqual(first.outputs);
    expect(first.usage.prompt).toBeGreaterThan(0);
    expect(first.usage.completion).toBeGreaterThan(0);
    expect(first.usage.completion).toBeLessThanOrEqual(12);
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);
    expect(first.model).toBe("llama-2-tiny-random.gguf");
  });

  it("draws n samples that differ from each other yet repeat with the same seed", async () => {
    const request = { messages: hello, n: 3, params: { temperature: 1, max_tokens: 10, seed: 42 } };
    const first = await chat.complete(request);
    const second = await chat.complete(request);
    expect(first.outputs).toHaveLength(3);
    expect(second.outputs).toEqual(first.outputs);
    expect(new Set(first.outputs).size).toBeGreaterThan(1);
    // Usage sums the samples' tokens, like the OpenAI API.
    expect(first.usage.completion).toBeGreaterThan(10);
    const other = await chat.complete({ ...request, params: { ...request.params, seed: 43 } });
    expect(other.outputs[0]).toBe(first.outputs[1]);
  });

  it("streams pieces through onToken that make up the output", async () => {
    const pieces: string[] = [];
    const result = await chat.complete({
      messages: hello,
      params: greedy,
      onToken: (text) => pieces.push(text),
    });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(result.outputs[0]);
  });

  it("stops at a stop sequence and leaves it out", async () => {
    const pieces: string[] = [];
    const full = (
      await chat.complete({ messages: hello, params: greedy, onToken: (text) => pieces.push(text) })
    ).outputs[0];
    const stop = pieces.map((piece) => piece.trim()).find((piece, index) => index >= 2 && piece.length >= 2);
    if (!stop) throw new Error(`no usable stop piece in ${JSON.stringify(pieces)}`);
    const cut = await chat.complete({ messages: hello, params: { ...greedy, stop } });
    expect(cut.outputs[0]).toBe(full.slice(0, full.indexOf(stop)));
    const asList = await chat.complete({
      messages: hello,
      params: { ...greedy, stop: ["\u0000never", stop] },
    });
    expect(asList.outputs).toEqual(cut.outputs);
  });

  it("runs concurrent calls on separate sequences, queueing the ones beyond them", async () => {
    // Distinct lengths, so each call's prompt-token count shows which prompt it saw.
    const prompts = [1, 2, 3, 4, 5, 6].map((size): ChatMessage[] => [
      { role: "user", content: "word ".repeat(size) },
    ]);
    const alone = [];
    for (const messages of prompts) alone.push(await chat.complete({ messages, params: greedy }));
    // Six calls on four sequences: two of them wait for a free one.
    const together = await Promise.all(
      prompts.map((messages) => chat.complete({ messages, params: greedy })),
    );
    // Each call saw its own prompt. (The texts are not compared: batching sequences together changes llama.cpp's
    // floating-point sums slightly, which can flip a near-tie of this random model's logits.)
    expect(together.map((result) => result.usage.prompt)).toEqual(alone.map((result) => result.usage.prompt));
    expect(new Set(alone.map((result) => result.usage.prompt)).size).toBe(prompts.length);
    for (const result of together) {
      expect(result.outputs[0].length).toBeGreaterThan(0);
      expect(result.usage.completion).toBeGreaterThan(0);
      expect(result.usage.completion).toBeLessThanOrEqual(12);
    }
  });

  it("stops on abort with an aborted ProviderError, and stays usable", async () => {
    const controller = new AbortController();
    const aborted = chat.complete({
      messages: hello,
      params: { temperature: 0, max_tokens: 200 },
      signal: controller.signal,
      onToken: () => controller.abort(),
    });
    await expect(aborted).rejects.toSatisfy((error) => isProviderError(error) && error.kind === "aborted");

    const already = AbortSignal.abort();
    await expect(chat.complete({ messages: hello, params: greedy, signal: already })).rejects.toSatisfy(
      (error) => isProviderError(error) && error.kind === "aborted",
    );
    expect((await chat.complete({ messages: hello, params: greedy })).outputs[0].length).toBeGreaterThan(0);
  });

  it("refuses a prompt longer than the context instead of silently cutting it", async () => {
    const long: ChatMessage[] = [{ role: "user", content: "lorem ipsum dolor ".repeat(3000) }];
    await expect(chat.complete({ messages: long, params: greedy })).rejects.toSatisfy(
      (error) => isProviderError(error) && error.kind === "bad-request" && error.message.includes("context"),
    );
  });

  it("rejects malformed params as a bad request", async () => {
    await expect(chat.complete({ messages: hello, params: { temperature: "hot" } })).rejects.toSatisfy(
      (error) =>
        isProviderError(error) && error.kind === "bad-request" && error.message.includes("temperature"),
    );
  });
});

describe("local provider (completions mode)", () => {
  it("completes the prompt raw, without the chat template", async () => {
    const prompt: ChatMessage[] = [{ role: "user", content: "Once upon a time" }];
    const first = await raw.complete({ messages: prompt, params: greedy });
    const second = await raw.complete({ messages: prompt, params: greedy });
    const viaChat = await chat.complete({ messages: prompt, params: greedy });
    expect(first.outputs[0].length).toBeGreaterThan(0);
    expect(second.outputs).toEqual(first.outputs);
    expect(first.outputs).not.toEqual(viaChat.outputs);
    // The chat template wraps the message in role markers, so the raw prompt is shorter.
    expect(first.usage.prompt).toBeGreaterThan(0);
    expect(first.usage.prompt).toBeLessThan(viaChat.usage.prompt);
    // The chat provider's raw view shares its model and completes exactly like the completions provider.
    expect((await chat.rawCompletions().complete({ messages: prompt, params: greedy })).outputs).toEqual(
      first.outputs,
    );
  });

  // Last in the file: it closes the shared completions provider.
  it("aborts queued calls on close and refuses calls afterwards", async () => {
    // Five long calls on four sequences: the fifth is still queued when close() comes.
    const calls = Array.from({ length: 5 }, () =>
      raw.complete({ messages: hello, params: { temperature: 0, max_tokens: 500 } }),
    );
    const outcomes = calls.map((call) =>
      call.then(
        () => "finished",
        (error: unknown) => (isProviderError(error) ? error.kind : String(error)),
      ),
    );
    await raw.close?.();
    // Running calls may have finished before close reached them; none may fail in another way.
    for (const outcome of await Promise.all(outcomes)) expect(["finished", "aborted"]).toContain(outcome);
    expect(await outcomes[4]).toBe("aborted");
    await expect(raw.complete({ messages: hello, params: greedy })).rejects.toSatisfy(
      (error) => isProviderError(error) && error.kind === "aborted",
    );
  });
});

describe("local provider set-up", () => {
  it("names a missing model file with model-not-found", async () => {
    const missing = path.join(repoRoot, "no-such-model.gguf");
    const error = await createLocalProvider(spec({ id: `local:${missing}` })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isUserError(error) && error.code).toBe("model-not-found");
    expect(isUserError(error) && error.message).toContain(missing);
  });

  // With several sequences, batch shapes vary with timing and flip near-tied tokens; one sequence must not.
  it("with one sequence, concurrent greedy calls repeat exactly across runs", async () => {
    const provider = await createLocalProvider(spec({ params: { threads: 1, parallel: 1 } }));
    try {
      const prompts = ["one", "two", "three", "four"].map((word) => [
        { role: "user" as const, content: `Say ${word}.` },
      ]);
      const round = () =>
        Promise.all(
          prompts.map((messages) =>
            provider.complete({ messages, params: { temperature: 0, max_tokens: 24, seed: 1 } }),
          ),
        ).then((responses) => responses.map((response) => response.outputs[0]));
      const first = await round();
      expect(new Set(first).size).toBeGreaterThan(1);
      expect(await round()).toEqual(first);
    } finally {
      await provider.close();
    }
  });

  it("says where the model runs once loaded", async () => {
    const provider = await createLocalProvider(spec());
    try {
      const info = await provider.load();
      expect(info).toMatchObject({ backend: "cpu", devices: [], gpuLayers: 0, threads: 1 });
      expect(info.totalLayers).toBeGreaterThan(0);
    } finally {
      await provider.close();
    }
  });

  // node-llama-cpp answers metal on Linux with its CPU build; a GPU asked for by name must not turn into the CPU.
  it.skipIf(process.platform === "darwin")(
    "refuses a named GPU back end that llama.cpp cannot load, instead of running on the CPU",
    async () => {
      const provider = await createLocalProvider(spec({ params: { threads: 1, gpu: "metal" } }));
      const error = await provider.load().then(
        () => undefined,
        (e: unknown) => e,
      );
      await provider.close();
      expect(isUserError(error) && error.code).toBe("provider-invalid");
      expect(isUserError(error) && error.message).toBe(
        'cannot start llama.cpp with gpu "metal": node-llama-cpp loaded the CPU build instead',
      );
    },
  );

  it("rejects an unknown gpu setting before loading anything", async () => {
    const error = await createLocalProvider(spec(), { env: { PROMPTSMITH_GPU: "quantum" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isUserError(error) && error.code).toBe("provider-invalid");
  });
});
