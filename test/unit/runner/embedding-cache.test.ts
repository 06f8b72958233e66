import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isUserError } from "../../../src/errors.js";
import type { Embedder, EmbedderSpec } from "../../../src/providers/index.js";
import { ProviderError } from "../../../src/providers/types.js";
import { createCachedEmbed, embeddingEndpoint, embeddingKey } from "../../../src/runner/embed.js";
import { openCache, type ResponseCache } from "../../../src/store/cache.js";

let dir: string;
const open: ResponseCache[] = [];
let counter = 0;
const freshCache = (): ResponseCache => {
  const cache = openCache(join(dir, `cache-${counter++}.db`));
  open.push(cache);
  return cache;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "promptsmith-embedding-cache-"));
});
afterEach(() => {
  for (const cache of open.splice(0)) cache.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("embedding vectors in the response cache", () => {
  it("stores a vector as float32 and reads it back; a missing key is undefined", () => {
    const cache = freshCache();
    expect(cache.getEmbedding("k")).toBeUndefined();
    cache.setEmbedding("k", [0.1, -2.5, 3]);
    const vector = cache.getEmbedding("k")!;
    expect(vector).toBeInstanceOf(Float32Array);
    expect(Array.from(vector)).toEqual([Math.fround(0.1), -2.5, 3]);
    cache.setEmbedding("k", new Float32Array([1, 2]));
    expect(Array.from(cache.getEmbedding("k")!)).toEqual([1, 2]);
    expect(() => cache.setEmbedding("bad", [1, Number.NaN])).toThrow(TypeError);
    expect(() => cache.setEmbedding("bad", [])).toThrow(TypeError);
  });

  it("counts embeddings apart from responses, and clear removes both", () => {
    const cache = freshCache();
    cache.set("r", { output: "x", usage: { prompt: 1, completion: 1 }, latencyMs: 1, providerId: "echo" });
    cache.setEmbedding("a", [1]);
    cache.setEmbedding("b", [2]);
    expect(cache.stats()).toMatchObject({ entries: 1, embeddings: 2 });
    expect(cache.clear()).toBe(3);
    expect(cache.stats()).toMatchObject({ entries: 0, embeddings: 0 });
    expect(cache.getEmbedding("a")).toBeUndefined();
  });

  it("keeps vectors across connections to the same file", () => {
    const path = join(dir, "shared.db");
    const writer = openCache(path);
    writer.setEmbedding("k", [4, 5, 6]);
    writer.close();
    const reader = openCache(path);
    open.push(reader);
    expect(Array.from(reader.getEmbedding("k")!)).toEqual([4, 5, 6]);
  });

  it("keys by model, endpoint (trailing slash or not) and text, never by anything else", () => {
    const key = embeddingKey({ model: "m", baseURL: "http://h/v1", text: "t" });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(embeddingKey({ model: "m", baseURL: "http://h/v1/", text: "t" })).toBe(key);
    expect(embeddingKey({ text: "t", baseURL: "http://h/v1", model: "m" })).toBe(key);
    expect(embeddingKey({ model: "m2", baseURL: "http://h/v1", text: "t" })).not.toBe(key);
    expect(embeddingKey({ model: "m", text: "t" })).not.toBe(key);
    expect(embeddingKey({ model: "m", baseURL: "http://h/v1", text: "t " })).not.toBe(key);
  });
});

/** A scripted embedder: vector [length, first char code] per text, every call recorded. */
function scripted(fail?: () => unknown) {
  const calls: { spec: EmbedderSpec; texts: string[] }[] = [];
  const made: EmbedderSpec[] = [];
  const createEmbedder = async (spec: EmbedderSpec): Promise<Embedder> => {
    made.push(spec);
    return {
      async embed(texts) {
        calls.push({ spec, texts });
        if (fail) throw fail();
        return texts.map((text) => [text.length, text.charCodeAt(0)]);
      },
    };
  };
  return { calls, made, createEmbedder };
}

const spec = { model: "m", baseURL: "http://h/v1" };

describe("createCachedEmbed", () => {
  it("embeds misses in one request, stores them, and answers hits from the cache", async () => {
    const cache = freshCache();
    const fake = scripted();
    const embed = createCachedEmbed({ cache, createEmbedder: fake.createEmbedder, env: {} });
    const vectors = await embed(["ab", "c", "ab"], spec);
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [2, 97],
      [1, 99],
      [2, 97],
    ]);
    expect(fake.calls).toEqual([{ spec, texts: ["ab", "c"] }]);
    expect(cache.stats().embeddings).toBe(2);

    // A fresh embedder over the same cache: hits need no request, misses only are asked for.
    const again = scripted();
    const embedAgain = createCachedEmbed({ cache, createEmbedder: again.createEmbedder, env: {} });
    expect((await embedAgain(["c", "ab"], spec)).map((v) => Array.from(v))).toEqual([
      [1, 99],
      [2, 97],
    ]);
    expect(again.made).toEqual([]);
    await embedAgain(["c", "new"], spec);
    expect(again.calls).toEqual([{ spec, texts: ["new"] }]);
  });

  it("joins the calls of one turn into one request, and keys the cache by model", async () => {
    const cache = freshCache();
    const fake = scripted();
    const embed = createCachedEmbed({ cache, createEmbedder: fake.createEmbedder, env: {} });
    const results = await Promise.all([embed(["a"], spec), embed(["b"], spec), embed(["a"], spec)]);
    expect(results.map(([v]) => v[1])).toEqual([97, 98, 97]);
    expect(fake.calls).toEqual([{ spec, texts: ["a", "b"] }]);
    await embed(["a"], { ...spec, model: "other" });
    expect(fake.calls.at(-1)).toEqual({ spec: { ...spec, model: "other" }, texts: ["a"] });
  });

  it("uses OPENAI_BASE_URL in the key when the spec names no endpoint", async () => {
    const cache = freshCache();
    const fake = scripted();
    const env = { OPENAI_BASE_URL: "http://other/v1/" };
    expect(embeddingEndpoint({ model: "m" }, env)).toBe("http://other/v1");
    await createCachedEmbed({ cache, createEmbedder: fake.createEmbedder, env })(["x"], { model: "m" });
    expect(
      cache.getEmbedding(embeddingKey({ model: "m", baseURL: "http://other/v1", text: "x" })),
    ).toBeDefined();
  });

  it("without a cache, or with refresh, asks the endpoint every time", async () => {
    const fake = scripted();
    const uncached = createCachedEmbed({ createEmbedder: fake.createEmbedder, env: {} });
    await uncached(["a"], spec);
    await uncached(["a"], spec);
    expect(fake.calls).toHaveLength(2);

    const cache = freshCache();
    cache.setEmbedding(embeddingKey({ model: "m", baseURL: "http://h/v1", text: "a" }), [0, 0]);
    const refreshing = scripted();
    const refresh = createCachedEmbed({
      cache,
      refresh: true,
      createEmbedder: refreshing.createEmbedder,
      env: {},
    });
    expect(Array.from((await refresh(["a"], spec))[0])).toEqual([1, 97]);
    expect(refreshing.calls).toHaveLength(1);
    expect(
      Array.from(cache.getEmbedding(embeddingKey({ model: "m", baseURL: "http://h/v1", text: "a" }))!),
    ).toEqual([1, 97]);
  });

  it("turns a failed request into a UserError naming the model, and stores nothing", async () => {
    const cache = freshCache();
    const cases: [ProviderError, string][] = [
      [new ProviderError("auth", "401 from http://h/v1"), "provider-auth"],
      [new ProviderError("not-found", "404 from http://h/v1/embeddings"), "model-not-found"],
      [new ProviderError("network", "could not reach http://h/v1"), "provider-unreachable"],
      [new ProviderError("bad-response", "no data"), "provider-invalid"],
    ];
    for (const [failure, code] of cases) {
      const fake = scripted(() => failure);
      const embed = createCachedEmbed({ cache, createEmbedder: fake.createEmbedder, env: {} });
      const error = await embed(["a", "b"], spec).catch((e: unknown) => e);
      expect(isUserError(error) && error.code, failure.kind).toBe(code);
      expect((error as Error).message).toContain("embedding model m");
      expect((error as Error).message).toContain(failure.message);
    }
    expect(cache.stats().embeddings).toBe(0);
  });
});
