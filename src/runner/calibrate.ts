/**
 * `judge calibrate`: how far a model judge can be trusted, measured on a set of outputs people have
 * already graded. Each row of the dataset carries the output to grade (`output`) and the human
 * verdict (the judge's `humanLabel` field); the judge grades each output as it would in a run (the
 * config's first prompt rendered for the case, the same rubric, cache and provider), and its
 * verdicts are compared with the people's: accuracy, Cohen's kappa with its interval, the
 * confusion table, and how often the judge changes its mind when asked again with another seed.
 */
import type { Suite } from "../config/types.js";
import { readCases } from "../dataset/index.js";
import { UserError } from "../errors.js";
import { createProvider } from "../providers/index.js";
import type { Provider, ProviderSpec } from "../providers/types.js";
import { isNegated, nativeType, scorerColumnName } from "../scorers/aliases.js";
import type { CompileTemplate } from "../scorers/options.js";
import { createScorer } from "../scorers/registry.js";
import { defaultThreshold, type JudgeScale, scaleMax } from "../scorers/rubrics.js";
import type { ScoreResult, ScorerSpec } from "../scorers/types.js";
import {
  type Calibration,
  type CalibrationCase,
  type CalibrationVerdict,
  summarizeCalibration,
} from "../stats/calibration.js";
import { openCache, type ResponseCache } from "../store/cache.js";
import { createPromptEngine } from "../templates/index.js";
import {
  type BoundProvider,
  type CacheMode,
  createModelCall,
  type ExecuteContext,
  endpointOf,
  scorerProviderKey,
} from "./execute.js";
import { runOrdered } from "./ordered-pool.js";
import { prepareVariants, renderJob } from "./prepare.js";
import { createTokenBucket } from "./rate-limit.js";

/** Options of calibrateJudge. */
export interface CalibrateOptions {
  suite: Suite;
  /** The judge to calibrate, by its column name (its `name:`, else its type); needed when there are several. */
  scorer?: string;
  /** How many times each output is graded, each with its own seed (default 2; 1 skips self-consistency). */
  seeds?: number;
  /** Only the first n rows. */
  limit?: number;
  /** Calls in flight (default 8). */
  concurrency?: number;
  /** `use` (default when the config enables the cache), `refresh` or `off`. */
  cache?: CacheMode;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Builds the judge's provider; replace it to run against a scripted one. */
  createProvider?: (spec: ProviderSpec, options: { fetch?: typeof fetch }) => Promise<Provider>;
  onProgress?: (done: number) => void;
}

/**
 * Which judge of the suite to calibrate, by its summary column's name. A negated judge is
 * refused: its verdicts are turned over before they could be compared with the people's.
 */
function pickJudge(suite: Suite, name: string | undefined): { spec: ScorerSpec; name: string } {
  // A pairwise judge has no verdict of its own on one output to compare with a person's.
  const judges = suite.scorers.filter((spec) => nativeType(spec.type) === "judge");
  const names = judges.map(scorerColumnName);
  if (judges.length === 0) {
    throw new UserError({
      code: "usage",
      message: "the config has no judge to calibrate",
      field: "scorer",
      hint: "add a scorer { type: judge, rubric: …, humanLabel: <field> }",
    });
  }
  if (name !== undefined) {
    const index = names.indexOf(name);
    if (index < 0) {
      throw new UserError({
        code: "usage",
        field: "--scorer",
        message: `no judge is named "${name}"`,
        hint: `the judges are: ${names.join(", ")}`,
      });
    }
    return checked(judges[index], name);
  }
  if (judges.length > 1) {
    throw new UserError({
      code: "usage",
      field: "--scorer",
      message: `the config has ${judges.length} judges; name the one to calibrate`,
      hint: `e.g. --scorer ${names[0]} (the judges are: ${names.join(", ")})`,
    });
  }
  return checked(judges[0], names[0]);
}

function checked(spec: ScorerSpec, name: string): { spec: ScorerSpec; name: string } {
  if (isNegated(spec)) {
    throw new UserError({
      code: "usage",
      field: "--scorer",
      message: `judge "${name}" is negated (${spec.not === true ? "not: true" : spec.type}), so its verdicts are turned over before they could be compared with the people's`,
      hint: "calibrate it without negation (the same judge without `not` in a calibration config), or name another judge with --scorer",
    });
  }
  return { spec, name };
}

/**
 * Reads a person's verdict: true/false, pass/fail, yes/no, correct/incorrect, good/bad, 1/0; on a
 * scored judge, a score on its scale passes at its threshold. Null when it is none of these.
 */
export function readHumanLabel(
  value: unknown,
  scale: { max?: number; threshold: number },
): "pass" | "fail" | null {
  if (typeof value === "boolean") return value ? "pass" : "fail";
  const text =
    typeof value === "number" ? String(value) : typeof value === "string" ? value.trim().toLowerCase() : null;
  if (text === null || text === "") return null;
  if (["pass", "passed", "true", "yes", "y", "correct", "good"].includes(text)) return "pass";
  if (["fail", "failed", "false", "no", "n", "incorrect", "wrong", "bad"].includes(text)) return "fail";
  const number = Number(text);
  if (!Number.isFinite(number)) return null;
  if (scale.max === undefined) return number === 1 ? "pass" : number === 0 ? "fail" : null;
  if (number < 1 || number > scale.max) return null;
  return number >= scale.threshold ? "pass" : "fail";
}

function verdictOf(result: ScoreResult): CalibrationVerdict {
  return result.unparsed ? "unparsed" : result.pass ? "pass" : "fail";
}

/**
 * Grades every labelled output with the judge (once per seed) and compares it with the people.
 * Judge calls go through the response cache like any call, so calibrating twice asks nothing new.
 */
export async function calibrateJudge(options: CalibrateOptions): Promise<Calibration> {
  const { suite } = options;
  const env = options.env ?? process.env;
  const { spec, name } = pickJudge(suite, options.scorer);
  const humanLabel = typeof spec.humanLabel === "string" ? spec.humanLabel : undefined;
  if (humanLabel === undefined) {
    throw new UserError({
      code: "usage",
      field: "scorer.humanLabel",
      message: `judge "${name}" has no humanLabel: calibration needs the field holding the people's verdicts`,
      hint: "add humanLabel: <field> to the judge, and give each row that field and the graded `output`",
    });
  }
  const provider = spec.provider as ProviderSpec;
  const seedCount = Math.max(1, Math.floor(options.seeds ?? 2));
  const firstSeed =
    typeof (spec.params as { seed?: unknown } | undefined)?.seed === "number"
      ? (spec.params as { seed: number }).seed
      : suite.seed;
  const seeds = Array.from({ length: seedCount }, (_v, i) => firstSeed + i);
  const max = scaleMax(spec.scale as JudgeScale | undefined);
  const threshold =
    typeof spec.threshold === "number" ? spec.threshold : max === undefined ? 0 : defaultThreshold(max);

  let engine: ReturnType<typeof createPromptEngine> | undefined;
  const compile: CompileTemplate = (source, file) => {
    engine ??= createPromptEngine({ partialsDir: suite.partialsDir });
    return engine.compile(source, { file });
  };
  const scorers = await Promise.all(
    seeds.map((seed) =>
      createScorer(
        { ...spec, params: { ...(spec.params as Record<string, unknown> | undefined), seed } },
        { baseDir: suite.baseDir, compile, seed },
      ),
    ),
  );
  // The judge sees the prompt the graded output answered: the config's first prompt, for the case.
  const [variant] = await prepareVariants(suite, [suite.prompts[0]]);

  const cacheMode: CacheMode = options.cache ?? (suite.cache.enabled ? "use" : "off");
  const make =
    options.createProvider ??
    ((s: ProviderSpec, o: { fetch?: typeof fetch }) => createProvider(s, { env, fetch: o.fetch }));
  const live = await make(provider, { fetch: options.fetch });
  const bound: BoundProvider = { provider: live, spec: provider, baseURL: endpointOf(provider, env) };
  let cache: ResponseCache | undefined;
  const bucket =
    provider.rpm !== undefined || provider.tpm !== undefined
      ? createTokenBucket({ rpm: provider.rpm, tpm: provider.tpm })
      : undefined;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (cacheMode !== "off") cache = openCache(suite.cache.path);
    const context: ExecuteContext = {
      scorer: () => {
        throw new Error("calibration scores through its own judges");
      },
      cache,
      cacheMode,
      signal: controller.signal,
      inFlight: new Map(),
      scorerProviders: new Map([[scorerProviderKey(provider), bound]]),
      beforeCall: async (_b, tokens) => bucket?.acquire(tokens, controller.signal),
    };
    const call = createModelCall(context);
    const graded: CalibrationCase[] = [];
    let rows = 0;
    async function* cases() {
      for await (const testCase of readCases(suite.tests.path, { expectedField: suite.tests.expected })) {
        if (options.limit !== undefined && rows >= options.limit) return;
        rows++;
        yield testCase;
      }
    }
    await runOrdered(
      cases(),
      async (testCase) => {
        const output = testCase.vars.output;
        if (typeof output !== "string") {
          throw new UserError({
            code: "dataset-invalid",
            message: `row ${testCase.id} has no \`output\` to grade${testCase.line ? ` (line ${testCase.line})` : ""}`,
            location: { file: suite.tests.path, line: testCase.line },
            hint: "each row of a calibration set carries the graded response as `output`, and the people's verdict in the judge's humanLabel field",
          });
        }
        const { messages } = await renderJob(variant, testCase);
        const results: ScoreResult[] = [];
        for (const scorer of scorers) {
          results.push(
            await scorer({
              output,
              expected: testCase.expected,
              vars: testCase.vars,
              caseId: testCase.id,
              messages,
              call,
            }),
          );
        }
        return {
          id: testCase.id,
          human: readHumanLabel(testCase.vars[humanLabel], { max, threshold }),
          judge: results.map(verdictOf),
          reason: results[0].reason,
        } satisfies CalibrationCase;
      },
      {
        concurrency: () => Math.max(1, options.concurrency ?? 8),
        window: 1024,
        signal: controller.signal,
        onResult: (result) => {
          graded.push(result);
          options.onProgress?.(graded.length);
        },
        onFailure: () => controller.abort(),
      },
    );
    return summarizeCalibration(graded, { judge: name, provider: provider.label, humanLabel, seeds });
  } finally {
    cache?.close();
    options.signal?.removeEventListener("abort", onAbort);
    await live.close?.();
  }
}

export type { Calibration, CalibrationCase, CalibrationVerdict };
