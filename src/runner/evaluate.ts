import { setMaxListeners } from "node:events";
import { basename, extname } from "node:path";
import { DEFAULT_COMPARE } from "../config/defaults.js";
import type { Suite } from "../config/types.js";
import { UserError } from "../errors.js";
import { createProvider, defaultFetch } from "../providers/index.js";
import { costOf, requirePrices } from "../providers/pricing.js";
import { isReplayMiss, type ReplayMissing, type ReplayProvider } from "../providers/replay.js";
import type { Provider, ProviderSpec, TokenUsage } from "../providers/types.js";
import { isProviderError, ProviderError } from "../providers/types.js";
import { toRecordConfig } from "../record/record-config.js";
import { createCaseRetainer } from "../record/retain.js";
import {
  type CaseResult,
  type Comparison,
  type GateResult,
  RECORD_VERSION,
  type RecordConfig,
  type RunRecord,
  type RunStatus,
  type SummaryRow,
} from "../record/types.js";
import { createRecordWriter, endFields, isResultsPath, type RecordWriter } from "../record/writer.js";
import type { CompileTemplate } from "../scorers/options.js";
import { createScorers } from "../scorers/registry.js";
import type { ScorerSpec } from "../scorers/types.js";
import type { BaseIndex } from "../stats/comparisons.js";
import { createComparisonAccumulator } from "../stats/comparisons.js";
import { judgeGates, thresholdsOf } from "../stats/gates.js";
import { createRecordStats } from "../stats/record-stats.js";
import { openCache, openCacheWhenUsed, type ResponseCache } from "../store/cache.js";
import {
  createJournalWriter,
  type JournalReplay,
  journalPath,
  newRunId,
  openJournalReplay,
  pruneJournals,
  reopenJournalWriter,
} from "../store/journal.js";
import { compactSelection, isSameJob, journalHeaderFor, openResume } from "../store/resume.js";
import { createPromptEngine } from "../templates/index.js";
import { type CassetteWriter, cassetteProviderOf, createCassetteWriter, type TapeEntry } from "./cassette.js";
import { loadBaseIndex } from "./compare.js";
import { createCachedEmbed, usesEmbedding } from "./embed.js";
import {
  type BoundProvider,
  type CacheMode,
  type ExecuteContext,
  endpointOf,
  executeJob,
  type Job,
  scorerProviderKey,
} from "./execute.js";
import { failedCase, providerFailure } from "./failures.js";
import { countJobs, iterateJobs, journalKeyOf, requireCaseMatch, type Shard } from "./jobs.js";
import { runOrdered } from "./ordered-pool.js";
import { prepareVariants, renderJob, type Variant } from "./prepare.js";
import { createAdaptiveLimit, createTokenBucket, type TokenBucket } from "./rate-limit.js";
import {
  type BaselineSource,
  baselinePrompt,
  createBaselineAnswers,
  scorerProviderSpecs,
  usesPreference,
  usesSimilar,
} from "./scorer-services.js";
import { matchesAny, modelOf, noMatch } from "./select.js";

/** Progress of a run, reported after each finished job. */
export interface EvaluateProgress {
  done: number;
  errors: number;
  /** Known once the dataset has been read to its end. */
  total?: number;
  cacheHits: number;
}

/** Options of evaluate(); everything from the outside world can be injected. */
export interface EvaluateOptions {
  suite: Suite;
  /** Jobs in flight at once (default 8); lowered automatically while the endpoint answers 429. */
  concurrency?: number;
  /** Only the first n cases of the dataset. */
  limit?: number;
  /** Only prompts whose id (or configured id, before sweeps) matches one of these (exact, or a glob with *). */
  filterPrompt?: string[];
  /** Only providers whose id or label matches one of these (exact, or a glob with *). */
  filterProvider?: string[];
  /** Only cases whose id matches one of these (exact, or a glob with *); `limit` counts what is left. */
  filterCase?: string[];
  /** Result files to write as the run goes (`.json`, or `.jsonl` for one case per line). */
  outputs?: string[];
  /**
   * How many cases the returned record keeps in memory: "all", or at most n failing cases per
   * variant (the terminal report's examples). Files in `outputs` always get every case.
   */
  retainCases?: "all" | number;
  /** `use` (default when the config enables the cache), `refresh` (call again, store the new answer) or `off`. */
  cache?: CacheMode;
  /** Keep a journal of finished jobs under the suite's runsDir (default true). */
  journal?: boolean;
  /** Continue the run with this id (`true`: the newest run of this config), running only what it lacks. */
  resume?: string | true;
  /** With resume: run again the jobs that ended in an error. */
  retryErrors?: boolean;
  /** Stop after this many errors (≥ 1), or when this share of the calls failed (< 1, after 10 calls). */
  maxErrors?: number;
  /** Stop cleanly once the estimated spend reaches this many US dollars. */
  budget?: number;
  /** Run only this slice of the cases (`--shard 2/4`). */
  shard?: Shard;
  /** Store every request sample and its answer in this cassette file, to replay later. */
  record?: string;
  /** Answer every provider's requests from this cassette (written by `record`): no network, no cache. */
  replay?: string;
  /** A request a cassette lacks: a located user error (default), or `skip` to leave its job out. */
  replayMissing?: ReplayMissing;
  /** Run every case this many times (`--repeat`; default the config's `repeat:`). */
  repeat?: number;
  /**
   * The regression gate (`--fail-on-regression`): a variant significantly worse than the baseline
   * (the config's `baseline:`, or the same variant in the results file `against`) at `alpha`, or
   * worse by more than `maxDrop` percentage points, fails the run's gates.
   */
  regression?: { against?: string; alpha?: number; maxDrop?: number };
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Builds the provider for a spec; replace it to run against a scripted provider. */
  createProvider?: (spec: ProviderSpec, options: { fetch: typeof fetch }) => Promise<Provider>;
  /** Called once the run id is known, before any call. */
  onStart?: (info: { runId?: string; journal?: string; resumed: number }) => void;
  /** Called with every finished case, in job order. */
  onResult?: (result: CaseResult) => void;
  onProgress?: (progress: EvaluateProgress) => void;
  /** Progress of a model download (the first use of a `local:hf:` model). */
  onDownloadProgress?: (progress: { downloaded: number; total?: number }) => void;
}

export type { Shard };

/** What evaluate() returns: the record (with the retained cases) and how the run ended. */
export interface EvaluateResult {
  record: RunRecord;
  status: RunStatus;
  /** With resume: results from the journal run again because their prompt or expected answer changed. */
  changed?: number;
  /** When an endpoint answered 429: how often, and how far the calls in flight came down from `concurrency`. */
  rateLimited?: RateLimitReport;
  /** With `replayMissing: skip`: the jobs left out because the cassette lacks their requests. */
  skipped?: { count: number; first: string };
}

/** How much an endpoint's rate limiting slowed a run. */
export interface RateLimitReport {
  /** Answers with status 429 (each retry's answer counts). */
  answers: number;
  /** The fewest calls in flight the run came down to. */
  lowestConcurrency: number;
  /** The concurrency the run was given (-j). */
  concurrency: number;
}

/**
 * Network failures in a row (each after the SDK's retries) before a provider is judged unreachable:
 * at the start the run ends with a user error, later it stops (resumable).
 */
const UNREACHABLE_AFTER = 3;
/** Calls seen before a `maxErrors` ratio is judged, so one early failure doesn't end a run. */
const MAX_ERRORS_MIN_CALLS = 10;

/**
 * Runs every prompt × provider × case of a suite and scores it. Streams the dataset and the
 * results, so memory depends on concurrency and the number of variants, not on the number of cases.
 * Each finished job goes to a journal first, so a crash loses only the calls in flight and
 * `resume` finishes the run with results identical to an uninterrupted one.
 * Throws a UserError when the run cannot go on (a template error, a bad key, no endpoint);
 * a call that fails is recorded on its case and the run goes on.
 */
export async function evaluate(given: EvaluateOptions): Promise<EvaluateResult> {
  const { suite } = given;
  checkCassetteOptions(given);
  // A resumed run picks its cases, prompts and providers as it did when it started.
  const resumePoint = given.resume === undefined ? undefined : openResume(suite, given.resume, given);
  const options: EvaluateOptions = resumePoint ? { ...given, ...resumePoint.selection } : given;
  const now = options.now ?? (() => new Date());
  const env = options.env ?? process.env;
  const startedAt = now().toISOString();

  const promptSpecs = suite.prompts.filter((p) => matchesAny(options.filterPrompt, [p.id, p.baseId]));
  const providerSpecs = suite.providers.filter((p) => matchesAny(options.filterProvider, [p.id, p.label]));
  if (promptSpecs.length === 0)
    throw noMatch(
      "prompt",
      options.filterPrompt,
      suite.prompts.map((p) => p.id),
    );
  if (providerSpecs.length === 0) {
    throw noMatch(
      "provider",
      options.filterProvider,
      suite.providers.map((p) => p.label),
    );
  }
  if (options.shard) checkShard(options.shard);
  if (options.filterCase?.length) await requireCaseMatch(suite, options.filterCase);
  for (const path of options.outputs ?? []) checkResultsPath(path);
  const judgeSpecs = scorerProviderSpecs(suite.scorers);
  if (options.budget !== undefined) requirePrices([...providerSpecs, ...judgeSpecs], options.budget);
  if (options.regression && options.shard) {
    throw new UserError({
      code: "usage",
      field: "--fail-on-regression",
      message: "a shard holds part of the cases: its regression is judged on the merged record",
      hint: "merge the shards, then run promptsmith compare base.json merged.json --fail-on-regression",
    });
  }
  if (options.regression && !options.regression.against && !suite.baseline) {
    throw new UserError({
      code: "usage",
      field: "--fail-on-regression",
      message:
        "there is nothing to regress against: the config has no baseline and no --against file was given",
      hint: "set baseline: <prompt id> in the config, or pass --against base.json (a results file of an earlier run)",
    });
  }
  const compare = { ...DEFAULT_COMPARE, ...suite.compare };
  const require = suite.repeat?.require ?? "majority";
  // Read before any call: a base file that is missing or broken stops the run before it costs anything.
  const against: BaseIndex | undefined = options.regression?.against
    ? await loadBaseIndex(options.regression.against, { require, onError: compare.onError })
    : undefined;

  if (options.replay !== undefined) checkReplayEmbeddings(promptSpecs, suite.scorers);
  const cacheMode: CacheMode = options.cache ?? (suite.cache.enabled ? "use" : "off");
  // Embedding shots need the cache already while preparing: the example pool is embedded then.
  let cache: ResponseCache | undefined;
  let embed: ReturnType<typeof createCachedEmbed> | undefined;
  if (usesEmbedding(promptSpecs) || usesSimilar(suite.scorers)) {
    if (cacheMode !== "off") cache = openCache(suite.cache.path);
    embed = createCachedEmbed({ cache, refresh: cacheMode === "refresh", env, fetch: options.fetch });
  }
  let variants: Awaited<ReturnType<typeof prepareVariants>>;
  let scorer: Awaited<ReturnType<typeof createScorers>>;
  /** The baseline's prompt and provider, when a pairwise judge compares with it. */
  let baseline: { variant: Variant; providerLabel?: string } | undefined;
  try {
    variants = await prepareVariants(suite, promptSpecs, { model: modelOf(providerSpecs[0]), embed });
    scorer = await createScorers(suite.scorers, {
      baseDir: suite.baseDir,
      combine: suite.combine,
      compile: compileRubric(suite),
      seed: suite.seed,
    });
    if (usesPreference(suite.scorers)) {
      const spec = baselinePrompt(suite);
      // The baseline runs even when --filter-prompt leaves it out: its answers are what the others are judged against.
      const variant =
        variants.find((v) => v.prompt.id === spec.id) ??
        (await prepareVariants(suite, [spec], { model: modelOf(providerSpecs[0]), embed }))[0];
      baseline = { variant, providerLabel: suite.baseline?.provider };
    }
  } catch (error) {
    cache?.close();
    await embed?.close();
    throw error;
  }

  const controller = new AbortController();
  // Calls in flight share one listener (execute.ts), but each job waiting on a rate-limit bucket or
  // the adaptive limit holds its own; with -j 64 that is past Node's warning level.
  setMaxListeners(0, controller.signal);
  const onOuterAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });

  const concurrency = Math.max(1, options.concurrency ?? 8);
  const adaptive = createAdaptiveLimit({ max: concurrency });
  const rateLimited: RateLimitReport = { answers: 0, lowestConcurrency: concurrency, concurrency };
  const observedFetch = observeRateLimits(options.fetch, env, {
    onRateLimited() {
      adaptive.onRateLimited();
      rateLimited.answers++;
      rateLimited.lowestConcurrency = Math.min(rateLimited.lowestConcurrency, adaptive.limit);
    },
    onSuccess: () => adaptive.onSuccess(),
  });
  let makeProvider =
    options.createProvider ??
    ((spec: ProviderSpec, o: { fetch: typeof fetch }) =>
      createProvider(spec, {
        env,
        fetch: o.fetch,
        onProgress: options.onDownloadProgress,
        replayMissing: options.replayMissing,
      }));
  let closeReplay: (() => void) | undefined;
  if (options.replay !== undefined) {
    // Every provider is swapped for the cassette's answers to its requests.
    const { createReplayProvider, openCassette } = await import("../providers/replay.js");
    let cassette: Awaited<ReturnType<typeof openCassette>>;
    try {
      cassette = await openCassette(options.replay);
    } catch (error) {
      cache?.close();
      throw error;
    }
    closeReplay = () => cassette.close();
    makeProvider = async (spec: ProviderSpec) =>
      createReplayProvider(cassette, spec, cassetteProviderOf(spec), { missing: options.replayMissing });
  }

  const bound: BoundProvider[] = [];
  /** Providers only scorers ask (a judge that is not under test): closed with the others. */
  const judgeBound: BoundProvider[] = [];
  const buckets = new Map<BoundProvider, TokenBucket>();
  const writers: RecordWriter[] = [];
  let journal: ReturnType<typeof createJournalWriter> | undefined;
  let replay: JournalReplay | undefined;
  let cassette: CassetteWriter | undefined;
  let pruneAfter = false;

  try {
    // The journal: a new one, or the one being resumed with what it already holds.
    let runId: string | undefined;
    // What the resumed journal holds, each finished job read back in its turn.
    if (resumePoint) {
      runId = resumePoint.runId;
      // Reopened (and locked) first: the journal must not be indexed while another process appends.
      journal = await reopenJournalWriter(resumePoint.path);
      replay = await openJournalReplay(resumePoint.path);
    }
    /** A provider as the run holds it, knowing the cassette it replays or is recorded into. */
    const bind = (provider: Provider, spec: ProviderSpec): BoundProvider => {
      const entry: BoundProvider = { provider, spec, baseURL: endpointOf(spec, env) };
      const replaying = (provider as Partial<ReplayProvider>).replaying;
      if (replaying) {
        entry.cassette = replaying;
        entry.replays = true;
      } else if (options.record !== undefined) entry.cassette = cassetteProviderOf(spec);
      return entry;
    };
    for (const spec of providerSpecs) {
      const entry = bind(await makeProvider(spec, { fetch: observedFetch }), spec);
      bound.push(entry);
      // A cassette answers at once: an endpoint's limits do not apply to it.
      if ((spec.rpm !== undefined || spec.tpm !== undefined) && !entry.replays)
        buckets.set(entry, createTokenBucket({ rpm: spec.rpm, tpm: spec.tpm }));
    }
    // The providers scorers ask (judges) and the baseline's, when not among those under test.
    const scorerProviders = new Map<string, BoundProvider>();
    const extraSpecs = [...judgeSpecs];
    if (baseline?.providerLabel !== undefined) {
      const label = baseline.providerLabel;
      const spec =
        suite.providers.find((p) => p.label === label) ?? suite.providers.find((p) => p.id === label);
      if (!spec) {
        throw new UserError({
          code: "config-invalid",
          field: "baselineProvider",
          message: `baselineProvider "${label}" names no provider`,
          hint: `name one of: ${suite.providers.map((p) => p.label).join(", ")}`,
        });
      }
      extraSpecs.push(spec);
    }
    for (const spec of extraSpecs) {
      const key = scorerProviderKey(spec);
      if (scorerProviders.has(key)) continue;
      let entry = bound.find((b) => scorerProviderKey(b.spec) === key);
      if (!entry) {
        // A judge's calls are recorded and replayed like the answers they judge.
        entry = bind(await makeProvider(spec, { fetch: observedFetch }), spec);
        judgeBound.push(entry);
        if ((spec.rpm !== undefined || spec.tpm !== undefined) && !entry.replays)
          buckets.set(entry, createTokenBucket({ rpm: spec.rpm, tpm: spec.tpm }));
      }
      scorerProviders.set(key, entry);
    }
    if (cacheMode !== "off") cache ??= openCacheWhenUsed(suite.cache.path);
    // A new run's journal is made once the providers are up, so a bad key leaves no empty run behind.
    if (options.resume === undefined && options.journal !== false) {
      runId = newRunId(now());
      journal = createJournalWriter(journalPath(suite.runsDir, runId), {
        runId,
        startedAt,
        ...journalHeaderFor(suite, options),
      });
      // Each journal holds its run's every result; only the newest runs are resumed or retried.
      // Pruned once the run is over (the finally below): housekeeping, kept off the first call's path.
      pruneAfter = true;
    }

    if (options.record !== undefined)
      cassette = createCassetteWriter(
        options.record,
        // A judge that is not under test is in the header too, so a `replay:` provider can stand for it.
        [...bound, ...judgeBound]
          .map((b) => b.cassette!)
          .filter((p, i, all) => all.findIndex((q) => q.label === p.label) === i),
      );

    options.onStart?.({ runId, journal: journal?.path, resumed: replay?.size ?? 0 });

    const header: Omit<RunRecord, "summary" | "cases"> = {
      version: RECORD_VERSION,
      ...(runId ? { runId } : {}),
      seed: suite.seed,
      ...(options.shard ? { shard: options.shard } : {}),
      ...recordSelection(options),
      startedAt,
      config: toRecordConfig(suite, promptSpecs, providerSpecs),
    };
    for (const path of options.outputs ?? []) writers.push(createRecordWriter(path, header));

    const stats = createRecordStats(header);
    const againstComparisons = against
      ? createComparisonAccumulator({ baseline: {}, compare, seed: suite.seed, require, against })
      : undefined;
    const retained: CaseResult[] = [];
    /** Per provider: whether it has answered yet, and the network failures since its last answer. */
    const reachability = new Map<BoundProvider, { ok: boolean; networkErrors: number }>(
      bound.map((b) => [b, { ok: false, networkErrors: 0 }]),
    );
    let finished = 0;
    let errors = 0;
    /** Calls that ended (aborted ones aside) and those that failed: what --max-errors judges. */
    let calls = 0;
    let failedCalls = 0;
    let hits = 0;
    /** Journal results run again because their job renders differently now. */
    let changed = 0;
    /** Jobs left out because the cassette lacks their requests (`replayMissing: skip`). */
    let skipped = 0;
    let firstSkipped: string | undefined;
    let firstSkippedAt = Number.POSITIVE_INFINITY;
    let started = 0;
    let spend = 0;
    let total: number | undefined;
    let fatal: unknown;
    let stopReason: string | undefined;
    let lastError: string | undefined;

    const context: ExecuteContext = {
      scorer,
      cache,
      cacheMode,
      signal: controller.signal,
      inFlight: new Map(),
      ...(scorerProviders.size > 0 ? { scorerProviders } : {}),
      ...(embed && usesSimilar(suite.scorers) ? { embed } : {}),
      // -j bounds the calls in flight, not the jobs: a call's slot frees the moment its answer is
      // in, so the next job's request (already rendered, waiting here) goes out before this one is
      // scored and written. The stop rules are judged then too, before the slot is handed on, so
      // --max-errors and --budget stop as promptly as when each job held its slot to the end.
      beforeCall: async (b: BoundProvider, tokens: number) => {
        await stoppable(adaptive.acquire(controller.signal));
        try {
          if (stopReason !== undefined) throw new ProviderError("aborted", "the run stopped");
          await stoppable(buckets.get(b)?.acquire(tokens, controller.signal));
        } catch (error) {
          adaptive.release();
          throw error;
        }
      },
      afterCall: (b: BoundProvider, outcome: { usage: TokenUsage } | { error: unknown }) => {
        if ("usage" in outcome) {
          calls++;
          spend += costOf(b.spec, outcome.usage);
        } else if (!isProviderError(outcome.error) || outcome.error.kind !== "aborted") {
          calls++;
          failedCalls++;
          const error = outcome.error;
          lastError = isProviderError(error) ? `${error.kind}: ${error.message}` : String(error);
        }
        stopReason ??= checkStopRules();
        adaptive.release();
      },
    };
    if (baseline) {
      const source: BaselineSource = { variant: baseline.variant };
      if (baseline.providerLabel !== undefined) {
        const label = baseline.providerLabel;
        source.bound = [...scorerProviders.values()].find(
          (b) => b.spec.label === label || b.spec.id === label,
        );
      }
      context.baseline = createBaselineAnswers(source, context);
    }
    /** A wait cut short by the run stopping is an aborted call, which the job treats as unfinished. */
    const stoppable = async (wait: Promise<void> | undefined): Promise<void> => {
      try {
        await wait;
      } catch (error) {
        if (controller.signal.aborted) throw new ProviderError("aborted", "the run stopped");
        throw error;
      }
    };

    /** A finished case and its JSON, serialised once for the journal and every results file. */
    type Finished = { result: CaseResult; json?: string; tape?: TapeEntry[] };
    const runJob = async (job: Job): Promise<Finished | undefined> => {
      // Jobs start in job order: the first skipped job named is the first in that order, whichever
      // call's miss comes back first.
      const position = started++;
      const key = journalKeyOf(job, job.bound.provider.label);
      // The result's own JSON text comes with it, as written: results files take it as it is.
      const replayed = replay?.get(key);
      const previous = replayed?.result as CaseResult | undefined;
      const rendered = await renderJob(job.variant, job.testCase, job.draw);
      if (previous && !(options.retryErrors && previous.error)) {
        // Replayed from the journal, unless its prompt or expected answer changed since: then it
        // runs again, as a clean run would run it.
        if (isSameJob(previous, rendered, job.testCase.expected))
          return { result: previous, json: replayed?.json };
        changed++;
      }
      let result: CaseResult;
      const state = reachability.get(job.bound)!;
      const tape: TapeEntry[] | undefined = cassette ? [] : undefined;
      try {
        result = await executeJob(job, rendered, context, tape);
        state.ok = true;
        state.networkErrors = 0;
      } catch (error) {
        if (!isProviderError(error)) throw error;
        if (error.kind === "aborted" || controller.signal.aborted) return undefined;
        if (isReplayMiss(error)) {
          skipped++;
          if (position < firstSkippedAt) {
            firstSkippedAt = position;
            firstSkipped = `case ${JSON.stringify(job.testCase.id)} · prompt ${JSON.stringify(job.variant.prompt.id)} · provider ${JSON.stringify(job.bound.provider.label)}: ${error.message}`;
          }
          return undefined;
        }
        if (error.fatal) throw providerFailure(job.bound.provider, error);
        // A network error replayed from a cassette is a recorded verdict, not a server going away.
        if (error.kind === "network" && !job.bound.replays && ++state.networkErrors >= UNREACHABLE_AFTER) {
          if (!state.ok) throw providerFailure(job.bound.provider, error);
          // It answered before and has stopped: a server that went down, a tunnel that closed.
          // Every job left would fail the same way after its retries (minutes at -j 16), so the
          // run stops here, its results written and its journal resumable.
          stopReason ??= `${job.bound.provider.label} stopped answering: the last ${state.networkErrors} calls could not reach it (${error.message})`;
        }
        result = failedCase(job, rendered, error.kind, error.message);
      }
      const json = JSON.stringify(result);
      journal?.append({ key, result, resultJson: json });
      return { result, json, tape };
    };

    const onResult = ({ result, json, tape }: Finished) => {
      // In job order, so a cassette of the same run is the same file whatever the timing.
      if (tape) cassette?.write(result, tape);
      finished++;
      if (result.error) errors++;
      if (result.cached) hits++;
      stats.add(result);
      againstComparisons?.add(result);
      for (const writer of writers) writer.write(result, json);
      if (keep(result)) retained.push(result);
      options.onResult?.(result);
      options.onProgress?.({ done: finished, errors, total, cacheHits: hits });
    };
    const checkStopRules = (): string | undefined => {
      const max = options.maxErrors;
      if (max !== undefined && failedCalls > 0) {
        const tooMany =
          max >= 1 ? failedCalls >= max : calls >= MAX_ERRORS_MIN_CALLS && failedCalls / calls >= max;
        if (tooMany)
          return `${failedCalls} of ${calls} calls failed (--max-errors ${max}); the last: ${lastError}`;
      }
      if (options.budget !== undefined && spend >= options.budget) {
        return `the estimated spend reached $${spend.toFixed(4)} (--budget ${options.budget})`;
      }
      return undefined;
    };
    const keep = createCaseRetainer(options.retainCases ?? "all");

    // Stops the count of the jobs below once the run is over, however it ended.
    const counting = new AbortController();
    try {
      const jobs = iterateJobs(suite, variants, bound, {
        limit: options.limit,
        shard: options.shard,
        filterCase: options.filterCase,
        onEnd: (count) => {
          total = count;
        },
      });
      if (options.onProgress) {
        // Someone is watching: count the jobs beside the run (the rows read once more, none kept),
        // so the total and the time left show long before the reader reaches the last case.
        countJobs(suite, variants, bound.length, {
          limit: options.limit,
          shard: options.shard,
          filterCase: options.filterCase,
          signal: counting.signal,
        }).then(
          (count) => {
            total ??= count;
          },
          // A dataset that does not read fails the run itself, with its location.
          () => undefined,
        );
      }
      await runOrdered(jobs, runJob, {
        // Twice the call slots: while one job is scored and written, another is rendered and waiting.
        concurrency: () => 2 * adaptive.limit,
        // How many finished results one slow call may hold back (they wait for it in memory, a few
        // KB each) before new jobs stop starting: a call stuck in its retries stalls the run only
        // after this many others have finished around it.
        window: Math.max(1024, concurrency * 32),
        signal: controller.signal,
        shouldStop: () => stopReason !== undefined,
        onResult,
        onFailure: (error) => {
          fatal = error;
          controller.abort();
        },
      });
    } catch (error) {
      throw fatal ?? error;
    } finally {
      counting.abort();
      journal?.close();
      journal = undefined;
    }

    const status: RunStatus = stopReason ? "stopped" : options.signal?.aborted ? "interrupted" : "complete";
    const { summary: rows, comparisons } = stats.end();
    // Gates judge a whole run: one cut short by Ctrl-C or a stop has its own exit code, and a
    // shard's are judged on the merged record.
    const gates =
      status === "complete" && !options.shard
        ? gatesOf(
            header.config,
            rows,
            options.regression && {
              comparisons: againstComparisons ? againstComparisons.comparisons() : (comparisons ?? []),
              alpha: options.regression.alpha ?? compare.alpha,
              maxDrop: options.regression.maxDrop,
              against: options.regression.against ? basename(options.regression.against) : "the baseline",
            },
          )
        : undefined;
    const end = endFields({
      summary: rows,
      comparisons,
      gates,
      finishedAt: now().toISOString(),
      status,
      stopReason,
    });
    for (const writer of writers) writer.finish(end);
    cassette?.finish();
    return {
      record: { ...header, ...end, cases: retained },
      status,
      ...(resumePoint ? { changed } : {}),
      ...(rateLimited.answers > 0 ? { rateLimited } : {}),
      ...(skipped > 0 ? { skipped: { count: skipped, first: firstSkipped! } } : {}),
    };
  } catch (error) {
    for (const writer of writers) writer.abort();
    cassette?.abort();
    throw error;
  } finally {
    closeReplay?.();
    journal?.close();
    replay?.close();
    cache?.close();
    if (pruneAfter) pruneJournals(suite.runsDir, suite.configPath, suite.keepRuns);
    options.signal?.removeEventListener("abort", onOuterAbort);
    await Promise.allSettled([...bound, ...judgeBound].map((b) => b.provider.close?.()));
    await embed?.close();
  }
}

/** Compiles judge rubrics with the prompt engine (strict, unescaped, the suite's partials). */
function compileRubric(suite: Suite): CompileTemplate {
  let engine: ReturnType<typeof createPromptEngine> | undefined;
  return (source, file) => {
    engine ??= createPromptEngine({ partialsDir: suite.partialsDir });
    return engine.compile(source, { file });
  };
}

/** The gates of a finished run: the config's thresholds, and the regression rule when asked for. */
function gatesOf(
  config: RecordConfig,
  summary: SummaryRow[],
  regression?: { comparisons: Comparison[]; alpha: number; maxDrop?: number; against: string },
): GateResult[] | undefined {
  const thresholds = thresholdsOf(config);
  if (!thresholds && !regression) return undefined;
  return judgeGates({
    summary,
    comparisons: regression?.comparisons,
    thresholds,
    regression: regression && {
      alpha: regression.alpha,
      maxDrop: regression.maxDrop,
      against: regression.against,
    },
  });
}

/** The record's `selection` field: present only when the run took part of its config. */
function recordSelection(options: EvaluateOptions): Pick<RunRecord, "selection"> {
  const { shard: _shard, ...selection } = compactSelection(options);
  return Object.keys(selection).length > 0 ? { selection } : {};
}

/**
 * The SDK retries 429s itself, honouring Retry-After; this fetch only watches the answers so the
 * pool's concurrency halves on a 429 and grows back after a run of successes.
 */
function observeRateLimits(
  injected: typeof fetch | undefined,
  env: NodeJS.ProcessEnv,
  limit: { onRateLimited(): void; onSuccess(): void },
): typeof fetch {
  let inner = injected;
  return async (input, init) => {
    inner ??= await defaultFetch(env);
    const response = await inner(input, init);
    if (response.status === 429) limit.onRateLimited();
    else if (response.ok) limit.onSuccess();
    return response;
  };
}

/** Refuses what cannot go together with a cassette: recording and replaying at once, or a resumed recording. */
function checkCassetteOptions(options: EvaluateOptions): void {
  if (options.record !== undefined && options.replay !== undefined) {
    throw new UserError({
      code: "usage",
      field: "--record",
      message: "--record and --replay cannot go together: a replay sends nothing to record",
      hint: "record against the live providers first, then replay the cassette in CI",
    });
  }
  if (options.record !== undefined && options.resume !== undefined) {
    throw new UserError({
      code: "usage",
      field: "--record",
      message:
        "a cassette records the calls of one whole run, and a resumed run makes only the calls it lacks",
      hint: "run eval --record without --resume: the response cache answers the calls made before, for free, and they are recorded too",
    });
  }
}

/**
 * Refuses to replay a config that embeds through an endpoint (`select: embedding`, the `similar`
 * scorer): a cassette holds answers, not vectors, and a replay must reach no network. A local
 * embedding model (`local:`) needs none.
 */
function checkReplayEmbeddings(
  prompts: readonly Suite["prompts"][number][],
  scorers: readonly ScorerSpec[],
): void {
  const live = (model: unknown) => !(typeof model === "string" && model.startsWith("local:"));
  const needs = [
    ...prompts
      .filter((p) => usesEmbedding([p]) && live(p.shots?.embedding?.model))
      .map((p) => `prompt "${p.id}" (select: embedding)`),
    ...scorers
      .filter((s) => usesSimilar([s]) && live((s.embedding as { model?: unknown } | undefined)?.model))
      .map((s) => `the ${s.type} scorer${typeof s.name === "string" ? ` "${s.name}"` : ""}`),
  ];
  if (needs.length === 0) return;
  throw new UserError({
    code: "usage",
    field: "--replay",
    message: `a replay reaches no network, but ${needs.join(" and ")} ${needs.length === 1 ? "needs" : "need"} the embeddings endpoint, and a cassette holds no embeddings`,
    hint: "run it live (eval --record keeps its answers), or let the similar scorer embed with a local: provider (embedding: { provider: <its label> })",
  });
}

/** Refuses a results path whose extension names no format the writer writes (`-o report.html`). */
export function checkResultsPath(path: string): void {
  if (isResultsPath(path)) return;
  const extension = extname(path);
  throw new UserError({
    code: "usage",
    field: "--output",
    message: `cannot write results as ${extension ? `"${extension}"` : "a file without an extension"}: ${path}`,
    hint: "name the file .json (one document) or .jsonl (one case per line)",
  });
}

function checkShard(shard: Shard): void {
  if (
    !Number.isInteger(shard.index) ||
    !Number.isInteger(shard.count) ||
    shard.index < 1 ||
    shard.index > shard.count
  ) {
    throw new UserError({
      code: "usage",
      field: "--shard",
      message: `expected i/n with 1 ≤ i ≤ n, received ${shard.index}/${shard.count}`,
      hint: "for the second of four shards write --shard 2/4",
    });
  }
}
