/**
 * Prompt snapshots: every request a config would send (case × prompt × provider × draw: the
 * messages, the parameters, the examples chosen), rendered without calling any model and written
 * one line a request to a file beside the config, sorted by case, prompt, provider and draw. A
 * template refactor that sends the same text leaves the file as it was; one that changes a
 * character shows as a diff of that request. Both sides are streams: the rendered requests go
 * through an external sort, the file is read line by line, and the two are joined like sorted
 * lists, so 100,000 cases take the memory of a few.
 *
 * Sorted rather than in dataset order so that the join can tell an added request from a moved
 * one, and so that reordering the dataset or the config's prompts changes nothing.
 *
 * What is sent but belongs to no one request is a setting line, between the header and the
 * requests: each prompt's extraction template (its call is made from the model's answer) and each
 * judge's rubric and parameters (its calls are made from the answers). They are few, and are
 * compared whole before the requests are joined.
 */
import { createReadStream, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, sep } from "node:path";
import { createInterface } from "node:readline";
import type { Suite } from "../config/types.js";
import { formatLocation, isUserError, UserError, unwritableFileError } from "../errors.js";
import type { ChatMessage, ProviderSpec } from "../providers/types.js";
import { asksModel } from "../scorers/aliases.js";
import { canonicalJson } from "../store/job-key.js";
import { compareKeys, externalSort, type Keyed } from "./external-sort.js";
import { drawsOf, iterateJobs } from "./jobs.js";
import { prepareVariants, renderJob } from "./prepare.js";
import { modelOf } from "./select.js";

/** The first line of a snapshot file: what it is and its format's version. */
const HEADER = { promptsmith: "snapshot", version: 1 } as const;

/** One request as the snapshot holds it. */
export interface SnapshotRequest {
  case: string;
  prompt: string;
  /** The provider's label. */
  provider: string;
  /** Which shot draw (only when the prompt re-draws its examples). */
  draw?: number;
  /** The model named in the request (OpenAI-compatible providers). */
  model?: string;
  /** `completions` when the request goes to /v1/completions. */
  endpoint?: "completions";
  /** The provider's parameters with the prompt's over them, as sent. */
  params: Record<string, unknown>;
  /** Samples asked for. */
  n: number;
  shots?: string[];
  context?: { source: string; index: number }[];
  messages: ChatMessage[];
}

/** Which request a change is about. */
export interface SnapshotRequestId {
  case: string;
  prompt: string;
  provider: string;
  draw?: number;
}

/** One difference between the snapshot file and what the config renders now. */
export type SnapshotChange =
  | { kind: "added" | "removed"; request: SnapshotRequestId }
  /** `diff()`: a unified diff of the request as text, snapshot (---) to now (+++), made when asked for. */
  | { kind: "changed"; request: SnapshotRequestId; diff: () => string }
  /**
   * A setting line that differs: `setting` names it (`extract · prompt "cot"`, `judge · scorer
   * "grader"`), `status` says how, `diff()` as for a request (from or to nothing when added or removed).
   */
  | { kind: "setting"; setting: string; status: "changed" | "added" | "removed"; diff: () => string };

/** Options of snapshot(). */
export interface SnapshotOptions {
  suite: Suite;
  /** `write` (default) renders into the file; `check` compares and writes nothing. */
  mode?: "write" | "check";
  /** The snapshot file (default: beside the config, `<config name>.snap.jsonl`). */
  path?: string;
  /** Called with each difference, in file order (check mode; in write mode only counted). */
  onChange?: (change: SnapshotChange) => void;
  /** Characters of rendered requests held before they are sorted into a temporary file (default 4 M). */
  runChars?: number;
  /** Where those temporary files go (default the system's temporary folder). */
  tmpDir?: string;
}

/** What snapshot() found. */
export interface SnapshotResult {
  path: string;
  /** Requests rendered now. */
  requests: number;
  /** Requests rendered the same as in the file. */
  unchanged: number;
  changed: number;
  added: number;
  removed: number;
  /** Setting lines (extraction templates, judges) that differ: changed, added or removed. */
  settings: number;
  /** Whether there was a snapshot file to compare with. */
  existed: boolean;
  /**
   * Write mode only: why the old file could not be read (a merge conflict, lines out of order),
   * `file:line: message`. It was written anew, and the counts of changes are 0: nothing to count against.
   */
  unreadable?: string;
}

/** Where a config's snapshot goes: beside it, `promptsmith.yaml` → `promptsmith.snap.jsonl`. */
export function snapshotPath(suite: Suite): string {
  const config = suite.configPath;
  return join(dirname(config), `${basename(config, extname(config))}.snap.jsonl`);
}

/**
 * Renders every request of a suite (no model is called) and compares them with the snapshot file:
 * `write` replaces the file with them, `check` reports each difference and writes nothing. A
 * check without a file is a user error, since there is nothing to hold the requests to.
 */
export async function snapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  const { suite } = options;
  const mode = options.mode ?? "write";
  const path = options.path ?? snapshotPath(suite);
  const existed = existsSync(path);
  if (mode === "check" && !existed) {
    throw new UserError({
      code: "snapshot-not-found",
      location: { file: path },
      message: "there is no snapshot to check against",
      hint: "run promptsmith snapshot to write it, and commit it beside the config",
    });
  }
  const result: SnapshotResult = {
    path,
    requests: 0,
    unchanged: 0,
    changed: 0,
    added: 0,
    removed: 0,
    settings: 0,
    existed,
  };
  const settings = settingLines(suite);
  const fresh = externalSort(renderRequests(suite), {
    compare: compareKeys,
    runChars: options.runChars,
    tmpDir: options.tmpDir,
  });
  const counted = (async function* () {
    for await (const item of fresh) {
      result.requests++;
      yield item;
    }
  })();

  const partial = `${path}.partial-${process.pid}`;
  const out = mode === "write" ? await openOutput(partial, path) : undefined;
  try {
    // Writing must be able to repair a broken file: what cannot be read is replaced, not compared.
    const oldSettings = new Map<string, string>();
    const read = !existed
      ? emptyLines()
      : mode === "write"
        ? untilInvalid(readSnapshot(path, oldSettings), (error) => {
            result.unreadable = `${error.location ? `${formatLocation(error.location)}: ` : ""}${error.message}`;
          })
        : readSnapshot(path, oldSettings);
    // The settings come before the requests: reading the first request has read them all.
    const stored = await peeked(read);
    const onChange = mode === "check" ? options.onChange : undefined;
    let diff: typeof import("diff") | undefined;
    for (const [id, { status, old, now }] of settingChanges(oldSettings, settings)) {
      result.settings++;
      if (!onChange) continue;
      diff ??= await import("diff");
      const loaded = diff;
      onChange({
        kind: "setting",
        setting: describeSetting(id),
        status,
        diff: () =>
          textDiff(
            loaded,
            old === undefined ? "" : settingText(old),
            now === undefined ? "" : settingText(now),
          ),
      });
    }
    for (const line of settings.values()) await out?.write(`${line}\n`);
    const changes = joinSorted(stored, counted, async (old, now) => {
      if (old && now) {
        if (old.line === now.line) {
          result.unchanged++;
          return;
        }
        result.changed++;
        if (!onChange) return;
        diff ??= await import("diff");
        const loaded = diff;
        onChange({
          kind: "changed",
          request: idOf(now.key),
          diff: () => requestDiff(loaded, old.line, now.line),
        });
      } else if (now) {
        result.added++;
        onChange?.({ kind: "added", request: idOf(now.key) });
      } else if (old) {
        result.removed++;
        onChange?.({ kind: "removed", request: idOf(old.key) });
      }
    });
    for await (const now of changes) await out?.write(`${now.line}\n`);
    if (result.unreadable)
      Object.assign(result, { unchanged: 0, changed: 0, added: 0, removed: 0, settings: 0 });
    if (out) {
      await out.close();
      renameSync(partial, path);
    }
    return result;
  } catch (error) {
    if (out) {
      await out.close().catch(() => undefined);
      rmSync(partial, { force: true });
    }
    throw error;
  }
}

/** The partial file the new snapshot is written to, its header already in. */
async function openOutput(partial: string, path: string) {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(partial, "w");
  } catch (error) {
    throw unwritableFileError(error, {
      file: path,
      what: "write the snapshot here",
      hint: "run it where the config's folder can be written to",
    });
  }
  // Lines are gathered into writes of about 64 KB: one write a request would be 100,000 syscalls.
  let buffer = `${JSON.stringify(HEADER)}\n`;
  let closed = false;
  return {
    async write(text: string) {
      buffer += text;
      if (buffer.length >= 64 * 1024) {
        await handle.write(buffer);
        buffer = "";
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (buffer) await handle.write(buffer);
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * Joins two streams sorted by key, calling `visit` for each pair (old and new of the same key, or
 * one of them alone), and yields the new side's items as they pass, for a writer to take.
 */
async function* joinSorted(
  old: AsyncIterable<Keyed>,
  now: AsyncIterable<Keyed>,
  visit: (old: Keyed | undefined, now: Keyed | undefined) => Promise<void>,
): AsyncGenerator<Keyed> {
  const olds = old[Symbol.asyncIterator]();
  const nows = now[Symbol.asyncIterator]();
  let a = await olds.next();
  let b = await nows.next();
  try {
    while (!a.done || !b.done) {
      const order = a.done ? 1 : b.done ? -1 : compareKeys(a.value.key, b.value.key);
      if (order === 0) {
        await visit(a.value, b.value);
        yield b.value;
        a = await olds.next();
        b = await nows.next();
      } else if (order < 0) {
        await visit(a.value, undefined);
        a = await olds.next();
      } else {
        await visit(undefined, b.value);
        yield b.value;
        b = await nows.next();
      }
    }
  } finally {
    await olds.return?.();
    await nows.return?.();
  }
}

async function* emptyLines(): AsyncGenerator<Keyed> {}

/** The lines up to the first that makes the file invalid; `onInvalid` is told why, and the rest is dropped. */
async function* untilInvalid(
  lines: AsyncIterable<Keyed>,
  onInvalid: (error: UserError) => void,
): AsyncGenerator<Keyed> {
  try {
    yield* lines;
  } catch (error) {
    if (!isUserError(error) || error.code !== "snapshot-invalid") throw error;
    onInvalid(error);
  }
}

/**
 * The requests of a snapshot file, checked to be in key order (the join depends on it); its setting
 * lines go into `settings` by id as they are read.
 */
async function* readSnapshot(path: string, settings: Map<string, string>): AsyncGenerator<Keyed> {
  const lines = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let number = 0;
  let previous: string[] | undefined;
  const invalid = (message: string, hint: string) =>
    new UserError({ code: "snapshot-invalid", location: { file: path, line: number }, message, hint });
  const rewrite = "run promptsmith snapshot to write it again from the config";
  for await (const line of lines) {
    number++;
    if (number === 1) {
      if (!isHeader(line))
        throw invalid("this is not a promptsmith snapshot (its first line is not the header)", rewrite);
      continue;
    }
    if (line.trim() === "") continue;
    let request: SnapshotRequest & { setting?: unknown };
    try {
      request = JSON.parse(line) as SnapshotRequest;
    } catch {
      throw invalid("expected one JSON request per line", `resolve the merge conflict or ${rewrite}`);
    }
    if (typeof request?.setting === "string") {
      if (previous) throw invalid("a setting line comes after the requests", rewrite);
      settings.set(settingId(request as unknown as Record<string, unknown>), line);
      continue;
    }
    if (
      typeof request?.case !== "string" ||
      typeof request.prompt !== "string" ||
      typeof request.provider !== "string"
    )
      throw invalid("expected a request with case, prompt and provider", rewrite);
    const key = keyOf(request);
    if (previous && compareKeys(previous, key) >= 0)
      throw invalid("the requests are out of order (edited by hand, or merged)", rewrite);
    previous = key;
    yield { key, line };
  }
}

function isHeader(line: string): boolean {
  try {
    const header = JSON.parse(line) as typeof HEADER;
    return header?.promptsmith === HEADER.promptsmith && header.version === HEADER.version;
  } catch {
    return false;
  }
}

/** The sort key of a request: case, prompt, provider, draw (empty when the prompt draws once). */
function keyOf(request: SnapshotRequestId): string[] {
  return [
    request.case,
    request.prompt,
    request.provider,
    request.draw === undefined ? "" : String(request.draw),
  ];
}

function idOf(key: string[]): SnapshotRequestId {
  const [caseId, prompt, provider, draw] = key;
  return { case: caseId, prompt, provider, ...(draw !== "" ? { draw: Number(draw) } : {}) };
}

/** Every request of the suite, rendered, in job order (dataset order × prompt × provider × draw). */
async function* renderRequests(suite: Suite): AsyncGenerator<Keyed> {
  const providers = suite.providers;
  const variants = await prepareVariants(suite, suite.prompts, {
    model: providers[0] && modelOf(providers[0]),
  });
  for await (const job of iterateJobs(suite, variants, providers)) {
    // Every run of a repeated case (`repeat: k`) sends the same request: it is one line.
    if (job.repeat > 0) continue;
    const rendered = await renderJob(job.variant, job.testCase, job.draw);
    const request = snapshotRequest(job.bound, job.variant.prompt, rendered, {
      case: job.testCase.id,
      draw: drawsOf(job.variant) > 1 ? job.draw : undefined,
    });
    yield { key: keyOf(request), line: serialize(request) };
  }
}

function snapshotRequest(
  spec: ProviderSpec,
  prompt: Suite["prompts"][number],
  rendered: Awaited<ReturnType<typeof renderJob>>,
  at: { case: string; draw?: number },
): SnapshotRequest {
  return {
    case: at.case,
    prompt: prompt.id,
    provider: spec.label,
    ...(at.draw !== undefined ? { draw: at.draw } : {}),
    // A local model's id is a path on this machine; the label names it the same everywhere.
    ...(spec.id.startsWith("openai:") ? { model: modelOf(spec) } : {}),
    ...(spec.completions ? { endpoint: "completions" as const } : {}),
    params: { ...spec.params, ...prompt.params },
    n: prompt.samples,
    ...(rendered.shots ? { shots: rendered.shots } : {}),
    ...(rendered.context
      ? { context: rendered.context.map((c) => ({ source: c.source, index: c.index })) }
      : {}),
    messages: rendered.messages.map((m) => ({ role: m.role, content: m.content })),
  };
}

/** One line, its fields in a fixed order and the parameters' keys sorted, so equal requests are equal text. */
function serialize(request: SnapshotRequest): string {
  const { params, ...rest } = request;
  const ordered: Record<string, unknown> = {};
  for (const field of ["case", "prompt", "provider", "draw", "model", "endpoint"] as const) {
    if (rest[field] !== undefined) ordered[field] = rest[field];
  }
  ordered.params = JSON.parse(canonicalJson(params));
  ordered.n = rest.n;
  if (rest.shots) ordered.shots = rest.shots;
  if (rest.context) ordered.context = rest.context;
  ordered.messages = rest.messages;
  return JSON.stringify(ordered);
}

/** A request as the text a person reviews: what it goes to and with, then each message. */
export function requestText(request: SnapshotRequest): string {
  const head = [
    `provider: ${request.provider}${request.model !== undefined ? ` (model ${request.model})` : ""}${request.endpoint ? ` · ${request.endpoint}` : ""}`,
    `params: ${canonicalJson(request.params ?? {})}${request.n > 1 ? ` · n: ${request.n}` : ""}`,
  ];
  if (request.shots) head.push(`shots: ${request.shots.join(", ") || "(none)"}`);
  if (request.context)
    head.push(`context: ${request.context.map((c) => `${c.source}#${c.index}`).join(", ")}`);
  const messages = (request.messages ?? []).map((m) => `[${m.role}]\n${m.content}`);
  return `${[...head, "", ...messages].join("\n")}\n`;
}

function requestDiff(diff: typeof import("diff"), oldLine: string, newLine: string): string {
  return textDiff(
    diff,
    requestText(JSON.parse(oldLine) as SnapshotRequest),
    requestText(JSON.parse(newLine) as SnapshotRequest),
  );
}

function textDiff(diff: typeof import("diff"), before: string, after: string): string {
  const patch = diff.createTwoFilesPatch("snapshot", "now", before, after, undefined, undefined, {
    context: 3,
  });
  // The patch opens with a rule of "=" signs; the --- / +++ lines that follow say the same.
  return patch.replace(/^=+\n/, "");
}

/** The stream with its first item already read (so whatever precedes it in the file is read too). */
async function peeked(items: AsyncGenerator<Keyed>): Promise<AsyncGenerator<Keyed>> {
  const first = await items.next();
  return (async function* () {
    try {
      if (first.done) return;
      yield first.value;
      yield* items;
    } finally {
      await items.return(undefined);
    }
  })();
}

/**
 * The setting lines of a suite by id, in file order: each prompt's extraction template (by prompt
 * id), then each scorer that asks a model, in config order: its type, the provider it asks (label
 * and model, never an endpoint or a key), the parameters sent, its scale and its rubric (a file's
 * text, with the file's path from the config's folder).
 */
function settingLines(suite: Suite): Map<string, string> {
  const lines = new Map<string, string>();
  const prompts = suite.prompts.filter((p) => p.extract).sort((a, b) => compareKeys([a.id], [b.id]));
  for (const prompt of prompts) {
    const setting = { setting: "extract", prompt: prompt.id, template: prompt.extract!.template };
    lines.set(settingId(setting), JSON.stringify(setting));
  }
  const seen = new Set<string>();
  for (const [index, spec] of suite.scorers.entries()) {
    if (!asksModel(spec)) continue;
    const name = typeof spec.name === "string" ? spec.name : spec.type;
    const scorer = seen.has(name) ? `${name}#${index}` : name;
    seen.add(scorer);
    const provider = spec.provider as ProviderSpec;
    const params = { ...provider.params, ...(spec.params as Record<string, unknown> | undefined) };
    const setting: Record<string, unknown> = {
      setting: "judge",
      scorer,
      type: spec.type,
      provider: provider.label,
      ...(provider.id.startsWith("openai:") ? { model: modelOf(provider) } : {}),
      params: JSON.parse(canonicalJson(params)),
      ...(spec.scale !== undefined ? { scale: spec.scale } : {}),
      ...rubricOf(spec.rubric, suite.baseDir),
    };
    lines.set(settingId(setting), JSON.stringify(setting));
  }
  return lines;
}

/** A rubric as the snapshot holds it: the text sent, and for a file, its path from the config's folder. */
function rubricOf(rubric: unknown, baseDir: string): { rubricFile?: string; rubric?: string } {
  if (typeof rubric !== "string") return {};
  // The config made a rubric file's path absolute: a path on this machine, its text what is sent.
  if (!isAbsolute(rubric)) return { rubric };
  let text: string;
  try {
    text = readFileSync(rubric, "utf8");
  } catch {
    return { rubric };
  }
  return { rubricFile: relative(baseDir, rubric).split(sep).join("/"), rubric: text };
}

/** What a setting line stands for: `extract:<prompt>`, `judge:<scorer>`. */
function settingId(setting: Record<string, unknown>): string {
  const of = setting.setting === "extract" ? setting.prompt : setting.scorer;
  return `${String(setting.setting)}:${typeof of === "string" ? of : JSON.stringify(setting)}`;
}

function describeSetting(id: string): string {
  const at = id.indexOf(":");
  const kind = id.slice(0, at);
  const of = JSON.stringify(id.slice(at + 1));
  return kind === "extract" ? `extract · prompt ${of}` : kind === "judge" ? `judge · scorer ${of}` : id;
}

/** The settings that differ between the file's and the config's, in the config's order, then the removed. */
function* settingChanges(
  old: Map<string, string>,
  now: Map<string, string>,
): Generator<[string, { status: "changed" | "added" | "removed"; old?: string; now?: string }]> {
  for (const [id, line] of now) {
    const before = old.get(id);
    if (before === line) continue;
    yield [id, { status: before === undefined ? "added" : "changed", old: before, now: line }];
  }
  for (const [id, line] of old) if (!now.has(id)) yield [id, { status: "removed", old: line }];
}

/** A setting line as the text a person reviews: its fields, then the template or rubric text. */
function settingText(line: string): string {
  const { setting, template, rubric, ...rest } = JSON.parse(line) as Record<string, unknown>;
  const head = Object.entries(rest).map(
    ([key, value]) => `${key}: ${typeof value === "string" ? value : canonicalJson(value)}`,
  );
  const body = typeof template === "string" ? template : typeof rubric === "string" ? rubric : undefined;
  return `${[`${String(setting)}`, ...head, ...(body !== undefined ? ["", body] : [])].join("\n")}\n`;
}
