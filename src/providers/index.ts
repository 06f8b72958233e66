/**
 * The provider registry: turns a configured provider id into a Provider.
 * Back ends that pull in heavy packages (the OpenAI SDK, node-llama-cpp) load lazily, so
 * start-up and `--help` never pay for them.
 */
import { UserError } from "../errors.js";
import { createEchoProvider } from "./echo.js";
import type { Embedder, EmbedderSpec } from "./openai.js";
import type { Provider, ProviderSpec } from "./types.js";

/** What a provider may take from the world instead of reading it itself (tests inject these). */
export interface ProviderOptions {
  /** Environment to read API keys and OPENAI_BASE_URL from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The fetch the OpenAI SDK uses; default promptsmith's undici transport (providers/http-fetch.ts). */
  fetch?: typeof fetch;
  /** Progress of a model download (the first use of a `local:hf:` model). */
  onProgress?: (progress: { downloaded: number; total?: number }) => void;
  /** What a `replay:` provider does with a request its cassette lacks (default `error`). */
  replayMissing?: "error" | "skip";
}

/** The id forms a config may use, for hints. */
export const PROVIDER_ID_FORMS = [
  "openai:<model>",
  "echo",
  "local:<path.gguf>",
  "replay:<cassette.jsonl>",
] as const;

/** Build the provider a spec names: `openai:<model>`, `echo`, `local:<path.gguf>` or `replay:<cassette.jsonl>`. */
export async function createProvider(spec: ProviderSpec, options: ProviderOptions = {}): Promise<Provider> {
  const id = spec.id;
  if (id.startsWith("openai:")) {
    const { createOpenAIProvider } = await import("./openai.js");
    return createOpenAIProvider(spec, options);
  }
  if (isEchoId(id)) return createEchoProvider(spec);
  if (id.startsWith("local:")) {
    const { createLocalProvider } = await import("./local.js");
    return createLocalProvider(spec, options);
  }
  if (id.startsWith("replay:")) {
    const { createReplayProviderFromSpec } = await import("./replay.js");
    return createReplayProviderFromSpec(spec, { missing: options.replayMissing });
  }
  throw new UserError({
    code: "provider-invalid",
    message: `unknown provider "${id}"`,
    hint: `write one of ${PROVIDER_ID_FORMS.map((form) => `\`${form}\``).join(", ")}`,
  });
}

/** Whether a provider id names the echo provider; `echo:<name>` lets a suite compare two under distinct ids. */
export function isEchoId(id: string): boolean {
  return id === "echo" || id.startsWith("echo:");
}

/** The transport OpenAI-compatible providers use when none is injected (loaded on first use). */
export async function defaultFetch(env: NodeJS.ProcessEnv = process.env): Promise<typeof fetch> {
  const { sharedHttpFetch } = await import("./http-fetch.js");
  return sharedHttpFetch(env);
}

/**
 * Build an embedder: for an OpenAI-compatible /embeddings endpoint (the SDK loads on first use), or,
 * when the model is a `local:` provider id, the local model's own embeddings (node-llama-cpp).
 */
export async function createEmbedder(spec: EmbedderSpec, options: ProviderOptions = {}): Promise<Embedder> {
  if (spec.model.startsWith("local:")) {
    const { createLocalEmbedder } = await import("./local.js");
    return createLocalEmbedder({ id: spec.model, label: spec.model, params: {} }, options);
  }
  const { createOpenAIEmbedder } = await import("./openai.js");
  return createOpenAIEmbedder(spec, options);
}

export { createEchoProvider, renderEchoText } from "./echo.js";
export type { Embedder, EmbedderSpec } from "./openai.js";
export type {
  ChatMessage,
  CompletionRequest,
  CompletionResponse,
  Provider,
  ProviderErrorKind,
  ProviderParams,
  ProviderSpec,
  TokenUsage,
} from "./types.js";
export { isProviderError, ProviderError } from "./types.js";
