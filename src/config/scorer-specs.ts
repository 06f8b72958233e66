import path from "node:path";
import * as z from "zod";
import type { ProviderSpec } from "../providers/types.js";
import { scorerColumnName } from "../scorers/aliases.js";
import { defaultThreshold, type JudgeScale, RUBRIC_FILE, scaleMax } from "../scorers/rubrics.js";
import type { ScorerSpec } from "../scorers/types.js";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import { defaultScorers } from "./defaults.js";
import { didYouMean } from "./did-you-mean.js";
import { resolveExistingFile } from "./files.js";
import { isProviderId, normalizeProviderEntry } from "./provider-specs.js";
import { providerObjectSchema, providerParamsSchema } from "./schema.js";
import { resolveEmbedding } from "./shots-specs.js";
import type { ConfigPath } from "./source.js";

// Modules Node can import without a loader.
const JS_EXTENSIONS = [".js", ".mjs", ".cjs"];

/** The scorer types a config may name (each may also be written with a `not-` prefix). */
export const SCORER_TYPES = [
  "exact",
  "normalized",
  "contains",
  "icontains",
  "regex",
  "numeric",
  "choice",
  "f1",
  "js",
  "starts-with",
  "levenshtein",
  "rouge-n",
  "rouge-l",
  "bleu",
  "length",
  "word-count",
  "is-refusal",
  "json",
  "similar",
  "judge",
  "preference",
] as const;

/** promptfoo's assertion names accepted as they are (the scorers room says what each means). */
export const PROMPTFOO_SCORER_NAMES = [
  "equals",
  "is-json",
  "contains-json",
  "javascript",
  "llm-rubric",
] as const;

/** One of SCORER_TYPES, or one of promptfoo's names. */
export type ScorerType = (typeof SCORER_TYPES)[number] | (typeof PROMPTFOO_SCORER_NAMES)[number];

// The type was already matched when these run, so `type` is only there to be an allowed key.
const type = z.string();

/** Options every scorer takes: negation, the name of its summary column, promptfoo's `value`. */
const common = {
  type,
  not: z.boolean().optional(),
  name: z.string().min(1).optional(),
  // promptfoo's `value`: the expected answer (or pattern, schema, code, rubric) of this scorer.
  value: z.unknown().optional(),
};

function options<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject({ ...common, ...shape });
}

const threshold01 = z.number().min(0).max(1).optional();
const bounds = { min: z.number().nonnegative().optional(), max: z.number().nonnegative().optional() };
const judgeProvider = z.union([z.string().min(1), providerObjectSchema]).optional();
const judgeOptions = {
  provider: judgeProvider,
  rubric: z.string().min(1).optional(),
  params: providerParamsSchema.optional(),
};
const jsonOptions = {
  schema: z.union([z.string().min(1), z.record(z.string(), z.unknown()), z.boolean()]).optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
};

/** The options each scorer type takes (strict: any other key is an error). */
export const scorerOptionSchemas: Record<ScorerType, z.ZodObject> = {
  exact: options({ trim: z.boolean().optional(), ignoreCase: z.boolean().optional() }),
  equals: options({ ignoreCase: z.boolean().optional() }),
  normalized: options({}),
  contains: options({}),
  icontains: options({}),
  // `match: true`: pass when the pattern matches, as promptfoo's regex (set for `value:`).
  regex: options({
    pattern: z.string().min(1).optional(),
    flags: z.string().optional(),
    match: z.boolean().optional(),
  }),
  // `relative`: a tolerance relative to the expected value's magnitude (the scorers room reads a number).
  numeric: options({
    tolerance: z.number().nonnegative().optional(),
    relative: z.number().nonnegative().optional(),
  }),
  // `choices`: the option letters in play, written together ("ABCD").
  choice: options({ choices: z.string().min(1).optional() }),
  f1: options({ threshold: threshold01 }),
  js: options({
    path: z.string().min(1).optional(),
    code: z.string().min(1).optional(),
    export: z.string().min(1).optional(),
    threshold: z.number().optional(),
  }),
  javascript: options({ threshold: z.number().optional() }),
  "starts-with": options({ ignoreCase: z.boolean().optional() }),
  // `threshold`: the most edits (promptfoo's meaning); `maxDistance`: edits ÷ the longer length.
  levenshtein: options({
    threshold: z.number().nonnegative().optional(),
    maxDistance: threshold01,
    ignoreCase: z.boolean().optional(),
  }),
  "rouge-n": options({
    n: z.int().min(1).max(9).optional(),
    measure: z.enum(["recall", "precision", "f"]).optional(),
    threshold: threshold01,
  }),
  "rouge-l": options({ measure: z.enum(["recall", "precision", "f"]).optional(), threshold: threshold01 }),
  bleu: options({
    threshold: threshold01,
    smoothing: z.enum(["exp", "floor", "add-k", "none"]).optional(),
    smoothValue: z.number().nonnegative().optional(),
    tokenize: z.enum(["13a", "none"]).optional(),
    lowercase: z.boolean().optional(),
  }),
  length: options(bounds),
  "word-count": options(bounds),
  "is-refusal": options({}),
  json: options({ ...jsonOptions, strict: z.boolean().optional(), contains: z.boolean().optional() }),
  "is-json": options(jsonOptions),
  "contains-json": options(jsonOptions),
  similar: options({
    threshold: z.number().min(-1).max(1).optional(),
    embedding: z
      .strictObject({ model: z.string().min(1).optional(), provider: z.string().min(1).optional() })
      .optional(),
  }),
  judge: options({
    ...judgeOptions,
    scale: z.enum(["pass-fail", "1-5", "1-10"]).optional(),
    threshold: z.number().optional(),
    humanLabel: z.string().min(1).optional(),
  }),
  "llm-rubric": options({ ...judgeOptions, humanLabel: z.string().min(1).optional() }),
  preference: options({ ...judgeOptions, threshold: threshold01 }),
};

/** Whether a name is a known scorer type. */
export function isScorerType(name: string): name is ScorerType {
  return (
    (SCORER_TYPES as readonly string[]).includes(name) ||
    (PROMPTFOO_SCORER_NAMES as readonly string[]).includes(name)
  );
}

/**
 * Normalizes `scorer` (string, object with `type`, or list of those) to ScorerSpec[]: options
 * checked against the type, regex patterns compiled, js, schema and rubric paths made absolute and
 * checked, a judge's provider resolved against the suite's (`providers`) and a `similar` scorer's
 * embedding endpoint too.
 */
export async function normalizeScorers(
  raw: unknown,
  ctx: NormalizeContext,
  providers: readonly ProviderSpec[] = [],
): Promise<ScorerSpec[]> {
  if (raw === undefined || raw === null) return defaultScorers();
  const entries: Array<{ value: unknown; at: ConfigPath }> = Array.isArray(raw)
    ? raw.map((value, index) => ({ value, at: ["scorer", index] }))
    : [{ value: raw, at: ["scorer"] }];
  const specs: ScorerSpec[] = [];
  for (const { value, at } of entries) {
    const spec = await normalizeScorer(value, at, ctx, providers);
    if (spec) specs.push(spec);
  }
  return specs;
}

async function normalizeScorer(
  value: unknown,
  at: ConfigPath,
  ctx: NormalizeContext,
  providers: readonly ProviderSpec[],
): Promise<ScorerSpec | undefined> {
  const written = typeof value === "string";
  const options: Record<string, unknown> | undefined = written
    ? { type: value }
    : isRecord(value)
      ? value
      : undefined;
  // Other shapes were already reported by the schema.
  if (!options || !isNonEmptyString(options.type)) return undefined;
  const name = options.type;
  const typeAt = written ? at : [...at, "type"];
  const base = name.startsWith("not-") ? name.slice(4) : name;
  if (!isScorerType(base)) {
    const known = [...SCORER_TYPES, ...PROMPTFOO_SCORER_NAMES];
    const guess = didYouMean(base, known);
    ctx.problems.add({
      path: typeAt,
      message: `unknown scorer type ${JSON.stringify(name)}`,
      hint: `${guess ? `did you mean "${name === base ? "" : "not-"}${guess}"? ` : ""}known types: ${SCORER_TYPES.join(", ")} (and the promptfoo names ${PROMPTFOO_SCORER_NAMES.join(", ")}; any with a not- prefix)`,
    });
    return undefined;
  }
  const schema = scorerOptionSchemas[base];
  const parsed = schema.safeParse(options, { reportInput: true });
  if (!parsed.success) {
    if (written) {
      // `scorer: regex` has nowhere to put the required options; say how to write the object form.
      const required = Object.entries(schema.shape)
        .filter(([key, option]) => key !== "type" && !(option as z.ZodType).safeParse(undefined).success)
        .map(([key]) => key);
      ctx.problems.add({
        path: at,
        message: `scorer "${name}" needs ${required.map((key) => `\`${key}\``).join(" and ")}`,
        hint: `write it as an object: { type: ${name}, ${required.map((key) => `${key}: …`).join(", ")} }`,
      });
    } else {
      ctx.problems.addIssues(parsed.error.issues, schema, at);
    }
    return undefined;
  }
  const spec: ScorerSpec = { ...parsed.data, type: name };
  const need = (key: string, hint: string): boolean => {
    if (spec[key] !== undefined) return true;
    ctx.problems.add(
      written
        ? {
            path: at,
            message: `scorer "${name}" needs \`${key}\``,
            hint: `write it as an object: { type: ${name}, ${key}: … }`,
          }
        : { path: [...at, key], message: `missing required key "${key}" (a string)`, hint },
    );
    return false;
  };
  switch (base) {
    case "regex": {
      if (spec.pattern === undefined && typeof spec.value === "string") {
        return checkRegex({ ...spec, pattern: spec.value }, at, ctx, "value") ? spec : undefined;
      }
      if (!need("pattern", "add pattern: <regular expression> (or promptfoo's value:)")) return undefined;
      return checkRegex(spec, at, ctx, "pattern") ? spec : undefined;
    }
    case "choice":
      if (typeof spec.choices === "string") {
        const letters = spec.choices.toUpperCase();
        if (!/^[A-Z]+$/.test(letters) || new Set(letters).size !== letters.length) {
          ctx.problems.add({
            path: [...at, "choices"],
            message: `expected distinct option letters, received ${JSON.stringify(spec.choices)}`,
            hint: 'write the letters together, e.g. choices: "ABCD"',
          });
          return undefined;
        }
      }
      return spec;
    case "js":
      if (spec.path !== undefined && spec.code !== undefined) {
        ctx.problems.add({
          path: [...at, "code"],
          message: "give path or code, not both",
          hint: "path: names a module; code: is the function body",
        });
        return undefined;
      }
      if (spec.code !== undefined) return spec;
      if (!need("path", "add path: <module.js>, or code: <function body>")) return undefined;
      return resolveModule(spec, "path", spec.path as string, at, ctx);
    case "javascript":
      if (!need("value", "add value: <expression>, or value: file://<module.js>")) return undefined;
      if (typeof spec.value !== "string" || spec.value === "") {
        ctx.problems.add({
          path: [...at, "value"],
          message: "expected JavaScript code or file://<module.js>",
          hint: "e.g. value: output.length < 200",
        });
        return undefined;
      }
      if (spec.value.startsWith("file://")) {
        const resolved = await resolveModule(spec, "value", spec.value.slice("file://".length), at, ctx);
        return resolved ? { ...resolved, value: `file://${resolved.value}` } : undefined;
      }
      return spec;
    case "json":
      if (spec.strict === true && spec.contains === true) {
        ctx.problems.add({
          path: [...at, "contains"],
          message: "strict and contains exclude each other",
          hint: "strict: true wants the whole output to be JSON; contains: true accepts JSON anywhere in it",
        });
        return undefined;
      }
      return resolveSchema(spec, "schema", at, ctx);
    case "is-json":
    case "contains-json":
      return resolveSchema(spec, "value", at, ctx);
    case "levenshtein":
      if (spec.threshold !== undefined && spec.maxDistance !== undefined) {
        ctx.problems.add({
          path: [...at, "maxDistance"],
          message: "give threshold (edits) or maxDistance (normalized), not both",
          hint: "threshold: 3 allows three edits; maxDistance: 0.2 allows edits up to a fifth of the longer text",
        });
        return undefined;
      }
      return spec;
    case "length":
    case "word-count": {
      const { min, max } = spec as { min?: number; max?: number };
      if (min === undefined && max === undefined) {
        ctx.problems.add({
          path: at,
          message: `scorer "${name}" needs min, max or both`,
          hint: `e.g. { type: ${name}, max: 100 }`,
        });
        return undefined;
      }
      if (min !== undefined && max !== undefined && min > max) {
        ctx.problems.add({
          path: [...at, "min"],
          message: `min ${min} is above max ${max}`,
          hint: "swap them",
        });
        return undefined;
      }
      return spec;
    }
    case "similar": {
      const resolved = resolveEmbedding(
        spec.embedding,
        at,
        ctx,
        providers,
        true,
        {
          path: written ? at : [...at, "type"],
          message:
            "similar needs an OpenAI-compatible /v1/embeddings endpoint, and the suite has no openai: provider",
          hint: "add an openai: provider whose endpoint serves embeddings and name it in embedding.provider, or name a local: provider to embed with its model",
        },
        true,
      );
      if (!resolved.ok || !resolved.spec) return undefined;
      return { ...spec, embedding: resolved.spec };
    }
    case "judge":
    case "llm-rubric":
    case "preference":
      return normalizeJudge(spec, base, at, written, ctx, providers);
  }
  return spec;
}

/** The rubrics promptsmith ships (`rubric: builtin:<name>`). The scorers room holds their text; a test keeps the lists equal. */
export const BUILTIN_RUBRICS = ["correctness", "faithfulness", "preference"] as const;

/** A judge's provider resolved to a spec, and its rubric file made absolute. */
async function normalizeJudge(
  spec: ScorerSpec,
  base: string,
  at: ConfigPath,
  written: boolean,
  ctx: NormalizeContext,
  providers: readonly ProviderSpec[],
): Promise<ScorerSpec | undefined> {
  let out: ScorerSpec = { ...spec };
  if (base === "llm-rubric" && out.rubric === undefined && typeof out.value === "string") {
    out.rubric = out.value;
    delete out.value;
  }
  if (base !== "preference" && out.rubric === undefined) {
    ctx.problems.add({
      path: at,
      message: written ? `scorer "${spec.type}" needs \`rubric\`` : 'missing required key "rubric"',
      hint: `write the criteria inline (rubric: "The answer is polite and correct"), a template file (rubric: rubrics/grade.hbs), or builtin:${BUILTIN_RUBRICS.filter((r) => r !== "preference").join(" or builtin:")}`,
    });
    return undefined;
  }
  const providerAt: ConfigPath = [...at, "provider"];
  let provider: ProviderSpec | undefined;
  if (out.provider === undefined) {
    provider = providers[0];
    // Kept as the default (a config can try a judge at once), but said: the model under test
    // grading its own answers is worth knowing about.
    if (provider) {
      const where = at.map((part, i) =>
        typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`,
      );
      ctx.notes?.push(
        `${where.join("")} (${spec.type}) names no provider: ${provider.label}, the first provider, grades the answers, its own among them; set provider: to choose the judge`,
      );
    }
  } else if (typeof out.provider === "string") {
    const named = out.provider;
    provider = providers.find((p) => p.label === named) ?? providers.find((p) => p.id === named);
    if (!provider) {
      if (!isProviderId(named)) {
        const guess = didYouMean(
          named,
          providers.map((p) => p.label),
        );
        ctx.problems.add({
          path: providerAt,
          message: `no provider is labelled or named ${JSON.stringify(named)}, and it is no provider id`,
          hint: `${guess ? `did you mean "${guess}"? ` : ""}name one of the suite's providers (${providers.map((p) => p.label).join(", ") || "none"}), or write an id such as openai:gpt-4o`,
        });
        return undefined;
      }
      provider = normalizeProviderEntry(named, providerAt, ctx);
    }
  } else {
    provider = normalizeProviderEntry(out.provider, providerAt, ctx);
  }
  if (!provider) return undefined;
  out = { ...out, provider };
  if (typeof out.rubric === "string") {
    const rubric = out.rubric;
    if (rubric.startsWith("builtin:")) {
      const builtin = rubric.slice("builtin:".length);
      if (!(BUILTIN_RUBRICS as readonly string[]).includes(builtin)) {
        const guess = didYouMean(builtin, BUILTIN_RUBRICS);
        ctx.problems.add({
          path: [...at, "rubric"],
          message: `unknown builtin rubric ${JSON.stringify(rubric)}`,
          hint: `${guess ? `did you mean "builtin:${guess}"? ` : ""}builtin rubrics: ${BUILTIN_RUBRICS.map((r) => `builtin:${r}`).join(", ")}`,
        });
        return undefined;
      }
    } else if (RUBRIC_FILE.test(rubric.trim())) {
      const absolute = await resolveExistingFile(ctx, [...at, "rubric"], rubric.trim(), {
        what: "rubric template",
        code: "config-invalid",
      });
      if (!absolute) return undefined;
      out.rubric = absolute;
    }
  }
  if (out.scale !== undefined && out.threshold !== undefined) {
    const max = scaleMax(out.scale as JudgeScale);
    const threshold = out.threshold as number;
    if (max === undefined || threshold < 1 || threshold > max) {
      ctx.problems.add({
        path: [...at, "threshold"],
        message:
          max === undefined
            ? "a pass-fail judge takes no threshold"
            : `expected a score from 1 to ${max}, received ${threshold}`,
        hint:
          max === undefined
            ? "remove threshold, or use scale: 1-5"
            : `e.g. threshold: ${defaultThreshold(max)}`,
      });
      return undefined;
    }
  }
  return out;
}

/** A js module path (of `key`) made absolute and checked. */
async function resolveModule(
  spec: ScorerSpec,
  key: string,
  file: string,
  at: ConfigPath,
  ctx: NormalizeContext,
): Promise<ScorerSpec | undefined> {
  const extension = path.extname(file).toLowerCase();
  if (!JS_EXTENSIONS.includes(extension)) {
    ctx.problems.add({
      path: [...at, key],
      message: `expected a .js, .mjs or .cjs module, received ${JSON.stringify(file)}`,
      hint: "compile a TypeScript scorer to JavaScript first and point `path` at the .js file",
    });
    return undefined;
  }
  const absolute = await resolveExistingFile(ctx, [...at, key], file, {
    what: "scorer module",
    code: "config-invalid",
  });
  return absolute ? { ...spec, [key]: absolute } : undefined;
}

/** A JSON Schema named by a file path (of `key`) made absolute and checked; an inline one kept. */
async function resolveSchema(
  spec: ScorerSpec,
  key: string,
  at: ConfigPath,
  ctx: NormalizeContext,
): Promise<ScorerSpec | undefined> {
  const value = spec[key];
  if (typeof value !== "string") return spec;
  const file = value.startsWith("file://") ? value.slice("file://".length) : value;
  const absolute = await resolveExistingFile(ctx, [...at, key], file, {
    what: "JSON Schema",
    code: "config-invalid",
  });
  return absolute ? { ...spec, [key]: absolute } : undefined;
}

/** `combine` as the runner reads it: one weight per scorer or by name, and the pass threshold. */
export interface CombineSpec {
  weights?: number[] | Record<string, number>;
  threshold: number;
}

/** Normalizes `combine`: the threshold defaulted, weights matched against the scorers (count, names). */
export function normalizeCombine(
  raw: unknown,
  scorers: readonly ScorerSpec[],
  ctx: NormalizeContext,
  written: unknown,
): CombineSpec | undefined {
  if (!isRecord(raw)) return undefined;
  const threshold = typeof raw.threshold === "number" ? raw.threshold : 0.5;
  const combine: CombineSpec = { threshold };
  const weights = raw.weights;
  // Counted as written: a scorer with a problem of its own still has its place in the list.
  const count = Array.isArray(written) ? written.length : 1;
  if (Array.isArray(weights)) {
    if (weights.length !== count) {
      ctx.problems.add({
        path: ["combine", "weights"],
        message: `expected ${count} weights (one per scorer), received ${weights.length}`,
        hint: "list one weight per scorer, in order, or map scorer names to weights",
      });
    }
    combine.weights = weights as number[];
  } else if (isRecord(weights)) {
    const names = scorers.map(scorerColumnName);
    for (const key of Object.keys(weights)) {
      if (names.includes(key)) continue;
      const guess = didYouMean(key, names);
      ctx.problems.add({
        path: ["combine", "weights", key],
        atKey: true,
        message: `no scorer is named ${JSON.stringify(key)}`,
        hint: `${guess ? `did you mean "${guess}"? ` : ""}the scorers are named: ${names.join(", ")} (a scorer's name: is its column; by default its type)`,
      });
    }
    combine.weights = weights as Record<string, number>;
  }
  return combine;
}

function checkRegex(spec: ScorerSpec, at: ConfigPath, ctx: NormalizeContext, key: string): boolean {
  const pattern = spec.pattern as string;
  const flags = spec.flags as string | undefined;
  try {
    new RegExp(pattern, flags);
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    let patternOk = false;
    try {
      new RegExp(pattern);
      patternOk = true;
    } catch {}
    if (patternOk && flags !== undefined) {
      ctx.problems.add({
        path: [...at, "flags"],
        message: `expected regular expression flags (any of d g i m s u v y), received ${JSON.stringify(flags)}`,
        hint: "e.g. `flags: i` for a case-insensitive match",
      });
    } else {
      ctx.problems.add({
        path: [...at, key],
        message: `pattern does not compile: ${reason}`,
        hint: "in YAML, single-quote the pattern ('\\d+') so backslashes stay as written",
      });
    }
    return false;
  }
}
