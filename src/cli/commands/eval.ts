import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { UserError } from "../../errors.js";
import type { EvaluateProgress, Suite } from "../../index.js";
import {
  estimate,
  evaluate,
  isProviderError,
  killedRun,
  loadConfig,
  planOutputs,
  renderEstimate,
  renderJsonSummary,
  renderTerminalReport,
  unreadBatches,
  writeReportsFrom,
} from "../../index.js";
import { createDownloadProgress } from "../download-progress.js";
import { ExitCode } from "../exit-codes.js";
import type { EvalFlags } from "../flags.js";
import { writeGithubOutputs } from "../github.js";
import { type CliIo, useColor } from "../io.js";
import { tuneHeapForLongRuns } from "../v8-flags.js";

/** `promptsmith eval`: load the config, run it, print the report; Ctrl-C keeps what finished. */
export async function evalCommand(
  configPath: string | undefined,
  flags: EvalFlags,
  io: CliIo,
): Promise<number> {
  if (flags.watch) {
    const { watchCommand } = await import("./eval-watch.js");
    return watchCommand(configPath, flags, io);
  }
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  if (suite.providerNote) io.stderr.write(`${suite.providerNote}\n`);
  // Flags over the config: how often each case runs, the level of verdicts and gates.
  if (flags.repeat !== undefined) suite.repeat = { ...suite.repeat, k: flags.repeat };
  if (flags.alpha !== undefined) suite.compare = { ...suite.compare, alpha: flags.alpha };
  if (!flags.failOnRegression && (flags.against !== undefined || flags.maxDrop !== undefined)) {
    throw new UserError({
      code: "usage",
      field: flags.against !== undefined ? "--against" : "--max-drop",
      message: "it sets how a regression is judged, and no regression gate was asked for",
      hint: "add --fail-on-regression",
    });
  }
  const selection = {
    suite,
    limit: flags.limit,
    filterPrompt: flags.filterPrompt,
    filterProvider: flags.filterProvider,
    filterCase: flags.filterCase,
    shard: flags.shard,
    env: io.env,
  };
  const online = !flags.batch && !flags.batchId;
  checkCassetteFlags(flags);
  // Reports (-o report.html) are rendered from the whole record once the run is over: from its
  // results file when one is asked for, else from one written to a temporary file for them.
  const outputs = planOutputs(flags.output, tmpdir());
  const { recordFile } = outputs;
  if (flags.resume === undefined && !flags.retryErrors) {
    for (const note of answersPaidFor(selection, configPath, online)) io.stderr.write(`note: ${note}\n`);
  }

  if (flags.dryRun) {
    const result = await estimate({
      ...selection,
      useCache: flags.cache !== false && !flags.refreshCache && suite.cache.enabled,
      batch: Boolean(flags.batch),
    });
    io.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderEstimate(result));
    return ExitCode.ok;
  }

  tuneHeapForLongRuns();
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    io.stderr.write(
      "\ninterrupted: stopping the calls in flight and writing what finished (Ctrl-C again to quit now)\n",
    );
    controller.abort();
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  const progress = await createProgress(io);
  let runId: string | undefined;
  try {
    const options = {
      ...selection,
      concurrency: flags.concurrency,
      outputs: outputs.resultsFiles,
      retainCases: 20,
      cache: flags.cache === false ? ("off" as const) : flags.refreshCache ? ("refresh" as const) : undefined,
      // --retry-errors on its own means the newest run: there is nothing else it could retry.
      resume:
        typeof flags.resume === "string"
          ? flags.resume
          : flags.resume || flags.retryErrors
            ? (true as const)
            : undefined,
      retryErrors: flags.retryErrors,
      maxErrors: flags.maxErrors,
      budget: flags.budget,
      regression: flags.failOnRegression ? { against: flags.against, maxDrop: flags.maxDrop } : undefined,
      record: flags.record,
      replay: flags.replay,
      replayMissing: flags.replayMissing,
      signal: controller.signal,
      onStart: (info: { runId?: string; resumed: number }) => {
        runId = info.runId;
        if (info.resumed > 0)
          io.stderr.write(
            `resuming run ${info.runId}: ${info.resumed} ${info.resumed === 1 ? "job" : "jobs"} already done\n`,
          );
      },
      onProgress: progress?.update,
      onDownloadProgress: createDownloadProgress(io),
    };
    const result = !online
      ? await (await import("../../batch/batch.js"))
          .evaluateBatch({
            ...options,
            batchId: flags.batchId,
            onBatchProgress: (line: string) => io.stderr.write(`${line}\n`),
          })
          .catch((error: unknown) => {
            // Ctrl-C while a batch is submitted or awaited: no result yet, and the message says
            // how to come back to the batch.
            if (!controller.signal.aborted || !isProviderError(error) || error.kind !== "aborted")
              throw error;
            io.stderr.write(`${error.message}\n`);
            return undefined;
          })
      : await evaluate(options);
    if (result === undefined) return ExitCode.interrupted;
    const { record, status, changed, rateLimited } = result;
    const skipped = "skipped" in result ? result.skipped : undefined;
    progress?.stop();
    if (flags.json) io.stdout.write(renderJsonSummary(record));
    else {
      io.stdout.write(
        renderTerminalReport(record, { color: useColor(io.stdout, io.env), width: io.stdout.columns ?? 100 }),
      );
      for (const path of outputs.results) io.stderr.write(`results written to ${path}\n`);
    }
    if (recordFile)
      await writeReportsFrom(recordFile, outputs.reports, { junitUnparsed: flags.junitUnparsed });
    for (const path of outputs.reports) io.stderr.write(`report written to ${path}\n`);
    if (flags.record) io.stderr.write(`cassette written to ${flags.record}\n`);
    if (skipped) {
      io.stderr.write(
        `${skipped.count} ${skipped.count === 1 ? "job was" : "jobs were"} left out: the cassette lacks their requests (--replay-missing skip); the first, ${skipped.first}\n`,
      );
    }
    writeGithubOutputs(record, io, { json: flags.json });
    if (changed) {
      io.stderr.write(
        `${changed} ${changed === 1 ? "job" : "jobs"} of the resumed run ran again: their prompt or expected answer changed since it started\n`,
      );
    }
    if (rateLimited) {
      const { answers, lowestConcurrency, concurrency } = rateLimited;
      io.stderr.write(
        `rate limited: ${answers} ${answers === 1 ? "answer was" : "answers were"} 429 Too Many Requests; calls in flight came down to ${lowestConcurrency} of ${concurrency}\n` +
          "  hint: set rpm: and tpm: on the provider to pace the calls under its limits from the start\n",
      );
    }
    if (status !== "complete" && runId) {
      // A run stopped by its errors (an endpoint that went away, --max-errors) has them recorded:
      // a plain --resume would keep them, --retry-errors runs them again with the jobs left.
      const failed = status === "stopped" ? record.summary.reduce((n, row) => n + row.errors, 0) : 0;
      const retry = failed > 0 ? " --retry-errors" : "";
      io.stderr.write(
        `finish it later with: promptsmith eval ${configPath ?? ""} --resume ${runId}${retry}\n`.replace(
          "  ",
          " ",
        ),
      );
      if (failed > 0)
        io.stderr.write(
          `  (--retry-errors also runs again the ${failed} ${failed === 1 ? "job" : "jobs"} that failed)\n`,
        );
    }
    if (status === "stopped") {
      io.stderr.write(`error: stopped early: ${record.stopReason}\n`);
      return ExitCode.usage;
    }
    if (status === "interrupted") return ExitCode.interrupted;
    const failed = (record.gates ?? []).filter((gate) => !gate.passed);
    // The report lists them; with --json the report is data, so say it on stderr too.
    if (flags.json)
      for (const gate of failed) io.stderr.write(`gate failed: ${gate.rule}: ${gate.message}\n`);
    return failed.length > 0 ? ExitCode.gateFailed : ExitCode.ok;
  } finally {
    if (outputs.temporary && recordFile) rmSync(recordFile, { force: true });
    progress?.stop();
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
  }
}

/** Refuses what a cassette cannot go with: the Batch API path and a dry run make no online call. */
function checkCassetteFlags(flags: EvalFlags): void {
  const cassette =
    flags.record !== undefined ? "--record" : flags.replay !== undefined ? "--replay" : undefined;
  if (cassette && (flags.batch || flags.batchId)) {
    throw new UserError({
      code: "usage",
      field: cassette,
      message: `${cassette} works with online calls, and --batch sends them through the Batch API`,
      hint: "run without --batch once the batch is read: the cache answers those calls for free, and they are recorded",
    });
  }
  if (cassette && flags.dryRun) {
    throw new UserError({
      code: "usage",
      field: cassette,
      message: `--dry-run calls nothing, so there is nothing to ${cassette === "--record" ? "record" : "replay"}`,
      hint: `leave out --dry-run, or ${cassette}`,
    });
  }
}

/**
 * Answers already paid for that a new run would ask for again, each with what gets them instead:
 * a run that was killed (the cache may lack its last answers), a batch not read yet.
 */
function answersPaidFor(
  selection: Parameters<typeof unreadBatches>[1] & { suite: Suite; env: NodeJS.ProcessEnv },
  configPath: string | undefined,
  online: boolean,
): string[] {
  const { suite } = selection;
  const notes: string[] = [];
  const killed = killedRun(suite);
  if (killed) {
    const command = `promptsmith eval ${configPath ?? ""}`.trimEnd();
    notes.push(
      `run ${killed} of this config was killed before it finished; ${command} --resume ${killed} finishes it without asking again for the answers it holds`,
    );
  }
  const waiting = online ? unreadBatches(suite, selection, selection.env) : [];
  if (waiting.length > 0) {
    notes.push(
      `batch ${waiting.join(", ")} of an earlier eval --batch of these jobs is not read yet and its answers are paid for; run with --batch to score them instead of paying for them again`,
    );
  }
  return notes;
}

/** A progress bar on stderr when it is a terminal; nothing on CI or in pipes. */
async function createProgress(io: CliIo) {
  if (!io.stderr.isTTY || io.env.CI) return undefined;
  const { default: cliProgress } = await import("cli-progress");
  const { BarFormat, TimeFormat } = cliProgress.Format;
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr,
      // Until the dataset has been read to its end (a large one streams) the total is unknown: a
      // count and a rate then, rather than a bar that is always full.
      format: (options, params, payload) => {
        const tail = `${payload.errors} errors · ${payload.hits} cached`;
        if (!payload.totalKnown) {
          const seconds = (Date.now() - params.startTime) / 1000;
          const rate = seconds > 0 ? Math.round(params.value / seconds) : 0;
          return `${params.value} jobs · ${rate}/s · ${tail}`;
        }
        const left = Number.isFinite(params.eta) ? ` · ${TimeFormat(params.eta, options, 1)} left` : "";
        return `${BarFormat(params.progress, options)} ${params.value}/${params.total} jobs${left} · ${tail}`;
      },
      // Updates come at most every 100 ms (below), so the time left is judged over the last 10 s.
      etaBuffer: 100,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  let lastUpdate = 0;
  return {
    update(progress: EvaluateProgress) {
      if (stopped) return;
      const now = Date.now();
      // One update per job is thousands a second on a fast endpoint; the bar redraws 10 times a second.
      if (started && now - lastUpdate < 100) return;
      lastUpdate = now;
      const payload = {
        errors: progress.errors,
        hits: progress.cacheHits,
        totalKnown: progress.total !== undefined,
      };
      const total = progress.total ?? progress.done;
      if (!started) {
        bar.start(total, progress.done, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(progress.done, payload);
      }
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
