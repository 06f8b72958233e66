import { describe, expect, it } from "vitest";
import { isUserError } from "../../../src/errors.js";
import { createEmbedder } from "../../../src/providers/index.js";
import { createOpenAIEmbedder, EMBEDDING_BATCH_SIZE } from "../../../src/providers/openai.js";
import { isProviderError } from "../../../src/providers/types.js";

type Answer = (body: { model: string; input: string[]; encoding_format?: string }) => {
  status?: number;
  body: unknown;
};

/** A fetch that records every request and answers with `answer`, so nothing leaves the process. */
function fakeFetch(answer: Answer) {
  const calls: {
    url: string;
    headers: Headers;
    body: { model: string; input: string[]; encoding_format?: string };
  }[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body));
    calls.push({ url: String(input), headers: new Headers(init?.headers), body });
    const { status = 200, body: reply } = answer(body);
    return new Response(typeof reply === "string" ? reply : JSON.stringify(reply), {
      status,
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

/** Vectors [length, position in the request], listed in reverse so the reader must sort by index. */
const reversed: Answer = (body) => ({
  body: {
    object: "list",
    model: body.model,
    data: body.input
      .map((text, index) => ({ object: "embedding", index, embedding: [text.length, index] }))
      .reverse(),
    usage: { prompt_tokens: 1, total_tokens: 1 },
  },
});

const local = { model: "nomic", baseURL: "http://127.0.0.1:9/v1" };

describe("createOpenAIEmbedder", () => {
  it("batches at most 256 inputs per request and returns the vectors in input order", async () => {
    const { calls, fetchImpl } = fakeFetch(reversed);
    const embedder = createOpenAIEmbedder(local, { env: {}, fetch: fetchImpl });
    const texts = Array.from({ length: 2 * EMBEDDING_BATCH_SIZE + 10 }, (_, i) => "x".repeat(i + 1));
    const vectors = await embedder.embed(texts);
    expect(EMBEDDING_BATCH_SIZE).toBe(256);
    expect(calls.map((c) => c.body.input.length)).toEqual([256, 256, 10]);
    expect(calls[0].url).toBe("http://127.0.0.1:9/v1/embeddings");
    expect(calls[0].body).toMatchObject({ model: "nomic", encoding_format: "float" });
    expect(vectors).toHaveLength(texts.length);
    expect(vectors.map((v) => v[0])).toEqual(texts.map((t) => t.length));
    expect(vectors[300]).toEqual([301, 300 - 256]);
  });

  it("sends the key from apiKeyEnv, and OPENAI_BASE_URL when no baseURL is given", async () => {
    const { calls, fetchImpl } = fakeFetch(reversed);
    const embedder = await createEmbedder(
      { model: "m", apiKeyEnv: "TEAM_KEY" },
      { env: { TEAM_KEY: "sk-team-secret", OPENAI_BASE_URL: "http://127.0.0.1:8/v1/" }, fetch: fetchImpl },
    );
    await embedder.embed(["a"]);
    expect(calls[0].url).toBe("http://127.0.0.1:8/v1/embeddings");
    expect(calls[0].headers.get("authorization")).toBe("Bearer sk-team-secret");
  });

  it("refuses the OpenAI API without a key, before any request", () => {
    const { calls, fetchImpl } = fakeFetch(reversed);
    try {
      createOpenAIEmbedder({ model: "text-embedding-3-small" }, { env: {}, fetch: fetchImpl });
      expect.fail("expected a UserError");
    } catch (error) {
      if (!isUserError(error)) throw error;
      expect(error.code).toBe("provider-auth");
      expect(error.message).toContain("OPENAI_API_KEY is not set");
    }
    expect(calls).toHaveLength(0);
  });

  it("maps a rejected key to a fatal auth error that never shows the key", async () => {
    const key = "sk-live-0123456789abcdef";
    const { fetchImpl } = fakeFetch(() => ({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${key}`, type: "invalid_api_key" } },
    }));
    const embedder = createOpenAIEmbedder(
      { ...local, apiKeyEnv: "K" },
      { env: { K: key }, fetch: fetchImpl },
    );
    const error = await embedder.embed(["a"]).catch((e: unknown) => e);
    expect(isProviderError(error) && error.kind).toBe("auth");
    expect(isProviderError(error) && error.fatal).toBe(true);
    expect((error as Error).message).not.toContain(key);
    expect((error as Error).message).toContain("K");
  });

  it("maps an unknown model to not-found naming /embeddings", async () => {
    const { fetchImpl } = fakeFetch(() => ({ status: 404, body: { error: { message: "model not found" } } }));
    const error = await createOpenAIEmbedder(local, { env: {}, fetch: fetchImpl })
      .embed(["a"])
      .catch((e: unknown) => e);
    expect(isProviderError(error) && error.kind).toBe("not-found");
    expect((error as Error).message).toContain("/embeddings");
    expect((error as Error).message).toContain('model "nomic"');
  });

  it("rejects answers without one finite vector per input", async () => {
    const bodies: unknown[] = [
      { data: "nope" },
      { data: [{ index: 0, embedding: [1, 2] }] },
      {
        data: [
          { index: 0, embedding: [1, 2] },
          { index: 1, embedding: [1] },
        ],
      },
      {
        data: [
          { index: 0, embedding: [1, 2] },
          { index: 1, embedding: [1, "x"] },
        ],
      },
      {
        data: [
          { index: 0, embedding: [1, 2] },
          { index: 5, embedding: [1, 2] },
        ],
      },
    ];
    for (const body of bodies) {
      const { fetchImpl } = fakeFetch(() => ({ body }));
      const error = await createOpenAIEmbedder(local, { env: {}, fetch: fetchImpl })
        .embed(["a", "b"])
        .catch((e: unknown) => e);
      expect(isProviderError(error) && error.kind, JSON.stringify(body)).toBe("bad-response");
    }
  });

  it("reads base64 float32 vectors from a server that ignores encoding_format", async () => {
    const floats = new Float32Array([0.5, -1.25, 3]);
    const { fetchImpl } = fakeFetch(() => ({
      body: { data: [{ index: 0, embedding: Buffer.from(floats.buffer).toString("base64") }] },
    }));
    const [vector] = await createOpenAIEmbedder(local, { env: {}, fetch: fetchImpl }).embed(["a"]);
    expect(vector).toEqual([0.5, -1.25, 3]);
  });

  it("stops with an aborted error when the signal is already aborted", async () => {
    const { calls, fetchImpl } = fakeFetch(reversed);
    const controller = new AbortController();
    controller.abort();
    const error = await createOpenAIEmbedder(local, { env: {}, fetch: fetchImpl })
      .embed(["a"], controller.signal)
      .catch((e: unknown) => e);
    expect(isProviderError(error) && error.kind).toBe("aborted");
    expect(calls).toHaveLength(0);
  });
});
