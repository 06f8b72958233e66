import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { defaultProviders } from "../config/defaults.js";
import { UserError } from "../errors.js";
import { createProvider } from "../providers/index.js";
import { type ChatMessage, isProviderError, type ProviderSpec, type TokenUsage } from "../providers/types.js";
import { createPromptEngine } from "../templates/index.js";
import { providerFailure } from "./failures.js";

/** Options of runPrompt(). */
export interface RunPromptOptions {
  /** A template file; relative to cwd. */
  templatePath: string;
  cwd?: string;
  vars?: Record<string, unknown>;
  /** Provider id such as `openai:gpt-4o-mini` or `echo`; default: the default provider. */
  provider?: string;
  params?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Receives the answer as it streams in. */
  onToken?: (text: string) => void;
  /** Progress of a model download (the first use of a `local:hf:` model). */
  onDownloadProgress?: (progress: { downloaded: number; total?: number }) => void;
}

/** One answer from one model for one rendered template. */
export interface RunPromptResult {
  provider: string;
  messages: ChatMessage[];
  output: string;
  usage: TokenUsage;
  latencyMs: number;
}

/** Renders one template with the given variables and sends it to one provider. */
export async function runPrompt(options: RunPromptOptions): Promise<RunPromptResult> {
  const env = options.env ?? process.env;
  const path = resolve(options.cwd ?? process.cwd(), options.templatePath);
  let source: string;
  try {
    source = await readFile(path, "utf8");
  } catch {
    throw new UserError({
      code: "template-not-found",
      message: `template ${path} does not exist`,
      hint: "give the path of a .hbs file, relative to the current directory",
    });
  }
  const partialsDir = join(dirname(path), "partials");
  const engine = createPromptEngine({ partialsDir: existsSync(partialsDir) ? partialsDir : undefined });
  const messages = engine.compile(source, { file: path }).render(options.vars ?? {});

  const spec: ProviderSpec = options.provider
    ? { id: options.provider, label: options.provider, params: {} }
    : defaultProviders(env)[0];
  const provider = await createProvider(spec, {
    env,
    fetch: options.fetch,
    onProgress: options.onDownloadProgress,
  });
  try {
    const response = await provider
      .complete({ messages, params: options.params, signal: options.signal, onToken: options.onToken })
      .catch((error: unknown) => {
        // One call with nothing to go on after it: any failure but Ctrl-C ends the command.
        if (!isProviderError(error) || error.kind === "aborted") throw error;
        throw providerFailure(provider, error);
      });
    return {
      provider: provider.label,
      messages,
      output: response.outputs[0] ?? "",
      usage: response.usage,
      latencyMs: Math.round(response.latencyMs),
    };
  } finally {
    await provider.close?.();
  }
}
