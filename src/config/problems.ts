import type * as z from "zod";
import { UserError, type UserErrorCode } from "../errors.js";
import { didYouMean } from "./did-you-mean.js";
import { type AnySchema, allowedKeysAt } from "./schema-walk.js";
import { type ConfigPath, type ConfigSource, formatConfigPath } from "./source.js";

/** One thing wrong with a config, before it is given a location. */
export interface Problem {
  /** Default "config-invalid". */
  code?: UserErrorCode;
  path: ConfigPath;
  message: string;
  hint?: string;
  /** Point at the key of the entry rather than its value (unknown keys). */
  atKey?: boolean;
}

/** Collects every problem of one config so they can be reported together. */
export interface ProblemCollector {
  add(problem: Problem): void;
  /**
   * Marks a part of the config as already explained by a more specific problem: schema issues
   * inside it are dropped, so call this before `addIssues`.
   */
  claim(path: ConfigPath): void;
  /** Adds zod issues from validating the value at `at` with `schema`. */
  addIssues(issues: readonly z.core.$ZodIssue[], schema: AnySchema, at?: ConfigPath): void;
  readonly count: number;
  /**
   * One UserError for all problems, ordered by position: the first problem with the others as
   * `related`. Its code is the problems' common code, else "config-invalid".
   */
  toError(): UserError | undefined;
}

// Keys people write from habit or from other tools, and the key this format uses instead.
const KEY_ALIASES: Record<string, string> = {
  provider: "providers",
  model: "providers",
  models: "providers",
  prompt: "prompts",
  templates: "prompts",
  dataset: "tests",
  data: "tests",
  cases: "tests",
  file: "path",
  scorers: "scorer",
  metric: "scorer",
  metrics: "scorer",
  assert: "scorer",
  base_url: "baseURL",
  baseUrl: "baseURL",
  api_key_env: "apiKeyEnv",
  timeout: "timeoutMs",
  retries: "maxRetries",
  max_retries: "maxRetries",
  examples: "shots",
  source: "from",
  strategy: "select",
  selection: "select",
  n: "samples",
  retrieval: "context",
  rag: "context",
  runs: "runsDir",
  runs_dir: "runsDir",
};

const EXPECTED_NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  null: "null",
};

/** What a value is, for "received …": strings quoted, containers by kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (typeof value === "string") {
    const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(text);
  }
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "an object";
  return String(value);
}

/** "a", "a or b", "a, b or c". */
export function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** A hint for a misspelled or foreign key: the likely intended key, else the allowed ones. */
export function unknownKeyHint(key: string, allowed: readonly string[]): string {
  const alias = KEY_ALIASES[key];
  const guess = alias && allowed.includes(alias) ? alias : didYouMean(key, allowed);
  const list = allowed.length > 0 ? `allowed keys here: ${allowed.join(", ")}` : "no keys are allowed here";
  return guess ? `did you mean "${guess}"? (${list})` : list;
}

function nounFor(expected: string): string {
  return EXPECTED_NOUNS[expected] ?? expected;
}

/** Why a received value has the wrong type, and the likely fix. */
function typeHint(expected: string, input: unknown): string | undefined {
  if (input === null) return "give it a value, or remove the key";
  if ((expected === "number" || expected === "int") && typeof input === "string") {
    const trimmed = input.trim();
    if (trimmed !== "" && Number.isFinite(Number(trimmed)))
      return `write ${trimmed}, not ${JSON.stringify(input)}`;
  }
  if (expected === "int" && typeof input === "number") return `use a whole number, e.g. ${Math.round(input)}`;
  if (expected === "boolean" && typeof input === "string") {
    const lower = input.trim().toLowerCase();
    if (["true", "yes", "on"].includes(lower)) return `write true, not ${JSON.stringify(input)}`;
    if (["false", "no", "off"].includes(lower)) return `write false, not ${JSON.stringify(input)}`;
  }
  if (expected === "string" && (typeof input === "number" || typeof input === "boolean")) {
    return `quote it to make it a string: "${String(input)}"`;
  }
  if (expected === "array" && input !== undefined) return "write a list: one `- item` per line, or [a, b]";
  return undefined;
}

// Hints for required keys that users most often leave out.
const MISSING_KEY_HINTS: Record<string, string> = {
  prompts: "add `prompts:` with at least one template path, e.g. `- templates/zero-shot.hbs`",
  tests: "add `tests: path/to/cases.jsonl`",
  pattern: "add `pattern: '…'` with the regular expression (single quotes keep backslashes as written)",
  from: "add `from: path/to/examples.jsonl`",
  k: "add `k: <number of examples>`",
  path: "add `path: …` relative to the config's directory",
  id: 'add `id: openai:<model>`, "echo" or "local:<path.gguf>"',
  type: "add `type: …` naming the scorer, e.g. `type: exact`",
  corpus: "add `corpus: <directory of .md/.txt files>`, relative to the config's directory",
};

// What a value of a union-typed key may look like, for "expected a string or an object" problems.
const SHAPE_HINTS: Record<string, string> = {
  "": "a config is a mapping with keys such as `prompts:` and `tests:`",
  "providers[]": 'write "openai:<model>", "echo", "local:<path.gguf>", or an object with `id:`',
  "prompts[]": "write a template path, or an object with `template:` or `text:`",
  tests: "write the dataset path, or an object with `path:` (and `expected:`)",
  scorer: "write a scorer type (e.g. exact), an object with `type:` and its options, or a list of those",
  "scorer[]": "write a scorer type (e.g. exact), or an object with `type:` and its options",
};

const KIND_HINTS: Record<string, string> = {
  number: "write a number, e.g. 1",
  int: "write a whole number, e.g. 1",
  boolean: "write true or false",
  string: 'write text, in quotes if it could be read as something else: "…"',
  object: "write `key: value` pairs, indented below the key",
  array: "write a list: one `- item` per line, or [a, b]",
};

function shapeHint(path: ConfigPath): string | undefined {
  return SHAPE_HINTS[formatConfigPath(path).replace(/\[\d+\]/g, "[]")];
}

type Issue = z.core.$ZodIssue;

// A union branch "fails at the root on type" when the value is not even of that branch's kind.
function rootTypeMismatch(issues: readonly Issue[]): string[] | undefined {
  const expected: string[] = [];
  for (const issue of issues) {
    if (issue.path.length !== 0) return undefined;
    if (issue.code === "invalid_type") expected.push(issue.expected);
    else if (issue.code === "invalid_union") {
      const inner = unionMismatch(issue.errors);
      if (!inner) return undefined;
      expected.push(...inner);
    } else return undefined;
  }
  return expected.length > 0 ? expected : undefined;
}

// The kinds a union accepts, when the value matched none of them; undefined when some branch
// matched its kind and so has more specific issues to report.
function unionMismatch(branches: readonly (readonly Issue[])[]): string[] | undefined {
  const expected: string[] = [];
  for (const branch of branches) {
    const kinds = rootTypeMismatch(branch);
    if (!kinds) return undefined;
    for (const kind of kinds) if (!expected.includes(kind)) expected.push(kind);
  }
  return expected;
}

/** Turns zod issues into problems with "expected …, received …" messages and hints. */
export function problemsFromIssues(
  issues: readonly Issue[],
  schema: AnySchema,
  at: ConfigPath = [],
): Problem[] {
  const problems: Problem[] = [];
  const visit = (issue: Issue, base: ConfigPath): void => {
    const path = [
      ...base,
      ...issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment)),
    ];
    const key = path.length > 0 ? String(path[path.length - 1]) : "";
    switch (issue.code) {
      case "invalid_union": {
        const kinds = unionMismatch(issue.errors);
        if (kinds && issue.input === undefined && path.length > 0) {
          problems.push({
            path,
            message: `missing required key "${key}" (${joinOr(kinds.map(nounFor))})`,
            hint: MISSING_KEY_HINTS[key] ?? `add \`${key}: …\``,
          });
          return;
        }
        if (kinds) {
          problems.push({
            path,
            message: `expected ${joinOr(kinds.map(nounFor))}, received ${describeValue(issue.input)}`,
            hint: issue.input === null ? "give it a value, or remove the key" : shapeHint(path),
          });
          return;
        }
        // Report the branch whose kind the value has: its issues are the specific ones.
        const branch = issue.errors.find((errors) => !rootTypeMismatch(errors)) ?? [];
        for (const inner of branch) visit(inner, path);
        return;
      }
      case "invalid_type": {
        if (issue.input === undefined && path.length > 0) {
          problems.push({
            path,
            message: `missing required key "${key}" (${nounFor(issue.expected)})`,
            hint: MISSING_KEY_HINTS[key] ?? `add \`${key}: …\``,
          });
          return;
        }
        problems.push({
          path,
          message: `expected ${nounFor(issue.expected)}, received ${describeValue(issue.input)}`,
          hint: typeHint(issue.expected, issue.input) ?? shapeHint(path) ?? KIND_HINTS[issue.expected],
        });
        return;
      }
      case "unrecognized_keys": {
        const allowed = allowedKeysAt(schema, path.slice(at.length));
        for (const unknown of issue.keys) {
          problems.push({
            path: [...path, unknown],
            atKey: true,
            message: `unknown key "${unknown}"`,
            hint: unknownKeyHint(unknown, allowed),
          });
        }
        return;
      }
      case "too_small":
      case "too_big": {
        const small = issue.code === "too_small";
        const bound = Number(small ? issue.minimum : issue.maximum);
        const inclusive = issue.inclusive !== false;
        let expected: string;
        let hint: string | undefined;
        if (issue.origin === "array") {
          expected = small ? `at least ${bound} item${bound === 1 ? "" : "s"}` : `at most ${bound} items`;
          hint = small ? "add an entry" : undefined;
        } else if (issue.origin === "string") {
          expected =
            small && bound === 1
              ? "a non-empty string"
              : `a string of ${small ? "at least" : "at most"} ${bound} characters`;
        } else {
          const op = small ? (inclusive ? ">=" : ">") : inclusive ? "<=" : "<";
          expected = `a number ${op} ${bound}`;
          hint = `use a number ${op} ${bound}`;
        }
        problems.push({
          path,
          message: `expected ${expected}, received ${describeValue(issue.input)}`,
          hint,
        });
        return;
      }
      case "invalid_value": {
        const values = issue.values.map((value) => JSON.stringify(value));
        problems.push({
          path,
          message: `expected ${joinOr(values)}, received ${describeValue(issue.input)}`,
          hint: typeof issue.input === "string" ? hintFromGuess(issue.input, issue.values) : undefined,
        });
        return;
      }
      default: {
        const hint = issue.code === "custom" ? (issue.params?.hint as string | undefined) : undefined;
        problems.push({ path, message: issue.message, hint });
      }
    }
  };
  for (const issue of issues) visit(issue, at);
  return problems;
}

function hintFromGuess(input: string, values: readonly unknown[]): string | undefined {
  const guess = didYouMean(
    input,
    values.filter((value): value is string => typeof value === "string"),
  );
  return guess ? `did you mean "${guess}"?` : undefined;
}

/** A collector that places each problem in the source. */
export function createProblemCollector(source: ConfigSource): ProblemCollector {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const claimed: string[] = [];
  const isClaimed = (path: ConfigPath) => {
    const text = formatConfigPath(path);
    return claimed.some(
      (prefix) => text === prefix || text.startsWith(`${prefix}.`) || text.startsWith(`${prefix}[`),
    );
  };
  const add = (problem: Problem): void => {
    const key = `${formatConfigPath(problem.path)}\0${problem.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push(problem);
  };
  return {
    add,
    claim(path) {
      claimed.push(formatConfigPath(path));
    },
    addIssues(issues, schema, at = []) {
      for (const problem of problemsFromIssues(issues, schema, at))
        if (!isClaimed(problem.path)) add(problem);
    },
    get count() {
      return problems.length;
    },
    toError() {
      if (problems.length === 0) return undefined;
      const errors = problems.map((problem, index) => ({
        index,
        error: new UserError({
          code: problem.code ?? "config-invalid",
          message: problem.message,
          location: problem.atKey ? source.locateKey(problem.path) : source.locate(problem.path),
          field: formatConfigPath(problem.path) || undefined,
          hint: problem.hint,
        }),
      }));
      const rank = (n: number | undefined) => n ?? Number.MAX_SAFE_INTEGER;
      errors.sort(
        (a, b) =>
          rank(a.error.location?.line) - rank(b.error.location?.line) ||
          rank(a.error.location?.column) - rank(b.error.location?.column) ||
          a.index - b.index,
      );
      const [head, ...rest] = errors.map((entry) => entry.error);
      const codes = new Set(errors.map((entry) => entry.error.code));
      return new UserError({
        code: codes.size === 1 ? head.code : "config-invalid",
        message: head.message,
        location: head.location,
        field: head.field,
        hint: head.hint,
        related: rest,
      });
    },
  };
}
