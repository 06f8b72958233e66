/**
 * An OpenAI-compatible HTTP server over any Provider (node:http, no framework):
 * GET /v1/models, POST /v1/chat/completions and POST /v1/completions, as JSON or SSE streams.
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
import {
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
  provider: Provider;
  /** Answers /v1/completions; default `provider` (whose chat template, if it has one, then applies). */
  completionsProvider?: Provider;
  /** Default 127.0.0.1: the server has no authentication, so it stays on loopback unless told otherwise. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The model id GET /v1/models lists and responses carry; default the provider's label. */
  modelName?: string;
  /** One line per request (method, path, status, time) and per failure. */
  log?: (line: string) => void;
  /** Largest request body accepted, in bytes; default 10 MB. */
  maxBodyBytes?: number;
  /** How long close() lets in-flight requests finish before aborting them, in ms; default 5000. */
  closeGraceMs?: number;
}

/** A running server. */
export interface ServerHandle {
  /** `http://host:port`, without a trailing slash; OpenAI clients take `${url}/v1` as their base URL. */
  url: string;
  /** Stops accepting, lets in-flight requests finish (briefly), then closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_CLOSE_GRACE_MS = 5000;

/** Starts listening and resolves once the port is bound. */
export async function startServer(options: ServerOptions): Promise<ServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const modelName = options.modelName ?? options.provider.label;
  const log = options.log ?? (() => {});
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const createdAt = Math.floor(Date.now() / 1000);
  const inFlight = new Map<Promise<void>, AbortController>();
  let closing: Promise<void> | undefined;

  async function route(
    request: IncomingMessage,
    response: ServerResponse,
    signal: AbortSignal,
  ): Promise<void> {
    const method = request.method ?? "GET";
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
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
    if (closing) throw new HttpError(503, "the server is shutting down", { code: "shutting_down" });
    const parsed = parseGenerationRequest(kind, await readJson(request, maxBodyBytes));
    const provider = kind === "text" ? (options.completionsProvider ?? options.provider) : options.provider;
    const head = responseHead(kind, modelName);
    if (parsed.stream) await streamGeneration(provider, parsed, head, response, signal);
    else {
      const results = await generate(provider, parsed, signal);
      sendJson(
        response,
        200,
        completionBody(
          kind,
          head,
          results.flatMap((result) => result.outputs),
          sumUsage(results),
        ),
      );
    }
  }

  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
    controller: AbortController,
  ): Promise<void> {
    const started = performance.now();
    let clientGone = false;
    // "close" before the response finished means the client went away: stop generating for it.
    response.on("close", () => {
      if (response.writableFinished) return;
      clientGone = true;
      controller.abort();
    });
    try {
      await route(request, response, controller.signal);
    } catch (error) {
      if (clientGone) return;
      const failure = toHttpError(error);
      if (failure.status >= 500) log(`error: ${failure.message}`);
      if (!response.headersSent) sendJson(response, failure.status, failure.toBody(), failure.status === 413);
      else if (!response.writableEnded) {
        // Mid-stream the status is already sent; OpenAI clients read an `error` event and raise it.
        response.end(`data: ${JSON.stringify(failure.toBody())}\n\n`);
      }
    } finally {
      const status = clientGone ? "client closed" : String(response.statusCode);
      log(`${request.method} ${request.url} ${status} ${Math.round(performance.now() - started)}ms`);
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

  return {
    url,
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

async function generate(
  provider: Provider,
  request: GenerationRequest,
  signal: AbortSignal,
  onToken?: (prompt: number, text: string) => void,
) {
  return Promise.all(
    request.prompts.map((messages, prompt) =>
      provider.complete({
        messages,
        n: request.n,
        params: request.params,
        signal,
        onToken: onToken && ((text: string) => onToken(prompt, text)),
      }),
    ),
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
): Promise<void> {
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
  const results = await generate(provider, request, signal, (prompt, text) => emit(prompt * request.n, text));

  const choices = results.flatMap((result, prompt) =>
    result.outputs.map((text, sample) => ({ index: prompt * request.n + sample, text })),
  );
  for (const { index, text } of choices) {
    const sent = streamed.get(index);
    // A provider that did not stream (or streamed part of it) still gets its whole text across.
    if (sent === undefined) emit(index, text);
    else if (text.startsWith(sent) && text.length > sent.length) emit(index, text.slice(sent.length));
  }
  for (const { index } of choices) send(finishChunk(kind, head, index, { withUsage }));
  if (withUsage) send(usageChunk(kind, head, sumUsage(results)));
  response.end("data: [DONE]\n\n");
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
