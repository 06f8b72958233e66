import path from "node:path";
import * as z from "zod";
import type { ScorerSpec } from "../scorers/types.js";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import { defaultScorers } from "./defaults.js";
import { didYouMean } from "./did-you-mean.js";
import { resolveExistingFile } from "./files.js";
import type { ConfigPath } from "./source.js";

// Modules Node can import without a loader.
const JS_EXTENSIONS = [".js", ".mjs", ".cjs"];

/** The scorer types a config may name. */
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
] as const;

/** One of SCORER_TYPES. */
export type ScorerType = (typeof SCORER_TYPES)[number];

// The type was already matched when these run, so `type` is only there to be an allowed key.
const type = z.string();

/** The options each scorer type takes (strict: any other key is an error). */
export const scorerOptionSchemas: Record<ScorerType, z.ZodObject> = {
  exact: z.strictObject({ type, trim: z.boolean().optional(), ignoreCase: z.boolean().optional() }),
  normalized: z.strictObject({ type }),
  contains: z.strictObject({ type }),
  icontains: z.strictObject({ type }),
  regex: z.strictObject({ type, pattern: z.string().min(1), flags: z.string().optional() }),
  // `relative`: a tolerance relative to the expected value's magnitude (the scorers room reads a number).
  numeric: z.strictObject({
    type,
    tolerance: z.number().nonnegative().optional(),
    relative: z.number().nonnegative().optional(),
  }),
  // `choices`: the option letters in play, written together ("ABCD").
  choice: z.strictObject({ type, choices: z.string().min(1).optional() }),
  f1: z.strictObject({ type, threshold: z.number().min(0).max(1).optional() }),
  js: z.strictObject({
    type,
    path: z.string().min(1),
    export: z.string().min(1).optional(),
    threshold: z.number().optional(),
  }),
};

/** Whether a name is a known scorer type. */
export function isScorerType(name: string): name is ScorerType {
  return (SCORER_TYPES as readonly string[]).includes(name);
}

/**
 * Normalizes `scorer` (string, object with `type`, or list of those) to ScorerSpec[]: options
 * checked against the type, regex patterns compiled, js paths made absolute and checked.
 */
export async function normalizeScorers(raw: unknown, ctx: NormalizeContext): Promise<ScorerSpec[]> {
  if (raw === undefined || raw === null) return defaultScorers();
  const entries: Array<{ value: unknown; at: ConfigPath }> = Array.isArray(raw)
    ? raw.map((value, index) => ({ value, at: ["scorer", index] }))
    : [{ value: raw, at: ["scorer"] }];
  const specs: ScorerSpec[] = [];
  for (const { value, at } of entries) {
    const spec = await normalizeScorer(value, at, ctx);
    if (spec) specs.push(spec);
  }
  return specs;
}

async function normalizeScorer(
  value: unknown,
  at: ConfigPath,
  ctx: NormalizeContext,
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
  if (!isScorerType(name)) {
    const guess = didYouMean(name, SCORER_TYPES);
    ctx.problems.add({
      path: typeAt,
      message: `unknown scorer type ${JSON.stringify(name)}`,
      hint: `${guess ? `did you mean "${guess}"? ` : ""}known types: ${SCORER_TYPES.join(", ")}`,
    });
    return undefined;
  }
  const schema = scorerOptionSchemas[name];
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
  if (name === "regex") return checkRegex(spec, at, ctx);
  if (name === "choice" && typeof spec.choices === "string") {
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
  if (name === "js") {
    const extension = path.extname(spec.path as string).toLowerCase();
    if (!JS_EXTENSIONS.includes(extension)) {
      ctx.problems.add({
        path: [...at, "path"],
        message: `expected a .js, .mjs or .cjs module, received ${JSON.stringify(spec.path)}`,
        hint: "compile a TypeScript scorer to JavaScript first and point `path` at the .js file",
      });
      return undefined;
    }
    const absolute = await resolveExistingFile(ctx, [...at, "path"], spec.path as string, {
      what: "scorer module",
      code: "config-invalid",
    });
    return absolute ? { ...spec, path: absolute } : undefined;
  }
  return spec;
}

function checkRegex(spec: ScorerSpec, at: ConfigPath, ctx: NormalizeContext): ScorerSpec | undefined {
  const pattern = spec.pattern as string;
  const flags = spec.flags as string | undefined;
  try {
    new RegExp(pattern, flags);
    return spec;
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
        path: [...at, "pattern"],
        message: `pattern does not compile: ${reason}`,
        hint: "in YAML, single-quote the pattern ('\\d+') so backslashes stay as written",
      });
    }
    return undefined;
  }
}
