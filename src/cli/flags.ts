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

function share(name: string, example: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n >= 1) {
      throw new UserError({
        code: "usage",
        field: name,
        message: `expected a number between 0 and 1, received "${value}"`,
        hint: `for example ${name} ${example}`,
      });
    }
    return n;
  };
}

function wholeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < 0) {
      throw new UserError({
        code: "usage",
        field: name,
        message: `expected a whole number of 0 or more, received "${value}"`,
        hint: `for example ${name} 64`,
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

function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (value: string): T => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new UserError({
      code: "usage",
      field: name,
      message: `expected ${values.map((v) => `"${v}"`).join(" or ")}, received "${value}"`,
      hint: `for example ${name} ${values[0]}`,
    });
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
  repeat: flag<number>({
    flags: "--repeat <k>",
    description: "run every case k times (pass@k, pass^k, flaky cases; overrides the config's repeat:)",
    parse: positiveInt("--repeat"),
  }),
  failOnRegression: flag<boolean>({
    flags: "--fail-on-regression",
    description:
      "exit 1 when a variant is significantly worse than the baseline (or the --against run), or drops more than --max-drop",
  }),
  against: flag<string>({
    flags: "--against <results.json>",
    description: "with --fail-on-regression: compare each variant with the same variant of this earlier run",
  }),
  alpha: flag<number>({
    flags: "--alpha <level>",
    description: "level at which a loss counts as significant (default: the config's alpha:, else 0.05)",
    parse: share("--alpha", "0.05"),
  }),
  maxDrop: flag<number>({
    flags: "--max-drop <points>",
    description: "with --fail-on-regression: also fail a drop of more than this many accuracy points",
    parse: positiveNumber("--max-drop", "2"),
  }),
  format: flag<string>({
    flags: "--format <format>",
    description: "terminal (default), markdown (a pull-request comment) or json",
  }),
  from: flag<string>({
    flags: "--from <results.json>",
    description: "take the baseline's accuracy (and how often variants disagree) from an earlier run",
  }),
  delta: flag<number>({
    flags: "--delta <difference>",
    description: "the accuracy difference to detect, e.g. 0.03 for 3 points",
    parse: share("--delta", "0.03"),
  }),
  power: flag<number>({
    flags: "--power <power>",
    description: "the chance of detecting a real difference (default 0.8)",
    parse: share("--power", "0.8"),
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
  apiKey: flag<string[]>({
    flags: "--api-key <key>",
    description:
      "accept this key as Authorization: Bearer <key> on /v1 (repeatable; also PROMPTSMITH_SERVE_API_KEYS, comma-separated)",
    parse: collect,
  }),
  apiKeyFile: flag<string>({
    flags: "--api-key-file <path>",
    description: "accept the keys in this file, one a line (# comments)",
  }),
  allowNoKey: flag<boolean>({
    flags: "--allow-no-key",
    description: "no warning when listening beyond this machine without a key",
  }),
  protectHealth: flag<boolean>({
    flags: "--protect-health",
    description: "/health and /metrics need a key too",
  }),
  parallel: flag<number>({
    flags: "--parallel <n>",
    description: "requests generating at once, one context sequence each (default 4)",
    parse: positiveInt("--parallel"),
  }),
  queue: flag<number>({
    flags: "--queue <n>",
    description: "requests that may wait beyond --parallel; more get 429 with Retry-After",
    parse: wholeNumber("--queue"),
    defaultValue: 64,
  }),
  timeout: flag<number>({
    flags: "--timeout <seconds>",
    description:
      'longest a request may generate (queue time not counted); then its text so far, finish_reason "length"',
    parse: positiveNumber("--timeout", "120"),
  }),
  quiet: flag<boolean>({
    flags: "--quiet",
    description: "no access log line per request",
  }),
  scorer: flag<string>({
    flags: "--scorer <name>",
    description: "the judge to use, by its name (its name:, else its type), when the config has several",
  }),
  seeds: flag<number>({
    flags: "--seeds <n>",
    description: "grade each output n times, each with its own seed, to measure self-consistency",
    parse: positiveInt("--seeds"),
    defaultValue: 2,
  }),
  check: flag<boolean>({
    flags: "--check",
    description: "compare with the snapshot file and exit 1 with a diff when what would be sent changed",
  }),
  update: flag<boolean>({
    flags: "--update",
    description: "write the snapshot file again from the config, accepting the change",
  }),
  record: flag<string>({
    flags: "--record <cassette.jsonl>",
    description: "store every request and its answer in a cassette file, to replay later with no model",
  }),
  replay: flag<string>({
    flags: "--replay <cassette.jsonl>",
    description: "answer every provider's requests from a cassette recorded with --record; no network",
  }),
  replayMissing: flag<"error" | "skip">({
    flags: "--replay-missing <error|skip>",
    description: "a request the cassette lacks: stop with an error (default), or leave its job out",
    parse: oneOf("--replay-missing", ["error", "skip"]),
  }),
  junitUnparsed: flag<"failure" | "skipped">({
    flags: "--junit-unparsed <failure|skipped>",
    description: "how a JUnit report (-o results.xml) counts an unparsed answer (default: failure)",
    parse: oneOf("--junit-unparsed", ["failure", "skipped"]),
  }),
} as const;

/** The flags of `eval` (and of `eval --watch`, which takes the same command line). */
export const EVAL_FLAGS = [
  "config",
  "output",
  "concurrency",
  "limit",
  "filterPrompt",
  "filterProvider",
  "filterCase",
  "watch",
  "json",
  "cache",
  "refreshCache",
  "resume",
  "retryErrors",
  "maxErrors",
  "budget",
  "shard",
  "dryRun",
  "batch",
  "batchId",
  "repeat",
  "failOnRegression",
  "against",
  "alpha",
  "maxDrop",
  "record",
  "replay",
  "replayMissing",
  "junitUnparsed",
] as const satisfies readonly (keyof typeof flags)[];

/** The typed values of the flags named by K. */
export type FlagValues<K extends keyof typeof flags> = {
  [P in K]?: (typeof flags)[P] extends FlagSpec<infer T> ? T : never;
};

/** The values of `eval`'s flags. */
export type EvalFlags = FlagValues<(typeof EVAL_FLAGS)[number]>;

/** Attaches the named flags to a command. */
export function addFlags(command: Command, names: readonly (keyof typeof flags)[]): Command {
  for (const name of names) {
    const spec = flags[name] as FlagSpec<unknown>;
    const option = new Option(spec.flags, spec.description);
    if (spec.parse) option.argParser(spec.parse as (value: string, previous: unknown) => unknown);
    if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
    command.addOption(option);
  }
  return command;
}
