/**
 * The `openai:<model>` provider: any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server,
 * Ollama, LM Studio, …). The only file in promptsmith that imports the `openai` package.
 * Every failure leaves here as a ProviderError (or a UserError for set-up problems found before any call).
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from "openai/resources/chat/completions";
import type {
  CompletionCreateParamsNonStreaming,
  CompletionCreateParamsStreaming,
} from "openai/resources/completions";
import { UserError } from "../errors.js";
import { sharedHttpFetch } from "./http-fetch.js";
import type { ProviderOptions } from "./index.js";
import {
  type ChatMessage,
  type CompletionRequest,
  type CompletionResponse,
  type Provider,
  ProviderError,
  type ProviderErrorKind,
  type ProviderParams,
  type ProviderSpec,
  type TokenUsage,
} from "./types.js";

const OPENAI_API_URL = "https://api.openai.com/v1";
/** Sent to endpoints that need no key: the SDK refuses to start without one, local servers ignore it. */
const PLACEHOLDER_KEY = "sk-no-key-required";
/**
 * Four retries with the SDK's backoff (0.5, 1, 2, 4 s, or the server's Retry-After on 429) ride out
 * a rate-limit window or a local server restarting, yet give up within seconds on a dead endpoint.
 */
const DEFAULT_MAX_RETRIES = 4;
/**
 * Two minutes per attempt: a local model on a CPU can take over a minute for a long answer, while a
 * hung endpoint still fails well before the SDK's own ten-minute default.
 */
const DEFAULT_TIMEOUT_MS = 120_000;
/** Body fields the provider owns; a config's params cannot override them. */
export const RESERVED_PARAMS = ["model", "messages", "prompt", "n", "stream", "stream_options"];

/** A configured SDK client plus what error messages need to know about it (the batch client shares it). */
export interface OpenAIClientSetup {
  client: OpenAI;
  model: string;
  baseURL: string;
  apiKeyEnv: string;
  apiKey: string | undefined;
  maxRetries: number;
  timeoutMs: number;
}

/** Where a call went and with what, for error messages (the key only to redact it). */
export interface CallContext extends Omit<OpenAIClientSetup, "client"> {
  path: string;
  signal?: AbortSignal;
}

/** One answer: choice texts in index order, usage, and the model the endpoint named. */
export interface CallResult {
  outputs: string[];
  usage: TokenUsage;
  model?: string;
}

/** Build a provider for an OpenAI-compatible endpoint; throws UserError for a bad id, URL or missing key. */
export function createOpenAIProvider(spec: ProviderSpec, options: ProviderOptions = {}): Provider {
  const { client, model, baseURL, apiKeyEnv, apiKey, maxRetries, timeoutMs } = createOpenAIClient(
    spec,
    options,
  );
  const completionsMode = spec.completions === true;
  const path = completionsMode ? "/completions" : "/chat/completions";
  const endpoint = `${displayURL(baseURL)}${path}`;

  return {
    id: spec.id,
    label: spec.label || spec.id,
    async complete(request: CompletionRequest): Promise<CompletionResponse> {
      const started = performance.now();
      const context: CallContext = {
        model,
        baseURL,
        apiKeyEnv,
        apiKey,
        maxRetries,
        timeoutMs,
        path,
        signal: request.signal,
      };
      const merged: ProviderParams = { ...spec.params, ...request.params };
      const wanted = Math.max(1, Math.floor(request.n ?? numberOrUndefined(merged.n) ?? 1));
      const params = Object.fromEntries(
        Object.entries(merged).filter(([key]) => !RESERVED_PARAMS.includes(key)),
      );
      const input = completionsMode
        ? { prompt: renderCompletionPrompt(request.messages) }
        : { messages: request.messages };

      const outputs: string[] = [];
      const usage: TokenUsage = { prompt: 0, completion: 0 };
      let answeredBy: string | undefined;
      try {
        // Many local servers ignore `n` and answer one choice: ask again until n outputs exist.
        while (outputs.length < wanted) {
          if (request.signal?.aborted) throw abortedError();
          const remaining = wanted - outputs.length;
          const body = { ...params, model, ...input, ...(remaining > 1 ? { n: remaining } : {}) };
          const result = request.onToken
            ? await callStreaming(client, body, completionsMode, endpoint, request.onToken, request.signal)
            : await callOnce(client, body, completionsMode, endpoint, request.signal);
          if (result.outputs.length === 0) {
            throw new ProviderError(
              "bad-response",
              `${endpoint} answered with no choices for model "${model}"`,
            );
          }
          outputs.push(...result.outputs.slice(0, remaining));
          usage.prompt += result.usage.prompt;
          usage.completion += result.usage.completion;
          answeredBy ??= result.model;
        }
      } catch (error) {
        throw toProviderError(error, context);
      }
      return {
        outputs,
        usage,
        latencyMs: performance.now() - started,
        ...(answeredBy ? { model: answeredBy } : {}),
      };
    },
  };
}

/** The embedding model and the endpoint serving it (a provider's baseURL and key variable). */
export interface EmbedderSpec {
  model: string;
  /** Undefined means OPENAI_BASE_URL, else the OpenAI API. */
  baseURL?: string;
  /** Name of the environment variable holding the API key; default OPENAI_API_KEY. */
  apiKeyEnv?: string;
}

/** Turns texts into embedding vectors. */
export interface Embedder {
  /** One vector per text, in the order given; throws a ProviderError when a request fails. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  /** Frees what the embedder holds (a local model). */
  close?(): Promise<void>;
}

/** Inputs per /embeddings request: OpenAI accepts up to 2048, and local servers often far fewer. */
export const EMBEDDING_BATCH_SIZE = 256;

/**
 * An embedder over an OpenAI-compatible /embeddings endpoint, with the chat provider's key
 * handling, retries, timeout, redaction and error mapping; throws UserError for a bad URL or a
 * missing OpenAI key.
 */
export function createOpenAIEmbedder(spec: EmbedderSpec, options: ProviderOptions = {}): Embedder {
  const providerSpec: ProviderSpec = { id: `openai:${spec.model}`, label: spec.model, params: {} };
  if (spec.baseURL !== undefined) providerSpec.baseURL = spec.baseURL;
  if (spec.apiKeyEnv !== undefined) providerSpec.apiKeyEnv = spec.apiKeyEnv;
  const { client, model, baseURL, apiKeyEnv, apiKey, maxRetries, timeoutMs } = createOpenAIClient(
    providerSpec,
    options,
  );
  const path = "/embeddings";
  const endpoint = `${displayURL(baseURL)}${path}`;
  return {
    async embed(texts, signal) {
      const context: CallContext = { model, baseURL, apiKeyEnv, apiKey, maxRetries, timeoutMs, path, signal };
      const vectors: number[][] = [];
      try {
        for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
          if (signal?.aborted) throw abortedError();
          const input = texts.slice(start, start + EMBEDDING_BATCH_SIZE);
          // "float" explicitly: the SDK would ask for base64, which some local servers do not speak.
          const response: unknown = await client.embeddings.create(
            { model, input, encoding_format: "float" },
            { signal },
          );
          vectors.push(...readEmbeddings(response, input.length, endpoint));
        }
      } catch (error) {
        throw toProviderError(error, context);
      }
      return vectors;
    },
  };
}

/** The vectors of an /embeddings answer in input order; throws bad-response unless there is one finite vector per input. */
export function readEmbeddings(response: unknown, count: number, endpoint: string): number[][] {
  const data = (response as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) {
    throw new ProviderError(
      "bad-response",
      `${endpoint} answered without a \`data\` list: ${preview(JSON.stringify(response))}`,
    );
  }
  const vectors: (number[] | undefined)[] = new Array(count).fill(undefined);
  for (const [position, item] of (data as unknown[]).entries()) {
    const fields = (item ?? {}) as Record<string, unknown>;
    const index = typeof fields.index === "number" ? fields.index : position;
    const vector = toVector(fields.embedding);
    if (!Number.isInteger(index) || index < 0 || index >= count || !vector || vector.length === 0) {
      throw new ProviderError(
        "bad-response",
        `${endpoint}: item ${position} of the answer is not an embedding`,
      );
    }
    vectors[index] = vector;
  }
  const missing = vectors.indexOf(undefined);
  if (missing !== -1) {
    throw new ProviderError(
      "bad-response",
      `${endpoint} answered ${data.length} embeddings for ${count} inputs (none for input ${missing})`,
    );
  }
  const dimensions = vectors[0]!.length;
  if (vectors.some((vector) => vector!.length !== dimensions)) {
    throw new ProviderError("bad-response", `${endpoint} answered embeddings of different lengths`);
  }
  return vectors as number[][];
}

// A list of numbers, or base64 float32 for a server that ignores encoding_format.
function toVector(value: unknown): number[] | undefined {
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "base64");
    if (bytes.length % 4 !== 0) return undefined;
    // Copied: a pooled Buffer's offset need not be a multiple of 4, which Float32Array requires.
    const floats = new Float32Array(new Uint8Array(bytes).buffer);
    value = Array.from(floats);
  }
  if (!Array.isArray(value)) return undefined;
  return value.every((n) => typeof n === "number" && Number.isFinite(n)) ? (value as number[]) : undefined;
}

/** Resolve a spec's model, endpoint, key and limits into an SDK client; throws UserError for a bad id, URL or missing key. */
export function createOpenAIClient(spec: ProviderSpec, options: ProviderOptions = {}): OpenAIClientSetup {
  const env = options.env ?? process.env;
  const model = spec.id.slice("openai:".length);
  if (!model) {
    throw new UserError({
      code: "provider-invalid",
      message: `provider "${spec.id}" names no model`,
      hint: "write openai:<model>, e.g. openai:gpt-4o-mini or openai:llama3.1:8b",
    });
  }
  const baseURL = (spec.baseURL ?? nonEmpty(env.OPENAI_BASE_URL) ?? OPENAI_API_URL).replace(/\/+$/, "");
  const url = parseBaseURL(baseURL, spec);
  const apiKeyEnv = spec.apiKeyEnv ?? "OPENAI_API_KEY";
  const apiKey = nonEmpty(env[apiKeyEnv]);
  if (apiKey === undefined && url.hostname === "api.openai.com") {
    throw new UserError({
      code: "provider-auth",
      message: `${apiKeyEnv} is not set (provider ${spec.id} talks to the OpenAI API)`,
      hint: `export ${apiKeyEnv}=<your key>, or set apiKeyEnv to the variable holding it, or set baseURL to a local OpenAI-compatible server`,
    });
  }
  const maxRetries = spec.maxRetries ?? DEFAULT_MAX_RETRIES;
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new OpenAI({
    apiKey: apiKey ?? PLACEHOLDER_KEY,
    baseURL,
    maxRetries,
    timeout: timeoutMs,
    fetch: options.fetch ?? sharedHttpFetch(env),
    // Pass these explicitly so the SDK reads nothing from process.env behind the injected env's back.
    organization: nonEmpty(env.OPENAI_ORG_ID) ?? null,
    project: nonEmpty(env.OPENAI_PROJECT_ID) ?? null,
    adminAPIKey: null,
    webhookSecret: null,
    // Failures reach the user as ProviderErrors; SDK logging stays off unless asked for.
    logLevel: logLevelFrom(env.OPENAI_LOG),
  });
  return { client, model, baseURL, apiKeyEnv, apiKey, maxRetries, timeoutMs };
}

/** The `prompt` of a text completion: a lone user message verbatim, else `role: content` blocks. */
export function renderCompletionPrompt(messages: ChatMessage[]): string {
  if (messages.length === 1 && messages[0].role === "user") return messages[0].content;
  return messages.map((message) => `${message.role}: ${message.content}`).join("\n\n");
}

async function callOnce(
  client: OpenAI,
  body: Record<string, unknown>,
  completionsMode: boolean,
  endpoint: string,
  signal?: AbortSignal,
): Promise<CallResult> {
  // Params pass through untyped: endpoints accept fields the SDK's types do not know (top_k, min_p, …).
  const response: unknown = completionsMode
    ? await client.completions.create(body as unknown as CompletionCreateParamsNonStreaming, { signal })
    : await client.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming, {
        signal,
      });
  return readCompletion(response, completionsMode, endpoint);
}

/** The choice texts (in index order), usage and model of a non-streamed completion body; throws bad-response. */
export function readCompletion(response: unknown, completionsMode: boolean, endpoint: string): CallResult {
  if (response === null || typeof response !== "object") {
    throw new ProviderError(
      "bad-response",
      `${endpoint} answered with a body that is not JSON: ${preview(response)}`,
    );
  }
  const record = response as Record<string, unknown>;
  if (!Array.isArray(record.choices)) {
    throw new ProviderError(
      "bad-response",
      `${endpoint} answered without a \`choices\` list: ${preview(JSON.stringify(response))}`,
    );
  }
  const texts = new Map<number, string>();
  for (const [position, choice] of (record.choices as unknown[]).entries()) {
    const fields = (choice ?? {}) as Record<string, unknown>;
    const text = completionsMode
      ? fields.text
      : (fields.message as Record<string, unknown> | undefined)?.content;
    if (text !== null && text !== undefined && typeof text !== "string") {
      throw new ProviderError("bad-response", `${endpoint}: choice ${position} of the answer has no text`);
    }
    texts.set(typeof fields.index === "number" ? fields.index : position, text ?? "");
  }
  return {
    outputs: inIndexOrder(texts),
    usage: readUsage(record.usage),
    model: typeof record.model === "string" ? record.model : undefined,
  };
}

/** Marks an exception thrown by the caller's onToken, so it is rethrown as-is rather than mapped. */
class CallbackError {
  constructor(readonly error: unknown) {}
}

async function callStreaming(
  client: OpenAI,
  body: Record<string, unknown>,
  completionsMode: boolean,
  endpoint: string,
  onToken: (text: string) => void,
  signal?: AbortSignal,
): Promise<CallResult> {
  const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };
  const stream: AsyncIterable<unknown> = completionsMode
    ? await client.completions.create(streamBody as unknown as CompletionCreateParamsStreaming, { signal })
    : await client.chat.completions.create(streamBody as unknown as ChatCompletionCreateParamsStreaming, {
        signal,
      });
  const texts = new Map<number, string>();
  let usage: TokenUsage = { prompt: 0, completion: 0 };
  let model: string | undefined;
  for await (const chunk of stream) {
    if (chunk === null || typeof chunk !== "object")
      throw new ProviderError(
        "bad-response",
        `${endpoint} streamed a chunk that is not a JSON object: ${preview(chunk)}`,
      );
    const record = chunk as Record<string, unknown>;
    if (record.usage) usage = readUsage(record.usage);
    if (typeof record.model === "string") model ??= record.model;
    const choices = Array.isArray(record.choices) ? (record.choices as unknown[]) : [];
    for (const choice of choices) {
      const fields = (choice ?? {}) as Record<string, unknown>;
      const index = typeof fields.index === "number" ? fields.index : 0;
      const piece = completionsMode
        ? fields.text
        : (fields.delta as Record<string, unknown> | undefined)?.content;
      const sofar = texts.get(index) ?? "";
      if (typeof piece === "string" && piece !== "") {
        texts.set(index, sofar + piece);
        try {
          onToken(piece);
        } catch (error) {
          throw new CallbackError(error);
        }
      } else {
        texts.set(index, sofar);
      }
    }
  }
  // The SDK ends a stream quietly when its signal aborts; a cut-short answer must not pass as complete.
  if (signal?.aborted) throw abortedError();
  return { outputs: inIndexOrder(texts), usage, model };
}

/** Turn anything a call threw into a ProviderError whose message names the endpoint but never the key. */
export function toProviderError(error: unknown, context: CallContext): unknown {
  if (error instanceof CallbackError) return error.error;
  const where = displayURL(context.baseURL);
  const redact = (text: string) => redactKey(text, context.apiKey);
  if (error instanceof ProviderError) {
    const message = redact(error.message);
    return message === error.message
      ? error
      : new ProviderError(error.kind, message, { status: error.status, fatal: error.fatal });
  }
  if (error instanceof APIUserAbortError || context.signal?.aborted) return abortedError();
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError(
      "timeout",
      `request to ${where} timed out after ${context.timeoutMs} ms (tried ${context.maxRetries + 1} times); raise timeoutMs for slow models`,
    );
  }
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? describeCause(error.cause) : error.message;
    if (isUntrustedCertificate(error.cause)) {
      // Retrying cannot fix this, and "is the server running?" would send the user the wrong way.
      return new ProviderError(
        "network",
        `${where} presented a TLS certificate this machine does not trust (${redact(cause)})`,
        {
          cause: error.cause,
          fatal: true,
          hint: "if the endpoint uses a private or self-signed CA, export NODE_EXTRA_CA_CERTS=/path/to/ca.pem; otherwise check the host name in baseURL",
        },
      );
    }
    return new ProviderError(
      "network",
      `could not reach ${where} (${redact(cause)}) after ${context.maxRetries + 1} tries`,
      { cause: error.cause, hint: "is the server running? check baseURL (or OPENAI_BASE_URL)" },
    );
  }
  if (error instanceof APIError) {
    const detail = serverMessage(error, redact);
    const status = error.status;
    if (status === undefined)
      return new ProviderError("server", `${where} sent an error mid-answer: ${detail}`);
    if (status === 401 || status === 403) {
      const keyNote =
        context.apiKey === undefined
          ? `the endpoint wants an API key but ${context.apiKeyEnv} is not set`
          : `the API key in ${context.apiKeyEnv} was rejected`;
      return new ProviderError(
        "auth",
        `${status} from ${where}: ${keyNote} (${detail}); check ${context.apiKeyEnv}, or set apiKeyEnv to the right variable`,
        {
          status,
          fatal: true,
        },
      );
    }
    if (status === 404) {
      return new ProviderError(
        "not-found",
        `404 from ${where}${context.path}: model "${context.model}" or the endpoint was not found (${detail}); check the model name and that baseURL ends in /v1`,
        { status, fatal: true },
      );
    }
    if (status === 429) {
      return new ProviderError(
        "rate-limit",
        `429 rate limited by ${where} after ${context.maxRetries} retries (${detail})`,
        { status },
      );
    }
    if (status === 408)
      return new ProviderError("timeout", `408 from ${where}: the endpoint timed out (${detail})`, {
        status,
      });
    if (status >= 500) {
      return new ProviderError(
        "server",
        `${status} server error from ${where} after ${context.maxRetries} retries (${detail})`,
        { status },
      );
    }
    return new ProviderError(
      "bad-request",
      `${status} from ${where}${context.path} rejected the request: ${detail}`,
      { status },
    );
  }
  // A 200 whose JSON does not parse, or a broken SSE chunk.
  if (error instanceof SyntaxError) {
    return new ProviderError(
      "bad-response",
      `${where}${context.path} answered with invalid JSON (${redact(error.message)})`,
    );
  }
  // undici reports a socket cut mid-body as `TypeError: terminated`.
  if (error instanceof TypeError && (error.message === "terminated" || error.cause !== undefined)) {
    return new ProviderError(
      "network",
      `the connection to ${where} broke mid-answer (${redact(describeCause(error))})`,
      { cause: error.cause },
    );
  }
  return error;
}

/** The error kind of an HTTP status, as toProviderError maps a failed call (the batch client maps result lines with it). */
export function statusErrorKind(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not-found";
  if (status === 429) return "rate-limit";
  if (status === 408) return "timeout";
  if (status >= 500) return "server";
  return "bad-request";
}

function abortedError(): ProviderError {
  return new ProviderError("aborted", "request aborted");
}

/** The server's error message, shortened; the key is redacted first so a cut can't leave part of it. */
function serverMessage(error: APIError, redact: (text: string) => string): string {
  const body = error.error as { message?: unknown } | undefined;
  const text = typeof body?.message === "string" ? body.message : error.message;
  return preview(redact(text), 300);
}

/** TLS verification failures (Node's and OpenSSL's codes), at any depth of the cause chain. */
const CERTIFICATE_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function isUntrustedCertificate(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && CERTIFICATE_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}

function describeCause(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  const code = (error.cause as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
  return `${error.message}${cause}${typeof code === "string" && !cause.includes(code) ? ` [${code}]` : ""}`;
}

/** The text with every occurrence of the key replaced by `***`. */
export function redactKey(text: string, key: string | undefined): string {
  return key && key.length >= 4 ? text.split(key).join("***") : text;
}

/** The base URL without any credentials embedded in it. */
export function displayURL(baseURL: string): string {
  try {
    const url = new URL(baseURL);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/+$/, "");
  } catch {
    return baseURL;
  }
}

function parseBaseURL(baseURL: string, spec: ProviderSpec): URL {
  let url: URL | undefined;
  try {
    url = new URL(baseURL);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UserError({
      code: "provider-invalid",
      message: `provider ${spec.id}: baseURL "${baseURL}" is not an http(s) URL`,
      field: "baseURL",
      hint: "write the endpoint's root including /v1, e.g. http://127.0.0.1:8080/v1",
    });
  }
  return url;
}

function readUsage(value: unknown): TokenUsage {
  const usage = (value ?? {}) as Record<string, unknown>;
  return {
    prompt: typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0,
    completion: typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0,
  };
}

function inIndexOrder(texts: Map<number, string>): string[] {
  return [...texts.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text);
}

function preview(value: unknown, max = 120): string {
  const text = typeof value === "string" ? value : String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function logLevelFrom(value: string | undefined): "off" | "error" | "warn" | "info" | "debug" {
  return value === "error" || value === "warn" || value === "info" || value === "debug" ? value : "off";
}
