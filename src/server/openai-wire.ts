/**
 * The OpenAI wire format as this server speaks it: request bodies checked and mapped onto a provider
 * request, and the response / stream-chunk objects built from provider results.
 */
import { randomBytes } from "node:crypto";
import type { ChatMessage, ProviderParams, TokenUsage } from "../providers/types.js";

/** An error answered to the client as `{ error: { message, type, param, code } }` with `status`. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  /** Headers sent with the error, e.g. `retry-after` on a 429. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    message: string,
    options: { type?: string; param?: string; code?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.type = options.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  /** The JSON body OpenAI clients parse. */
  toBody(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Which endpoint a request came in on. */
export type EndpointKind = "chat" | "text";

/** A checked request: one message list per prompt, and what to ask the provider. */
export interface GenerationRequest {
  kind: EndpointKind;
  /** One entry per prompt; chat requests have exactly one. */
  prompts: ChatMessage[][];
  n: number;
  params: ProviderParams;
  stream: boolean;
  includeUsage: boolean;
}

// More samples than this per request is almost certainly a mistake, and each costs a full generation.
const MAX_N = 128;
const ROLES: Record<string, ChatMessage["role"]> = {
  system: "system",
  developer: "system",
  user: "user",
  assistant: "assistant",
};

/** Checks a `/v1/chat/completions` or `/v1/completions` body; throws a 400 HttpError naming the bad field. */
export function parseGenerationRequest(kind: EndpointKind, body: unknown): GenerationRequest {
  if (!isRecord(body)) throw invalid("the request body must be a JSON object");
  const prompts = kind === "chat" ? [parseMessages(body.messages)] : parsePrompts(body.prompt);
  const n = optional(body, "n", "integer") ?? 1;
  if (n < 1 || n > MAX_N) throw invalid(`n must be from 1 to ${MAX_N}`, "n");
  const stream = optional(body, "stream", "boolean") ?? false;
  let includeUsage = false;
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (!isRecord(body.stream_options)) throw invalid("stream_options must be an object", "stream_options");
    includeUsage =
      optional(body.stream_options, "include_usage", "boolean", "stream_options.include_usage") ?? false;
  }

  const params: ProviderParams = {};
  const temperature = optional(body, "temperature", "number");
  if (temperature !== undefined) params.temperature = temperature;
  const topP = optional(body, "top_p", "number");
  if (topP !== undefined) params.top_p = topP;
  // max_completion_tokens is the newer name; it wins when both are sent.
  const maxTokens =
    optional(body, "max_completion_tokens", "integer") ?? optional(body, "max_tokens", "integer");
  if (maxTokens !== undefined) params.max_tokens = maxTokens;
  const seed = optional(body, "seed", "integer");
  if (seed !== undefined) params.seed = seed;
  const stop = body.stop;
  if (stop !== undefined && stop !== null) {
    const valid =
      typeof stop === "string" || (Array.isArray(stop) && stop.every((item) => typeof item === "string"));
    if (!valid) throw invalid("stop must be a string or an array of strings", "stop");
    params.stop = stop;
  }
  return { kind, prompts, n, params, stream, includeUsage };
}

function parseMessages(value: unknown): ChatMessage[] {
  if (value === undefined || value === null) throw invalid("messages is required", "messages");
  if (!Array.isArray(value) || value.length === 0)
    throw invalid("messages must be a non-empty array", "messages");
  return value.map((message, index) => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw invalid(`${param} must be an object`, param);
    const role = typeof message.role === "string" ? ROLES[message.role] : undefined;
    if (!role) {
      throw invalid(
        `${param}.role must be one of system, developer, user, assistant (tools are not supported)`,
        `${param}.role`,
      );
    }
    return { role, content: parseContent(message.content, `${param}.content`, role === "assistant") };
  });
}

function parseContent(value: unknown, param: string, nullable: boolean): string {
  if (typeof value === "string") return value;
  if ((value === null || value === undefined) && nullable) return "";
  if (Array.isArray(value)) {
    return value
      .map((part, index) => {
        if (isRecord(part) && part.type === "text" && typeof part.text === "string") return part.text;
        throw invalid(
          `${param}[${index}] must be a text part; only text content is supported`,
          `${param}[${index}]`,
        );
      })
      .join("");
  }
  throw invalid(`${param} must be a string or an array of text parts`, param);
}

function parsePrompts(value: unknown): ChatMessage[][] {
  if (value === undefined || value === null) throw invalid("prompt is required", "prompt");
  const prompts = typeof value === "string" ? [value] : value;
  if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every((item) => typeof item === "string")) {
    throw invalid(
      "prompt must be a string or a non-empty array of strings (token arrays are not supported)",
      "prompt",
    );
  }
  return prompts.map((prompt) => [{ role: "user", content: prompt }]);
}

type Kind = "number" | "integer" | "boolean";
type KindType<K extends Kind> = K extends "boolean" ? boolean : number;

function optional<K extends Kind>(
  record: Record<string, unknown>,
  key: string,
  kind: K,
  param = key,
): KindType<K> | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  const ok =
    kind === "boolean"
      ? typeof value === "boolean"
      : typeof value === "number" && Number.isFinite(value) && (kind === "number" || Number.isInteger(value));
  if (!ok) throw invalid(`${param} must be ${kind === "integer" ? "an integer" : `a ${kind}`}`, param);
  return value as KindType<K>;
}

function invalid(message: string, param?: string): HttpError {
  return new HttpError(400, message, { param });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Fields every response and chunk of one request shares. */
export interface ResponseHead {
  id: string;
  created: number;
  model: string;
}

/** A fresh id and timestamp, with the id prefix OpenAI uses for the endpoint. */
export function responseHead(kind: EndpointKind, model: string, now = Date.now()): ResponseHead {
  const prefix = kind === "chat" ? "chatcmpl-" : "cmpl-";
  return { id: prefix + randomBytes(12).toString("hex"), created: Math.floor(now / 1000), model };
}

/** OpenAI's usage object. */
export function usageBody(usage: TokenUsage) {
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.prompt + usage.completion,
  };
}

/** Why a choice ended: a natural end or stop sequence, or cut off (max_tokens, or the server's --timeout). */
export type FinishReason = "stop" | "length";

/** One finished choice. */
export interface Choice {
  text: string;
  finishReason: FinishReason;
}

/** A whole, non-streamed response; `choices[i]` is choice `i`. */
export function completionBody(kind: EndpointKind, head: ResponseHead, choices: Choice[], usage: TokenUsage) {
  if (kind === "chat") {
    return {
      ...head,
      object: "chat.completion",
      choices: choices.map((choice, index) => ({
        index,
        message: { role: "assistant", content: choice.text, refusal: null },
        logprobs: null,
        finish_reason: choice.finishReason,
      })),
      usage: usageBody(usage),
    };
  }
  return {
    ...head,
    object: "text_completion",
    choices: choices.map((choice, index) => ({
      index,
      text: choice.text,
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: usageBody(usage),
  };
}

/** One streamed piece of choice `index`: the first piece of a chat choice also carries the role. */
export function deltaChunk(
  kind: EndpointKind,
  head: ResponseHead,
  index: number,
  text: string,
  options: { first?: boolean; withUsage?: boolean } = {},
) {
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const usage = options.withUsage ? { usage: null } : {};
  if (kind === "chat") {
    const delta = options.first ? { role: "assistant", content: text } : { content: text };
    return {
      ...head,
      object: "chat.completion.chunk",
      choices: [{ index, delta, logprobs: null, finish_reason: null }],
      ...usage,
    };
  }
  return {
    ...head,
    object: "text_completion",
    choices: [{ index, text, logprobs: null, finish_reason: null }],
    ...usage,
  };
}

/** The chunk that ends choice `index`. */
export function finishChunk(
  kind: EndpointKind,
  head: ResponseHead,
  index: number,
  options: { withUsage?: boolean; finishReason?: FinishReason } = {},
) {
  const usage = options.withUsage ? { usage: null } : {};
  const finish_reason = options.finishReason ?? "stop";
  if (kind === "chat") {
    return {
      ...head,
      object: "chat.completion.chunk",
      choices: [{ index, delta: {}, logprobs: null, finish_reason }],
      ...usage,
    };
  }
  return {
    ...head,
    object: "text_completion",
    choices: [{ index, text: "", logprobs: null, finish_reason }],
    ...usage,
  };
}

/** The last chunk when `stream_options.include_usage` is set: no choices, the request's usage. */
export function usageChunk(kind: EndpointKind, head: ResponseHead, usage: TokenUsage) {
  return {
    ...head,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    choices: [],
    usage: usageBody(usage),
  };
}
