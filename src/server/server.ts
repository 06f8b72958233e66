/**
 * An OpenAI-compatible HTTP server over any Provider (node:http, no framework):
 * GET /v1/models, POST /v1/chat/completions and POST /v1/completions, as JSON or SSE streams;
 * GET /health and GET /metrics (Prometheus) for whoever runs it. Optional API keys, a bounded
 * queue that answers 429 when full, and a per-request generation timeout.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { finished } from "node:stream/promises";
import { isUserError, UserError } from "../errors.js";
import {
  type CompletionResponse,
  isProviderError,
  type Provider,
  type TokenUsage,
} from "../providers/types.js";
import { createAdmission } from "./admission.js";
import { API_KEYS_ENV, createKeyCheck, isLoopbackHost } from "./api-keys.js";
import {
  type Choice,
  completionBody,
  deltaChunk,
  type EndpointKind,
  finishChunk,
  type GenerationRequest,
  HttpError,
  parseGenerationRequest,
  type ResponseHead,
  responseHead,
  usageChunk,
} from "./openai-wire.js";

/** How to run the server. */
export interface ServerOptions {
  /**
   * The provider, or a promise of it while it loads: the server listens at once, and until the promise
   * resolves GET /health and the generation routes answer 503.
   */
  provider: Provider | Promise<Provider>;
  /** Answers /v1/completions; default `provider` (whose chat template, if it has one, then applies). */
  completionsProvider?: Provider | Promise<Provider>;
  /** Default 127.0.0.1. Beyond loopback with no `apiKeys`, start-up logs a warning unless `allowNoKey`. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The model id GET /v1/models lists and responses carry; default the provider's label. */
  modelName?: string;
  /** Start-up notices, server errors, and (unless `quiet`) one access line per request. */
  log?: (line: string) => void;
  /** No access line per request; notices and errors still go to `log`. */
  quiet?: boolean;
  /** When any, every /v1 request must send one as `Authorization: Bearer <key>`, else it gets a 401. */
  apiKeys?: readonly string[];
  /** Listening beyond loopback with no key is deliberate: no warning. */
  allowNoKey?: boolean;
  /** /health and /metrics need a key too (by default they answer anyone, as orchestrators probe them bare). */
  protectHealth?: boolean;
  /** Generation requests run at once; default 4. A request's prompts and samples run one after another. */
  parallel?: number;
  /** Generation requests that may wait beyond `parallel`; more get a 429 with Retry-After. Default 64. */
  queue?: number;
  /**
   * Longest a request may generate, in ms, not counting its wait in the queue: past it, the generation
   * stops and the text so far is the answer, with finish_reason "length". Default: no limit.
   */
  timeoutMs?: number;
  /** Largest request body accepted, in bytes; default 10 MB. */
  maxBodyBytes?: number;
  /** How long close() lets in-flight requests finish before aborting them, in ms; default 5000. */
  closeGraceMs?: number;
}

/** A running server. */
export interface ServerHandle {
  /** `http://host:port`, without a trailing slash; OpenAI clients take `${url}/v1` as their base URL. */
  url: string;
  /** Resolves once the provider is ready to answer (at once for a plain one); rejects when it failed to load. */
  ready: Promise<void>;
  /** Stops accepting, lets in-flight requests finish (briefly), then closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_CLOSE_GRACE_MS = 5000;
/** Requests generating at once when `parallel` is not given: the local provider's default sequences. */
export const DEFAULT_SERVE_PARALLEL = 4;
/** Requests waiting when `queue` is not given. */
export const DEFAULT_SERVE_QUEUE = 64;
// Retry-After bounds, in seconds: the SDKs honour up to 60 s and fall back to their own backoff beyond.
const MIN_RETRY_AFTER = 1;
const MAX_RETRY_AFTER = 60;
// Route labels of the metrics: the known routes, everything else as one, so a scan cannot grow the series.
const ROUTES = new Set(["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"]);

/** What the access log and the metrics keep of one request: never a body, a header or a query string. */
interface Exchange {
  /** The path as logged: a known route, or the request's path without its query, cut to 120 characters. */
  path: string;
  /** The metrics' route label. */
  route: string;
  usage?: TokenUsage;
}

/** Starts listening and resolves once the port is bound; the provider may still be loading (see `ready`). */
export async function startServer(options: ServerOptions): Promise<ServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const accessLog = options.quiet ? () => {} : log;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const parallel = checkCount(options.parallel ?? DEFAULT_SERVE_PARALLEL, "parallel", 1);
  const queue = checkCount(options.queue ?? DEFAULT_SERVE_QUEUE, "queue", 0);
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new UserError({
      code: "usage",
      field: "timeout",
      message: `expected a time above 0, received ${timeoutMs}`,
    });
  }
  const checkKey =
    options.apiKeys && options.apiKeys.length > 0 ? createKeyCheck(options.apiKeys) : undefined;
  const createdAt = Math.floor(Date.now() / 1000);
  const inFlight = new Map<Promise<void>, AbortController>();
  const admission = createAdmission({ parallel, queue });
  let closing: Promise<void> | undefined;
  // Seconds a generation took lately (a moving average), for Retry-After.
  let recentGenerationSeconds: number | undefined;

  let providers: { chat: Provider; text: Provider } | undefined;
  let loadFailed = false;
  const ready = Promise.all([options.provider, options.completionsProvider ?? options.provider]).then(
    ([chat, text]) => {
      providers = { chat, text };
    },
    (error: unknown) => {
      loadFailed = true;
      throw error;
    },
  );
  // Whoever awaits `ready` sees the failure; nobody awaiting it must not crash the process.
  ready.catch(() => {});
  const modelName =
    options.modelName ?? (options.provider instanceof Promise ? "model" : options.provider.label);

  const { createServerMetrics } = await import("./metrics.js");
  const metrics = createServerMetrics({
    running: () => admission.running,
    waiting: () => admission.waiting,
    loaded: () => providers !== undefined && !closing,
  });

  function authorize(request: IncomingMessage): void {
    const verdict = checkKey?.(request.headers.authorization) ?? "ok";
    if (verdict === "ok") return;
    // The message never repeats what was sent: a near-miss key is still a secret.
    throw new HttpError(
      401,
      verdict === "missing"
        ? "no API key was sent; send one as the header Authorization: Bearer <key>"
        : "the API key sent is not valid for this server",
      { code: "invalid_api_key", headers: { "www-authenticate": 'Bearer realm="promptsmith"' } },
    );
  }

  function busy(): HttpError {
    // Under a full queue a place frees when one of the running generations ends.
    const seconds = Math.min(
      MAX_RETRY_AFTER,
      Math.max(MIN_RETRY_AFTER, Math.ceil((recentGenerationSeconds ?? 0) / parallel)),
    );
    return new HttpError(
      429,
      `the server is busy: ${parallel} request${parallel === 1 ? "" : "s"} generating and ${queue} waiting, all it takes; retry in ${seconds} s`,
      { type: "rate_limit_error", code: "queue_full", headers: { "retry-after": String(seconds) } },
    );
  }

  async function route(
    request: IncomingMessage,
    response: ServerResponse,
    signal: AbortSignal,
    exchange: Exchange,
    pathname: string,
    arrived: number,
  ): Promise<void> {
    const method = request.method ?? "GET";
    if (pathname === "/health" || pathname === "/metrics") {
      if (options.protectHealth) authorize(request);
      allow(method, "GET", response);
      if (pathname === "/metrics") {
        const { contentType, text } = await metrics.render();
        return sendText(response, 200, contentType, text);
      }
      const status = closing ? "shutting down" : providers ? "ok" : loadFailed ? "failed" : "loading";
      return sendJson(response, status === "ok" ? 200 : 503, { status });
    }
    if (pathname === "/v1" || pathname.startsWith("/v1/")) authorize(request);
    if (pathname === "/v1/models" || pathname.startsWith("/v1/models/")) {
      allow(method, "GET", response);
      const model = { id: modelName, object: "model", created: createdAt, owned_by: "promptsmith" };
      if (pathname === "/v1/models") return sendJson(response, 200, { object: "list", data: [model] });
      const wanted = safeDecode(pathname.slice("/v1/models/".length));
      if (wanted !== modelName)
        throw new HttpError(404, `model "${wanted}" is not served here; this server serves "${modelName}"`, {
          code: "model_not_found",
        });
      return sendJson(response, 200, model);
    }
    const kind: EndpointKind | undefined =
      pathname === "/v1/chat/completions" ? "chat" : pathname === "/v1/completions" ? "text" : undefined;
    if (!kind) throw new HttpError(404, `unknown route: ${method} ${pathname}`, { code: "unknown_url" });
    allow(method, "POST", response);
    if (closing) throw shuttingDown();
    if (!providers) {
      throw loadFailed
        ? new HttpError(503, "the model failed to load", { code: "model_load_failed" })
        : new HttpError(503, "the model is still loading; retry shortly", {
            code: "model_loading",
            headers: { "retry-after": String(MIN_RETRY_AFTER) },
          });
    }
    // A place is taken before the body is read, so the requests in memory never outnumber parallel + queue.
    const ticket = admission.tryEnter();
    if (!ticket) throw busy();
    let timer: NodeJS.Timeout | undefined;
    try {
      const parsed = parseGenerationRequest(kind, await readJson(request, maxBodyBytes));
      const provider = kind === "text" ? providers.text : providers.chat;
      const queued = performance.now();
      // Rejects when the client goes away (its place is given back below) or close() gives up waiting.
      await ticket.start(signal).catch(() => {
        throw shuttingDown();
      });
      const began = performance.now();
      metrics.queueWait((began - queued) / 1000);
      const stop = new AbortController();
      if (timeoutMs !== undefined) timer = setTimeout(() => stop.abort(), timeoutMs);
      let firstSeen = false;
      const onText = () => {
        if (firstSeen) return;
        firstSeen = true;
        metrics.firstToken((performance.now() - arrived) / 1000);
      };
      const head = responseHead(kind, modelName);
      const results = parsed.stream
        ? await streamGeneration(provider, parsed, head, response, signal, stop.signal, onText)
        : await generate(provider, parsed, signal, stop.signal, onText);
      const usage = sumUsage(results);
      if (!parsed.stream) sendJson(response, 200, completionBody(kind, head, choicesOf(results), usage));
      exchange.usage = usage;
      metrics.tokens(usage);
      const seconds = (performance.now() - began) / 1000;
      metrics.generation(seconds);
      recentGenerationSeconds =
        recentGenerationSeconds === undefined ? seconds : 0.8 * recentGenerationSeconds + 0.2 * seconds;
      if (stop.signal.aborted) metrics.timedOut();
    } finally {
      clearTimeout(timer);
      ticket.release();
    }
  }

  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
    controller: AbortController,
  ): Promise<void> {
    const arrived = performance.now();
    let clientGone = false;
    // "close" before the response finished means the client went away: stop generating for it.
    response.on("close", () => {
      if (response.writableFinished) return;
      clientGone = true;
      controller.abort();
    });
    const pathname = pathOf(request.url);
    const exchange: Exchange = {
      path: ROUTES.has(pathname) || pathname.startsWith("/v1/models/") ? pathname : pathname.slice(0, 120),
      route: ROUTES.has(pathname) ? pathname : pathname.startsWith("/v1/models/") ? "/v1/models" : "other",
    };
    try {
      await route(request, response, controller.signal, exchange, pathname, arrived);
    } catch (error) {
      if (clientGone) return;
      const failure = toHttpError(error);
      if (failure.status >= 500 && failure.code !== "model_loading") log(`error: ${failure.message}`);
      if (!response.headersSent) {
        for (const [name, value] of Object.entries(failure.headers)) response.setHeader(name, value);
        sendJson(response, failure.status, failure.toBody(), failure.status === 413);
      } else if (!response.writableEnded) {
        // Mid-stream the status is already sent; OpenAI clients read an `error` event and raise it.
        response.end(`data: ${JSON.stringify(failure.toBody())}\n\n`);
      }
    } finally {
      // 499, as nginx logs it: the client closed the connection before the answer was complete.
      const status = clientGone ? 499 : response.statusCode;
      metrics.request(exchange.route, status);
      const tokens = exchange.usage ? ` in=${exchange.usage.prompt} out=${exchange.usage.completion}` : "";
      accessLog(
        `${request.method} ${exchange.path} ${status} ${Math.round(performance.now() - arrived)}ms${tokens}`,
      );
    }
  }

  const server = createServer((request, response) => {
    const controller = new AbortController();
    // In flight until the response is flushed, so close() never cuts an answer off mid-write.
    const done = handle(request, response, controller)
      .then(() => finished(response))
      .catch(() => {})
      .finally(() => inFlight.delete(done));
    inFlight.set(done, controller);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const reason = error.code === "EADDRINUSE" ? "the address is already in use" : error.message;
      reject(
        new UserError({
          code: "usage",
          message: `cannot listen on ${host}:${options.port ?? 0}: ${reason}`,
          hint: "choose another port (0 picks a free one) or host",
          cause: error,
        }),
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (!checkKey && !options.allowNoKey && !isLoopbackHost(host)) {
    log(
      `warning: listening on ${host} with no API key: anyone who can reach port ${port} can use the model; set --api-key, --api-key-file or ${API_KEYS_ENV}, or --allow-no-key to silence this`,
    );
  }

  return {
    url,
    ready,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
        });
        await Promise.race([Promise.all(inFlight.keys()), grace]);
        clearTimeout(timer);
        // Past the grace period: stop the generations; their clients get a 503 (or an error event mid-stream).
        for (const controller of inFlight.values()) controller.abort();
        await Promise.all(inFlight.keys());
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

function checkCount(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new UserError({
      code: "usage",
      field: name,
      message: `expected a whole number of ${min} or more, received ${value}`,
    });
  }
  return value;
}

function shuttingDown(): HttpError {
  return new HttpError(503, "the server is shutting down", { code: "shutting_down" });
}

/** The request's path without its query (which is never logged: clients put keys there too). */
function pathOf(target: string | undefined): string {
  let pathname: string;
  try {
    pathname = new URL(target ?? "/", "http://localhost").pathname;
  } catch {
    // "//" and the like: not a path any route answers.
    return "/?";
  }
  return pathname.replace(/\/+$/, "") || "/";
}

/** One prompt after another, on one sequence: a request never holds more than the one its place gave it. */
async function generate(
  provider: Provider,
  request: GenerationRequest,
  signal: AbortSignal,
  stopSignal: AbortSignal,
  onToken: (prompt: number, text: string) => void,
): Promise<CompletionResponse[]> {
  const results: CompletionResponse[] = [];
  for (const [prompt, messages] of request.prompts.entries()) {
    results.push(
      await provider.complete({
        messages,
        n: request.n,
        params: request.params,
        signal,
        stopSignal,
        onToken: (text: string) => onToken(prompt, text),
      }),
    );
  }
  return results;
}

/** Every choice of every prompt, in index order. */
function choicesOf(results: CompletionResponse[]): Choice[] {
  return results.flatMap((result) =>
    result.outputs.map((text, sample) => ({ text, finishReason: result.finishReasons?.[sample] ?? "stop" })),
  );
}

/**
 * Streams choice 0 of each prompt as the provider produces it; the other samples of a prompt arrive whole once
 * it finishes, because a provider's onToken streams only its first sample.
 */
async function streamGeneration(
  provider: Provider,
  request: GenerationRequest,
  head: ResponseHead,
  response: ServerResponse,
  signal: AbortSignal,
  stopSignal: AbortSignal,
  onText: () => void,
): Promise<CompletionResponse[]> {
  const kind = request.kind;
  const withUsage = request.includeUsage;
  const streamed = new Map<number, string>();
  const send = (chunk: object) => {
    if (!response.writableEnded && !response.destroyed) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  const emit = (index: number, text: string) => {
    const before = streamed.get(index);
    streamed.set(index, (before ?? "") + text);
    send(deltaChunk(kind, head, index, text, { first: before === undefined, withUsage }));
  };

  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  response.flushHeaders();
  const results = await generate(provider, request, signal, stopSignal, (prompt, text) => {
    onText();
    emit(prompt * request.n, text);
  });

  const choices = results.flatMap((result, prompt) =>
    result.outputs.map((text, sample) => ({
      index: prompt * request.n + sample,
      text,
      finishReason: result.finishReasons?.[sample] ?? "stop",
    })),
  );
  for (const { index, text } of choices) {
    const sent = streamed.get(index);
    // A provider that did not stream (or streamed part of it) still gets its whole text across.
    if (sent === undefined) emit(index, text);
    else if (text.startsWith(sent) && text.length > sent.length) emit(index, text.slice(sent.length));
  }
  for (const { index, finishReason } of choices)
    send(finishChunk(kind, head, index, { withUsage, finishReason }));
  if (withUsage) send(usageChunk(kind, head, sumUsage(results)));
  response.end("data: [DONE]\n\n");
  return results;
}

function sumUsage(results: CompletionResponse[]): TokenUsage {
  return results.reduce(
    (sum, result) => ({
      prompt: sum.prompt + result.usage.prompt,
      completion: sum.completion + result.usage.completion,
    }),
    {
      prompt: 0,
      completion: 0,
    },
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function allow(method: string, allowed: string, response: ServerResponse): void {
  if (method === allowed) return;
  response.setHeader("allow", allowed);
  throw new HttpError(405, `method ${method} is not allowed here; use ${allowed}`, {
    code: "method_not_allowed",
  });
}

async function readJson(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = (await readBody(request, maxBytes)).toString("utf8");
  if (text.trim() === "") throw new HttpError(400, "the request body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the request body is not valid JSON: ${(error as Error).message}`, {
      code: "invalid_json",
    });
  }
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new HttpError(413, `the request body is larger than ${maxBytes} bytes`, { code: "request_too_large" });
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      request.off("data", onData).off("end", onEnd).off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // The stream keeps flowing into nowhere (destroying it would kill the socket before the 413 goes out).
      stop();
      reject(tooLarge());
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    request.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, closeConnection = false): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    // After a refused body the rest of it is still on the socket; closing is cheaper than reading it.
    ...(closeConnection ? { connection: "close" } : {}),
  });
  response.end(text);
}

function sendText(response: ServerResponse, status: number, contentType: string, text: string): void {
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isProviderError(error)) {
    if (error.kind === "bad-request") return new HttpError(400, error.message);
    if (error.kind === "rate-limit") return new HttpError(429, error.message, { type: "rate_limit_error" });
    // The client is still there, so the abort came from close(): the server is going away.
    if (error.kind === "aborted") return new HttpError(503, error.message, { code: "shutting_down" });
    return new HttpError(500, error.message);
  }
  if (isUserError(error)) return new HttpError(500, error.message);
  // A bug: the client gets the message, the stack stays out of the response.
  return new HttpError(500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
}
