/** `promptsmith serve`: a local GGUF model behind the OpenAI-compatible server. */
import path from "node:path";
import { UserError } from "../errors.js";
import { createLocalProvider, describeEngine, type LocalProvider } from "../providers/local.js";
import { type DownloadProgress, defaultLocalModelRef, isHuggingFaceRef } from "../providers/model-cache.js";
import { resolveApiKeys } from "./api-keys.js";
import { DEFAULT_SERVE_PARALLEL, type ServerHandle, startServer } from "./server.js";

/** The port `serve` listens on when none is given (llama.cpp's server uses the same). */
export const DEFAULT_SERVE_PORT = 8080;
// The local provider's limit on context sequences.
const MAX_PARALLEL = 64;

/** Options of `serve`. */
export interface ServeOptions {
  /** A model ref: `path/to/model.gguf` or `hf:<user>/<repo>/<file.gguf>` (a `local:` prefix is allowed); empty means the default model. */
  model?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DEFAULT_SERVE_PORT; 0 picks a free port. */
  port?: number;
  /** Read for PROMPTSMITH_SERVE_API_KEYS and the local model's settings. */
  env?: NodeJS.ProcessEnv;
  /** Start-up notices, errors and (unless `quiet`) one access line per request. */
  log?: (line: string) => void;
  /** Used to download `hf:` models that are not cached yet. */
  fetch?: typeof fetch;
  onProgress?: (progress: DownloadProgress) => void;
  /** Accepted keys; they add to those of `apiKeyFile` and PROMPTSMITH_SERVE_API_KEYS (comma-separated). */
  apiKeys?: readonly string[];
  /** A file of accepted keys, one a line (`#` comments). */
  apiKeyFile?: string;
  /** No warning when listening beyond loopback with no key. */
  allowNoKey?: boolean;
  /** /health and /metrics need a key too. */
  protectHealth?: boolean;
  /** Requests generating at once, one context sequence each; default 4 (up to 64). */
  parallel?: number;
  /** Requests that may wait beyond those; default 64. */
  queue?: number;
  /** Longest a request may generate, in ms; past it the answer so far returns with finish_reason "length". */
  timeoutMs?: number;
  /** No access line per request. */
  quiet?: boolean;
  /** Base of a relative model path or key file; default `process.cwd()`. */
  cwd?: string;
}

/**
 * Starts the server and loads the model behind it. Resolves once listening: `ready` resolves when the model is
 * loaded (GET /health answers 503 until then) and rejects when it cannot load. close() stops the server and then
 * frees the model. Chat requests use the model's chat template; /v1/completions completes prompts raw.
 */
export async function serve(options: ServeOptions = {}): Promise<ServerHandle> {
  const env = options.env ?? process.env;
  const ref = options.model?.replace(/^local:/, "").trim() || defaultLocalModelRef(env);
  const modelName = path.basename(ref).replace(/\.gguf$/i, "");
  const parallel = options.parallel ?? DEFAULT_SERVE_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) {
    throw new UserError({
      code: "usage",
      field: "--parallel",
      message: `expected a whole number from 1 to ${MAX_PARALLEL}, received ${parallel}`,
      hint: "each parallel request takes a context sequence of its own; 4 suits most machines",
    });
  }
  const apiKeys = await resolveApiKeys({
    keys: options.apiKeys,
    file: options.apiKeyFile,
    env,
    cwd: options.cwd,
  });

  // One sequence per request the server runs at once, so a request never waits inside the provider.
  const created = createLocalProvider(
    { id: `local:${ref}`, label: modelName, params: { parallel } },
    { env, fetch: options.fetch, onProgress: options.onProgress, cwd: options.cwd },
  );
  // Its failure reaches the caller through `ready`; until something awaits it, it must not count as unhandled.
  created.catch(() => {});
  // A file on disk is checked before listening, so a wrong path fails at once; a download runs while
  // /health answers 503.
  if (!isHuggingFaceRef(ref)) await created;
  // The model loads once the port is bound: a port taken fails before seconds of loading.
  let listening!: () => void;
  const loaded = new Promise<void>((resolve) => {
    listening = resolve;
  })
    .then(() => created)
    .then(async (provider) => {
      const engine = await provider.load();
      // Says whether a GPU asked for was found: with gpu auto, llama.cpp falls back to the CPU without a word.
      if (!closed) options.log?.(`loaded ${modelName} on ${describeEngine(engine)}`);
      return provider;
    });
  let closed = false;
  const closeProvider = async () => {
    closed = true;
    const provider: LocalProvider | undefined = await created.catch(() => undefined);
    await provider?.close();
  };

  let server: ServerHandle;
  try {
    server = await startServer({
      provider: loaded,
      completionsProvider: loaded.then((provider) => provider.rawCompletions()),
      host: options.host,
      port: options.port ?? DEFAULT_SERVE_PORT,
      modelName,
      log: options.log,
      quiet: options.quiet,
      apiKeys,
      allowNoKey: options.allowNoKey,
      protectHealth: options.protectHealth,
      parallel,
      queue: options.queue,
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    await closeProvider();
    throw error;
  }
  listening();
  return {
    url: server.url,
    ready: server.ready,
    async close() {
      try {
        await server.close();
      } finally {
        await closeProvider();
      }
    },
  };
}
