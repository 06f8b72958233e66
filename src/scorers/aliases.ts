import type { ScorerSpec } from "./types.js";

/**
 * promptfoo's assertion names that mean something else here, and how each is written natively.
 * The other promptfoo names (contains, icontains, regex, starts-with, similar, levenshtein, rouge-n,
 * bleu) are native scorer names with the same meaning; any of them may take a `not-` prefix.
 */
export const PROMPTFOO_ALIASES = {
  equals: "exact",
  "is-json": "json",
  "contains-json": "json",
  javascript: "js",
  "llm-rubric": "judge",
} as const;

/** Options every scorer takes, whatever its type. */
export const COMMON_OPTIONS = ["not", "name", "value"] as const;

/** A scorer spec as the registry builds it: the native spec and what the common options asked for. */
export interface ResolvedSpec {
  /** The native spec, common options removed. */
  spec: ScorerSpec;
  /** The type as written (`not-contains`, `llm-rubric`). */
  written: string;
  /** Pass ↔ fail, score 1 − score (`not: true` or a `not-` prefix). */
  negate: boolean;
  /** The name of the scorer's summary column: `name`, else the type as written. */
  name: string;
  /** What stands in for the case's expected answer: `value` (promptfoo's), with `{{var}}` filled in from the case. */
  expected?: unknown;
}

/** Strips the `not-` prefix; the base name and whether there was one. */
export function splitNegation(type: string): { base: string; negated: boolean } {
  return type.startsWith("not-") ? { base: type.slice(4), negated: true } : { base: type, negated: false };
}

/**
 * The name of a scorer's summary column, the one rule every part of promptsmith uses (the
 * summary's columns, `combine.weights` by name, `judge calibrate --scorer`, the dry run's rows):
 * its `name:`, else its type as written, with `not-` added for `not: true`.
 */
export function scorerColumnName(spec: { type: string; name?: unknown; not?: unknown }): string {
  if (typeof spec.name === "string" && spec.name !== "") return spec.name;
  return spec.not === true && !spec.type.startsWith("not-") ? `not-${spec.type}` : spec.type;
}

/** A written type as the scorer it builds: `not-` stripped, promptfoo's names mapped (`llm-rubric` → `judge`). */
export function nativeType(type: string): string {
  const { base } = splitNegation(type);
  return Object.hasOwn(PROMPTFOO_ALIASES, base)
    ? PROMPTFOO_ALIASES[base as keyof typeof PROMPTFOO_ALIASES]
    : base;
}

/** The scorers that ask a model for their verdict (`preference` also needs the baseline's answer). */
export const MODEL_GRADED: ReadonlySet<string> = new Set(["judge", "preference"]);

/** Whether a spec, however written (`llm-rubric`, `not-judge`), asks a model for its verdict. */
export function asksModel(spec: { type: string }): boolean {
  return MODEL_GRADED.has(nativeType(spec.type));
}

/** Whether a spec, however written, is negated (`not: true`, or a `not-` prefix). */
export function isNegated(spec: { type: string; not?: unknown }): boolean {
  return spec.not === true || splitNegation(spec.type).negated;
}

/**
 * Turns a spec as written (native or promptfoo-style) into the native spec and the common options.
 * `value` goes where the alias puts it: the pattern of a regex, the schema of is-json and
 * contains-json, the code of javascript, the rubric of llm-rubric, else the expected answer.
 * Options are not checked here; the factories check them.
 */
export function resolveSpec(written: ScorerSpec): ResolvedSpec {
  const { type, not, name, value, ...options } = written;
  const { base, negated } = splitNegation(type);
  const negate = negated || not === true;
  const resolved: ResolvedSpec = {
    spec: { type: base, ...options },
    written: type,
    negate,
    name: scorerColumnName(written),
  };
  const hasValue = value !== undefined;
  switch (base) {
    case "equals":
      // promptfoo compares the output as it is, blanks included.
      resolved.spec = { type: "exact", trim: false, ...options };
      break;
    case "is-json":
      resolved.spec = { type: "json", strict: true, ...options, ...(hasValue ? { schema: value } : {}) };
      return resolved;
    case "contains-json":
      resolved.spec = { type: "json", contains: true, ...options, ...(hasValue ? { schema: value } : {}) };
      return resolved;
    case "javascript": {
      const code = typeof value === "string" ? value : undefined;
      const file = code?.startsWith("file://") ? code.slice("file://".length) : undefined;
      resolved.spec = {
        type: "js",
        ...options,
        ...(file ? { path: file } : code !== undefined ? { code } : {}),
      };
      return resolved;
    }
    case "llm-rubric":
      resolved.spec = {
        type: "judge",
        scale: "pass-fail",
        ...options,
        ...(hasValue ? { rubric: value } : {}),
      };
      return resolved;
    case "regex":
      if (hasValue && options.pattern === undefined) {
        // promptfoo's regex passes when the pattern matches; the case's expected answer plays no part.
        resolved.spec = { type: "regex", ...options, pattern: value, match: true };
        return resolved;
      }
      break;
  }
  if (hasValue) resolved.expected = value;
  return resolved;
}

/** `{{ name }}` or `{{ a.b }}` in a promptfoo value, filled from the case's variables. */
const PLACEHOLDER = /\{\{\s*([\w$]+(?:\.[\w$]+)*)\s*\}\}/g;

/**
 * Fills `{{var}}` placeholders in a value (a string, or the strings of a list) from the case's
 * variables; a placeholder naming no variable is an error message instead of a value.
 */
export function fillValue(
  value: unknown,
  vars: Record<string, unknown>,
): { value: unknown } | { error: string } {
  if (Array.isArray(value)) {
    const filled: unknown[] = [];
    for (const item of value) {
      const one = fillValue(item, vars);
      if ("error" in one) return one;
      filled.push(one.value);
    }
    return { value: filled };
  }
  if (typeof value !== "string" || !value.includes("{{")) return { value };
  let missing: string | undefined;
  const text = value.replace(PLACEHOLDER, (whole, path: string) => {
    let at: unknown = vars;
    for (const key of path.split(".")) {
      at =
        typeof at === "object" && at !== null && Object.hasOwn(at, key)
          ? (at as Record<string, unknown>)[key]
          : undefined;
    }
    if (at === undefined || at === null) {
      missing ??= path;
      return whole;
    }
    return typeof at === "object" ? JSON.stringify(at) : String(at);
  });
  if (missing !== undefined)
    return { error: `value ${JSON.stringify(value)} names {{${missing}}}, which the case does not have` };
  return { value: text };
}
