/**
 * A loopback OpenAI-compatible server for tests: chat and text completions (JSON and SSE),
 * embeddings (deterministic, see `testEmbedding`), a model list, and a scriptable set of faults (429 with Retry-After, 5xx, 401, dropped
 * sockets, malformed bodies). It binds 127.0.0.1 on a free port, so tests never reach the network.
 *
 * Shared by the provider, runner, CLI end-to-end and benchmark tests; keep it general.
 *
 * ```ts
 * const server = await startTestServer({ faults: [{ status: 429, retryAfter: 0 }] });
 * const provider = await createProvider({ id: "openai:test-model", label: "t", baseURL: server.url, params: {} });
 * // … server.requests holds every request the provider made …
 * await server.close();
 * ```
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { listenOnLoopback } from "./loopback.js";

/** A completion request as the server received it. */
export interface RecordedRequest {
  method: string;
  /** The path without the query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (`undefined` for GET requests or unparsable bodies). */
  body: RequestBody | undefined;
  rawBody: string;
  /** 0-based position among completion requests (chat and text); -1 for other requests. */
  index: number;
}

/** The fields of a completion request body the server looks at; everything else is kept as received. */
export interface RequestBody {
  model?: string;
  messages?: { role: string; content: unknown }[];
  prompt?: string | string[];
  n?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  [key: string]: unknown;
}

/** One scripted misbehaviour, applied to one completion request instead of (or before) answering it. */
export type Fault =
  /** Answer with this HTTP status and an OpenAI-style error body. */
  | {
      status: number;
      /** Sent as `Retry-After` (seconds); the SDK waits this long before retrying. */
      retryAfter?: number;
      /** Sent as `retry-after-ms`; the SDK prefers it over `Retry-After`. Use 0 to keep 5xx retries fast. */
      retryAfterMs?: number;
      /** The error message in the body; default names the status. */
      message?: string;
    }
  /** Destroy the socket without answering (with `afterChunks` on a streamed request: after that many SSE chunks). */
  | { drop: true; afterChunks?: number }
  /** Answer 200 with a body that is not a completion: `"non-json"` (default) or `"no-choices"`. */
  | { malformed: true | "non-json" | "no-choices" };

/** Decides the fault for a completion request; `undefined` means answer normally. */
export type FaultScript =
  | (Fault | null | undefined)[]
  | ((index: number, request: RecordedRequest) => Fault | null | undefined);

/** How the test server behaves. */
export interface TestServerOptions {
  /**
   * The text of each choice. A string is used for every choice; an array gives one per choice
   * (cycled when shorter than `n`). Default: the last user message (chat) or the prompt (text).
   */
  respond?: (body: RequestBody, requestIndex: number) => string | string[];
  /** Delay before answering each completion request, in ms (a function gets the request index). */
  latencyMs?: number | ((requestIndex: number) => number);
  /** true (default): answer `n` choices; false: ignore `n` and answer one, as many local servers do. */
  supportsN?: boolean;
  /** Faults per completion request: an array is a queue consumed one entry per request; a function decides each. */
  faults?: FaultScript;
  /** When set, every request must carry `Authorization: Bearer <apiKey>`, else 401. */
  apiKey?: string;
  /** Models served by GET /v1/models; when set, a completion request for another model gets 404. */
  models?: string[];
  /** Include `usage` in JSON responses (default true); streamed usage follows `stream_options.include_usage`. */
  usage?: boolean;
  /** Serve HTTPS with this key and certificate (PEM), e.g. test/fixtures/tls; `url` then starts with https. */
  tls?: { key: string; cert: string };
}

/** A running test server. */
export interface TestServer {
  /** Base URL ending in `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The completion requests only (chat and text), in arrival order. */
  completionRequests(): RecordedRequest[];
  /** Stop listening and cut open connections. */
  close(): Promise<void>;
}

const CHAT_PATH = "/v1/chat/completions";
const TEXT_PATH = "/v1/completions";
const EMBEDDINGS_PATH = "/v1/embeddings";

/** Length of the vectors POST /v1/embeddings answers. */
export const TEST_EMBEDDING_DIMENSIONS = 64;

/**
 * The vector the server gives a text: a hashed bag of its lower-cased words (FNV-1a picks the
 * dimension and the sign), L2-normalised; all zeros for a text without words. Tests compute
 * expected nearest neighbours with it.
 */
export function testEmbedding(text: string): number[] {
  const vector = new Array<number>(TEST_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
    vector[hash % TEST_EMBEDDING_DIMENSIONS] += hash & 0x80000000 ? -1 : 1;
  }
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

/** Start a loopback OpenAI-compatible server on 127.0.0.1 and a free port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const faultQueue = Array.isArray(options.faults) ? [...options.faults] : undefined;
  let completionCount = 0;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error: unknown) => {
      // A bug in the server itself: answer 500 so the test fails loudly rather than hanging.
      if (!res.headersSent) sendJson(res, 500, { error: { message: `test server bug: ${String(error)}` } });
      else res.destroy();
    });
  };
  const server = options.tls ? createTlsServer(options.tls, onRequest) : createServer(onRequest);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const path = (req.url ?? "/").split("?")[0];
    const isCompletion = req.method === "POST" && (path === CHAT_PATH || path === TEXT_PATH);
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      headers: req.headers,
      body: parseBody(rawBody),
      rawBody,
      index: isCompletion ? completionCount++ : -1,
    };
    requests.push(record);

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendError(res, 401, "Incorrect API key provided.", "invalid_api_key");
      return;
    }
    if (req.method === "GET" && path === "/v1/models") {
      const ids = options.models ?? ["test-model"];
      sendJson(res, 200, {
        object: "list",
        data: ids.map((id) => ({ id, object: "model", created: 0, owned_by: "test" })),
      });
      return;
    }
    if (req.method === "POST" && path === EMBEDDINGS_PATH) {
      answerEmbeddings(res, record.body, options.models);
      return;
    }
    if (!isCompletion) {
      sendError(res, 404, `no route for ${req.method} ${path}`, "not_found");
      return;
    }

    const body = record.body;
    if (body === undefined) {
      sendError(res, 400, "request body is not JSON", "invalid_request_error");
      return;
    }

    const delay =
      typeof options.latencyMs === "function" ? options.latencyMs(record.index) : (options.latencyMs ?? 0);
    if (delay > 0 && !(await waitUnlessClosed(res, delay))) return;

    const fault = faultQueue
      ? faultQueue.shift()
      : typeof options.faults === "function"
        ? options.faults(record.index, record)
        : undefined;
    const streamDropAfter = fault && "drop" in fault ? fault.afterChunks : undefined;
    if (fault && !(streamDropAfter !== undefined && body.stream === true)) {
      applyFault(res, fault);
      return;
    }

    if (options.models && body.model !== undefined && !options.models.includes(body.model)) {
      sendError(res, 404, `The model \`${body.model}\` does not exist.`, "model_not_found");
      return;
    }

    const isChat = path === CHAT_PATH;
    const texts = choiceTexts(body, record.index, isChat);
    const usage = {
      prompt_tokens: countWords(promptText(body)),
      completion_tokens: texts.reduce((sum, text) => sum + countWords(text), 0),
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const model = body.model ?? "test-model";

    if (body.stream === true) {
      streamChoices(res, {
        texts,
        isChat,
        model,
        usage: body.stream_options?.include_usage === true ? usage : undefined,
        dropAfter: streamDropAfter,
      });
      return;
    }
    const choices = texts.map((text, index) =>
      isChat
        ? { index, message: { role: "assistant", content: text }, finish_reason: "stop", logprobs: null }
        : { index, text, finish_reason: "stop", logprobs: null },
    );
    sendJson(res, 200, {
      id: `test-${record.index}`,
      object: isChat ? "chat.completion" : "text_completion",
      created: 0,
      model,
      choices,
      ...(options.usage === false ? {} : { usage }),
    });
  }

  function choiceTexts(body: RequestBody, index: number, isChat: boolean): string[] {
    const wanted = options.supportsN === false ? 1 : Math.max(1, Number(body.n ?? 1) || 1);
    const produced = options.respond ? options.respond(body, index) : defaultReply(body, isChat);
    const list = Array.isArray(produced) ? produced : [produced];
    if (list.length === 0) return [];
    return Array.from({ length: wanted }, (_, i) => list[i % list.length]);
  }

  const loopback = await listenOnLoopback(server);

  return {
    url: loopback.url,
    port: loopback.port,
    requests,
    completionRequests: () => requests.filter((request) => request.index >= 0),
    close: loopback.close,
  };
}

/** POST /v1/embeddings: one `testEmbedding` per input, as floats or (encoding_format: base64) float32 bytes. */
function answerEmbeddings(
  res: ServerResponse,
  body: RequestBody | undefined,
  models: string[] | undefined,
): void {
  const input = body?.input;
  const texts = typeof input === "string" ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === "string")) {
    sendError(res, 400, "input must be a string or a non-empty list of strings", "invalid_request_error");
    return;
  }
  const model = typeof body?.model === "string" ? body.model : "test-embedding";
  if (models && !models.includes(model)) {
    sendError(res, 404, `The model \`${model}\` does not exist.`, "model_not_found");
    return;
  }
  const base64 = body?.encoding_format === "base64";
  const tokens = texts.reduce((sum, text) => sum + countWords(text), 0);
  sendJson(res, 200, {
    object: "list",
    model,
    data: texts.map((text, index) => {
      const vector = testEmbedding(text);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
      return { object: "embedding", index, embedding };
    }),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function applyFault(res: ServerResponse, fault: Fault): void {
  if ("drop" in fault) {
    res.socket?.destroy();
    return;
  }
  if ("malformed" in fault) {
    if (fault.malformed === "no-choices") {
      sendJson(res, 200, {
        id: "test-malformed",
        object: "chat.completion",
        created: 0,
        model: "test-model",
      });
    } else {
      // Claims JSON but is not, as a crashing proxy might send.
      res.writeHead(200, { "content-type": "application/json" });
      res.end("<html>upstream error</html>");
    }
    return;
  }
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
  const type =
    fault.status === 429 ? "rate_limit_exceeded" : fault.status === 401 ? "invalid_api_key" : "server_error";
  sendError(res, fault.status, fault.message ?? `scripted ${fault.status}`, type, headers);
}

interface StreamPlan {
  texts: string[];
  isChat: boolean;
  model: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  dropAfter?: number;
}

/** Send choices as SSE chunks, interleaving choices word by word so clients must assemble by index. */
function streamChoices(res: ServerResponse, plan: StreamPlan): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  const object = plan.isChat ? "chat.completion.chunk" : "text_completion";
  const base = { id: "test-stream", object, created: 0, model: plan.model };
  const chunks: unknown[] = [];
  const pieces = plan.texts.map(splitWords);
  if (plan.isChat) {
    chunks.push({
      ...base,
      choices: plan.texts.map((_, index) => ({
        index,
        delta: { role: "assistant", content: "" },
        finish_reason: null,
      })),
    });
  }
  const longest = Math.max(0, ...pieces.map((p) => p.length));
  for (let step = 0; step < longest; step++) {
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index][step];
      if (piece === undefined) continue;
      chunks.push({
        ...base,
        choices: [
          plan.isChat
            ? { index, delta: { content: piece }, finish_reason: null }
            : { index, text: piece, finish_reason: null },
        ],
      });
    }
  }
  chunks.push({
    ...base,
    choices: plan.texts.map((_, index) =>
      plan.isChat ? { index, delta: {}, finish_reason: "stop" } : { index, text: "", finish_reason: "stop" },
    ),
  });
  if (plan.usage) chunks.push({ ...base, choices: [], usage: plan.usage });

  for (const [i, chunk] of chunks.entries()) {
    if (plan.dropAfter !== undefined && i >= plan.dropAfter) {
      res.socket?.destroy();
      return;
    }
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  res.end("data: [DONE]\n\n");
}

function defaultReply(body: RequestBody, isChat: boolean): string {
  if (isChat) {
    const users = (body.messages ?? []).filter((m) => m.role === "user");
    const last = users[users.length - 1];
    return last ? contentText(last.content) : "";
  }
  return Array.isArray(body.prompt) ? (body.prompt[0] ?? "") : (body.prompt ?? "");
}

function promptText(body: RequestBody): string {
  if (body.messages) return body.messages.map((m) => contentText(m.content)).join(" ");
  return Array.isArray(body.prompt) ? body.prompt.join(" ") : (body.prompt ?? "");
}

function contentText(content: unknown): string {
  return typeof content === "string" ? content : JSON.stringify(content ?? "");
}

/** A crude, deterministic token count (words), so usage sums are predictable in tests. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Words with their trailing whitespace, so joining the pieces gives back the text exactly. */
function splitWords(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

function parseBody(raw: string): RequestBody | undefined {
  if (!raw) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === "object" ? (value as RequestBody) : undefined;
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/** Wait `ms`, or stop early when the client goes away (abort, timeout); true when still connected. */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(true);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    res.once("close", onClose);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { message, type, code: type, param: null } }, headers);
}
