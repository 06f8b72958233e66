import { type Command, Option } from "commander";
import { UserError } from "../errors.js";

/** A command-line flag, declared once here and attached to commands by name. */
interface FlagSpec<T> {
  flags: string;
  description: string;
  parse?: (value: string, previous: T | undefined) => T;
  defaultValue?: T;
}

const flag = <T>(spec: FlagSpec<T>) => spec;

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new UserError({
        code: "usage",
        field: name,
        message: `expected a whole number of 1 or more, received "${value}"`,
        hint: `for example ${name} 8`,
      });
    }
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function keyValue(name: string) {
  return (value: string, previous: Record<string, string> | undefined): Record<string, string> => {
    const at = value.indexOf("=");
    if (at <= 0) {
      throw new UserError({
        code: "usage",
        field: name,
        message: `expected key=value, received "${value}"`,
        hint: `for example ${name} question="What is 2+2?"`,
      });
    }
    return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
  };
}

/**
 * Every flag of every command. Commands pick theirs by key, so each flag has one spelling and one parser.
 * Keys are the attribute names commander derives from the long flag (`--filter-prompt` → filterPrompt).
 */
export const flags = {
  config: flag<string>({
    flags: "-c, --config <path>",
    description: "config file or directory (default: ./promptsmith.yaml)",
  }),
  output: flag<string[]>({
    flags: "-o, --output <file>",
    description: "write results to a file (.json, or .jsonl for one case per line); repeatable",
    parse: collect,
  }),
  concurrency: flag<number>({
    flags: "-j, --concurrency <n>",
    description: "calls in flight at once",
    parse: positiveInt("--concurrency"),
    defaultValue: 8,
  }),
  limit: flag<number>({
    flags: "--limit <n>",
    description: "only the first n cases",
    parse: positiveInt("--limit"),
  }),
  filterPrompt: flag<string[]>({
    flags: "--filter-prompt <id>",
    description: "only prompts with this id (globs with * allowed); repeatable",
    parse: collect,
  }),
  filterProvider: flag<string[]>({
    flags: "--filter-provider <id>",
    description: "only providers with this id or label (globs with * allowed); repeatable",
    parse: collect,
  }),
  json: flag<boolean>({
    flags: "--json",
    description: "print machine-readable JSON on stdout instead of the report",
  }),
  case: flag<string>({ flags: "--case <id>", description: "the case to render (default: the first)" }),
  prompt: flag<string[]>({
    flags: "--prompt <id>",
    description: "the prompt to render (default: all); repeatable",
    parse: collect,
  }),
  var: flag<Record<string, string>>({
    flags: "--var <key=value>",
    description: "a template variable; repeatable",
    parse: keyValue("--var"),
  }),
  provider: flag<string>({
    flags: "--provider <id>",
    description: "provider id, e.g. openai:gpt-4o-mini or echo (default: the default provider)",
  }),
  param: flag<Record<string, string>>({
    flags: "--param <key=value>",
    description: "a generation parameter such as temperature=0 (JSON values are parsed); repeatable",
    parse: keyValue("--param"),
  }),
  force: flag<boolean>({ flags: "--force", description: "overwrite existing files" }),
} as const;

/** The typed values of the flags named by K. */
export type FlagValues<K extends keyof typeof flags> = {
  [P in K]?: (typeof flags)[P] extends FlagSpec<infer T> ? T : never;
};

/** Attaches the named flags to a command. */
export function addFlags(command: Command, names: (keyof typeof flags)[]): Command {
  for (const name of names) {
    const spec = flags[name] as FlagSpec<unknown>;
    const option = new Option(spec.flags, spec.description);
    if (spec.parse) option.argParser(spec.parse as (value: string, previous: unknown) => unknown);
    if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
    command.addOption(option);
  }
  return command;
}
