/** The contract every model back end fulfils: the runner only ever sees this interface. */

/** One chat message, as the OpenAI chat API spells it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Token counts reported by the endpoint (0 when it reports none). */
export interface TokenUsage {
  prompt: number;
  completion: number;
}

/** Generation parameters passed through to the endpoint (temperature, max_tokens, seed, stop, …). */
export type ProviderParams = Record<string, unknown>;

/** One request: a rendered prompt and how many samples to draw from it. */
export interface CompletionRequest {
  messages: ChatMessage[];
  /** Per-request parameters; they override the provider's configured params. */
  params?: ProviderParams;
  /** Number of samples wanted (the OpenAI `n`); default 1. */
  n?: number;
  signal?: AbortSignal;
  /** Called with each piece of text as it streams in; when set, the provider streams. */
  onToken?: (text: string) => void;
  /**
   * Aborting it ends the generation where it is and returns the text so far (finish reason "length"),
   * where aborting `signal` fails the call. Providers that cannot stop early answer in full.
   */
  stopSignal?: AbortSignal;
  /**
   * Set by the runner for a provider that answers from a recording (`replay:`): each sample's
   * cassette key, the index of the first, and the job they belong to, so a miss can name it.
   */
  lookup?: {
    keys: string[];
    firstSample: number;
    caseId: string;
    promptId: string;
    draw?: number;
    /** Which of the job's calls: its answer (absent), `extract`, `judge` or `baseline`. */
    call?: "extract" | "judge" | "baseline";
  };
}

/** What came back: one output per sample, with usage and the wall time of the call. */
export interface CompletionResponse {
  outputs: string[];
  usage: TokenUsage;
  latencyMs: number;
  /** The model the endpoint says answered, when it says. */
  model?: string;
  /** Why each output ended ("length": cut off by max_tokens or `stopSignal`), when the provider knows. */
  finishReasons?: Array<"stop" | "length">;
}

/** A model back end. Implementations: openai.ts (any OpenAI-compatible endpoint), echo.ts, local.ts, replay.ts. */
export interface Provider {
  /** The provider id as configured, e.g. `openai:gpt-4o-mini`. */
  readonly id: string;
  /** A short display name (the config's `label`, else the id). */
  readonly label: string;
  complete(request: CompletionRequest): Promise<CompletionResponse>;
  /** Release sockets, models, workers. */
  close?(): Promise<void>;
}

/** How a call failed, coarse enough to decide what to do about it. */
export type ProviderErrorKind =
  | "auth"
  | "rate-limit"
  | "timeout"
  | "server"
  | "network"
  | "bad-request"
  | "bad-response"
  | "not-found"
  | "aborted";

/** A failed call. `fatal` errors (bad key, unknown endpoint) stop the run; the others are recorded on the case. */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly status?: number;
  readonly fatal: boolean;
  /** What the user should do, when the provider knows better than the generic advice for its kind. */
  readonly hint?: string;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    options: { status?: number; fatal?: boolean; cause?: unknown; hint?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProviderError";
    this.kind = kind;
    this.status = options.status;
    this.fatal = options.fatal ?? kind === "auth";
    this.hint = options.hint;
  }
}

export function isProviderError(value: unknown): value is ProviderError {
  return value instanceof ProviderError;
}

/** How a provider is described in a normalized config. */
export interface ProviderSpec {
  /** `openai:<model>`, `echo`, `local:<path>`. */
  id: string;
  label: string;
  /** Base URL of an OpenAI-compatible endpoint; undefined means OPENAI_BASE_URL, else the OpenAI API. */
  baseURL?: string;
  /** Name of the environment variable holding the API key (never the key itself). */
  apiKeyEnv?: string;
  params: ProviderParams;
  /** Use /v1/completions instead of /v1/chat/completions. */
  completions?: boolean;
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
  /** Retries the SDK makes on 429/5xx/connection errors. */
  maxRetries?: number;
  /** Requests per minute this endpoint allows. */
  rpm?: number;
  /** Tokens per minute this endpoint allows. */
  tpm?: number;
  /** Price in USD per million tokens, for cost estimates (overrides the built-in table). */
  price?: { input: number; output: number };
}
