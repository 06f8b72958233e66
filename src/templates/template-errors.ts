/**
 * Handlebars' exceptions, translated into located UserErrors. Handlebars reports positions in
 * three shapes (parser text, exception fields, plain TypeErrors); each is read here and nowhere else.
 */
import { UserError } from "../errors.js";
import type { PathInfo, TemplateAnalysis } from "./analyze.js";
import { HelperUsageError } from "./helpers.js";

/** Where Handlebars' lexer stood when a parse failed (read right after the failed, synchronous parse). */
export interface LexerPosition {
  /** 1-based. */
  line: number;
  /** 0-based. */
  column: number;
  /** The text of the token it choked on. */
  match: string;
}

/** Fields Handlebars' Exception adds to an Error. */
interface HandlebarsException extends Error {
  lineNumber?: number;
  column?: number;
}

const SYNTAX_HINT =
  "tags are {{name}}, blocks {{#name}}…{{/name}}, comments {{!-- … --}}; every {{ needs its }}";

/** A parse or compile failure as a UserError("template-syntax") located at the offending token. */
export function toSyntaxError(error: unknown, file: string, lexer?: LexerPosition): UserError {
  if (!(error instanceof Error))
    return new UserError({ code: "template-syntax", message: String(error), location: { file } });
  const text = error.message;

  const parse = /^Parse error on line (\d+):/.exec(text);
  if (parse) {
    const line = Number(parse[1]);
    const column = lexer && lexer.line === line ? lexer.column + 1 : undefined;
    const got = /got '([^']+)'\s*$/.exec(text)?.[1];
    const atEnd = got === "EOF";
    const unexpected = atEnd ? "end of template" : JSON.stringify(lexer?.match || got || "");
    return new UserError({
      code: "template-syntax",
      message: `template syntax error: unexpected ${unexpected}`,
      location: { file, line, column },
      hint: atEnd ? "a tag or a block is left open: close every {{#block}} with {{/block}}" : SYNTAX_HINT,
      cause: error,
    });
  }

  const lexical = /^Lexical error on line (\d+)/.exec(text);
  if (lexical) {
    const line = Number(lexical[1]);
    return new UserError({
      code: "template-syntax",
      message: "template syntax error: unrecognized text (an unclosed comment or tag?)",
      location: { file, line, column: lexer && lexer.line === line ? lexer.column + 1 : undefined },
      hint: SYNTAX_HINT,
      cause: error,
    });
  }

  // Errors raised while building the AST or compiling it, e.g. "each doesn't match if - 3:2".
  const located = error as HandlebarsException;
  const mismatch = /^(\S+) doesn't match (\S+)/.exec(text);
  return new UserError({
    code: "template-syntax",
    message: `template syntax error: ${text.replace(/ - \d+:\d+$/, "")}`,
    location: {
      file,
      line: typeof located.lineNumber === "number" ? located.lineNumber : undefined,
      column: typeof located.column === "number" ? located.column + 1 : undefined,
    },
    hint: mismatch ? `close {{#${mismatch[1]}}} with {{/${mismatch[1]}}}` : SYNTAX_HINT,
    cause: error,
  });
}

/** What a render failure is translated against. */
export interface RenderErrorContext {
  file: string;
  analysis: TemplateAnalysis;
  vars: Record<string, unknown>;
  caseId?: string;
  /** Names of the registered partials, for the hint of a missing one. */
  partials: readonly string[];
}

/**
 * A render failure as a UserError when it is the template's or the data's fault; otherwise the
 * original error comes back unchanged (it is a bug and should print its stack).
 */
export function toRenderError(error: unknown, context: RenderErrorContext): unknown {
  if (!(error instanceof Error)) return error;
  const suffix = context.caseId === undefined ? "" : ` (case ${context.caseId})`;

  if (error instanceof HelperUsageError) {
    return new UserError({
      code: "template-syntax",
      message: `${error.message}${suffix}`,
      location: error.loc
        ? { file: context.file, line: error.loc.line, column: error.loc.column + 1 }
        : { file: context.file },
      hint: error.hint,
      cause: error,
    });
  }

  // Strict mode: `"question" not defined in [object Object]`, located at the path.
  const strict = /^"([^"]*)" not defined in /.exec(error.message);
  if (strict) {
    const located = error as HandlebarsException;
    const line = typeof located.lineNumber === "number" ? located.lineNumber : undefined;
    const column = typeof located.column === "number" ? located.column : undefined;
    const info =
      line !== undefined && column !== undefined
        ? context.analysis.paths.get(`${line}:${column}`)
        : undefined;
    return missingVariable(info?.original ?? strict[1], info, context, suffix, error, {
      line,
      column: column === undefined ? undefined : column + 1,
    });
  }

  // Helper arguments are looked up leniently, so `{{#if a.b}}` with no `a` fails inside the
  // generated code as a TypeError. Find the reference that reads that name below another one.
  const deref = /^Cannot read properties of (?:undefined|null) \(reading '([^']*)'\)/.exec(error.message);
  if (error instanceof TypeError && deref) {
    const candidates = [...context.analysis.paths.values()].filter((path) =>
      path.parts.slice(1).includes(deref[1]),
    );
    // Prefer a top-level path that really breaks on these variables; item paths cannot be checked.
    const info =
      candidates.find((path) => !path.scope && breaksBefore(path, deref[1], context.vars)) ??
      candidates.find((path) => path.scope) ??
      candidates[0];
    if (info) return missingVariable(info.original, info, context, suffix, error, info);
  }

  const partial = /^The partial (.+) could not be found$/.exec(error.message);
  if (partial) {
    return new UserError({
      code: "template-not-found",
      message: `partial "${partial[1]}" not found${suffix}`,
      location: { file: context.file },
      hint: partialHint(context.partials),
      cause: error,
    });
  }

  return error;
}

/** Whether walking the path through vars hits undefined or null just before reading `name`. */
function breaksBefore(path: PathInfo, name: string, vars: Record<string, unknown>): boolean {
  const parts = path.original.startsWith("@root.") ? path.parts.slice(1) : path.parts;
  let value: unknown = vars;
  for (const part of parts) {
    if (value === undefined || value === null) return part === name;
    value = (value as Record<string, unknown>)[part];
  }
  return false;
}

function missingVariable(
  name: string,
  info: PathInfo | undefined,
  context: RenderErrorContext,
  suffix: string,
  cause: Error,
  at: { line?: number; column?: number },
): UserError {
  return new UserError({
    code: "template-missing-variable",
    message: `variable "${name}" is not defined${suffix}`,
    location: { file: context.file, line: at.line, column: at.column },
    hint: availableHint(context.vars, info),
    cause,
  });
}

const MAX_LISTED = 20;

function listNames(names: string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(", ");
  return names.length > MAX_LISTED ? `${shown}, … (${names.length - MAX_LISTED} more)` : shown;
}

/** One line: the top-level variables there are, and what a nested or per-item name was looked up on. */
function availableHint(vars: Record<string, unknown>, info: PathInfo | undefined): string {
  const names = Object.keys(vars);
  let hint =
    names.length > 0
      ? `available variables: ${listNames(names)}`
      : "no variables were given to this template";
  if (info?.scope) {
    hint += `; inside ${info.scope} names refer to the current item (write @root.name for a top-level variable)`;
  } else if (info && info.parts.length > 1) {
    const parentPath = info.parts.slice(0, -1);
    const parent = parentPath.reduce<unknown>(
      (value, key) =>
        value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined,
      vars,
    );
    if (parent !== null && typeof parent === "object" && !Array.isArray(parent)) {
      hint += `; "${parentPath.join(".")}" has: ${listNames(Object.keys(parent)) || "no fields"}`;
    }
  }
  return hint;
}

/** The hint for a partial that is not registered. */
export function partialHint(partials: readonly string[]): string {
  return partials.length > 0
    ? `registered partials: ${listNames([...partials])}`
    : "no partials are registered: put *.hbs files in templates/partials beside the config";
}
