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

function positiveNumber(name: string, example: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new UserError({
        code: "usage",
        field: name,
        message: `expected a number above 0, received "${value}"`,
        hint: `for example ${name} ${example}`,
      });
    }
    return n;
  };
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UserError({
      code: "usage",
      field: "--port",
      message: `expected a port number from 0 to 65535, received "${value}"`,
      hint: "for example --port 8080, or --port 0 for any free port",
    });
  }
  return n;
}

function shardValue(value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || index < 1 || count < 1 || index > count) {
    throw new UserError({
      code: "usage",
      field: "--shard",
      message: `expected i/n with 1 ≤ i ≤ n, received "${value}"`,
      hint: "for the second of four CI jobs write --shard 2/4",
    });
  }
  return { index, count };
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
    description:
      "write results (.json, or .jsonl for one case per line) or a report (by its extension) to a file; repeatable",
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
  filterCase: flag<string[]>({
    flags: "--filter-case <pattern>",
    description: "only cases with this id (globs with * allowed; --limit counts what is left); repeatable",
    parse: collect,
  }),
  watch: flag<boolean>({
    flags: "--watch",
    description:
      "run again whenever the config, a template, a partial or a data file changes, and print what changed",
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
  cache: flag<boolean>({ flags: "--no-cache", description: "neither read nor write the response cache" }),
  refreshCache: flag<boolean>({
    flags: "--refresh-cache",
    description: "call the model again even when the cache has an answer, and store the new one",
  }),
  resume: flag<string | boolean>({
    flags: "--resume [run-id]",
    description: "finish an interrupted run (default: the newest), running only the jobs it lacks",
  }),
  retryErrors: flag<boolean>({
    flags: "--retry-errors",
    description: "run again the jobs of a run (--resume's, else the newest) that ended in an error",
  }),
  maxErrors: flag<number>({
    flags: "--max-errors <n>",
    description: "stop after n failed calls, or when this share of calls failed (0.5 = half)",
    parse: positiveNumber("--max-errors", "20"),
  }),
  budget: flag<number>({
    flags: "--budget <usd>",
    description: "stop cleanly once the estimated spend reaches this many US dollars",
    parse: positiveNumber("--budget", "5"),
  }),
  shard: flag<{ index: number; count: number }>({
    flags: "--shard <i/n>",
    description: "run only the i-th of n slices of the cases (for CI matrices; see merge)",
    parse: shardValue,
  }),
  dryRun: flag<boolean>({
    flags: "--dry-run",
    description: "render every prompt and print requests, tokens and estimated cost; send nothing",
  }),
  batch: flag<boolean>({
    flags: "--batch",
    description: "send the calls through the OpenAI Batch API (half price, up to 24 h)",
  }),
  batchId: flag<string>({
    flags: "--batch-id <id>",
    description: "attach to a batch submitted earlier and score its results",
  }),
  port: flag<number>({
    flags: "--port <n>",
    description: "port to listen on (0: any free port)",
    parse: portNumber,
    defaultValue: 8080,
  }),
  host: flag<string>({
    flags: "--host <address>",
    description: "address to listen on (default 127.0.0.1: this machine only)",
  }),
  model: flag<string>({
    flags: "--model <model>",
    description: "a GGUF file or hf:<user>/<repo>/<file.gguf> (default: the built-in small model)",
  }),
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
