import { UserError } from "../errors.js";
import { fillValue, PROMPTFOO_ALIASES, type ResolvedSpec, resolveSpec, splitNegation } from "./aliases.js";
import { createBleuScorer } from "./bleu.js";
import { createChoiceScorer } from "./choice.js";
import { createContainsScorer, createIcontainsScorer } from "./contains.js";
import { createExactScorer } from "./exact.js";
import { createF1Scorer } from "./f1.js";
import { createJsScorer } from "./js.js";
import { createJsonScorer } from "./json.js";
import { createJudgeScorer, createPreferenceScorer } from "./judge.js";
import { createLengthScorer, createWordCountScorer } from "./length.js";
import { createLevenshteinScorer } from "./levenshtein.js";
import { createNormalizedScorer } from "./normalized.js";
import { createNumericScorer } from "./numeric.js";
import { type CompileTemplate, readBoolean, readString, type ScorerContext } from "./options.js";
import { createIsRefusalScorer } from "./refusal.js";
import { createRegexScorer } from "./regex.js";
import { cannotScore } from "./result.js";
import { createRougeLScorer, createRougeNScorer } from "./rouge.js";
import { createSimilarScorer } from "./similar.js";
import { createStartsWithScorer } from "./starts-with.js";
import { levenshtein } from "./text-metrics.js";
import type { ScorePart, ScoreResult, Scorer, ScorerSpec } from "./types.js";

/** Builds a scorer from its spec; throws a `scorer-invalid` UserError on bad options. */
type ScorerFactory = (spec: ScorerSpec, context: ScorerContext) => Scorer | Promise<Scorer>;

const factories = {
  exact: createExactScorer,
  normalized: createNormalizedScorer,
  contains: createContainsScorer,
  icontains: createIcontainsScorer,
  regex: createRegexScorer,
  numeric: createNumericScorer,
  choice: createChoiceScorer,
  f1: createF1Scorer,
  js: createJsScorer,
  "starts-with": createStartsWithScorer,
  levenshtein: createLevenshteinScorer,
  "rouge-n": createRougeNScorer,
  "rouge-l": createRougeLScorer,
  bleu: createBleuScorer,
  length: createLengthScorer,
  "word-count": createWordCountScorer,
  "is-refusal": createIsRefusalScorer,
  json: createJsonScorer,
  similar: createSimilarScorer,
  judge: createJudgeScorer,
  preference: createPreferenceScorer,
} satisfies Record<string, ScorerFactory>;

/** The name of a built-in scorer type. */
export type ScorerName = keyof typeof factories;

/** Every scorer type a config may name (promptfoo's names and `not-` prefixes aside). */
export const scorerNames: readonly string[] = Object.freeze(Object.keys(factories));

/** Whether `name` is a built-in scorer type. */
export function isScorerName(name: unknown): name is ScorerName {
  return typeof name === "string" && Object.hasOwn(factories, name);
}

/** Whether `name` is a type a spec may be written with: a scorer, a promptfoo name, either with `not-`. */
export function isWrittenScorerType(name: unknown): boolean {
  if (typeof name !== "string") return false;
  const { base } = splitNegation(name);
  return isScorerName(base) || Object.hasOwn(PROMPTFOO_ALIASES, base);
}

/** Where the specs come from, so errors point at them, and what judges need to render their rubrics. */
export interface CreateScorerOptions {
  /** Directory that relative paths in scorer options resolve against (the config's directory). */
  baseDir: string;
  /** Compiles judge rubrics written as templates (the runner hands in the prompt engine's). */
  compile?: CompileTemplate;
  /** The seed judges ask with (the suite's). */
  seed?: number;
  /** The spec's path in the config; default `scorer` (`scorers` for a list, suffixed `[i]`). */
  field?: string;
  /** The config file, for error locations. */
  file?: string;
}

/** Builds one scorer from a config spec such as `{ type: "numeric", tolerance: 0.01 }`. */
export async function createScorer(spec: ScorerSpec, options: CreateScorerOptions): Promise<Scorer> {
  return (await buildScorer(spec, options)).scorer;
}

/** A scorer built from its spec, with the name its summary column goes by. */
interface NamedScorer {
  name: string;
  scorer: Scorer;
}

async function buildScorer(spec: ScorerSpec, options: CreateScorerOptions): Promise<NamedScorer> {
  const context: ScorerContext = {
    baseDir: options.baseDir,
    field: options.field ?? "scorer",
    file: options.file,
    compile: options.compile,
    seed: options.seed,
  };
  const location = options.file === undefined ? undefined : { file: options.file };
  const known = `known scorers: ${scorerNames.join(", ")}`;
  if (typeof spec !== "object" || spec === null || typeof spec.type !== "string" || spec.type === "") {
    throw new UserError({
      code: "scorer-invalid",
      message: "a scorer needs a type",
      field: typeof spec === "object" && spec !== null ? `${context.field}.type` : context.field,
      location,
      hint: `write e.g. { type: numeric }; ${known}`,
    });
  }
  if (!isWrittenScorerType(spec.type)) {
    const near = scorerNames.find((name) => levenshtein(name, spec.type.toLowerCase()) <= 2);
    throw new UserError({
      code: "scorer-invalid",
      message: `unknown scorer type "${spec.type}"`,
      field: `${context.field}.type`,
      location,
      hint: near ? `did you mean "${near}"? ${known}` : known,
    });
  }
  readBoolean(spec, "not", context, false);
  readString(spec, "name", context, false);
  const resolved = resolveSpec(spec);
  const factory = factories[resolved.spec.type as ScorerName];
  const inner = await factory(resolved.spec, context);
  return { name: resolved.name, scorer: wrap(inner, resolved) };
}

/** Applies the common options: `value` in place of the case's expected answer, and negation. */
function wrap(inner: Scorer, resolved: ResolvedSpec): Scorer {
  const { negate, expected } = resolved;
  if (!negate && expected === undefined) return inner;
  return async (input) => {
    let given = input;
    if (expected !== undefined) {
      const filled = fillValue(expected, input.vars);
      if ("error" in filled) return cannotScore(filled.error);
      given = { ...input, expected: filled.value };
    }
    const result = await inner(given);
    if (!negate || result.unparsed || result.unscored) return result;
    return { ...result, pass: !result.pass, score: 1 - result.score, reason: `not: ${result.reason}` };
  };
}

/** How several scorers make one verdict: by weight, passing at a threshold (else every one must pass). */
export interface CombineOptions {
  /** One weight per scorer, in order, or by scorer name (a name left out weighs 1). */
  weights?: readonly number[] | Readonly<Record<string, number>>;
  /** The weighted mean score at which the case passes (default 0.5). */
  threshold?: number;
}

/**
 * Builds one scorer out of several. Without `combine` it passes only when all pass and scores their
 * mean; with it, the score is the weighted mean and the case passes at `combine.threshold`. It
 * takes `extracted` from the first and joins the reasons ("numeric: …; contains: …"). A combination
 * that fails is unparsed when its unparsed parts could have made it pass: without weights, when
 * every other part passed; with them, when those parts (of weight above 0) scoring 1 would reach
 * the threshold.
 * Each scorer's own result goes in `parts` under its name (its `name:`, else its type; a repeated
 * name gets `#2`), as does a single scorer's that made model calls. A single spec otherwise gives
 * that scorer unchanged.
 */
export async function createScorers(
  specs: ScorerSpec[],
  options: CreateScorerOptions & { combine?: CombineOptions },
): Promise<Scorer> {
  const field = options.field ?? "scorers";
  if (specs.length === 0) {
    throw new UserError({
      code: "scorer-invalid",
      message: "no scorers given",
      field,
      location: options.file === undefined ? undefined : { file: options.file },
      hint: `add at least one, e.g. scorers: [{ type: exact }]; known scorers: ${scorerNames.join(", ")}`,
    });
  }
  const built: NamedScorer[] = [];
  const seen = new Map<string, number>();
  for (const [i, spec] of specs.entries()) {
    const one = await buildScorer(spec, { ...options, field: `${field}[${i}]` });
    const count = (seen.get(one.name) ?? 0) + 1;
    seen.set(one.name, count);
    built.push(count === 1 ? one : { ...one, name: `${one.name}#${count}` });
  }
  const weights = readWeights(built, options, field);
  const threshold = options.combine?.threshold ?? 0.5;
  if (built.length === 1 && !options.combine) {
    const [{ name, scorer }] = built;
    return async (input) => {
      const result = await scorer(input);
      if (!result.calls) return result;
      const { calls, ...rest } = result;
      return { ...rest, parts: { [name]: toPart(result) } };
    };
  }

  return async (input) => {
    const results: ScoreResult[] = await Promise.all(built.map(({ scorer }) => scorer(input)));
    const [first] = results;
    const parts: Record<string, ScorePart> = {};
    results.forEach((result, i) => {
      parts[built[i].name] = toPart(result);
    });
    const reasons = results.map((result, i) => `${built[i].name}: ${result.reason}`).join("; ");
    if (!weights) {
      const combined: ScoreResult = {
        pass: results.every((result) => result.pass),
        score: results.reduce((sum, result) => sum + result.score, 0) / results.length,
        extracted: first.extracted,
        reason: reasons,
        parts,
      };
      // A verdict that could not be read is not a fail: when it alone stands between the case and
      // a pass, the combination is unreadable too. A part that failed outright decides the case.
      if (
        !combined.pass &&
        results.some((result) => result.unparsed) &&
        results.every((result) => result.pass || result.unparsed)
      )
        combined.unparsed = true;
      return combined;
    }
    const total = weights.reduce((sum, w) => sum + w, 0);
    const score =
      total === 0 ? 0 : results.reduce((sum, result, i) => sum + weights[i] * result.score, 0) / total;
    const pass = score >= threshold;
    const combined: ScoreResult = {
      pass,
      score,
      extracted: first.extracted,
      reason: `weighted score ${score.toFixed(3)} ${pass ? "≥" : "<"} threshold ${threshold}; ${results
        .map((result, i) => `${built[i].name} (×${weights[i]}): ${result.reason}`)
        .join("; ")}`,
      parts,
    };
    // Unreadable when the unparsed parts (weighing anything) could have carried the case over the
    // threshold, had they been read and passed; when even that falls short, the fail is certain.
    if (!pass && total > 0) {
      const open = results.reduce(
        (sum, result, i) => sum + (result.unparsed ? weights[i] * (1 - result.score) : 0),
        0,
      );
      if (open > 0 && score + open / total >= threshold) combined.unparsed = true;
    }
    return combined;
  };
}

function toPart(result: ScoreResult): ScorePart {
  const part: ScorePart = { pass: result.pass, score: result.score, reason: result.reason };
  if (result.unparsed) part.unparsed = true;
  if (result.calls) part.calls = result.calls;
  return part;
}

/** The weights of `combine`, one per scorer in order; undefined without `combine`. */
function readWeights(
  built: NamedScorer[],
  options: CreateScorerOptions & { combine?: CombineOptions },
  field: string,
): number[] | undefined {
  const given = options.combine?.weights;
  if (!options.combine) return undefined;
  const location = options.file === undefined ? undefined : { file: options.file };
  const bad = (message: string, hint: string) =>
    new UserError({ code: "scorer-invalid", message, field: "combine.weights", location, hint });
  let weights: number[];
  if (given === undefined) weights = built.map(() => 1);
  else if (Array.isArray(given)) {
    if (given.length !== built.length) {
      throw bad(
        `combine.weights has ${given.length} weights for ${built.length} scorers (${field})`,
        "give one weight per scorer, in the order they are listed, or map names to weights",
      );
    }
    weights = [...given];
  } else {
    const byName = given as Readonly<Record<string, number>>;
    const names = built.map((b) => b.name);
    const stray = Object.keys(byName).find((name) => !names.includes(name));
    if (stray !== undefined)
      throw bad(
        `combine.weights names "${stray}", which is no scorer's name`,
        `the scorers are named: ${names.join(", ")}`,
      );
    weights = names.map((name) => byName[name] ?? 1);
  }
  const wrong = weights.find((w) => typeof w !== "number" || !Number.isFinite(w) || w < 0);
  if (wrong !== undefined)
    throw bad(
      `combine.weights: expected numbers of 0 or more, received ${JSON.stringify(wrong)}`,
      "write e.g. weights: [2, 1]",
    );
  if (weights.every((w) => w === 0))
    throw bad("combine.weights are all 0", "give at least one scorer a positive weight");
  return weights;
}
