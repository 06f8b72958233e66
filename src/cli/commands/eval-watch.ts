import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { relative } from "node:path";
import {
  formatUserError,
  isUserError,
  planOutputs,
  renderRunDiff,
  renderTerminalReport,
  UserError,
  watchEvaluate,
  writeReportsFrom,
} from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { EvalFlags } from "../flags.js";
import { type CliIo, useColor } from "../io.js";

/** The eval flags a watch takes. */
/** `eval --watch` takes eval's command line. */
export type WatchFlags = EvalFlags;

/**
 * `eval --watch`: the report of each run on stdout and, from the second run on, what changed
 * against the one before (accuracy per variant, the cases that flipped); notes on stderr. Runs
 * until Ctrl-C, which exits 130.
 */
export async function watchCommand(
  configPath: string | undefined,
  flags: WatchFlags,
  io: CliIo,
): Promise<number> {
  const clash = (
    [
      ["resume", "--resume"],
      ["retryErrors", "--retry-errors"],
      ["dryRun", "--dry-run"],
      ["batch", "--batch"],
      ["batchId", "--batch-id"],
      ["json", "--json"],
      // A watch never ends with a verdict, and each run would record (or replay) over the last.
      ["failOnRegression", "--fail-on-regression"],
      ["against", "--against"],
      ["maxDrop", "--max-drop"],
      ["record", "--record"],
      ["replay", "--replay"],
      ["replayMissing", "--replay-missing"],
    ] as const
  ).find(([key]) => flags[key] !== undefined && flags[key] !== false);
  if (clash) {
    throw new UserError({
      code: "usage",
      field: "--watch",
      message: `--watch runs the config again on every change; it does not go with ${clash[1]}`,
      hint: "leave one of the two out",
    });
  }
  // As in a plain eval: reports are rendered from the whole record of each run, through a
  // temporary results file when no .json one is asked for.
  const outputs = planOutputs(flags.output, tmpdir());
  const { recordFile } = outputs;

  const controller = new AbortController();
  let interrupts = 0;
  // The first Ctrl-C stops the run under way and the watch; a second quits at once, as in eval.
  const onInterrupt = () => {
    if (++interrupts > 1) process.exit(ExitCode.interrupted);
    controller.abort();
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  const color = useColor(io.stdout, io.env);
  const width = io.stdout.columns ?? 100;
  let noted = false;
  try {
    await watchEvaluate({
      configPath,
      cwd: io.cwd,
      env: io.env,
      signal: controller.signal,
      limit: flags.limit,
      filterPrompt: flags.filterPrompt,
      filterProvider: flags.filterProvider,
      filterCase: flags.filterCase,
      shard: flags.shard,
      concurrency: flags.concurrency,
      maxErrors: flags.maxErrors,
      budget: flags.budget,
      cache: flags.cache === false ? "off" : flags.refreshCache ? "refresh" : undefined,
      outputs: outputs.resultsFiles,
      retainCases: 20,
      onSuite(suite) {
        if (suite.providerNote && !noted) io.stderr.write(`${suite.providerNote}\n`);
        noted = true;
        // Flags over the config, as in a plain eval.
        if (flags.repeat !== undefined) suite.repeat = { ...suite.repeat, k: flags.repeat };
        if (flags.alpha !== undefined) suite.compare = { ...suite.compare, alpha: flags.alpha };
      },
      onChange(files) {
        const names = files.map((file) => relative(io.cwd, file) || file).join(", ");
        io.stderr.write(`\n${names} changed: running again\n`);
      },
      onError(error) {
        io.stderr.write(`error: ${isUserError(error) ? formatUserError(error) : String(error)}\n`);
        io.stderr.write("watching for changes (Ctrl-C to stop)\n");
      },
      async onRun({ number, result, diff, watching }) {
        const { record } = result;
        io.stdout.write(`${number > 1 ? "\n" : ""}${renderTerminalReport(record, { color, width })}`);
        if (diff) {
          io.stdout.write(
            `\nChanges since the previous run\n${renderRunDiff(diff, {
              labels: { base: "before", head: "now" },
              color,
              width,
            })}`,
          );
        }
        if (recordFile)
          await writeReportsFrom(recordFile, outputs.reports, { junitUnparsed: flags.junitUnparsed });
        io.stderr.write(`watching ${watching.length} files for changes (Ctrl-C to stop)\n`);
      },
    });
  } finally {
    if (outputs.temporary && recordFile) rmSync(recordFile, { force: true });
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
  }
  return ExitCode.interrupted;
}
