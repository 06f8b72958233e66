import type { EvaluateProgress } from "../../index.js";
import { evaluate, loadConfig, renderJsonSummary, renderTerminalReport } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import { type CliIo, useColor } from "../io.js";

type EvalFlags = FlagValues<"output" | "concurrency" | "limit" | "filterPrompt" | "filterProvider" | "json">;

/** `promptsmith eval`: load the config, run it, print the report; Ctrl-C keeps what finished. */
export async function evalCommand(
  configPath: string | undefined,
  flags: EvalFlags,
  io: CliIo,
): Promise<number> {
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
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
  try {
    const { record, status } = await evaluate({
      suite,
      concurrency: flags.concurrency,
      limit: flags.limit,
      filterPrompt: flags.filterPrompt,
      filterProvider: flags.filterProvider,
      outputs: flags.output,
      retainCases: 20,
      signal: controller.signal,
      env: io.env,
      onProgress: progress?.update,
    });
    progress?.stop();
    if (flags.json) io.stdout.write(renderJsonSummary(record));
    else {
      io.stdout.write(
        renderTerminalReport(record, { color: useColor(io.stdout, io.env), width: io.stdout.columns ?? 100 }),
      );
      for (const path of flags.output ?? []) io.stderr.write(`results written to ${path}\n`);
    }
    return status === "interrupted" ? ExitCode.interrupted : ExitCode.ok;
  } finally {
    progress?.stop();
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
  }
}

/** A progress bar on stderr when it is a terminal; nothing on CI or in pipes. */
async function createProgress(io: CliIo) {
  if (!io.stderr.isTTY || io.env.CI) return undefined;
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr,
      format: "{bar} {value}/{total} calls · {errors} errors",
      hideCursor: true,
      clearOnComplete: true,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(progress: EvaluateProgress) {
      if (stopped) return;
      const total = progress.total ?? Math.max(progress.done, 1);
      if (!started) {
        bar.start(total, progress.done, { errors: progress.errors });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(progress.done, { errors: progress.errors });
      }
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
