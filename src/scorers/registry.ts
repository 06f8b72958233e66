import { UserError } from "../errors.js";
import { createChoiceScorer } from "./choice.js";
import { createContainsScorer, createIcontainsScorer } from "./contains.js";
import { createExactScorer } from "./exact.js";
import { createF1Scorer } from "./f1.js";
import { createJsScorer } from "./js.js";
import { createNormalizedScorer } from "./normalized.js";
import { createNumericScorer } from "./numeric.js";
import type { ScorerContext } from "./options.js";
import { createRegexScorer } from "./regex.js";
import type { ScoreResult, Scorer, ScorerSpec } from "./types.js";

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
} satisfies Record<string, ScorerFactory>;

/** The name of a built-in scorer type. */
export type ScorerName = keyof typeof factories;

/** Every scorer type a config may name. */
export const scorerNames: readonly string[] = Object.freeze(Object.keys(factories));

/** Whether `name` is a built-in scorer type. */
export function isScorerName(name: unknown): name is ScorerName {
  return typeof name === "string" && Object.hasOwn(factories, name);
}

/** Where the specs come from, so errors point at them. */
export interface CreateScorerOptions {
  /** Directory that relative paths in scorer options resolve against (the config's directory). */
  baseDir: string;
  /** The spec's path in the config; default `scorer` (`scorers` for a list, suffixed `[i]`). */
  field?: string;
  /** The config file, for error locations. */
  file?: string;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** Builds one scorer from a config spec such as `{ type: "numeric", tolerance: 0.01 }`. */
export async function createScorer(spec: ScorerSpec, options: CreateScorerOptions): Promise<Scorer> {
  const context: ScorerContext = {
    baseDir: options.baseDir,
    field: options.field ?? "scorer",
    file: options.file,
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
  if (!isScorerName(spec.type)) {
    const near = scorerNames.find((name) => distance(name, spec.type.toLowerCase()) <= 2);
    throw new UserError({
      code: "scorer-invalid",
      message: `unknown scorer type "${spec.type}"`,
      field: `${context.field}.type`,
      location,
      hint: near ? `did you mean "${near}"? ${known}` : known,
    });
  }
  return factories[spec.type](spec, context);
}

/**
 * Builds one scorer out of several: it passes only when all pass, scores their mean, takes
 * `extracted` and `unparsed` from the first, and joins the reasons ("numeric: …; contains: …").
 * A single spec gives that scorer unchanged.
 */
export async function createScorers(specs: ScorerSpec[], options: CreateScorerOptions): Promise<Scorer> {
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
  const scorers: Scorer[] = [];
  for (const [i, spec] of specs.entries()) {
    scorers.push(await createScorer(spec, { ...options, field: `${field}[${i}]` }));
  }
  if (scorers.length === 1) return scorers[0];

  return async (input) => {
    const results: ScoreResult[] = await Promise.all(scorers.map((scorer) => scorer(input)));
    const [first] = results;
    const combined: ScoreResult = {
      pass: results.every((result) => result.pass),
      score: results.reduce((sum, result) => sum + result.score, 0) / results.length,
      extracted: first.extracted,
      reason: results.map((result, i) => `${specs[i].type}: ${result.reason}`).join("; "),
    };
    if (first.unparsed) combined.unparsed = true;
    return combined;
  };
}
