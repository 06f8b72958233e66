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
  | "run-not-found"
  | "file-unwritable"
  | "snapshot-not-found"
  | "snapshot-invalid"
  | "cassette-not-found"
  | "cassette-invalid"
  | "replay-missing";

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

// What the operating system's refusal means to someone choosing where files go.
const FILE_REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  ENAMETOOLONG: "the name is too long",
};

/**
 * A failed write to a file the user chose or owns (results, the journal, the cache) as a located user
 * error, when the system refused it for a reason a person can fix; anything else is returned as it is.
 */
export function unwritableFileError(
  error: unknown,
  init: { file: string; what: string; field?: string; hint: string },
): unknown {
  const errno = error as NodeJS.ErrnoException | null;
  // mkdir -p meeting a file where a folder should be says EEXIST, not ENOTDIR.
  const code = errno?.code === "EEXIST" && errno.syscall === "mkdir" ? "ENOTDIR" : errno?.code;
  const reason = code === undefined ? undefined : FILE_REASONS[code];
  if (reason === undefined) return error;
  const where = (error as NodeJS.ErrnoException).path;
  return new UserError({
    code: "file-unwritable",
    location: { file: init.file },
    field: init.field,
    message: `cannot ${init.what}: ${reason}${where && where !== init.file ? ` (${where})` : ""}`,
    hint: init.hint,
    cause: error,
  });
}
