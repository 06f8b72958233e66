/**
 * The `replay:<cassette.jsonl>` provider: answers from a cassette written by `eval --record`,
 * with no network and no model, so a CI job replays a recorded run for free and gets the same
 * verdicts. A cassette holds one line per request sample, keyed like the response cache (the
 * provider's label stands in for the endpoint, so a cassette recorded against one server replays
 * anywhere), with the request itself beside its answer, and never a key or a header.
 *
 * The file is indexed once (key → place in the file) and each answer read when asked for, so a
 * large cassette costs its index, not its text.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { UserError } from "../errors.js";
import {
  type ChatMessage,
  type CompletionRequest,
  type CompletionResponse,
  type Provider,
  ProviderError,
  type ProviderErrorKind,
  type ProviderSpec,
  type TokenUsage,
} from "./types.js";

/** The first line of a cassette: what it is, its version, and the providers recorded in it. */
export interface CassetteHeader {
  promptsmith: "cassette";
  version: 1;
  providers: CassetteProvider[];
}

/** A provider as a cassette knows it: what goes into its keys, and its parameters. */
export interface CassetteProvider {
  /** The provider's label in the recorded config (its name in reports). */
  label: string;
  /** The model named in its requests (OpenAI-compatible providers). */
  model?: string;
  params: Record<string, unknown>;
  completions?: boolean;
}

/**
 * Which of a job's calls a request is, when not its answer: `extract` (the second call of two-stage
 * answer extraction), `judge` (a scorer asking a model), `baseline` (the baseline's answer a
 * pairwise judge compares with).
 */
export type CassetteCall = "extract" | "judge" | "baseline";

/** One sample of one request, and what came back (an answer, or the error the call ended in). */
export interface CassetteEntry {
  key: string;
  /** The job the request was made for. */
  case: string;
  prompt: string;
  /** The provider asked: the job's, or for a judge's or the baseline's call, the one that answered it. */
  provider: string;
  draw?: number;
  call?: CassetteCall;
  request: {
    model?: string;
    completions?: boolean;
    messages: ChatMessage[];
    /** The provider's parameters with the prompt's over them, as sent. */
    params: Record<string, unknown>;
    /** Which sample of the request this is. */
    sample: number;
  };
  /** The answer, with the usage and latency this sample added to its case. */
  response?: { output: string; usage: TokenUsage; latencyMs: number; model?: string };
  error?: { kind: string; message: string };
}

/** What a request the cassette lacks does: stop the run with a located error, or leave its job out. */
export type ReplayMissing = "error" | "skip";

/** A cassette opened for reading: its header and an index of its entries. */
export interface Cassette {
  readonly path: string;
  readonly header: CassetteHeader;
  readonly size: number;
  /**
   * The entry of a key. A request sent by several jobs (two prompts that render alike, a duplicate
   * row) is recorded once for each, with each one's answer: `job` picks that job's.
   */
  get(key: string, job?: { caseId: string; promptId: string; draw?: number }): CassetteEntry | undefined;
  /** Every entry, read again from the file (for the nearest-request search of an error). */
  entries(): AsyncGenerator<CassetteEntry>;
  close(): void;
}

/** Whether a provider id names a cassette. */
export function isReplayId(id: string): boolean {
  return id.startsWith("replay:") && id.length > "replay:".length;
}

/** Reads a cassette's header and indexes its entries by key (their place in the file, not their text). */
export async function openCassette(path: string): Promise<Cassette> {
  try {
    statSync(path);
  } catch {
    throw new UserError({
      code: "cassette-not-found",
      location: { file: path },
      message: "there is no cassette here",
      hint: "record one with promptsmith eval --record <cassette.jsonl>, or check the path",
    });
  }
  const index = new Map<string, Place | Place[]>();
  let header: CassetteHeader | undefined;
  let number = 0;
  const invalid = (message: string) =>
    new UserError({
      code: "cassette-invalid",
      location: { file: path, line: number },
      message,
      hint: "record the cassette again with promptsmith eval --record",
    });
  for await (const { line, at: start, bytes } of linesWithPlaces(path)) {
    number++;
    if (number === 1) {
      header = parseHeader(line);
      if (!header) throw invalid("this is not a promptsmith cassette (its first line is not the header)");
      continue;
    }
    if (line.trim() === "") continue;
    let entry: CassetteEntry;
    try {
      entry = JSON.parse(line) as CassetteEntry;
    } catch {
      throw invalid("expected one JSON entry per line");
    }
    if (typeof entry?.key !== "string" || !entry.request || (!entry.response && !entry.error))
      throw invalid("expected an entry with key, request and response (or error)");
    const place = { at: start, bytes };
    const known = index.get(entry.key);
    if (!known) index.set(entry.key, place);
    else if (Array.isArray(known)) known.push(place);
    else index.set(entry.key, [known, place]);
  }
  if (!header) {
    number = 1;
    throw invalid("the cassette is empty");
  }
  const fd = openSync(path, "r");
  const cassetteHeader = header;
  return {
    path,
    header: cassetteHeader,
    size: index.size,
    get(key, job) {
      const place = index.get(key);
      if (!place) return undefined;
      const read = ({ at, bytes }: Place) => {
        const buffer = Buffer.alloc(bytes);
        readSync(fd, buffer, 0, bytes, at);
        return JSON.parse(buffer.toString("utf8")) as CassetteEntry;
      };
      if (!Array.isArray(place)) return read(place);
      const entries = place.map(read);
      return (
        entries.find(
          (e) => job && e.case === job.caseId && e.prompt === job.promptId && e.draw === job.draw,
        ) ?? entries[0]
      );
    },
    async *entries() {
      let first = true;
      for await (const line of createInterface({
        input: createReadStream(path),
        crlfDelay: Number.POSITIVE_INFINITY,
      })) {
        if (first || line.trim() === "") {
          first = false;
          continue;
        }
        yield JSON.parse(line) as CassetteEntry;
      }
    },
    close() {
      closeSync(fd);
    },
  };
}

/**
 * The lines of a file with their places in bytes, found in the bytes themselves: a line ends at
 * "\n", and a "\r" before it is not part of it, so a cassette checked out with CRLF endings
 * (git's autocrlf on Windows) reads as the one written with "\n".
 */
async function* linesWithPlaces(path: string): AsyncGenerator<{ line: string } & Place> {
  /** Bytes of the line not yet ended, from earlier chunks. */
  let pending: Buffer[] = [];
  /** Where in the file the unended line starts. */
  let lineStart = 0;
  let chunkStart = 0;
  const place = (parts: Buffer[], at: number) => {
    let bytes = Buffer.concat(parts);
    if (bytes.at(-1) === 0x0d) bytes = bytes.subarray(0, -1);
    return { line: bytes.toString("utf8"), at, bytes: bytes.length };
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, from)) {
      yield place([...pending, chunk.subarray(from, end)], lineStart);
      pending = [];
      from = end + 1;
      lineStart = chunkStart + from;
    }
    if (from < chunk.length) pending.push(chunk.subarray(from));
    chunkStart += chunk.length;
  }
  if (pending.length > 0) yield place(pending, lineStart);
}

/** Where an entry's line is in the file, in bytes. */
interface Place {
  at: number;
  bytes: number;
}

function parseHeader(line: string): CassetteHeader | undefined {
  try {
    const header = JSON.parse(line) as CassetteHeader;
    if (header?.promptsmith === "cassette" && header.version === 1 && Array.isArray(header.providers))
      return header;
  } catch {}
  return undefined;
}

/** A replay provider, and the recorded provider it answers for (what the runner keys its requests by). */
export interface ReplayProvider extends Provider {
  readonly replaying: CassetteProvider;
  readonly cassette: string;
}

/** Options of a replay provider. */
export interface ReplayOptions {
  /** What a request the cassette lacks does (default `error`). */
  missing?: ReplayMissing;
  /** Close the cassette with the provider (when the provider opened it). */
  ownsCassette?: boolean;
}

/** A miss under `--replay-missing skip`: the runner leaves the job out instead of recording an error. */
export class ReplayMissError extends ProviderError {
  readonly replayMiss = true;

  constructor(message: string) {
    super("not-found", message);
    this.name = "ReplayMissError";
  }
}

export function isReplayMiss(error: unknown): error is ReplayMissError {
  return error instanceof ReplayMissError;
}

/**
 * A provider answering `replaying`'s requests from `cassette`. The runner puts each sample's key
 * and the job in `request.lookup`; a sample the cassette lacks is a located user error (or, with
 * `missing: skip`, a ReplayMissError the runner turns into a skipped job).
 */
export function createReplayProvider(
  cassette: Cassette,
  spec: Pick<ProviderSpec, "id" | "label">,
  replaying: CassetteProvider,
  options: ReplayOptions = {},
): ReplayProvider {
  return {
    id: spec.id,
    label: spec.label,
    replaying,
    cassette: cassette.path,
    async complete(request: CompletionRequest): Promise<CompletionResponse> {
      if (request.signal?.aborted) throw new ProviderError("aborted", "request aborted before it was sent");
      const lookup = request.lookup;
      if (!lookup) {
        throw new ProviderError(
          "bad-request",
          `${spec.label} answers from a cassette: only promptsmith eval can ask it`,
          {
            fatal: true,
            hint: "use a replay provider in an eval config, not with promptsmith run",
          },
        );
      }
      const entries = lookup.keys.map((key) => cassette.get(key, lookup));
      const missing = entries.indexOf(undefined);
      if (missing !== -1) {
        const message = await describeMiss(cassette, replaying, request, lookup, missing);
        if (options.missing === "skip") throw new ReplayMissError(message);
        throw new UserError({
          code: "replay-missing",
          location: { file: cassette.path },
          field: `case ${JSON.stringify(lookup.caseId)} · prompt ${JSON.stringify(lookup.promptId)} · provider ${JSON.stringify(replaying.label)}`,
          message,
          hint: "record the cassette again after changing what is sent (promptsmith eval --record), or pass --replay-missing skip to leave such jobs out",
        });
      }
      const found = entries as CassetteEntry[];
      const failed = found.find((entry) => entry.error);
      if (failed?.error)
        throw new ProviderError(failed.error.kind as ProviderErrorKind, failed.error.message);
      const usage: TokenUsage = { prompt: 0, completion: 0 };
      let latencyMs = 0;
      for (const entry of found) {
        usage.prompt += entry.response!.usage.prompt;
        usage.completion += entry.response!.usage.completion;
        latencyMs = Math.max(latencyMs, entry.response!.latencyMs);
      }
      return {
        outputs: found.map((entry) => entry.response!.output),
        usage,
        latencyMs,
        model: found[0]?.response?.model,
      };
    },
    async close() {
      if (options.ownsCassette) cassette.close();
    },
  };
}

/**
 * A `replay:<cassette>` provider of a config: it answers for the recorded provider with its label,
 * or for the only one recorded when it has no label of its own. Its own params go over the recorded ones.
 */
export async function createReplayProviderFromSpec(
  spec: ProviderSpec,
  options: { missing?: ReplayMissing } = {},
): Promise<ReplayProvider> {
  const cassette = await openCassette(spec.id.slice("replay:".length));
  const recorded = cassette.header.providers;
  const named = recorded.find((p) => p.label === spec.label);
  // With no label of its own, its label is its id as written: `replay:…`.
  const unlabelled = spec.label.startsWith("replay:");
  const chosen = named ?? (unlabelled && recorded.length === 1 ? recorded[0] : undefined);
  if (!chosen) {
    cassette.close();
    throw new UserError({
      code: "cassette-invalid",
      location: { file: cassette.path },
      message:
        recorded.length === 0
          ? "the cassette has no provider to replay"
          : unlabelled
            ? `the cassette holds ${recorded.length} providers (${recorded.map((p) => JSON.stringify(p.label)).join(", ")}): which one does this provider replay?`
            : `the cassette has no provider labelled ${JSON.stringify(spec.label)}; it holds ${recorded.map((p) => JSON.stringify(p.label)).join(", ")}`,
      hint:
        recorded.length === 0
          ? "record it again with promptsmith eval --record"
          : `give the replay provider the label of the one it stands for, e.g. label: ${recorded[0].label}`,
    });
  }
  return createReplayProvider(
    cassette,
    spec,
    { ...chosen, params: { ...chosen.params, ...spec.params } },
    { missing: options.missing, ownsCassette: true },
  );
}

/**
 * Why a request is not in the cassette: the nearest recorded request of the same provider (the
 * same case and prompt first, then the fewest differences) and what differs.
 */
async function describeMiss(
  cassette: Cassette,
  replaying: CassetteProvider,
  request: CompletionRequest,
  lookup: NonNullable<CompletionRequest["lookup"]>,
  missingAt: number,
): Promise<string> {
  const wanted: CassetteEntry["request"] = {
    ...(replaying.model !== undefined ? { model: replaying.model } : {}),
    messages: request.messages,
    params: { ...replaying.params, ...request.params },
    sample: lookup.firstSample + missingAt,
  };
  const head = `no recorded answer for this request${lookup.call ? ` (${CALL_NAMES[lookup.call]})` : ""} in the cassette`;
  let best: { entry: CassetteEntry; differences: string[]; rank: number } | undefined;
  let sameProvider = 0;
  for await (const entry of cassette.entries()) {
    if (entry.provider !== replaying.label || (entry.call ?? "answer") !== (lookup.call ?? "answer"))
      continue;
    sameProvider++;
    const differences = differencesOf(entry.request, wanted);
    const sameJob = entry.case === lookup.caseId && entry.prompt === lookup.promptId;
    const rank = (sameJob ? 0 : 1_000_000) + differences.length;
    if (!best || rank < best.rank) best = { entry, differences, rank };
  }
  if (!best) {
    const labels = cassette.header.providers.map((p) => JSON.stringify(p.label)).join(", ");
    return sameProvider === 0
      ? `${head}: it holds no request of provider ${JSON.stringify(replaying.label)} (it holds ${labels || "none"})`
      : head;
  }
  const where = `case ${JSON.stringify(best.entry.case)} · prompt ${JSON.stringify(best.entry.prompt)}`;
  const what =
    best.differences.length === 0
      ? "nothing sent (the recording was made under another key)"
      : best.differences.slice(0, 3).join("; ");
  return `${head}; the nearest recorded request (${where}) differs in ${what}${best.differences.length > 3 ? ` and ${best.differences.length - 3} more` : ""}`;
}

const CALL_NAMES: Record<CassetteCall, string> = {
  extract: "the extraction call",
  judge: "the judge's call",
  baseline: "the baseline's answer for the pairwise judge",
};

/** The fields in which two requests differ, each with what the cassette has and what was asked. */
function differencesOf(recorded: CassetteEntry["request"], wanted: CassetteEntry["request"]): string[] {
  const differences: string[] = [];
  if ((recorded.model ?? "") !== (wanted.model ?? ""))
    differences.push(`model: ${show(recorded.model)} → ${show(wanted.model)}`);
  const a = recorded.messages ?? [];
  const b = wanted.messages;
  if (a.length !== b.length) differences.push(`the number of messages: ${a.length} → ${b.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i].role !== b[i].role)
      differences.push(`messages[${i}].role: ${show(a[i].role)} → ${show(b[i].role)}`);
    if (a[i].content !== b[i].content)
      differences.push(`messages[${i}].content: ${excerpts(a[i].content, b[i].content)}`);
  }
  const keys = [...new Set([...Object.keys(recorded.params ?? {}), ...Object.keys(wanted.params)])].sort();
  for (const key of keys) {
    const x = JSON.stringify(recorded.params?.[key]);
    const y = JSON.stringify(wanted.params[key]);
    if (x !== y) differences.push(`params.${key}: ${x ?? "(none)"} → ${y ?? "(none)"}`);
  }
  if (recorded.sample !== wanted.sample) differences.push(`sample: ${recorded.sample} → ${wanted.sample}`);
  return differences;
}

function show(value: unknown): string {
  return value === undefined ? "(none)" : JSON.stringify(value);
}

/** The two texts around their first difference, quoted: `"…is 7 - 8?" → "…is 7 - 8 ?"`. */
function excerpts(a: string, b: string): string {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const around = (text: string, end: number) => {
    const from = Math.max(0, start - 20);
    const to = Math.min(text.length, end + 20);
    return `${from > 0 ? "…" : ""}${text.slice(from, Math.min(to, from + 80))}${to < text.length || to > from + 80 ? "…" : ""}`;
  };
  return `${JSON.stringify(around(a, endA))} → ${JSON.stringify(around(b, endB))}`;
}
