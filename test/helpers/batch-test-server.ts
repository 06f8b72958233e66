/**
 * A loopback server for the OpenAI Files and Batches endpoints: it takes a multipart JSONL upload,
 * creates batches from it, advances them a step per poll, and writes output and error files in the
 * real API's line format. It binds 127.0.0.1 on a free port, so tests never reach the network.
 *
 * ```ts
 * const server = await startBatchTestServer({ progressSteps: 2 });
 * const client = createBatchClient({ id: "openai:test-model", label: "t", baseURL: server.url, params: {} });
 * // … server.requests holds every request, server.batches every batch's state …
 * await server.close();
 * ```
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback } from "./loopback.js";
import { countWords } from "./openai-test-server.js";

/** A request as the server received it. */
export interface RecordedBatchRequest {
  method: string;
  /** The path without the query, e.g. `/v1/batches/batch_1`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, when the body was JSON. */
  body: unknown;
  /** For an upload: the form fields and the file it carried. */
  upload?: { fields: Record<string, string>; filename?: string; contentType?: string; content: string };
}

/** One line of an input file, as parsed by the server. */
export interface InputLine {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown> & { model?: string; n?: number; messages?: unknown[]; prompt?: string };
}

/** A stored file. */
export interface StoredFile {
  id: string;
  purpose: string;
  filename: string;
  content: string;
}

/** A per-request failure the `respond` hook asks for; `file` says where its line goes (default the error file). */
export interface ScriptedFailure {
  status: number;
  message: string;
  file?: "output" | "error";
}

/** What a test can script about the server. */
export interface BatchTestServerOptions {
  /**
   * The answer to one request: a string for every choice, an array of choice texts (cycled up to `n`),
   * or a failure. Default: the last user message (chat) or the prompt (text).
   */
  respond?: (body: InputLine["body"], customId: string) => string | string[] | ScriptedFailure;
  /** How many polls of GET /v1/batches/:id until the batch ends (default 3; the last poll sees the end). */
  progressSteps?: number;
  /** End every batch as `failed` with a validation error instead of running it. */
  failBatch?: boolean;
  /** Only the first n requests of each batch are processed; the batch then ends as `expired`. */
  expireAfter?: number;
  /** When set, every request must carry `Authorization: Bearer <apiKey>`; a wrong key's 401 echoes it, as a careless server might. */
  apiKey?: string;
  /** The first n batch polls answer 500, to exercise a wait that outlives a blip. */
  failPolls?: number;
  /** The first n downloads of a file's content send the first half of it (cut mid-line), then close the connection. */
  cutDownloads?: number;
  /** Once this many batches are made, the next `requests` requests of any kind answer 503: an outage mid-submit. */
  outage?: { afterBatches: number; requests: number };
}

/** The server's view of one batch. */
export interface BatchState {
  id: string;
  status: string;
  endpoint: string;
  inputFileId: string;
  metadata: Record<string, string> | null;
  lines: InputLine[];
  polls: number;
  requestCounts: { completed: number; failed: number; total: number };
  outputFileId?: string;
  errorFileId?: string;
  errors?: {
    object: "list";
    data: { code: string; line: number | null; message: string; param: string | null }[];
  };
  /** Requests processed when a cancel arrived; the batch ends `cancelled` after processing only these. */
  cancelledAt?: number;
}

/** A running batch test server. */
export interface BatchTestServer {
  /** Base URL ending in `/v1`. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedBatchRequest[];
  /** Every batch by id. */
  readonly batches: Map<string, BatchState>;
  /** Every file by id (uploads and the result files the server wrote). */
  readonly files: Map<string, StoredFile>;
  /** Stop listening and cut open connections. */
  close(): Promise<void>;
}

const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);

/** Start a loopback Files + Batches server on 127.0.0.1 and a free port. */
export async function startBatchTestServer(options: BatchTestServerOptions = {}): Promise<BatchTestServer> {
  const requests: RecordedBatchRequest[] = [];
  const batches = new Map<string, BatchState>();
  const files = new Map<string, StoredFile>();
  const progressSteps = Math.max(1, options.progressSteps ?? 3);
  let pollFailuresLeft = options.failPolls ?? 0;
  let cutsLeft = options.cutDownloads ?? 0;
  let outageLeft = options.outage?.requests ?? 0;
  let fileCount = 0;
  let batchCount = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      // A bug in the server itself: answer 500 so the test fails loudly rather than hanging.
      if (!res.headersSent) sendError(res, 500, `test server bug: ${String(error)}`, "server_error");
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    const record: RecordedBatchRequest = {
      method,
      path,
      headers: req.headers,
      body: parseJson(raw.toString("utf8")),
    };
    requests.push(record);

    if (options.outage && batchCount >= options.outage.afterBatches && outageLeft > 0) {
      outageLeft--;
      return sendError(res, 503, "The service is temporarily unavailable.", "server_error");
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      const sent = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      sendError(res, 401, `Incorrect API key provided: ${sent}.`, "invalid_api_key");
      return;
    }

    const fileContent = path.match(/^\/v1\/files\/([^/]+)\/content$/);
    const fileItem = path.match(/^\/v1\/files\/([^/]+)$/);
    const batchItem = path.match(/^\/v1\/batches\/([^/]+)$/);
    const batchCancel = path.match(/^\/v1\/batches\/([^/]+)\/cancel$/);
    if (method === "POST" && path === "/v1/files") {
      const form = parseMultipart(raw, req.headers["content-type"] ?? "");
      if (!form) return sendError(res, 400, "expected a multipart/form-data body", "invalid_request_error");
      const file = form.files.file;
      if (!file) return sendError(res, 400, "missing the `file` part", "invalid_request_error");
      const text = file.content.toString("utf8");
      record.upload = {
        fields: form.fields,
        filename: file.filename,
        contentType: file.contentType,
        content: text,
      };
      const stored = store(text, form.fields.purpose ?? "", file.filename ?? "upload");
      return sendJson(res, 200, fileObject(stored));
    }
    if (method === "GET" && fileContent) {
      const id = fileContent[1];
      const stored = files.get(id);
      if (!stored) return sendError(res, 404, `No such File object: ${id}`, "not_found");
      const bytes = Buffer.from(stored.content);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
      if (cutsLeft > 0) {
        cutsLeft--;
        res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket?.destroy());
        return;
      }
      res.end(bytes);
      return;
    }
    if (method === "DELETE" && fileItem) {
      const id = fileItem[1];
      const existed = files.delete(id);
      if (!existed) return sendError(res, 404, `No such File object: ${id}`, "not_found");
      return sendJson(res, 200, { id: id, object: "file", deleted: true });
    }
    if (method === "POST" && path === "/v1/batches") {
      const body = (record.body ?? {}) as Record<string, unknown>;
      const input = files.get(String(body.input_file_id));
      if (!input)
        return sendError(
          res,
          400,
          `input file ${String(body.input_file_id)} not found`,
          "invalid_request_error",
        );
      if (body.completion_window !== "24h") {
        return sendError(res, 400, "completion_window must be 24h", "invalid_request_error");
      }
      const batch: BatchState = {
        id: `batch_${++batchCount}`,
        status: "validating",
        endpoint: String(body.endpoint),
        inputFileId: input.id,
        metadata: (body.metadata as Record<string, string> | undefined) ?? null,
        lines: input.content
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => JSON.parse(line) as InputLine),
        polls: 0,
        requestCounts: { completed: 0, failed: 0, total: 0 },
      };
      batch.requestCounts.total = batch.lines.length;
      batches.set(batch.id, batch);
      return sendJson(res, 200, batchObject(batch));
    }
    if (method === "GET" && batchItem) {
      const id = batchItem[1];
      const batch = batches.get(id);
      if (!batch) return sendError(res, 404, `No batch found with id '${id}'.`, "not_found");
      if (pollFailuresLeft > 0) {
        pollFailuresLeft--;
        return sendError(res, 500, "scripted poll failure", "server_error");
      }
      advance(batch);
      return sendJson(res, 200, batchObject(batch));
    }
    if (method === "POST" && batchCancel) {
      const id = batchCancel[1];
      const batch = batches.get(id);
      if (!batch) return sendError(res, 404, `No batch found with id '${id}'.`, "not_found");
      if (!TERMINAL.has(batch.status)) {
        batch.status = "cancelling";
        batch.cancelledAt = processedAt(batch, batch.polls);
      }
      return sendJson(res, 200, batchObject(batch));
    }
    sendError(res, 404, `no route for ${method} ${path}`, "not_found");
  }

  function store(content: string, purpose: string, filename: string): StoredFile {
    const stored = { id: `file-${++fileCount}`, purpose, filename, content };
    files.set(stored.id, stored);
    return stored;
  }

  /** How many requests have been processed after `polls` polls (before the end). */
  function processedAt(batch: BatchState, polls: number): number {
    const total = batch.lines.length;
    const limit = Math.min(total, options.expireAfter ?? total);
    return Math.min(limit, Math.floor((total * polls) / progressSteps));
  }

  /** One poll's worth of progress: in_progress, then finalizing on the poll before the end, then the end. */
  function advance(batch: BatchState): void {
    if (TERMINAL.has(batch.status)) return;
    batch.polls++;
    if (batch.status === "cancelling") {
      finish(batch, "cancelled", batch.cancelledAt ?? 0);
      return;
    }
    if (options.failBatch) {
      batch.status = "failed";
      batch.errors = {
        object: "list",
        data: [
          {
            code: "invalid_request",
            line: 1,
            message: `Model '${String(batch.lines[0]?.body.model)}' is not supported by the batch API.`,
            param: "body.model",
          },
        ],
      };
      return;
    }
    if (batch.polls >= progressSteps) {
      const expired = options.expireAfter !== undefined && options.expireAfter < batch.lines.length;
      finish(batch, expired ? "expired" : "completed", processedAt(batch, progressSteps));
      return;
    }
    batch.status = batch.polls === progressSteps - 1 && progressSteps > 2 ? "finalizing" : "in_progress";
    countUpTo(batch, processedAt(batch, batch.polls));
  }

  function countUpTo(batch: BatchState, processed: number): void {
    let completed = 0;
    let failed = 0;
    for (const line of batch.lines.slice(0, processed)) {
      if (isFailure(answer(line))) failed++;
      else completed++;
    }
    batch.requestCounts = { completed, failed, total: batch.lines.length };
  }

  /** Write the result files for the first `processed` requests and end the batch. */
  function finish(batch: BatchState, status: string, processed: number): void {
    const output: string[] = [];
    const errors: string[] = [];
    for (const line of batch.lines.slice(0, processed)) {
      const result = answer(line);
      const requestId = `req_${randomBytes(6).toString("hex")}`;
      const base = { id: `batch_req_${randomBytes(6).toString("hex")}`, custom_id: line.custom_id };
      if (isFailure(result)) {
        const entry = {
          ...base,
          response: {
            status_code: result.status,
            request_id: requestId,
            body: {
              error: { message: result.message, type: "invalid_request_error", param: null, code: null },
            },
          },
          error: null,
        };
        (result.file === "output" ? output : errors).push(JSON.stringify(entry));
      } else {
        output.push(
          JSON.stringify({
            ...base,
            response: { status_code: 200, request_id: requestId, body: completionBody(line, result) },
            error: null,
          }),
        );
      }
    }
    countUpTo(batch, processed);
    batch.status = status;
    if (output.length > 0)
      batch.outputFileId = store(`${output.join("\n")}\n`, "batch_output", "output.jsonl").id;
    if (errors.length > 0)
      batch.errorFileId = store(`${errors.join("\n")}\n`, "batch_output", "errors.jsonl").id;
  }

  function answer(line: InputLine): string[] | ScriptedFailure {
    const isChat = line.url === "/v1/chat/completions";
    const produced = options.respond
      ? options.respond(line.body, line.custom_id)
      : defaultReply(line, isChat);
    if (typeof produced === "object" && !Array.isArray(produced)) return produced;
    const list = Array.isArray(produced) ? produced : [produced];
    const wanted = Math.max(1, Number(line.body.n ?? 1) || 1);
    return Array.from({ length: wanted }, (_, i) => list[i % list.length]);
  }

  const loopback = await listenOnLoopback(server);

  return {
    url: loopback.url,
    requests,
    batches,
    files,
    close: loopback.close,
  };
}

function isFailure(value: string[] | ScriptedFailure): value is ScriptedFailure {
  return !Array.isArray(value);
}

/** A chat or text completion body as the real API would put in a result line. */
function completionBody(line: InputLine, texts: string[]): Record<string, unknown> {
  const isChat = line.url === "/v1/chat/completions";
  const prompt = isChat
    ? (line.body.messages ?? []).map((m) => String((m as { content?: unknown }).content ?? "")).join(" ")
    : String(line.body.prompt ?? "");
  const usage = {
    prompt_tokens: countWords(prompt),
    completion_tokens: texts.reduce((sum, text) => sum + countWords(text), 0),
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  return {
    id: `chatcmpl-${line.custom_id}`,
    object: isChat ? "chat.completion" : "text_completion",
    created: 0,
    model: line.body.model ?? "test-model",
    choices: texts.map((text, index) =>
      isChat
        ? { index, message: { role: "assistant", content: text }, finish_reason: "stop", logprobs: null }
        : { index, text, finish_reason: "stop", logprobs: null },
    ),
    usage,
  };
}

function defaultReply(line: InputLine, isChat: boolean): string {
  if (!isChat) return String(line.body.prompt ?? "");
  const users = ((line.body.messages ?? []) as { role?: string; content?: unknown }[]).filter(
    (m) => m.role === "user",
  );
  return String(users[users.length - 1]?.content ?? "");
}

function fileObject(file: StoredFile): Record<string, unknown> {
  return {
    id: file.id,
    object: "file",
    bytes: Buffer.byteLength(file.content),
    created_at: 0,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
  };
}

function batchObject(batch: BatchState): Record<string, unknown> {
  return {
    id: batch.id,
    object: "batch",
    endpoint: batch.endpoint,
    errors: batch.errors ?? null,
    input_file_id: batch.inputFileId,
    completion_window: "24h",
    status: batch.status,
    output_file_id: batch.outputFileId ?? null,
    error_file_id: batch.errorFileId ?? null,
    created_at: 0,
    request_counts: batch.requestCounts,
    metadata: batch.metadata,
  };
}

interface MultipartForm {
  fields: Record<string, string>;
  files: Record<string, { filename?: string; contentType?: string; content: Buffer }>;
}

/**
 * Parse a multipart/form-data body (RFC 7578): parts between `--boundary` lines, each with headers,
 * a blank line, and content ending in CRLF before the next delimiter. Binary-safe; enough for the
 * SDK's FormData uploads, not a general parser (no nested multiparts, no transfer encodings).
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartForm | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!contentType.toLowerCase().startsWith("multipart/form-data") || !boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2].trim()}`);
  const form: MultipartForm = { fields: {}, files: {} };
  let at = body.indexOf(delimiter);
  if (at < 0) return undefined;
  for (;;) {
    const after = at + delimiter.length;
    // `--` after a delimiter closes the body.
    if (body.subarray(after, after + 2).toString() === "--") return form;
    const partStart = after + 2; // skip the CRLF ending the delimiter line
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), partStart);
    if (next < 0) return undefined;
    const part = body.subarray(partStart, next);
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd < 0) return undefined;
    const headers = parseHeaders(part.subarray(0, headerEnd).toString("utf8"));
    const content = part.subarray(headerEnd + 4);
    const disposition = headers["content-disposition"] ?? "";
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    if (name !== undefined) {
      if (filename !== undefined || headers["content-type"] !== undefined) {
        form.files[name] = { filename, contentType: headers["content-type"], content: Buffer.from(content) };
      } else {
        form.fields[name] = content.toString("utf8");
      }
    }
    at = next + 2;
  }
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parseJson(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, type: string): void {
  sendJson(res, status, { error: { message, type, code: type, param: null } });
}
