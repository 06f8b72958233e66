import { stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { checkOptionKeys, readNumber, readString, type ScorerContext, scorerError } from "./options.js";
import { cannotScore } from "./result.js";
import type { ScoreResult, Scorer, ScorerSpec } from "./types.js";

/** What a user scorer function is called with besides the output. */
export interface JsScorerContext {
  expected: unknown;
  vars: Record<string, unknown>;
}

/** The shape of a user scorer module's export. */
export type JsScorerFunction = (output: string, context: JsScorerContext) => unknown;

const MODULE_EXTENSIONS = new Set([".js", ".mjs", ".cjs"]);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns whatever the user function returned into a ScoreResult; anything unusable is a failed result. */
function toResult(value: unknown, file: string, threshold: number): ScoreResult {
  const label = `js scorer ${file}`;
  const passFail = (pass: boolean) => `${label}: ${pass ? "pass" : "fail"}`;
  if (typeof value === "boolean")
    return { pass: value, score: value ? 1 : 0, extracted: null, reason: passFail(value) };
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return cannotScore(`${label} returned ${value}, not a finite number`);
    const pass = value >= threshold;
    // Scores are averaged across cases and scorers, so they stay in [0, 1]; the reason keeps the raw value.
    const score = Math.min(1, Math.max(0, value));
    return {
      pass,
      score,
      extracted: null,
      reason: `${passFail(pass)} (score ${value}, threshold ${threshold})`,
    };
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const score =
      typeof object.score === "number" && Number.isFinite(object.score) ? object.score : undefined;
    if (typeof object.pass !== "boolean" && score === undefined) {
      return cannotScore(`${label} returned an object without a boolean "pass" or a numeric "score"`);
    }
    const pass = typeof object.pass === "boolean" ? object.pass : (score as number) >= threshold;
    const extracted =
      typeof object.extracted === "string" || typeof object.extracted === "number"
        ? String(object.extracted)
        : null;
    const result: ScoreResult = {
      pass,
      score: Math.min(1, Math.max(0, score ?? (pass ? 1 : 0))),
      extracted,
      reason:
        typeof object.reason === "string" && object.reason.trim() !== "" ? object.reason : passFail(pass),
    };
    if (object.unparsed === true) result.unparsed = true;
    return result;
  }
  const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
  return cannotScore(`${label} returned ${got}; expected a boolean, a number or { pass, score, reason }`);
}

/**
 * `js`: a user ES module at `path` (relative to the config) whose `export` (default "default") is
 * `(output, { expected, vars }) => boolean | number | { pass, score?, reason?, extracted? }`,
 * sync or async; or `code`, the body of such a function written in the config (an expression such
 * as `output.length < 100` is returned as it is), as promptfoo's `javascript` assertion. A number
 * passes when ≥ `threshold` (default 0.5). A throw is a failed result.
 */
export async function createJsScorer(spec: ScorerSpec, context: ScorerContext): Promise<Scorer> {
  checkOptionKeys(spec, ["path", "code", "export", "threshold"], context);
  const threshold = readNumber(spec, "threshold", context, { fallback: 0.5 });
  if (spec.code !== undefined) {
    if (spec.path !== undefined) {
      throw scorerError(
        context,
        "js scorer: give path or code, not both",
        "path: names a module; code: is the function body",
        "code",
      );
    }
    return createInlineScorer(readString(spec, "code", context, true), threshold, context);
  }
  const file = readString(spec, "path", context, true);
  const exportName = readString(spec, "export", context, false) ?? "default";
  const absolute = resolve(context.baseDir, file);

  if (!MODULE_EXTENSIONS.has(extname(absolute))) {
    throw scorerError(
      context,
      `js scorer ${file}: expected a .js or .mjs module`,
      "compile TypeScript scorers to JavaScript first, and point path at the .js/.mjs file",
      "path",
    );
  }
  const found = await stat(absolute).catch(() => null);
  if (!found?.isFile()) {
    throw scorerError(
      context,
      `js scorer file not found: ${file} (looked for ${absolute})`,
      `path is resolved against ${context.baseDir}`,
      "path",
    );
  }
  let module: Record<string, unknown>;
  try {
    // The file's modification time in the URL: an edited scorer is a new module (eval --watch
    // re-creates the scorers in one process, and Node keeps every module it imported).
    const url = `${pathToFileURL(absolute).href}?mtime=${found.mtimeMs}`;
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw scorerError(
      context,
      `js scorer ${file} could not be loaded: ${messageOf(error)}`,
      'the file must be an ES module (.mjs, or .js in a package whose package.json has "type": "module")',
      "path",
      error,
    );
  }
  const fn = module[exportName];
  if (typeof fn !== "function") {
    const names = Object.keys(module).filter((name) => typeof module[name] === "function");
    throw scorerError(
      context,
      `js scorer ${file} has no function export "${exportName}"`,
      names.length > 0
        ? `its function exports are: ${names.join(", ")}; set export: to one of them`
        : "export a function: export default (output, { expected, vars }) => output.includes(expected)",
      "export",
    );
  }

  const user = fn as JsScorerFunction;
  return async ({ output, expected, vars }) => {
    try {
      return toResult(await user(output, { expected, vars }), file, threshold);
    } catch (error) {
      return cannotScore(`js scorer ${file} threw: ${messageOf(error)}`);
    }
  };
}

/** An expression, or a function body with `return`, over `output` and `context`. */
function createInlineScorer(code: string, threshold: number, context: ScorerContext): Scorer {
  const body = /\breturn\b/.test(code) ? code : `return (${code.trim().replace(/;\s*$/, "")});`;
  let fn: (output: string, context: JsScorerContext) => unknown;
  try {
    // The config's own code, trusted as a js scorer's module is: it runs with the process's rights.
    fn = new Function("output", "context", body) as typeof fn;
  } catch (error) {
    throw scorerError(
      context,
      `js scorer: the code does not compile: ${messageOf(error)}`,
      "write an expression such as output.includes(context.vars.city), or a body with return",
      "code",
      error,
    );
  }
  const label = "inline code";
  return async ({ output, expected, vars }) => {
    try {
      return toResult(await fn(output, { expected, vars }), label, threshold);
    } catch (error) {
      return cannotScore(`js scorer ${label} threw: ${messageOf(error)}`);
    }
  };
}
