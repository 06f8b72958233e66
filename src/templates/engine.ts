/**
 * The prompt template engine: an isolated Handlebars instance that is strict (a missing variable is
 * an error) and never escapes (prompts are not HTML). This module exists to wrap handlebars.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, sep } from "node:path";
import type HandlebarsModule from "handlebars";
import { UserError } from "../errors.js";
import type { ChatMessage } from "../providers/types.js";
import { analyzeTemplate, type TemplateAnalysis } from "./analyze.js";
import { createRoleHelper, HELPERS, NONCE_KEY } from "./helpers.js";
import { ROLES, splitMessages } from "./messages.js";
import { type LexerPosition, partialHint, toRenderError, toSyntaxError } from "./template-errors.js";

/** Options of createPromptEngine. */
export interface PromptEngineOptions {
  /** Directory whose `*.hbs` files (recursively) become partials named by relative path: `shots/block`. */
  partialsDir?: string;
}

/** Options of PromptEngine.compile. */
export interface CompileOptions {
  /** The template's path, or `<inline:prompt-id>` for a template written in the config. */
  file: string;
}

/** Options of PromptTemplate.render. */
export interface RenderOptions {
  /** The case being rendered, named in error messages. */
  caseId?: string;
}

/** A compiled, syntax-checked template. */
export interface PromptTemplate {
  /** Where the template came from: a path or `<inline:prompt-id>`. */
  readonly file: string;
  /** Renders the template with a case's variables into chat messages. */
  render(vars: Record<string, unknown>, options?: RenderOptions): ChatMessage[];
}

/** Compiles prompt templates against one set of helpers and partials. */
export interface PromptEngine {
  /** Names of the registered partials, sorted. */
  readonly partials: readonly string[];
  /** Compiles and checks a template now; throws a UserError("template-syntax") on bad syntax. */
  compile(source: string, options: CompileOptions): PromptTemplate;
}

// The package's one-file build, same version and code: 12 ms to load against 41 ms for its entry
// point, which requires some 40 modules and source-map (for precompiling, which we never do).
const Handlebars: typeof HandlebarsModule = createRequire(import.meta.url)("handlebars/dist/handlebars.js");

type HandlebarsEnv = typeof Handlebars;
type TemplateFn = (context: unknown, options?: HandlebarsModule.RuntimeOptions) => string;

/** The stages Handlebars.compile runs lazily; untyped in its .d.ts but public on every instance. */
interface CompilerStages {
  Compiler: new () => { compile(ast: hbs.AST.Program, options: object): unknown };
  JavaScriptCompiler: new () => {
    compile(environment: unknown, options: object, context: undefined, asObject: true): unknown;
  };
  Parser: { lexer: { yylloc?: { first_line: number; first_column: number }; match?: string } };
}

/** One compiled file (a template or a partial), with what its errors are explained against. */
interface CompiledUnit {
  file: string;
  analysis: TemplateAnalysis;
  run: TemplateFn;
}

/** The innermost unit an error was thrown from, so a partial's errors point into the partial. */
const errorOrigin = new WeakMap<object, CompiledUnit>();

/** Creates an engine with its own Handlebars instance, the prompt helpers and the partials of partialsDir. */
export function createPromptEngine(options: PromptEngineOptions = {}): PromptEngine {
  const hb = Handlebars.create();
  for (const [name, spec] of Object.entries(HELPERS)) hb.registerHelper(name, spec.fn);
  for (const role of ROLES) hb.registerHelper(role, createRoleHelper(role));

  const partialFiles = options.partialsDir === undefined ? [] : listPartials(options.partialsDir);
  const partialUnits = partialFiles.map(({ name, path }) => {
    const unit = compileUnit(hb, readFileSync(path, "utf8"), path);
    const run: TemplateFn = (context, runtime) => {
      try {
        return unit.run(context, runtime);
      } catch (error) {
        if (error !== null && typeof error === "object" && !errorOrigin.has(error))
          errorOrigin.set(error, unit);
        throw error;
      }
    };
    hb.registerPartial(name, run as HandlebarsModule.TemplateDelegate);
    return unit;
  });
  const partials = partialFiles.map((partial) => partial.name);
  for (const unit of partialUnits) checkPartialsExist(unit, partials);

  return {
    partials,
    compile(source, { file }) {
      const unit = compileUnit(hb, source, file);
      checkPartialsExist(unit, partials);
      return {
        file,
        render(vars, renderOptions = {}) {
          // Fresh per render: the markers of one render mean nothing in another's output.
          const nonce = nextNonce();
          let text: string;
          try {
            text = unit.run(vars, { data: { [NONCE_KEY]: nonce } });
          } catch (error) {
            const origin = (error !== null && typeof error === "object" && errorOrigin.get(error)) || unit;
            throw toRenderError(error, {
              file: origin.file,
              analysis: origin.analysis,
              vars,
              caseId: renderOptions.caseId,
              partials,
            });
          }
          return splitMessages(text, nonce);
        },
      };
    },
  };
}

/** Parses, checks and compiles one file now, not on first render as Handlebars.compile would. */
function compileUnit(hb: HandlebarsEnv, source: string, file: string): CompiledUnit {
  const stages = hb as unknown as CompilerStages;
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(source);
  } catch (error) {
    // The parser is shared and synchronous: its lexer still holds the failing token's position.
    const lexer = stages.Parser.lexer;
    const position: LexerPosition | undefined = lexer.yylloc
      ? { line: lexer.yylloc.first_line, column: lexer.yylloc.first_column, match: lexer.match ?? "" }
      : undefined;
    throw toSyntaxError(error, file, position);
  }
  const analysis = analyzeTemplate(ast, file, source);
  // The same three steps as Handlebars.compile, run eagerly on the annotated AST (re-parsing the
  // source would drop the strict flags, and compile(ast) would strip whitespace a second time).
  const compileOptions = { strict: true, noEscape: true, data: true };
  let run: TemplateFn;
  try {
    const environment = new stages.Compiler().compile(ast, compileOptions);
    const spec = new stages.JavaScriptCompiler().compile(environment, compileOptions, undefined, true);
    run = hb.template(spec as TemplateSpecification) as TemplateFn;
  } catch (error) {
    throw toSyntaxError(error, file);
  }
  return { file, analysis, run };
}

function checkPartialsExist(unit: CompiledUnit, partials: readonly string[]): void {
  for (const reference of unit.analysis.partials) {
    if (!partials.includes(reference.name)) {
      throw new UserError({
        code: "template-not-found",
        message: `partial "${reference.name}" not found`,
        location: { file: unit.file, line: reference.line, column: reference.column },
        hint: partialHint(partials),
      });
    }
  }
}

/** Every `*.hbs` under dir, named by its relative path without extension, `/`-separated. */
function listPartials(dir: string): Array<{ name: string; path: string }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError({
      code: "template-not-found",
      message: "partials directory not found",
      location: { file: dir },
      hint: "create the directory or remove the partials setting",
    });
  }
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((relative) => relative.endsWith(".hbs") && statSync(join(dir, relative)).isFile())
    .sort()
    .map((relative) => ({
      name: relative.slice(0, -".hbs".length).split(sep).join("/"),
      path: join(dir, relative),
    }));
}

/**
 * A process-wide random prefix (never shown to a template's values) and a counter: unguessable and
 * different for every render, without asking the OS for random bytes on every render.
 */
const NONCE_PREFIX = randomBytes(12).toString("hex");
let nonceCounter = 0;
function nextNonce(): string {
  nonceCounter++;
  return `${NONCE_PREFIX}${nonceCounter.toString(16)}`;
}
