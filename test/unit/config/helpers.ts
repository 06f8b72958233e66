import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { parseConfig } from "../../../src/config/index.js";
import { isUserError, type UserError } from "../../../src/errors.js";

/** The repository root, so tests do not depend on the directory vitest was started from. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The config test fixtures: `basic` has templates, a partials folder and datasets to point at. */
export const FIXTURES = path.join(ROOT, "test/fixtures/config");
export const BASIC = path.join(FIXTURES, "basic");

/** The `tests:` line of a config in BASIC, and the training pool its shots come from. */
export const TESTS = "tests: fixtures/test.jsonl";
export const TRAIN = path.join(BASIC, "fixtures/train.jsonl");

/** The shot settings a config that gives only `from` and `k` gets (the suite seed is 1). */
export const SHOT_DEFAULTS = {
  select: "first",
  seed: 1,
  field: "question",
  label: "answer",
  as: "block",
  order: "as-is",
  draws: 1,
};

/** The variant ids of `k: [0, 1, 2, 4, 8]` × `select: [first, similar]` on prompt `p`, first axis slowest. */
export const K_BY_SELECT_IDS = [
  "p@k=0,select=first",
  "p@k=0,select=similar",
  "p@k=1,select=first",
  "p@k=1,select=similar",
  "p@k=2,select=first",
  "p@k=2,select=similar",
  "p@k=4,select=first",
  "p@k=4,select=similar",
  "p@k=8,select=first",
  "p@k=8,select=similar",
];

/** Parses a config as if it were BASIC/suite.yaml. */
export async function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(yaml, { file: "suite.yaml", baseDir: BASIC, env });
}

/** One problem, flattened for assertions. */
export interface FlatProblem {
  code: string;
  at: string;
  field?: string;
  message: string;
  hint?: string;
}

/** Awaits a promise that must reject with a UserError, and returns that error. */
export async function userErrorOf(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    if (isUserError(error)) return error;
    throw error;
  }
  expect.fail("expected a UserError, but the config loaded");
}

/** Flattens every problem of a UserError (itself, then related) to `file:line:col`, field, message, hint. */
export function flatten(error: UserError): FlatProblem[] {
  return error.all().map((problem) => ({
    code: problem.code,
    at: [problem.location?.file, problem.location?.line, problem.location?.column]
      .filter((p) => p !== undefined)
      .join(":"),
    field: problem.field,
    message: problem.message,
    hint: problem.hint,
  }));
}

/** Parses YAML text as `suite.yaml` in the `basic` fixture folder and returns its problems. */
export async function problemsOf(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<FlatProblem[]> {
  return flatten(await userErrorOf(parseConfig(yaml, { file: "suite.yaml", baseDir: BASIC, env })));
}

/** The one problem whose field is `field`. */
export function problemAt(problems: FlatProblem[], field: string): FlatProblem {
  const found = problems.filter((problem) => problem.field === field);
  expect(found, `problems at ${field} in ${JSON.stringify(problems, null, 2)}`).toHaveLength(1);
  return found[0];
}

/** Lines joined with newlines, so YAML in tests reads with its line numbers obvious. */
export function lines(...text: string[]): string {
  return `${text.join("\n")}\n`;
}
