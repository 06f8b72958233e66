import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { formatUserError, isUserError } from "../errors.js";
import { ExitCode } from "./exit-codes.js";
import { addFlags, EVAL_FLAGS } from "./flags.js";
import { type CliIo, commanderOutput, processIo } from "./io.js";
import { keepShortCommandsShort } from "./v8-flags.js";

/**
 * The command-line entry. Only commander and the flag table load here; each command imports the
 * library when it runs, so `--version` and `--help` stay fast.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = new Command("promptsmith")
    .description("Compose prompts from templates, run them against models, and score the answers.")
    .version(readVersion(), "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput(commanderOutput(io))
    // Before a command's modules load (undici's parser among them); not for --version or --help,
    // which run no command and need not load node:v8.
    .hook("preAction", keepShortCommandsShort);

  addFlags(
    program
      .command("eval")
      .description("run every prompt × provider × case of a config and report the scores")
      .argument("[config]", "config file or directory (default: ./promptsmith.yaml)"),
    EVAL_FLAGS,
  ).action(async (config, options) => {
    const { evalCommand } = await import("./commands/eval.js");
    exitCode = await evalCommand(config ?? options.config, options, io);
  });

  addFlags(
    program
      .command("merge")
      .description("combine the results of --shard runs into the record of one whole run")
      .argument("<results...>", "results files written by eval -o (.json)"),
    ["output", "json"],
  ).action(async (files, options) => {
    const { mergeCommand } = await import("./commands/merge.js");
    exitCode = await mergeCommand(files, options, io);
  });

  addFlags(
    program
      .command("report")
      .description(
        "print the report of a results file again, or compare two runs (no model, no config needed)",
      )
      .argument("<results...>", "a results file written by eval -o (.json); two: base then head, compared"),
    ["json", "output", "junitUnparsed"],
  ).action(async (files, options) => {
    const { reportCommand } = await import("./commands/report.js");
    exitCode = await reportCommand(files, options, io);
  });

  addFlags(
    program
      .command("compare")
      .description(
        "is the head run better or worse than the base run? paired by case, with the flipped cases",
      )
      .argument("<base>", "results file of the earlier run (.json)")
      .argument("<head>", "results file of the later run (.json)"),
    ["format", "json", "failOnRegression", "alpha", "maxDrop"],
  ).action(async (base, head, options) => {
    const { compareCommand } = await import("./commands/compare.js");
    exitCode = await compareCommand(base, head, options, io);
  });

  addFlags(
    program
      .command("plan")
      .description(
        "how many cases a paired comparison needs, and the smallest difference these cases can show",
      )
      .argument("[config]", "config file or directory (default: ./promptsmith.yaml)"),
    ["config", "from", "delta", "alpha", "power", "json"],
  ).action(async (config, options) => {
    const { planCommand } = await import("./commands/plan.js");
    exitCode = await planCommand(config ?? options.config, options, io);
  });

  const cache = program.command("cache").description("look at or empty the response cache of a config");
  for (const [name, description] of [
    ["stats", "entries and size of the cache"],
    ["clear", "remove every cached response"],
  ] as const) {
    addFlags(cache.command(name).description(description).argument("[config]", "config file or directory"), [
      "config",
    ]).action(async (config, options) => {
      const { cacheCommand } = await import("./commands/cache.js");
      exitCode = await cacheCommand(name, config ?? options.config, io);
    });
  }

  addFlags(
    program.command("serve").description("serve a local GGUF model over an OpenAI-compatible HTTP API"),
    [
      "model",
      "port",
      "host",
      "apiKey",
      "apiKeyFile",
      "allowNoKey",
      "protectHealth",
      "parallel",
      "queue",
      "timeout",
      "quiet",
    ],
  ).action(async (options) => {
    const { serveCommand } = await import("./commands/serve.js");
    exitCode = await serveCommand(options, io);
  });

  addFlags(
    program
      .command("render")
      .description("print the exact messages a case would send; calls no model")
      .argument("[config]", "config file or directory (default: ./promptsmith.yaml)"),
    ["config", "case", "prompt", "json"],
  ).action(async (config, options) => {
    const { renderCommand } = await import("./commands/render.js");
    exitCode = await renderCommand(config ?? options.config, options, io);
  });

  addFlags(
    program
      .command("check-leaks")
      .description(
        "list the test cases that appear (exactly or nearly) in an example pool or corpus of a config; exit 1 on an exact copy",
      )
      .argument("[config]", "config file or directory (default: ./promptsmith.yaml)"),
    ["config", "json"],
  ).action(async (config, options) => {
    const { checkLeaksCommand } = await import("./commands/check-leaks.js");
    exitCode = await checkLeaksCommand(config ?? options.config, options, io);
  });

  addFlags(
    program
      .command("run")
      .description("send one template to a model and stream the answer")
      .argument("<template>", "a Handlebars template file (.hbs)"),
    ["var", "provider", "param", "json"],
  ).action(async (template, options) => {
    const { runCommand } = await import("./commands/run.js");
    exitCode = await runCommand(template, options, io);
  });

  addFlags(
    program
      .command("init")
      .description("create a working example project: the four prompt forms and two small datasets")
      .argument("[dir]", "where to create it", "."),
    ["force"],
  ).action(async (dir, options) => {
    const { initCommand } = await import("./commands/init.js");
    exitCode = await initCommand(dir, options, io);
  });

  const judge = program.command("judge").description("measure a model judge");
  addFlags(
    judge
      .command("calibrate")
      .description("grade human-labelled outputs with the config's judge: agreement, kappa, self-consistency")
      .argument("[config]", "config file or directory (default: ./promptsmith.yaml)"),
    ["config", "scorer", "seeds", "limit", "concurrency", "cache", "json"],
  ).action(async (config, options) => {
    const { judgeCalibrateCommand } = await import("./commands/judge.js");
    exitCode = await judgeCalibrateCommand(config ?? options.config, options, io);
  });

  addFlags(
    program
      .command("snapshot")
      .description("write every request the config would send to a snapshot file beside it; calls no model")
      .argument("[config]", "config file or directory (default: ./promptsmith.yaml)"),
    ["config", "check", "update"],
  ).action(async (config, options) => {
    const { snapshotCommand } = await import("./commands/snapshot.js");
    exitCode = await snapshotCommand(config ?? options.config, options, io);
  });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

/** Turns anything thrown into a message and an exit code: user errors without a stack, bugs with one. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    ) {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (isUserError(error)) {
    io.stderr.write(`error: ${formatUserError(error)}\n`);
    return ExitCode.usage;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`promptsmith: internal error (this is a bug, please report it)\n${stack}\n`);
  return ExitCode.internal;
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
