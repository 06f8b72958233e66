import { UserError } from "../errors.js";
import type { ScorerMessage, ScorerSpec } from "./types.js";

/** A compiled template as a judge renders its rubric (the templates room's, handed in by the runner). */
export interface ScorerTemplate {
  render(vars: Record<string, unknown>, options?: { caseId?: string }): ScorerMessage[];
}

/** Compiles a rubric template; `file` names it in errors. */
export type CompileTemplate = (source: string, file: string) => ScorerTemplate;

/** Where a scorer spec sits, so an option error can point at it, and what a factory may use. */
export interface ScorerContext {
  /** Directory that relative paths in options (the js scorer's `path`) resolve against. */
  baseDir: string;
  /** The spec's path inside the config, e.g. `scorers[1]`. */
  field: string;
  /** The config file, when known. */
  file?: string;
  /** Compiles judge rubrics written as templates; without it a rubric is used as plain text. */
  compile?: CompileTemplate;
  /** The seed judges ask with (default 0), so a verdict is repeatable. */
  seed?: number;
}

/** A `scorer-invalid` UserError pointing at the spec (or one of its options). */
export function scorerError(
  context: ScorerContext,
  message: string,
  hint: string,
  key?: string,
  cause?: unknown,
): UserError {
  return new UserError({
    code: "scorer-invalid",
    message,
    hint,
    field: key === undefined ? context.field : `${context.field}.${key}`,
    location: context.file === undefined ? undefined : { file: context.file },
    cause,
  });
}

/** Rejects option keys a scorer does not know, so a typo such as `tolerence` is not silently ignored. */
export function checkOptionKeys(spec: ScorerSpec, known: readonly string[], context: ScorerContext): void {
  for (const key of Object.keys(spec)) {
    if (key === "type" || known.includes(key)) continue;
    const hint =
      known.length === 0
        ? `the ${spec.type} scorer takes no options; remove "${key}"`
        : `the ${spec.type} scorer's options are: ${known.join(", ")}`;
    throw scorerError(context, `${spec.type} scorer has no option "${key}"`, hint, key);
  }
}

function received(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : String(value);
}

/** Reads an optional number option within [min, max]; `fallback` when absent. */
export function readNumber(
  spec: ScorerSpec,
  key: string,
  context: ScorerContext,
  limits: { fallback: number; min?: number; max?: number },
): number;
export function readNumber(
  spec: ScorerSpec,
  key: string,
  context: ScorerContext,
  limits: { fallback?: undefined; min?: number; max?: number },
): number | undefined;
export function readNumber(
  spec: ScorerSpec,
  key: string,
  context: ScorerContext,
  limits: { fallback?: number; min?: number; max?: number },
): number | undefined {
  const value = spec[key];
  if (value === undefined) return limits.fallback;
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = limits;
  if (typeof value === "number" && Number.isFinite(value) && value >= min && value <= max) return value;
  const range =
    min > Number.NEGATIVE_INFINITY && max < Number.POSITIVE_INFINITY
      ? `a number from ${min} to ${max}`
      : min > Number.NEGATIVE_INFINITY
        ? `a number of at least ${min}`
        : "a number";
  const hint =
    typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))
      ? `write ${value.trim()}, not ${JSON.stringify(value)}`
      : `write e.g. ${key}: ${limits.fallback ?? (Number.isFinite(min) ? Math.max(min, 0) : 0)}`;
  throw scorerError(
    context,
    `${spec.type} scorer: expected ${range}, received ${received(value)}`,
    hint,
    key,
  );
}

/** Reads an optional boolean option. */
export function readBoolean(
  spec: ScorerSpec,
  key: string,
  context: ScorerContext,
  fallback: boolean,
): boolean {
  const value = spec[key];
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  const hint =
    value === "true" || value === "false"
      ? `write ${value}, not "${value}"`
      : `write ${key}: true or ${key}: false`;
  throw scorerError(
    context,
    `${spec.type} scorer: expected true or false, received ${received(value)}`,
    hint,
    key,
  );
}

/** Reads a string option; throws when it is required and missing, or not a non-empty string. */
export function readString(spec: ScorerSpec, key: string, context: ScorerContext, required: true): string;
export function readString(
  spec: ScorerSpec,
  key: string,
  context: ScorerContext,
  required: false,
): string | undefined;
export function readString(
  spec: ScorerSpec,
  key: string,
  context: ScorerContext,
  required: boolean,
): string | undefined {
  const value = spec[key];
  if (value === undefined && !required) return undefined;
  if (typeof value === "string" && value !== "") return value;
  const message =
    value === undefined
      ? `${spec.type} scorer needs the option "${key}"`
      : `${spec.type} scorer: expected a non-empty string, received ${received(value)}`;
  throw scorerError(context, message, `add ${key}: <text> to the scorer`, key);
}
