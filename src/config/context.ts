import type { ProblemCollector } from "./problems.js";

/** What the normalizing steps share: where relative paths start, the environment, the problems found. */
export interface NormalizeContext {
  /** Absolute directory relative paths are resolved against. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  problems: ProblemCollector;
  /** One-line notes on defaults chosen for the person (a judge with no provider); printed by eval. */
  notes?: string[];
}

/** A plain object (not an array, not null): the guard normalizing uses on not-yet-validated input. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A string with at least one character. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}
