/**
 * Resuming a run: which journal to continue, and whether it can be continued. A resume must give
 * what one clean run of the current config gives, so it finishes the run as it was started (the
 * same cases, prompts, providers and shard), refuses a config whose changes no journal line can
 * show (parameters, providers, scorers, seed), and leaves the per-job check (the prompt each job
 * renders now, and its expected answer) to the run: see `isSameJob`.
 */
import { existsSync } from "node:fs";
import type { Suite } from "../config/types.js";
import { UserError } from "../errors.js";
import type { ChatMessage } from "../providers/types.js";
import { toRecordConfig } from "../record/record-config.js";
import type { CaseResult, RecordConfig, Shard } from "../record/types.js";
import { canonicalJson } from "./job-key.js";
import { configJournals, journalPath, listJournals, lockHolder, readJournalHeader } from "./journal.js";

/** What picks a run's jobs out of its config; recorded in the journal so a resume picks the same. */
export interface RunSelection {
  limit?: number;
  filterPrompt?: string[];
  filterProvider?: string[];
  filterCase?: string[];
  shard?: Shard;
}

/** The journal header fields a resume reads. */
export interface ResumeHeader {
  configPath?: string;
  seed?: number;
  selection?: RunSelection;
  shard?: Shard;
  config?: RecordConfig;
}

/** The journal header of a new run: enough to check a later resume against. */
export function journalHeaderFor(suite: Suite, selection: RunSelection): Record<string, unknown> {
  return {
    configPath: suite.configPath,
    seed: suite.seed,
    ...(selection.shard ? { shard: selection.shard } : {}),
    selection: compactSelection(selection),
    config: toRecordConfig(suite),
  };
}

/** The newest run started from this config file. */
function newestRun(suite: Suite): string | undefined {
  return configJournals(suite.runsDir, suite.configPath)[0];
}

/**
 * The newest run of this config when it was killed before it finished (its lock outlived its
 * process; Ctrl-C, a stop and the end of a run all remove it): `--resume` finishes it without
 * asking again for what its journal holds, where a new run would re-ask the answers that the
 * cache had not written yet.
 */
export function killedRun(suite: Suite): string | undefined {
  const newest = newestRun(suite);
  return newest !== undefined && lockHolder(journalPath(suite.runsDir, newest)).state === "dead"
    ? newest
    : undefined;
}

/** The journal to continue: `runId`, or with `true` the newest run started from this config file. */
function resumeTarget(suite: Suite, resume: string | true): { runId: string; path: string } {
  if (resume !== true) {
    const path = journalPath(suite.runsDir, resume);
    return { runId: resume, path };
  }
  const runs = listJournals(suite.runsDir);
  const mine = newestRun(suite);
  if (!mine) {
    throw new UserError({
      code: "run-not-found",
      message:
        runs.length === 0
          ? `there is no run to resume in ${suite.runsDir}`
          : `no run in ${suite.runsDir} was started from ${suite.configPath}`,
      hint:
        runs.length === 0
          ? "start one with promptsmith eval; its journal goes to that folder"
          : `name one with --resume <run-id>; runs here: ${runs.slice(0, 5).join(", ")}`,
    });
  }
  return { runId: mine, path: journalPath(suite.runsDir, mine) };
}

/** A run to resume: its journal, and the selection it was started with. */
export interface ResumePoint {
  runId: string;
  path: string;
  selection: RunSelection;
}

/**
 * Finds the journal to continue and checks it against the suite and the flags given: throws a
 * UserError when the run is missing or cannot be finished as it was started.
 */
export function openResume(suite: Suite, resume: string | true, given: RunSelection): ResumePoint {
  const { runId, path } = resumeTarget(suite, resume);
  if (!existsSync(path)) {
    throw new UserError({
      code: "run-not-found",
      message: `no run "${runId}" in ${suite.runsDir}`,
      hint: `runs here: ${listJournals(suite.runsDir).slice(0, 5).join(", ") || "none"}`,
    });
  }
  const header: ResumeHeader = readJournalHeader(path) ?? {};
  return { runId, path, selection: checkResumable(runId, header, suite, given) };
}

/**
 * Checks that the run `header` describes can be finished with `suite` and the `given` selection,
 * and returns the selection to use: the run's own, with any flag given agreeing with it.
 * Journals written before these fields existed are taken as they are.
 */
function checkResumable(
  runId: string,
  header: ResumeHeader,
  suite: Suite,
  given: RunSelection,
): RunSelection {
  const refuse = (message: string, hint: string) =>
    new UserError({
      code: "usage",
      field: "--resume",
      message: `cannot resume run ${runId}: ${message}`,
      hint,
    });
  const fresh =
    "start a new run instead (leave out --resume): the response cache answers every call that did not change";

  if (header.configPath !== undefined && header.configPath !== suite.configPath)
    throw refuse(
      `it was started from ${header.configPath}, not ${suite.configPath}`,
      "resume it with that config",
    );
  if (header.seed !== undefined && header.seed !== suite.seed)
    throw refuse(`it was started with seed ${header.seed}, and the config now says ${suite.seed}`, fresh);
  if (header.config) {
    const changed = differences(comparable(header.config), comparable(toRecordConfig(suite)));
    if (changed.length > 0) {
      const shown =
        changed.slice(0, 3).join(", ") + (changed.length > 3 ? ` and ${changed.length - 3} more` : "");
      throw refuse(
        `the config changed since it started (${shown})`,
        `${fresh}; or put the config back as it was`,
      );
    }
  }

  const recorded: RunSelection = header.selection ?? (header.shard ? { shard: header.shard } : {});
  const selection: RunSelection = { ...recorded };
  const wanted = compactSelection(given);
  for (const name of ["limit", "filterPrompt", "filterProvider", "filterCase", "shard"] as const) {
    const value = wanted[name];
    if (value === undefined) continue;
    if (header.selection === undefined && name !== "shard") {
      // An older journal did not record it: the flag decides, as it did then.
      (selection as Record<string, unknown>)[name] = value;
      continue;
    }
    if (canonicalJson(value) !== canonicalJson(recorded[name])) {
      throw refuse(
        `${flagOf(name)} ${spell(name, value)} differs from the run's ${spell(name, recorded[name])}`,
        "leave the flag out: --resume finishes the run with the cases, prompts and providers it started with",
      );
    }
  }
  return selection;
}

/**
 * Whether a result from the journal is still the answer to `job` as it renders now: the same
 * messages (template, partials, examples, data) and the same expected answer. A job that changed
 * is run again, so the resumed record is the one a clean run of the current config writes.
 */
export function isSameJob(
  previous: CaseResult,
  rendered: { messages: ChatMessage[]; promptHash: string },
  expected: unknown,
): boolean {
  const samePrompt =
    previous.promptHash !== undefined
      ? previous.promptHash === rendered.promptHash
      : canonicalJson(previous.messages) === canonicalJson(rendered.messages);
  return samePrompt && canonicalJson(previous.expected) === canonicalJson(expected);
}

/**
 * The recorded config without what the per-job check sees for itself: template text and where it
 * is kept. Every other field changes answers or verdicts in ways no journal line records.
 */
function comparable(config: RecordConfig): unknown {
  // How the results are compared, gated and priced changes no answer: a resumed run judges by the
  // config it is resumed with.
  const {
    configPath: _path,
    description: _description,
    baseline: _baseline,
    compare: _compare,
    thresholds: _thresholds,
    ...rest
  } = config;
  return {
    ...rest,
    providers: config.providers.map(({ price: _price, ...provider }) => provider),
    prompts: config.prompts.map(
      ({ template: _t, templatePath: _p, thresholds: _gates, ...prompt }) => prompt,
    ),
  };
}

/** Paths (`prompts[few-shot].shots.k`) where two JSON values differ. */
function differences(a: unknown, b: unknown, path = "", out: string[] = []): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return out;
  if (Array.isArray(a) && Array.isArray(b)) {
    const keyOf = (item: unknown, i: number) =>
      item && typeof item === "object" && "id" in item ? String((item as { id: unknown }).id) : String(i);
    const before = out.length;
    const left = new Map(a.map((item, i) => [keyOf(item, i), item]));
    const right = new Map(b.map((item, i) => [keyOf(item, i), item]));
    for (const [key, item] of left) {
      if (!right.has(key)) out.push(`${path}[${key}] removed`);
      else differences(item, right.get(key), `${path}[${key}]`, out);
    }
    for (const key of right.keys()) if (!left.has(key)) out.push(`${path}[${key}] added`);
    if (out.length === before) out.push(`${path} order`);
    return out;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      differences(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        path ? `${path}.${key}` : key,
        out,
      );
    }
    return out;
  }
  out.push(path || "(the whole config)");
  return out;
}

/** The selection with only the parts that select something. */
export function compactSelection(selection: RunSelection): RunSelection {
  const out: RunSelection = {};
  if (selection.limit !== undefined) out.limit = selection.limit;
  if (selection.filterPrompt?.length) out.filterPrompt = selection.filterPrompt;
  if (selection.filterProvider?.length) out.filterProvider = selection.filterProvider;
  if (selection.filterCase?.length) out.filterCase = selection.filterCase;
  if (selection.shard) out.shard = selection.shard;
  return out;
}

function flagOf(name: keyof RunSelection): string {
  return {
    limit: "--limit",
    filterPrompt: "--filter-prompt",
    filterProvider: "--filter-provider",
    filterCase: "--filter-case",
    shard: "--shard",
  }[name];
}

function spell(name: keyof RunSelection, value: unknown): string {
  if (value === undefined) return "(none)";
  if (name === "shard") {
    const shard = value as Shard;
    return `${shard.index}/${shard.count}`;
  }
  return Array.isArray(value) ? value.join(",") : String(value);
}
