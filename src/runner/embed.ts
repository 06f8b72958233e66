/**
 * Embedding texts for `select: embedding`, in front of the response cache: cached vectors are
 * read, the rest are asked for together and stored. Calls made in the same turn of the event loop
 * (the concurrent jobs of a run each embedding their case) share one request.
 */
import { createHash } from "node:crypto";
import type { EmbeddingSpec, PromptSpec } from "../config/types.js";
import { UserError, type UserErrorCode } from "../errors.js";
import { createEmbedder, type Embedder, type EmbedderSpec } from "../providers/index.js";
import { isProviderError, type ProviderErrorKind } from "../providers/types.js";
import type { ResponseCache } from "../store/cache.js";
import { canonicalJson } from "../store/job-key.js";

/** Embeds texts with the model and endpoint of `spec`: one vector per text, in order. */
export type EmbedTexts = (texts: string[], spec: EmbeddingSpec) => Promise<Float32Array[]>;

/** A cached EmbedTexts, and how to free the embedders it made (a local model). */
export type CachedEmbed = EmbedTexts & { close(): Promise<void> };

/** Options of createCachedEmbed. */
export interface CachedEmbedOptions {
  /** Where vectors are read and stored; without one every text is embedded on every call. */
  cache?: ResponseCache;
  /** Embed again even what the cache holds, and store the new vectors. */
  refresh?: boolean;
  /** Environment for OPENAI_BASE_URL and the API key. */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Builds the embedder of a spec; default the OpenAI-compatible one (tests may inject another). */
  createEmbedder?: (
    spec: EmbedderSpec,
    options: { env: NodeJS.ProcessEnv; fetch?: typeof fetch },
  ) => Promise<Embedder>;
}

/** What decides an embedding vector; like response keys, never the API key. */
export interface EmbeddingKeyParts {
  model: string;
  baseURL?: string;
  text: string;
}

/** The embedding-cache key: sha256 (hex) of the canonical JSON of {model, baseURL, text}. */
export function embeddingKey(parts: EmbeddingKeyParts): string {
  const hashed = {
    model: parts.model,
    // `http://host/v1` and `http://host/v1/` are the same endpoint.
    baseURL: parts.baseURL?.replace(/\/+$/, ""),
    text: parts.text,
  };
  return createHash("sha256").update(canonicalJson(hashed)).digest("hex");
}

/** Whether any of the prompts chooses shots by embedding (only then is an embedder needed). */
export function usesEmbedding(prompts: readonly PromptSpec[]): boolean {
  return prompts.some((prompt) => prompt.shots?.select === "embedding" && prompt.shots.k > 0);
}

/** The endpoint a spec's vectors come from, as part of the cache key (like `endpointOf` for answers). */
export function embeddingEndpoint(spec: EmbeddingSpec, env: NodeJS.ProcessEnv): string | undefined {
  // A local model's vectors come from its file, named in the model; no endpoint takes part.
  if (spec.model.startsWith("local:")) return undefined;
  const url = spec.baseURL ?? env.OPENAI_BASE_URL;
  return url ? url.replace(/\/+$/, "") : undefined;
}

interface Pending {
  text: string;
  key: string;
  resolve: (vector: Float32Array) => void;
  reject: (error: unknown) => void;
}

/**
 * An EmbedTexts backed by `cache`. The embedder is made on the first miss, so a fully cached run
 * needs neither a key nor the endpoint. Failures become UserErrors: without vectors no shot can be
 * chosen, so the run cannot go on.
 */
export function createCachedEmbed(options: CachedEmbedOptions = {}): CachedEmbed {
  const env = options.env ?? process.env;
  const make =
    options.createEmbedder ??
    ((spec: EmbedderSpec, o: { env: NodeJS.ProcessEnv; fetch?: typeof fetch }) => createEmbedder(spec, o));
  const embedders = new Map<string, Promise<Embedder>>();
  // Per spec: misses waiting for the next flush, and vectors already asked for (shared, not asked twice).
  const queues = new Map<string, { spec: EmbeddingSpec; pending: Pending[] }>();
  const inFlight = new Map<string, Promise<Float32Array>>();

  const embedderOf = (spec: EmbeddingSpec, specKey: string): Promise<Embedder> => {
    let embedder = embedders.get(specKey);
    if (!embedder) {
      const embedderSpec: EmbedderSpec = { model: spec.model };
      if (spec.baseURL !== undefined) embedderSpec.baseURL = spec.baseURL;
      if (spec.apiKeyEnv !== undefined) embedderSpec.apiKeyEnv = spec.apiKeyEnv;
      embedder = make(embedderSpec, { env, fetch: options.fetch });
      // A set-up failure (no key) is reported to every caller, not cached as a rejected promise forever.
      embedder.catch(() => embedders.delete(specKey));
      embedders.set(specKey, embedder);
    }
    return embedder;
  };

  const flush = async (specKey: string): Promise<void> => {
    const queue = queues.get(specKey);
    if (!queue) return;
    queues.delete(specKey);
    const { spec, pending } = queue;
    try {
      const embedder = await embedderOf(spec, specKey);
      const vectors = await embedder.embed(pending.map((p) => p.text));
      pending.forEach((p, i) => {
        const vector = Float32Array.from(vectors[i]);
        options.cache?.setEmbedding(p.key, vector);
        p.resolve(vector);
      });
    } catch (error) {
      const failure = toUserError(error, spec);
      for (const p of pending) p.reject(failure);
    } finally {
      for (const p of pending) inFlight.delete(p.key);
    }
  };

  const request = (
    text: string,
    key: string,
    spec: EmbeddingSpec,
    specKey: string,
  ): Promise<Float32Array> => {
    let queue = queues.get(specKey);
    if (!queue) {
      queue = { spec, pending: [] };
      queues.set(specKey, queue);
      // setImmediate: every job started in this turn has queued its text by then.
      setImmediate(() => void flush(specKey));
    }
    const pending = queue.pending;
    const promise = new Promise<Float32Array>((resolve, reject) =>
      pending.push({ text, key, resolve, reject }),
    );
    inFlight.set(key, promise);
    return promise;
  };

  const embedTexts: EmbedTexts = async (texts, spec) => {
    const specKey = canonicalJson(spec);
    const baseURL = embeddingEndpoint(spec, env);
    return Promise.all(
      texts.map((text) => {
        const key = embeddingKey({ model: spec.model, baseURL, text });
        const shared = inFlight.get(key);
        if (shared) return shared;
        const cached = options.refresh ? undefined : options.cache?.getEmbedding(key);
        if (cached) return cached;
        return request(text, key, spec, specKey);
      }),
    );
  };
  return Object.assign(embedTexts, {
    async close() {
      const made = await Promise.allSettled(embedders.values());
      await Promise.allSettled(made.map((m) => (m.status === "fulfilled" ? m.value.close?.() : undefined)));
    },
  });
}

const CODES: Partial<Record<ProviderErrorKind, UserErrorCode>> = {
  auth: "provider-auth",
  "not-found": "model-not-found",
  "bad-request": "provider-invalid",
  "bad-response": "provider-invalid",
};

function toUserError(error: unknown, spec: EmbeddingSpec): unknown {
  if (!isProviderError(error)) return error;
  const code = CODES[error.kind] ?? "provider-unreachable";
  return new UserError({
    code,
    message: `embedding model ${spec.model}: ${error.message}`,
    hint:
      code === "provider-auth"
        ? "check the API key in the variable named by the provider's apiKeyEnv (default OPENAI_API_KEY)"
        : code === "model-not-found"
          ? "check shots.embedding.model, and that the provider's endpoint serves /v1/embeddings"
          : "select: embedding needs the endpoint of shots.embedding.provider (default: the first openai: provider) to serve /v1/embeddings",
    cause: error,
  });
}
