/** `promptsmith serve`: a local GGUF model behind the OpenAI-compatible server. */
import path from "node:path";
import { createLocalProvider, describeEngine } from "../providers/local.js";
import { type DownloadProgress, defaultLocalModelRef } from "../providers/model-cache.js";
import { type ServerHandle, startServer } from "./server.js";

/** The port `serve` listens on when none is given (llama.cpp's server uses the same). */
export const DEFAULT_SERVE_PORT = 8080;

/** Options of `serve`. */
export interface ServeOptions {
  /** A model ref: `path/to/model.gguf` or `hf:<user>/<repo>/<file.gguf>` (a `local:` prefix is allowed); empty means the default model. */
  model?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DEFAULT_SERVE_PORT; 0 picks a free port. */
  port?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Used to download `hf:` models that are not cached yet. */
  fetch?: typeof fetch;
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Loads the model and serves it; the handle's close() stops the server and then frees the model.
 * Chat requests use the model's chat template; /v1/completions completes prompts raw.
 */
export async function serve(options: ServeOptions = {}): Promise<ServerHandle> {
  const env = options.env ?? process.env;
  const ref = options.model?.replace(/^local:/, "").trim() || defaultLocalModelRef(env);
  const modelName = path.basename(ref).replace(/\.gguf$/i, "");
  const provider = await createLocalProvider(
    { id: `local:${ref}`, label: modelName, params: {} },
    { env, fetch: options.fetch, onProgress: options.onProgress },
  );
  try {
    const engine = await provider.load();
    // Says whether a GPU asked for was found: with gpu auto, llama.cpp falls back to the CPU without a word.
    options.log?.(`loaded ${modelName} on ${describeEngine(engine)}`);
    const server = await startServer({
      provider,
      completionsProvider: provider.rawCompletions(),
      host: options.host,
      port: options.port ?? DEFAULT_SERVE_PORT,
      modelName,
      log: options.log,
    });
    return {
      url: server.url,
      async close() {
        try {
          await server.close();
        } finally {
          await provider.close();
        }
      },
    };
  } catch (error) {
    await provider.close();
    throw error;
  }
}
