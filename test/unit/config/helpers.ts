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
