/// <reference types="handlebars" />
/**
 * One pass over a parsed template, before it is compiled: refuse what cannot work (nested or
 * misused role blocks, unknown helpers, wrong helper arity), make helper arguments strict where a
 * missing variable is a mistake, and index every variable reference so runtime errors can name it.
 */
import { UserError } from "../errors.js";
import { HELPERS } from "./helpers.js";
import { isRole, ROLES } from "./messages.js";

type Node = hbs.AST.Node;
type Program = hbs.AST.Program;
type Path = hbs.AST.PathExpression;
type Call = hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression;

/** A variable reference in the template. */
export interface PathInfo {
  /** As written, e.g. `a.b` or `@root.question`. */
  original: string;
  parts: string[];
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The enclosing `{{#each …}}`/`{{#with …}}`, as written, when the name is looked up on an item. */
  scope?: string;
}

/** What the engine needs to know about a template after the pass. */
export interface TemplateAnalysis {
  /** Variable references by `line:column` as Handlebars reports them (1-based line, 0-based column). */
  paths: Map<string, PathInfo>;
  /** Partials named literally (`{{> shots/block}}`), to check they exist when the template loads. */
  partials: Array<{ name: string; line: number; column: number }>;
}

/** Handlebars' own helpers; each and with are the ones that change what names refer to. */
const BUILTIN_HELPERS = ["if", "unless", "each", "with", "lookup", "log"];
const SCOPING_HELPERS = new Set(["each", "with"]);
const STRICT_ARG_HELPERS = new Set([
  "each",
  "with",
  ...Object.entries(HELPERS)
    .filter(([, spec]) => spec.strictArgs)
    .map(([name]) => name),
]);

/** Every helper name a template may call. */
export const KNOWN_HELPERS: readonly string[] = [...BUILTIN_HELPERS, ...Object.keys(HELPERS), ...ROLES];

interface Scope {
  role?: string;
  scope?: string;
}

/** Checks and annotates a parsed template in place; throws a UserError("template-syntax") on misuse. */
export function analyzeTemplate(ast: Program, file: string, source: string): TemplateAnalysis {
  const analysis: TemplateAnalysis = { paths: new Map(), partials: [] };
  const lines = source.split("\n");

  const fail = (node: Node, message: string, hint?: string): never => {
    throw new UserError({
      code: "template-syntax",
      message,
      location: { file, line: node.loc.start.line, column: node.loc.start.column + 1 },
      hint,
    });
  };

  /** The opening tag of a block as written, e.g. `{{#each shots}}`, for hints. */
  const openingTag = (node: Node): string | undefined => {
    const rest = (lines[node.loc.start.line - 1] ?? "").slice(node.loc.start.column);
    return /^\{\{~?#[^}]*\}\}/.exec(rest)?.[0];
  };

  const record = (path: Path, scope: Scope) => {
    if (path.parts.length === 0) return;
    analysis.paths.set(`${path.loc.start.line}:${path.loc.start.column}`, {
      original: path.original,
      parts: path.parts,
      line: path.loc.start.line,
      column: path.loc.start.column + 1,
      scope: path.data ? undefined : scope.scope,
    });
  };

  const expression = (node: hbs.AST.Expression, scope: Scope, strict: boolean) => {
    if (node.type === "PathExpression") {
      const path = node as Path;
      record(path, scope);
      // Handlebars' strict mode checks only what is printed; helper arguments are looked up
      // leniently. Flagging the node is how its compiler marks printed paths, so reuse it.
      if (strict && path.parts.length > 0) (path as Path & { strict?: boolean }).strict = true;
    } else if (node.type === "SubExpression") {
      call(node as hbs.AST.SubExpression, scope);
    }
  };

  const callee = (node: Call): string | undefined => {
    const path = node.path as Path;
    if (path.type !== "PathExpression" || path.data || path.parts.length !== 1) return undefined;
    if (/^\.|this\b/.test(path.original)) return undefined;
    return path.parts[0];
  };

  const call = (node: Call, scope: Scope) => {
    const name = callee(node);
    const argCount = node.params.length;
    const hashPairs = node.hash?.pairs ?? [];
    const isHelperCall = argCount > 0 || hashPairs.length > 0;
    if (name !== undefined && isHelperCall && !KNOWN_HELPERS.includes(name)) {
      fail(node, `unknown helper "${name}"`, `available helpers: ${KNOWN_HELPERS.join(", ")}`);
    }
    const spec = name !== undefined ? HELPERS[name] : undefined;
    // Helpers shadow variables of the same name, so a bare `{{upper}}` is a helper call too.
    if (spec && (argCount < spec.minArgs || argCount > spec.maxArgs)) {
      const wanted = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : `${spec.minArgs} to ${spec.maxArgs}`;
      const hint =
        argCount === 0
          ? `to print a variable named "${name}", write {{this.${name}}}`
          : `usage: ${spec.usage}`;
      fail(node, `helper "${name}" takes ${wanted} argument(s), got ${argCount}`, hint);
    }
    if (node.path.type === "PathExpression") record(node.path as Path, scope);
    else expression(node.path, scope, false);
    const strict = name !== undefined && STRICT_ARG_HELPERS.has(name);
    for (const param of node.params) expression(param, scope, strict);
    for (const pair of hashPairs) expression(pair.value, scope, strict);
  };

  const statement = (node: hbs.AST.Statement, scope: Scope) => {
    switch (node.type) {
      case "MustacheStatement":
      case "Decorator": {
        const mustache = node as hbs.AST.MustacheStatement;
        const name = callee(mustache);
        if (isRole(name)) {
          fail(
            mustache,
            `{{${name}}} is a role block; write {{#${name}}}…{{/${name}}}`,
            `to print a variable named "${name}", write {{this.${name}}}`,
          );
        }
        call(mustache, scope);
        return;
      }
      case "BlockStatement":
      case "DecoratorBlock": {
        const block = node as hbs.AST.BlockStatement;
        const name = callee(block);
        if (isRole(name)) {
          if (scope.role) {
            fail(
              block,
              `{{#${name}}} is nested inside {{#${scope.role}}}; role blocks cannot be nested`,
              `close {{/${scope.role}}} before opening {{#${name}}}`,
            );
          }
          if (block.params.length > 0 || (block.hash?.pairs.length ?? 0) > 0) {
            fail(block, `role block {{#${name}}} takes no arguments`, `write {{#${name}}}…{{/${name}}}`);
          }
          if (block.inverse) {
            fail(block, `role block {{#${name}}} cannot have an {{else}}`, "wrap it in {{#if …}} instead");
          }
          program(block.program, { ...scope, role: name });
          return;
        }
        call(block, scope);
        const inner =
          name !== undefined && SCOPING_HELPERS.has(name) ? { ...scope, scope: openingTag(block) } : scope;
        if (block.program) program(block.program, inner);
        if (block.inverse) program(block.inverse, scope);
        return;
      }
      case "PartialStatement":
      case "PartialBlockStatement": {
        const partial = node as hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement;
        const partialName = partial.name as hbs.AST.PathExpression | hbs.AST.SubExpression;
        if (partialName.type === "PathExpression") {
          const path = partialName as Path;
          // `{{#> name}}fallback{{/name}}` renders its fallback when the partial is missing.
          if (!path.data && partial.type === "PartialStatement") {
            analysis.partials.push({
              name: path.original,
              line: path.loc.start.line,
              column: path.loc.start.column + 1,
            });
          }
        } else if (partialName.type === "SubExpression") {
          call(partialName as hbs.AST.SubExpression, scope);
        }
        for (const param of partial.params) expression(param, scope, true);
        for (const pair of partial.hash?.pairs ?? []) expression(pair.value, scope, true);
        if (partial.type === "PartialBlockStatement") {
          program((partial as hbs.AST.PartialBlockStatement).program, scope);
        }
        return;
      }
      default:
        return;
    }
  };

  const program = (node: Program, scope: Scope) => {
    for (const child of node.body) statement(child, scope);
  };

  program(ast, {});
  return analysis;
}
