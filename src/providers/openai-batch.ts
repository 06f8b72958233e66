/**
 * OpenAI Batch API support: submit many completion requests as one JSONL file, poll the batch,
 * and read the results back as per-request outcomes. Half price and a 24-hour window, for
 * evaluations that need no answer now.
 *
 * Everything after `submit` is keyed by batch id alone, so a later process can re-attach to a
 * batch it saved the id of (`--batch-id`). With `openai.ts`, the only file that imports `openai`;
 * client set-up and error mapping are shared with it so both speak the same way about failures.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { APIError } from "openai";
import type { Batch } from "openai/resources/batches";
import { UserError } from "../errors.js";
import { createKeySet } from "../key-set.js";
import { callSignal, withCallSignal } from "./call-signal.js";
import type { ProviderOptions } from "./index.js";
import {
  type CallContext,
  createOpenAIClient,
  displayURL,
  RESERVED_PARAMS,
  readCompletion,
  redactKey,
  renderCompletionPrompt,
  statusErrorKind,
  toProviderError,
} from "./openai.js";
import { createSpool, createSpoolFolder, type Spool } from "./spool.js";
import {
  type ChatMessage,
  type CompletionResponse,
  ProviderError,
  type ProviderErrorKind,
  type ProviderSpec,
} from "./types.js";

/** One request of a batch; `customId` names it in the results and must be unique across a submit. */
export interface BatchRequest {
  customId: string;
  messages: ChatMessage[];
  /** Generation parameters; they override the spec's params. */
  params: Record<string, unknown>;
  /** Samples wanted (the OpenAI `n`); default the params' `n`, else 1. */
  n?: number;
  /** Use /v1/completions for this request; default the spec's `completions`. */
  completions?: boolean;
}

/** What became of one request: a response (latencyMs is 0: a batch has no per-request wall time) or an error. */
export interface BatchOutcome {
  customId: string;
  response?: CompletionResponse;
  error?: { kind: ProviderErrorKind; message: string };
}

/** The batch statuses the API reports; the last four are terminal. */
export type BatchState = Batch["status"];

/** Progress of a batch as `wait` reports it on every poll. */
export interface BatchProgress {
  status: BatchState;
  completed: number;
  failed: number;
  total: number;
}

/** The fields of a batch that matter to promptsmith. */
export interface BatchStatus {
  id: string;
  status: BatchState;
  endpoint: string;
  inputFileId: string;
  outputFileId?: string;
  errorFileId?: string;
  requestCounts: { completed: number; failed: number; total: number };
  /** The batch-level errors (validation of the input file), formatted as `line 3: message`. */
  errors: string[];
}

/** One batch made by `submit`. */
export interface SubmittedBatch {
  batchId: string;
  inputFileId: string;
  endpoint: BatchEndpoint;
  /** How many requests this batch holds (their custom ids are in its input file, in order). */
  requests: number;
}

/**
 * What `submit` made. Requests over the per-file limits, or for both endpoints, are spread over
 * several batches, so this is always a list; `batchIds` is the part worth saving for re-attaching.
 */
export interface SubmitResult {
  batchIds: string[];
  batches: SubmittedBatch[];
}

/** Options of `submit`. */
export interface SubmitOptions {
  /** Attached to every batch made (OpenAI: at most 16 pairs, keys ≤ 64 chars, values ≤ 512). */
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Called as each batch is created, before the next file goes up: a caller that records it at
   * once still knows of it if the process dies part-way through a submit of many files.
   */
  onBatch?: (batch: SubmittedBatch) => void;
  /** Called for each batch that a failed submit cancelled (a cancel that fails leaves it running). */
  onCancelled?: (batchId: string) => void;
}

/** Options of `wait`. */
export interface WaitOptions {
  /** Time between polls; default 10 s. */
  pollIntervalMs?: number;
  /** Called after every poll with the status and request counts. */
  onProgress?: (progress: BatchProgress) => void;
  /** Stops waiting (the batch keeps running on the server). */
  signal?: AbortSignal;
  /** How to wait between polls; tests inject one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
}

/** Options of `results`. */
export interface ResultsOptions {
  /**
   * The custom ids submitted, when the caller still has them; used to report requests missing from
   * the result files. Without them the batch's input file is downloaded to learn them (only when needed).
   */
  customIds?: Iterable<string>;
  signal?: AbortSignal;
  /** How to wait before downloading a file again after a cut-off download; tests inject one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
}

/** A client for the Batch API of one provider spec. */
export interface BatchClient {
  /**
   * Upload the requests and create the batches, a file at a time as the requests stream in;
   * throws on duplicate custom ids. A failure after some batches were made cancels them.
   */
  submit(
    requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>,
    options?: SubmitOptions,
  ): Promise<SubmitResult>;
  /** Poll until the batch reaches a terminal status (completed, failed, expired, cancelled). */
  wait(batchId: string, options?: WaitOptions): Promise<BatchStatus>;
  /** Stream the outcome of every request of a finished batch; throws a ProviderError for a failed batch. */
  results(batchId: string, options?: ResultsOptions): AsyncIterable<BatchOutcome>;
  /** Ask the server to cancel the batch; finished requests stay readable through `results`. */
  cancel(batchId: string): Promise<BatchStatus>;
  /** The custom ids in a batch's input file, in file order (downloaded, a line at a time). */
  customIds(
    batchId: string,
    options?: { signal?: AbortSignal; sleep?: (ms: number) => Promise<void> },
  ): AsyncIterable<string>;
}

/** How a batch client is built: the provider options plus the per-file limits. */
export interface BatchClientOptions extends ProviderOptions {
  /** Most requests in one batch file; default 50,000 (the OpenAI limit). */
  maxRequestsPerBatch?: number;
  /** Most bytes in one batch file; default 200,000,000 (OpenAI's 200 MB, read as the smaller decimal MB). */
  maxBytesPerBatch?: number;
  /** Where batch files are written before they are uploaded, in a folder of their own removed after; default the OS temp folder. */
  spoolDir?: string;
}

/** The endpoints promptsmith batches. */
export type BatchEndpoint = "/v1/chat/completions" | "/v1/completions";

const DEFAULT_MAX_REQUESTS = 50_000;
const DEFAULT_MAX_BYTES = 200_000_000;
const DEFAULT_POLL_INTERVAL_MS = 10_000;
const TERMINAL: ReadonlySet<BatchState> = new Set<BatchState>([
  "completed",
  "failed",
  "expired",
  "cancelled",
]);
/**
 * A batch runs for up to a day; a network blip or a 5xx that outlasts the SDK's own retries should
 * not end the wait, so this many failed polls in a row are tolerated before giving up.
 */
const MAX_CONSECUTIVE_POLL_FAILURES = 5;
/** Likewise for a result file's download, which starts again after each failure (1 s, 2 s, … apart). */
const MAX_CONSECUTIVE_DOWNLOAD_FAILURES = 5;
const DOWNLOAD_RETRY_MS = 1000;
/** Kinds of a failed poll worth polling again after. */
const TRANSIENT_KINDS: ReadonlySet<ProviderErrorKind> = new Set([
  "network",
  "timeout",
  "server",
  "rate-limit",
]);
/**
 * A file of up to 200 MB may take minutes to move on a slow link, so uploads and downloads get at
 * least ten minutes per attempt whatever the spec's per-request timeout.
 */
const MIN_TRANSFER_TIMEOUT_MS = 600_000;

/** Build a Batch API client for an `openai:<model>` spec; throws UserError for a bad id, URL or missing key. */
export function createBatchClient(spec: ProviderSpec, options: BatchClientOptions = {}): BatchClient {
  if (!spec.id.startsWith("openai:")) {
    throw new UserError({
      code: "provider-invalid",
      message: `provider "${spec.id}" cannot run as a batch: only openai:<model> providers can`,
      hint: "run this provider without batch mode, or use an openai:<model> provider",
    });
  }
  const setup = createOpenAIClient(spec, options);
  const { client, model, apiKey } = setup;
  const maxRequests = positive(options.maxRequestsPerBatch, DEFAULT_MAX_REQUESTS);
  const maxBytes = positive(options.maxBytesPerBatch, DEFAULT_MAX_BYTES);
  const spoolRoot = options.spoolDir ?? tmpdir();
  const where = displayURL(setup.baseURL);
  const transferTimeout = Math.max(setup.timeoutMs, MIN_TRANSFER_TIMEOUT_MS);
  const redact = (text: string) => redactKey(text, apiKey);

  /** Map anything an SDK call threw, with a batch-specific word for 404s (the model is not the issue there). */
  function mapError(error: unknown, path: string, notFound: string, signal?: AbortSignal): unknown {
    if (error instanceof APIError && error.status === 404) {
      const detail = apiErrorDetail(error, redact);
      return new ProviderError("not-found", `404 from ${where}${path}: ${notFound} (${detail})`, {
        status: 404,
        fatal: true,
      });
    }
    const context: CallContext = { ...setup, path, signal };
    return toProviderError(error, context);
  }

  async function retrieve(batchId: string, signal?: AbortSignal): Promise<BatchStatus> {
    const path = `/batches/${batchId}`;
    try {
      return toBatchStatus(await withSignal(signal, (s) => client.batches.retrieve(batchId, { signal: s })));
    } catch (error) {
      throw mapError(error, path, `no batch "${batchId}" on this endpoint; check the batch id`, signal);
    }
  }

  /**
   * Stream the lines of a stored file. A result file runs to 200 MB, so a download cut off part-way
   * is started again and read on past the lines already handed out; it gives up after
   * MAX_CONSECUTIVE_DOWNLOAD_FAILURES failed tries in a row without a new line.
   */
  async function* fileLines(
    fileId: string,
    signal?: AbortSignal,
    sleep?: (ms: number) => Promise<void>,
  ): AsyncGenerator<string> {
    let handedOut = 0;
    for (let failures = 0; ; ) {
      let index = 0;
      try {
        for await (const line of downloadLines(fileId, signal)) {
          if (index++ < handedOut) continue;
          handedOut = index;
          failures = 0;
          yield line;
        }
        return;
      } catch (error) {
        const transient = error instanceof ProviderError && TRANSIENT_KINDS.has(error.kind);
        if (signal?.aborted || !transient || ++failures >= MAX_CONSECUTIVE_DOWNLOAD_FAILURES) throw error;
        await sleepUnlessAborted(sleep, DOWNLOAD_RETRY_MS * failures, signal).catch(() => {
          throw error;
        });
      }
    }
  }

  /** One download of a stored file, as lines. */
  async function* downloadLines(fileId: string, signal?: AbortSignal): AsyncGenerator<string> {
    const path = `/files/${fileId}/content`;
    const notFound = `file "${fileId}" is gone (result files expire; the batch may be too old)`;
    // The body streams under the request's signal, so the call's own signal lives until it is read.
    const call = signal ? callSignal(signal) : undefined;
    try {
      let response: Response;
      try {
        response = await client.files.content(fileId, { signal: call?.signal, timeout: transferTimeout });
      } catch (error) {
        throw mapError(error, path, notFound, signal);
      }
      if (!response.body) return;
      try {
        yield* readLines(response.body);
      } catch (error) {
        throw mapError(error, path, notFound, signal);
      }
    } finally {
      call?.release();
    }
  }

  async function uploadAndCreate(
    spool: Spool,
    endpoint: BatchEndpoint,
    part: number,
    options: SubmitOptions,
  ): Promise<{ batchId: string; inputFileId: string }> {
    const { signal } = options;
    let inputFileId: string;
    const file = await spool.finish(`promptsmith-batch-${part}.jsonl`, "application/jsonl");
    try {
      const uploaded = await withSignal(signal, (s) =>
        client.files.create({ file, purpose: "batch" }, { signal: s, timeout: transferTimeout }),
      );
      inputFileId = uploaded.id;
    } catch (error) {
      throw mapError(error, "/files", "the endpoint does not offer the Files API that batches need", signal);
    }
    try {
      const batch = await withSignal(signal, (s) =>
        client.batches.create(
          {
            input_file_id: inputFileId,
            endpoint,
            completion_window: "24h",
            ...(options.metadata ? { metadata: options.metadata } : {}),
          },
          { signal: s },
        ),
      );
      return { batchId: batch.id, inputFileId };
    } catch (error) {
      // The uploaded file is useless without its batch; tidy it away if the server lets us.
      await client.files.delete(inputFileId).catch(() => undefined);
      throw mapError(error, "/batches", "the endpoint does not offer the Batch API", signal);
    }
  }

  return {
    async submit(requests, options = {}) {
      // Requests stream in and go out a file at a time, each file written to disk as it fills, so
      // memory holds neither a batch file (up to 200 MB) nor the whole evaluation.
      const spoolDir = createSpoolFolder(spoolRoot);
      const parts = new Map<BatchEndpoint, Spool>();
      // Hashes, not the ids: a million requests would otherwise hold 110 MB here.
      const seen = createKeySet();
      const batches: SubmittedBatch[] = [];
      const send = async (endpoint: BatchEndpoint) => {
        const spool = parts.get(endpoint);
        if (!spool) return;
        parts.delete(endpoint);
        try {
          const made = await uploadAndCreate(spool, endpoint, batches.length + 1, options);
          const batch = { ...made, endpoint, requests: spool.lines };
          batches.push(batch);
          options.onBatch?.(batch);
        } finally {
          spool.remove();
        }
      };
      try {
        for await (const request of requests) {
          if (typeof request.customId !== "string" || request.customId === "") {
            throw new TypeError("every batch request needs a non-empty customId");
          }
          // A duplicate would make two results indistinguishable: a bug in the caller, not user input.
          if (!seen.add(request.customId)) throw new Error(`duplicate batch custom id "${request.customId}"`);
          const completions = request.completions ?? spec.completions === true;
          const endpoint: BatchEndpoint = completions ? "/v1/completions" : "/v1/chat/completions";
          const line = Buffer.from(
            `${JSON.stringify({
              custom_id: request.customId,
              method: "POST",
              url: endpoint,
              body: requestBody(spec, model, request, completions),
            })}\n`,
          );
          if (line.length > maxBytes) {
            throw new UserError({
              code: "usage",
              message: `batch request "${request.customId}" is ${line.length} bytes, over the ${maxBytes}-byte limit of one batch file`,
              hint: "run this evaluation without batch mode, or shorten the prompt",
            });
          }
          const full = parts.get(endpoint);
          if (full && (full.lines >= maxRequests || full.bytes + line.length > maxBytes))
            await send(endpoint);
          let spool = parts.get(endpoint);
          if (spool === undefined) {
            spool = createSpool(spoolDir, `part-${batches.length + parts.size + 1}.jsonl`);
            parts.set(endpoint, spool);
          }
          spool.write(line);
        }
        for (const endpoint of [...parts.keys()]) await send(endpoint);
      } catch (error) {
        if (batches.length === 0) throw error;
        // Half a submit is worse than none: the caller cannot know which requests are in flight.
        await Promise.all(
          batches.map((batch) =>
            client.batches.cancel(batch.batchId).then(
              () => options.onCancelled?.(batch.batchId),
              () => undefined,
            ),
          ),
        );
        const note = ` (cancelled the ${batches.length} batch(es) already created: ${batches.map((b) => b.batchId).join(", ")})`;
        if (error instanceof ProviderError) {
          throw new ProviderError(error.kind, error.message + note, {
            status: error.status,
            fatal: error.fatal,
            cause: error,
          });
        }
        if (error instanceof UserError) {
          throw new UserError({
            code: error.code,
            message: error.message + note,
            hint: error.hint,
            cause: error,
          });
        }
        throw error;
      } finally {
        for (const spool of parts.values()) spool.remove();
        rmSync(spoolDir, { recursive: true, force: true });
      }
      return { batchIds: batches.map((batch) => batch.batchId), batches };
    },

    async wait(batchId, options = {}) {
      const interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
      const { signal } = options;
      const pause = async () => {
        try {
          await sleepUnlessAborted(options.sleep, interval, signal);
        } catch (error) {
          if (signal?.aborted) throw stopped();
          throw error;
        }
      };
      const stopped = () =>
        new ProviderError(
          "aborted",
          `stopped waiting for batch ${batchId}; it keeps running on the server and can be resumed by its id`,
        );
      let failures = 0;
      for (;;) {
        if (signal?.aborted) throw stopped();
        let status: BatchStatus;
        try {
          status = await retrieve(batchId, signal);
          failures = 0;
        } catch (error) {
          if (signal?.aborted) throw stopped();
          failures++;
          const transient = error instanceof ProviderError && TRANSIENT_KINDS.has(error.kind);
          if (!transient || failures >= MAX_CONSECUTIVE_POLL_FAILURES) throw error;
          await pause();
          continue;
        }
        options.onProgress?.({ status: status.status, ...status.requestCounts });
        if (TERMINAL.has(status.status)) return status;
        await pause();
      }
    },

    async *results(batchId, options = {}) {
      const { signal } = options;
      const batch = await retrieve(batchId, signal);
      if (batch.status === "failed") {
        const reasons = batch.errors.length > 0 ? batch.errors.join("; ") : "the server gave no reason";
        throw new ProviderError("bad-request", `batch ${batchId} failed: ${redact(reasons)}`, {
          fatal: true,
        });
      }
      if (!TERMINAL.has(batch.status)) {
        throw new ProviderError(
          "bad-request",
          `batch ${batchId} is still ${batch.status}; wait for it to finish before reading its results`,
          { fatal: true },
        );
      }
      const completionsMode = batch.endpoint === "/v1/completions";
      const seen = new Set<string>();
      let unreadable = 0;
      for (const fileId of [batch.outputFileId, batch.errorFileId]) {
        if (!fileId) continue;
        for await (const line of fileLines(fileId, signal, options.sleep)) {
          if (line.trim() === "") continue;
          const outcome = outcomeOfLine(line, completionsMode, where, redact);
          if (!outcome) {
            unreadable++;
            continue;
          }
          // The API writes each request once; should a line repeat, the first one stands.
          if (seen.has(outcome.customId)) continue;
          seen.add(outcome.customId);
          yield outcome;
        }
      }

      const mayMiss = batch.status !== "completed" || unreadable > 0 || seen.size < batch.requestCounts.total;
      if (!mayMiss) return;
      const missing = missingError(batch.status, unreadable);
      const expected = options.customIds ?? inputCustomIds(batch.inputFileId, signal, options.sleep);
      for await (const customId of expected) {
        if (seen.has(customId)) continue;
        seen.add(customId);
        yield { customId, error: { ...missing } };
      }
    },

    async *customIds(batchId, options = {}) {
      const batch = await retrieve(batchId, options.signal);
      yield* inputCustomIds(batch.inputFileId, options.signal, options.sleep);
    },

    async cancel(batchId) {
      const path = `/batches/${batchId}/cancel`;
      try {
        return toBatchStatus(await client.batches.cancel(batchId));
      } catch (error) {
        throw mapError(error, path, `no batch "${batchId}" on this endpoint; check the batch id`);
      }
    },
  };

  /** The custom ids of a batch's input file, in file order. */
  async function* inputCustomIds(
    fileId: string,
    signal?: AbortSignal,
    sleep?: (ms: number) => Promise<void>,
  ): AsyncGenerator<string> {
    for await (const line of fileLines(fileId, signal, sleep)) {
      const record = parseObject(line);
      if (record && typeof record.custom_id === "string") yield record.custom_id;
    }
  }
}

/** The JSON body of one batch line: the spec's params overridden by the request's, then the fields we own. */
function requestBody(
  spec: ProviderSpec,
  model: string,
  request: BatchRequest,
  completions: boolean,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...spec.params, ...request.params };
  const n = Math.max(1, Math.floor(request.n ?? (typeof merged.n === "number" ? merged.n : 1)));
  const params = Object.fromEntries(Object.entries(merged).filter(([key]) => !RESERVED_PARAMS.includes(key)));
  const input = completions
    ? { prompt: renderCompletionPrompt(request.messages) }
    : { messages: request.messages };
  // `n` only when above 1, as the online provider sends it, so both ask the same question.
  return { ...params, model, ...input, ...(n > 1 ? { n } : {}) };
}

function toBatchStatus(batch: Batch): BatchStatus {
  const counts = batch.request_counts;
  return {
    id: batch.id,
    status: batch.status,
    endpoint: batch.endpoint,
    inputFileId: batch.input_file_id,
    ...(batch.output_file_id ? { outputFileId: batch.output_file_id } : {}),
    ...(batch.error_file_id ? { errorFileId: batch.error_file_id } : {}),
    requestCounts: {
      completed: counts?.completed ?? 0,
      failed: counts?.failed ?? 0,
      total: counts?.total ?? 0,
    },
    errors: (batch.errors?.data ?? []).map((error) => {
      const at = typeof error.line === "number" ? `line ${error.line}: ` : "";
      const param = error.param ? ` (${error.param})` : "";
      return `${at}${error.message ?? error.code ?? "unknown error"}${param}`;
    }),
  };
}

/** One result line as an outcome; undefined when the line is not JSON or names no custom id. */
function outcomeOfLine(
  line: string,
  completionsMode: boolean,
  where: string,
  redact: (text: string) => string,
): BatchOutcome | undefined {
  const record = parseObject(line);
  if (!record || typeof record.custom_id !== "string") return undefined;
  const customId = record.custom_id;
  const fail = (kind: ProviderErrorKind, message: string): BatchOutcome => ({
    customId,
    // Redact before cutting, so no cut can leave a fragment of the key behind.
    error: { kind, message: preview(redact(message)) },
  });

  const lineError = record.error as { code?: unknown; message?: unknown } | null | undefined;
  if (lineError && typeof lineError === "object") {
    const code = typeof lineError.code === "string" ? lineError.code : "";
    const message = typeof lineError.message === "string" ? lineError.message : "no message";
    if (code === "batch_expired")
      return fail("server", `not processed before the batch expired (${message})`);
    if (code === "batch_cancelled")
      return fail("aborted", `not processed: the batch was cancelled (${message})`);
    return fail(code.includes("rate_limit") ? "rate-limit" : "server", `${code || "error"}: ${message}`);
  }

  const response = record.response as { status_code?: unknown; body?: unknown } | null | undefined;
  if (!response || typeof response !== "object" || typeof response.status_code !== "number") {
    return fail("bad-response", "the batch result line has neither a response nor an error");
  }
  const status = response.status_code;
  if (status < 200 || status > 299) {
    const body = (response.body ?? {}) as { error?: { message?: unknown } };
    const detail =
      typeof body.error?.message === "string" ? body.error.message : JSON.stringify(response.body);
    return fail(statusErrorKind(status), `${status} from ${where} for this request: ${detail}`);
  }
  try {
    const result = readCompletion(response.body, completionsMode, where);
    if (result.outputs.length === 0) return fail("bad-response", `${where} answered with no choices`);
    return {
      customId,
      response: {
        outputs: result.outputs,
        usage: result.usage,
        latencyMs: 0,
        ...(result.model ? { model: result.model } : {}),
      },
    };
  } catch (error) {
    if (error instanceof ProviderError) return fail(error.kind, error.message);
    throw error;
  }
}

/** The error of a request found in neither result file, by why the batch ended. */
function missingError(status: BatchState, unreadable: number): { kind: ProviderErrorKind; message: string } {
  if (status === "expired") return { kind: "server", message: "not processed before the batch expired" };
  if (status === "cancelled") return { kind: "aborted", message: "not processed: the batch was cancelled" };
  const note = unreadable > 0 ? ` (${unreadable} result line(s) could not be read)` : "";
  return { kind: "bad-response", message: `the batch finished without a result for this request${note}` };
}

/** Lines of a byte stream, decoded as UTF-8, without holding more than one chunk and one line. */
async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of body) {
    const text = pending + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      yield text.slice(start, end);
      start = end + 1;
    }
    pending = text.slice(start);
  }
  pending += decoder.decode();
  if (pending !== "") yield pending;
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function apiErrorDetail(error: APIError, redact: (text: string) => string): string {
  const body = error.error as { message?: unknown } | undefined;
  return preview(redact(typeof body?.message === "string" ? body.message : error.message));
}

function preview(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

/**
 * Sleep `ms` with the injected sleep or a timer, rejecting as soon as the signal aborts (an injected
 * sleep need not know about signals; the timer is cleared so it cannot hold the process open).
 */
function sleepUnlessAborted(
  sleep: ((ms: number) => Promise<void>) | undefined,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const slept = sleep
      ? sleep(ms)
      : new Promise<void>((wake) => {
          timer = setTimeout(wake, ms);
        });
    slept.then(
      () => {
        done();
        resolve();
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}

/** Runs an SDK call under a signal of its own tied to the caller's (see call-signal.ts), or under none. */
function withSignal<T>(
  signal: AbortSignal | undefined,
  call: (signal?: AbortSignal) => Promise<T>,
): Promise<T> {
  return signal ? withCallSignal(signal, call) : call(undefined);
}
