import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { checkOptionKeys, readBoolean, type ScorerContext, scorerError } from "./options.js";
import { quote, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

/** A JSON value found in an output, and the text it was read from. */
export interface FoundJson {
  value: unknown;
  text: string;
}

// An output of megabytes with a brace on every line would otherwise try a parse at each one.
const MAX_CANDIDATES = 200;

const FENCE = /```[ \t]*(?:json5?|JSON)?[ \t]*\r?\n([\s\S]*?)\r?\n?```/g;

function parse(text: string): FoundJson | undefined {
  try {
    return { value: JSON.parse(text), text: text.trim() };
  } catch {
    return undefined;
  }
}

/** The end of the bracketed value starting at `start` (`{` or `[`), strings respected; -1 when it never closes. */
function closingIndex(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") stack.push(ch === "{" ? "}" : "]");
    else if (ch === "}" || ch === "]") {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/**
 * The JSON values in a text, in the order a reader would trust them: the whole text; else the
 * fenced code blocks (```json … ```) that parse; then, with `anywhere`, each outermost `{…}` or
 * `[…]` in the text that parses.
 */
export function findJson(text: string, options: { anywhere?: boolean } = {}): FoundJson[] {
  const whole = parse(text);
  if (whole) return [whole];
  const found: FoundJson[] = [];
  for (const match of text.matchAll(FENCE)) {
    const inner = parse(match[1]);
    if (inner) found.push(inner);
  }
  if (!options.anywhere) return found;
  let tried = 0;
  for (let i = 0; i < text.length && tried < MAX_CANDIDATES; i++) {
    if (text[i] !== "{" && text[i] !== "[") continue;
    const end = closingIndex(text, i);
    if (end < 0) continue;
    tried++;
    const candidate = parse(text.slice(i, end + 1));
    if (candidate) {
      if (!found.some((f) => f.text === candidate.text)) found.push(candidate);
      i = end;
    }
  }
  return found;
}

/** One step of a field path: an object key or an array index. */
type PathStep = string | number;

/**
 * Reads a field path: `$.a.b[0]`, `a.b[0].c`, `items[2]["odd key"]`, `$` for the whole value.
 * Null when it is not one.
 * (JSONPath's filters and wildcards are not supported: a check names one field.)
 */
export function parseFieldPath(path: string): PathStep[] | null {
  let rest = path.trim();
  const rooted = rest.startsWith("$");
  if (rooted) rest = rest.slice(1);
  const steps: PathStep[] = [];
  while (rest.length > 0) {
    // A bare name may start an unrooted path (`a.b`); every later name needs its dot.
    const name = steps.length === 0 && !rooted ? /^\.?([A-Za-z_][\w-]*)/ : /^\.([A-Za-z_][\w-]*)/;
    const named = name.exec(rest);
    const indexed = named ? null : /^\[(\d+)\]/.exec(rest);
    const quoted = named || indexed ? null : /^\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\]/.exec(rest);
    const match = named ?? indexed ?? quoted;
    if (!match) return null;
    if (named) steps.push(named[1]);
    else if (indexed) steps.push(Number(indexed[1]));
    else steps.push((match[1] ?? match[2]).replace(/\\(.)/g, "$1"));
    rest = rest.slice(match[0].length);
  }
  return steps.length > 0 || rooted ? steps : null;
}

function readField(value: unknown, steps: PathStep[]): { found: boolean; value?: unknown } {
  let at: unknown = value;
  for (const step of steps) {
    if (typeof step === "number") {
      if (!Array.isArray(at) || step >= at.length) return { found: false };
      at = at[step];
    } else {
      if (typeof at !== "object" || at === null || Array.isArray(at) || !Object.hasOwn(at, step))
        return { found: false };
      at = (at as Record<string, unknown>)[step];
    }
  }
  return { found: true, value: at };
}

/** JSON text with object keys sorted, so that equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

type Validate = ((value: unknown) => boolean) & {
  errors?:
    | { instancePath: string; keyword: string; message?: string; params?: Record<string, unknown> }[]
    | null;
};

/** Compiles a JSON Schema with ajv (loaded now, not at start-up), choosing the draft its `$schema` names. */
async function compileSchema(schema: unknown, context: ScorerContext, where: string): Promise<Validate> {
  const draft =
    typeof schema === "object" && schema !== null
      ? String((schema as { $schema?: unknown }).$schema ?? "")
      : "";
  const module = draft.includes("2020-12")
    ? await import("ajv/dist/2020.js")
    : draft.includes("2019-09")
      ? await import("ajv/dist/2019.js")
      : await import("ajv");
  // ajv is CommonJS: its class is the default export (also under the bundle, see bundle-cli.mjs).
  const Ajv = module.default as unknown as new (options: object) => { compile(schema: unknown): Validate };
  try {
    // strict: false lets schemas written for other validators (unknown keywords, formats) load;
    // `format` is not checked (no ajv-formats), and says nothing rather than fail every output.
    return new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false }).compile(schema);
  } catch (error) {
    throw scorerError(
      context,
      `json scorer: the schema ${where} is not a valid JSON Schema: ${(error as Error).message}`,
      "check it against https://json-schema.org; ajv compiles drafts 07, 2019-09 and 2020-12",
      "schema",
      error,
    );
  }
}

async function loadSchema(raw: unknown, context: ScorerContext): Promise<{ schema: unknown; where: string }> {
  if (typeof raw !== "string") return { schema: raw, where: "given inline" };
  const file = resolve(context.baseDir, raw.startsWith("file://") ? raw.slice("file://".length) : raw);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw scorerError(
      context,
      `json scorer: cannot read the schema file ${file}: ${(error as Error).message}`,
      `schema: is a path relative to ${context.baseDir}, or the schema itself as a mapping`,
      "schema",
      error,
    );
  }
  try {
    return { schema: JSON.parse(text), where: `in ${file}` };
  } catch (error) {
    throw scorerError(
      context,
      `json scorer: the schema file ${file} is not JSON: ${(error as Error).message}`,
      "write the schema as JSON, or inline in the config as a mapping",
      "schema",
      error,
    );
  }
}

function describeSchemaError(validate: Validate): string {
  const errors = validate.errors ?? [];
  const [first] = errors;
  if (!first) return "does not match the schema";
  const at = first.instancePath === "" ? "the top level" : first.instancePath;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${at} ${first.message ?? "is invalid"} (keyword ${first.keyword})${more}`;
}

/**
 * `json`: the output is JSON, or holds it in a fenced code block (`strict: true`: the whole output
 * and nothing else, as promptfoo's is-json; `contains: true`: anywhere in the text, as
 * contains-json). Optionally `schema` (a JSON Schema, inline or a .json file) checked with ajv, the
 * reason naming the failing path and keyword, and `fields` (`{ "$.user.name": "Ada" }`): each field
 * must equal the value given. The first JSON value that passes every check counts.
 */
export async function createJsonScorer(spec: ScorerSpec, context: ScorerContext): Promise<Scorer> {
  checkOptionKeys(spec, ["schema", "fields", "strict", "contains"], context);
  const strict = readBoolean(spec, "strict", context, false);
  const anywhere = readBoolean(spec, "contains", context, false);
  if (strict && anywhere) {
    throw scorerError(
      context,
      "json scorer: strict and contains exclude each other",
      "strict: true wants the whole output to be JSON; contains: true accepts JSON anywhere in it",
      "contains",
    );
  }
  let validate: Validate | undefined;
  if (spec.schema !== undefined) {
    const { schema, where } = await loadSchema(spec.schema, context);
    validate = await compileSchema(schema, context, where);
  }
  const fields: { path: string; steps: PathStep[]; value: unknown }[] = [];
  if (spec.fields !== undefined) {
    if (typeof spec.fields !== "object" || spec.fields === null || Array.isArray(spec.fields)) {
      throw scorerError(
        context,
        "json scorer: fields must map field paths to values",
        'write e.g. fields: { "$.status": "ok", "items[0].id": 7 }',
        "fields",
      );
    }
    for (const [path, value] of Object.entries(spec.fields)) {
      const steps = parseFieldPath(path);
      if (!steps) {
        throw scorerError(
          context,
          `json scorer: ${JSON.stringify(path)} is not a field path`,
          'write $.a.b[0], a.b[0].c or a["odd key"]',
          "fields",
        );
      }
      fields.push({ path, steps, value });
    }
  }

  const where = strict ? "the output" : anywhere ? "the output" : "the output or a fenced code block";
  return ({ output }) => {
    // An empty output is plainly no JSON, so `not-is-json` passes on it as promptfoo's does.
    if (output.trim() === "") return verdict(false, null, "output is empty: no JSON");
    const candidates = strict
      ? [parse(output)].filter((f): f is FoundJson => f !== undefined)
      : findJson(output, { anywhere });
    if (candidates.length === 0) {
      let detail = "";
      try {
        JSON.parse(output);
      } catch (error) {
        detail = `: ${(error as Error).message}`;
      }
      return verdict(false, null, `no valid JSON in ${where}${strict ? detail : ""}`);
    }
    let firstProblem: string | undefined;
    for (const found of candidates) {
      if (validate && !validate(found.value)) {
        firstProblem ??= `JSON does not match the schema: ${describeSchemaError(validate)}`;
        continue;
      }
      const wrong = fields.find((field) => {
        const read = readField(found.value, field.steps);
        if (!read.found) {
          firstProblem ??= `field ${field.path} is missing`;
          return true;
        }
        if (canonical(read.value) !== canonical(field.value)) {
          firstProblem ??= `field ${field.path} is ${quote(JSON.stringify(read.value), 40)}, expected ${quote(JSON.stringify(field.value), 40)}`;
          return true;
        }
        return false;
      });
      if (wrong) continue;
      const checks = [
        validate ? "matches the schema" : "",
        fields.length > 0 ? `${fields.length} field${fields.length === 1 ? "" : "s"} equal` : "",
      ]
        .filter(Boolean)
        .join(", ");
      return verdict(true, found.text, `valid JSON${checks ? `; ${checks}` : ""}`);
    }
    const tried = candidates.length > 1 ? ` (${candidates.length} JSON values found, none passed)` : "";
    return verdict(false, candidates[0].text, `${firstProblem}${tried}`);
  };
}
