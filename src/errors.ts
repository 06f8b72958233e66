/**
 * User errors: problems with the user's input (config, templates, data, flags, endpoint set-up).
 * They print as one located line plus a hint, without a stack, and exit with code 2.
 * Anything that is not a UserError is a bug in promptsmith and prints its stack.
 */

/** Every kind of user-facing error; each has a fixture under fixtures/invalid/<code>/. */
export type UserErrorCode =
  | "config-not-found"
  | "config-syntax"
  | "config-invalid"
  | "template-not-found"
  | "template-syntax"
  | "template-missing-variable"
  | "dataset-not-found"
  | "dataset-parse"
  | "dataset-invalid"
  | "scorer-invalid"
  | "provider-invalid"
  | "provider-auth"
  | "provider-unreachable"
  | "model-not-found"
  | "usage"
  | "case-not-found"
  | "prompt-not-found"
  | "run-not-found";

/** Where a problem is: a file, and the line and column in it when known (both 1-based). */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** The fields a UserError is made from. */
export interface UserErrorInit {
  code: UserErrorCode;
  message: string;
  location?: SourceLocation;
  /** The path of the field inside the file, e.g. `prompts[1].template`. */
  field?: string;
  /** What to do about it, one sentence. */
  hint?: string;
  /** Further problems found in the same pass (config validation reports every problem at once). */
  related?: UserError[];
  cause?: unknown;
}

/** A problem with the user's input; printed without a stack, exit code 2. */
export class UserError extends Error {
  readonly code: UserErrorCode;
  readonly location?: SourceLocation;
  readonly field?: string;
  readonly hint?: string;
  readonly related: UserError[];

  constructor(init: UserErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "UserError";
    this.code = init.code;
    this.location = init.location;
    this.field = init.field;
    this.hint = init.hint;
    this.related = init.related ?? [];
  }

  /** All problems this error stands for: itself first, then the related ones. */
  all(): UserError[] {
    return [this, ...this.related];
  }
}

export function isUserError(value: unknown): value is UserError {
  return value instanceof UserError;
}

/** `file:line:col` with whatever parts are known. */
export function formatLocation(location: SourceLocation): string {
  let text = location.file;
  if (location.line !== undefined) {
    text += `:${location.line}`;
    if (location.column !== undefined) text += `:${location.column}`;
  }
  return text;
}

/**
 * One problem as text: `suite.yaml:14:7 prompts[2].shots.k: expected a number, received "8"`
 * and, on the next line, `hint: write 8, not "8"`.
 */
export function formatUserError(error: UserError): string {
  const lines: string[] = [];
  for (const problem of error.all()) {
    const where = [problem.location ? formatLocation(problem.location) : "", problem.field ?? ""]
      .filter(Boolean)
      .join(" ");
    lines.push(where ? `${where}: ${problem.message}` : problem.message);
    if (problem.hint) lines.push(`  hint: ${problem.hint}`);
  }
  return lines.join("\n");
}
