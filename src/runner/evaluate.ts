import { setMaxListeners } from "node:events";
import type { Suite } from "../config/types.js";
import { readCases } from "../dataset/index.js";
import type { Case } from "../dataset/types.js";
import { UserError } from "../errors.js";
import { createProvider } from "../providers/index.js";
import type { Provider, ProviderSpec } from "../providers/types.js";
import { isProviderError } from "../providers/types.js";
import {
  type CaseResult,
  RECORD_VERSION,
  type RecordConfig,
  type RunRecord,
  type RunStatus,
} from "../record/types.js";
import { createRecordWriter, type RecordWriter } from "../record/writer.js";
import { stripReasoning } from "../scorers/reasoning.js";
import { createScorers } from "../scorers/registry.js";
import type { Scorer } from "../scorers/types.js";
import { createSummaryAccumulator } from "../stats/summary.js";
import { runOrdered } from "./ordered-pool.js";
import { prepareVariants, renderVariant, type Variant } from "./variants.js";

/** Progress of a run, reported after each finished job. */
export interface EvaluateProgress {
  done: number;
  errors: number;
  /** Known once the dataset has been read to its end (or from --limit). */
  total?: number;
}

/** Options of evaluate(); everything from the outside world can be injected. */
export interface EvaluateOptions {
  suite: Suite;
  /** Jobs in flight at once (default 8). */
  concurrency?: number;
  /** Only the first n cases of the dataset. */
  limit?: number;
  /** Only prompts whose id matches one of these (exact, or a glob with *). */
  filterPrompt?: string[];
  /** Only providers whose id or label matches one of these (exact, or a glob with *). */
  filterProvider?: string[];
  /** Result files to write as the run goes (`.json`, or `.jsonl` for one case per line). */
  outputs?: string[];
  /**
   * How many cases the returned record keeps in memory: "all", or at most n failing cases per
   * variant (the terminal report's examples). Files in `outputs` always get every case.
   */
  retainCases?: "all" | number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Builds the provider for a spec; replace it to run against a scripted provider. */
  createProvider?: (spec: ProviderSpec) => Promise<Provider>;
  /** Called with every finished case, in job order. */
  onResult?: (result: CaseResult) => void;
  onProgress?: (progress: EvaluateProgress) => void;
}

/** What evaluate() returns: the record (with the retained cases) and how the run ended. */
export interface EvaluateResult {
  record: RunRecord;
  status: RunStatus;
}

interface Job {
  testCase: Case;
  variant: Variant;
  provider: Provider;
}

/** Failing calls with no success from the provider before the run is declared unable to reach it. */
const UNREACHABLE_AFTER = 3;

/**
 * Runs every prompt × provider × case of a suite and scores it. Streams the dataset and the
 * results, so memory depends on concurrency and the number of variants, not on the number of cases.
 * Throws a UserError when the run cannot go on (a template error, a bad key, no endpoint);
 * a call that fails is recorded on its case and the run goes on.
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  const { suite } = options;
  const now = options.now ?? (() => new Date());
  const env = options.env ?? process.env;
  const startedAt = now().toISOString();

  const promptSpecs = suite.prompts.filter((p) => matchesAny(options.filterPrompt, [p.id]));
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

  const variants = await prepareVariants(suite, promptSpecs);
  const scorer: Scorer = await createScorers(suite.scorers, { baseDir: suite.baseDir });
  const makeProvider =
    options.createProvider ?? ((spec: ProviderSpec) => createProvider(spec, { env, fetch: options.fetch }));
  const providers: Provider[] = [];
  const controller = new AbortController();
  // Every call in flight listens on this one signal; with -j 64 that is far past Node's default warning level.
  setMaxListeners(0, controller.signal);
  const onOuterAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const writers: RecordWriter[] = [];

  try {
    for (const spec of providerSpecs) providers.push(await makeProvider(spec));

    const header: Omit<RunRecord, "summary" | "cases"> = {
      version: RECORD_VERSION,
      startedAt,
      config: toRecordConfig(suite, promptSpecs, providerSpecs),
    };
    for (const path of options.outputs ?? []) writers.push(createRecordWriter(path, header));

    const summary = createSummaryAccumulator();
    const retained: CaseResult[] = [];
    const retainedFailures = new Map<string, number>();
    const reachability = new Map<Provider, { ok: boolean; networkErrors: number }>(
      providers.map((p) => [p, { ok: false, networkErrors: 0 }]),
    );
    const jobsPerCase = variants.length * providers.length;
    let casesRead = 0;
    let done = 0;
    let errors = 0;
    let total: number | undefined;
    let fatal: unknown;

    async function* jobs(): AsyncGenerator<Job> {
      for await (const testCase of readCases(suite.tests.path, { expectedField: suite.tests.expected })) {
        if (options.limit !== undefined && casesRead >= options.limit) break;
        casesRead++;
        for (const variant of variants) {
          for (const provider of providers) yield { testCase, variant, provider };
        }
      }
      total = casesRead * jobsPerCase;
    }

    const runJob = async (job: Job): Promise<CaseResult | undefined> => {
      const { testCase, variant, provider } = job;
      const messages = renderVariant(variant, testCase);
      const base = {
        id: testCase.id,
        prompt: variant.prompt.id,
        provider: provider.label,
        vars: testCase.vars,
        messages,
        expected: testCase.expected,
      };
      try {
        const response = await provider.complete({ messages, signal: controller.signal });
        const state = reachability.get(provider)!;
        state.ok = true;
        const { answer, reasoning } = stripReasoning(response.outputs[0] ?? "");
        const verdict = await scorer({ output: answer, expected: testCase.expected, vars: testCase.vars });
        return {
          ...base,
          output: answer,
          ...(reasoning !== null ? { reasoning } : {}),
          extracted: verdict.extracted,
          pass: verdict.pass,
          score: verdict.score,
          reason: verdict.reason,
          unparsed: verdict.unparsed === true,
          latencyMs: Math.round(response.latencyMs),
          tokens: response.usage,
          error: null,
        };
      } catch (error) {
        if (!isProviderError(error)) throw error;
        if (error.kind === "aborted" || controller.signal.aborted) return undefined;
        if (error.fatal) throw providerFailure(provider, error.message, error.kind === "auth");
        const state = reachability.get(provider)!;
        if (error.kind === "network" && !state.ok && ++state.networkErrors >= UNREACHABLE_AFTER) {
          throw providerFailure(provider, error.message, false);
        }
        return failedCase(base, error.kind, error.message);
      }
    };

    const onResult = (result: CaseResult) => {
      done++;
      if (result.error) errors++;
      summary.add(result);
      for (const writer of writers) writer.write(result);
      if (keep(result)) retained.push(result);
      options.onResult?.(result);
      options.onProgress?.({ done, errors, total });
    };
    const keep = (result: CaseResult): boolean => {
      const limit = options.retainCases ?? "all";
      if (limit === "all") return true;
      if (result.pass) return false;
      const key = `${result.prompt}\u0000${result.provider}`;
      const count = retainedFailures.get(key) ?? 0;
      if (count >= limit) return false;
      retainedFailures.set(key, count + 1);
      return true;
    };

    const concurrency = Math.max(1, options.concurrency ?? 8);
    try {
      await runOrdered(jobs(), runJob, {
        concurrency: () => concurrency,
        window: Math.max(256, concurrency * 16),
        signal: controller.signal,
        onResult,
        onFailure: (error) => {
          fatal = error;
          controller.abort();
        },
      });
    } catch (error) {
      throw fatal ?? error;
    }

    const status: RunStatus = options.signal?.aborted ? "interrupted" : "complete";
    const end = { summary: summary.rows(), finishedAt: now().toISOString(), status };
    for (const writer of writers) writer.finish(end);
    return { record: { ...header, ...end, cases: retained }, status };
  } catch (error) {
    for (const writer of writers) writer.abort();
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
    await Promise.allSettled(providers.map((p) => p.close?.()));
  }
}

function failedCase(
  base: Omit<
    CaseResult,
    "output" | "extracted" | "pass" | "score" | "reason" | "unparsed" | "latencyMs" | "tokens" | "error"
  >,
  kind: string,
  message: string,
): CaseResult {
  return {
    ...base,
    output: null,
    extracted: null,
    pass: false,
    score: 0,
    reason: `error: ${message}`,
    unparsed: false,
    latencyMs: 0,
    tokens: { prompt: 0, completion: 0 },
    error: { kind, message },
  };
}

function providerFailure(provider: Provider, message: string, auth: boolean): UserError {
  return new UserError({
    code: auth ? "provider-auth" : "provider-unreachable",
    message: `provider ${provider.label}: ${message}`,
    hint: auth
      ? "check the API key in the variable named by the provider's apiKeyEnv (default OPENAI_API_KEY)"
      : "is the server running? check baseURL (or OPENAI_BASE_URL) and the model name",
  });
}

function noMatch(kind: string, filters: string[] | undefined, available: string[]): UserError {
  return new UserError({
    code: kind === "prompt" ? "prompt-not-found" : "usage",
    message: `no ${kind} matches ${(filters ?? []).map((f) => JSON.stringify(f)).join(", ")}`,
    hint: `available: ${available.join(", ")}`,
  });
}

/** True when there are no filters, or one of the names matches one of them (exact, or a glob with *). */
export function matchesAny(filters: string[] | undefined, names: string[]): boolean {
  if (!filters || filters.length === 0) return true;
  return filters.some((filter) => {
    const pattern = new RegExp(`^${filter.split("*").map(escapeRegExp).join(".*")}$`);
    return names.some((name) => pattern.test(name));
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The config as recorded in a run: paths and parameters, never an API key (only the variable's name). */
export function toRecordConfig(
  suite: Suite,
  prompts = suite.prompts,
  providers = suite.providers,
): RecordConfig {
  return {
    ...(suite.description !== undefined ? { description: suite.description } : {}),
    configPath: suite.configPath,
    providers: providers.map((p) => ({
      id: p.id,
      label: p.label,
      ...(p.baseURL !== undefined ? { baseURL: p.baseURL } : {}),
      params: p.params,
      ...(p.completions ? { completions: true } : {}),
    })),
    prompts: prompts.map((p) => ({
      id: p.id,
      ...(p.templatePath !== undefined ? { templatePath: p.templatePath } : {}),
      template: p.template,
      ...(p.shots ? { shots: p.shots } : {}),
    })),
    tests: { ...suite.tests },
    scorers: suite.scorers.map((s) => ({ ...s })),
  };
}
