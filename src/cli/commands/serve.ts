import { serve } from "../../index.js";
import { createDownloadProgress } from "../download-progress.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/** `promptsmith serve`: an OpenAI-compatible server over a local model, until SIGINT or SIGTERM. */
export async function serveCommand(
  flags: FlagValues<
    | "model"
    | "port"
    | "host"
    | "apiKey"
    | "apiKeyFile"
    | "allowNoKey"
    | "protectHealth"
    | "parallel"
    | "queue"
    | "timeout"
    | "quiet"
  >,
  io: CliIo,
): Promise<number> {
  const handle = await serve({
    model: flags.model,
    port: flags.port,
    host: flags.host,
    env: io.env,
    cwd: io.cwd,
    log: (line) => io.stderr.write(`${line}\n`),
    onProgress: createDownloadProgress(io),
    apiKeys: flags.apiKey,
    apiKeyFile: flags.apiKeyFile,
    allowNoKey: flags.allowNoKey,
    protectHealth: flags.protectHealth,
    parallel: flags.parallel,
    queue: flags.queue,
    timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
    quiet: flags.quiet,
  });
  // Handlers go on before the model loads: a stop while loading still closes the port and frees the model.
  // `on`, not `once`: loading the model registers signal-exit (through node-llama-cpp), which re-raises a
  // signal when it finds itself the only listener, and a `once` listener is gone by the time it looks.
  let onSignal!: () => void;
  const stop = new Promise<void>((resolve) => {
    onSignal = resolve;
  });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  io.stderr.write(
    `listening on ${handle.url}; loading the model (GET /health answers 503 until it is ready)\n`,
  );
  let failure: { error: unknown } | undefined;
  const outcome = await Promise.race([
    handle.ready.then(
      () => "ready" as const,
      (error: unknown) => {
        failure = { error };
        return "failed" as const;
      },
    ),
    stop.then(() => "stopped" as const),
  ]);
  if (outcome === "ready") {
    io.stderr.write(`serving on ${handle.url}/v1 (OpenAI-compatible); Ctrl-C to stop\n`);
    await stop;
  }
  if (!failure) io.stderr.write("shutting down\n");
  try {
    await handle.close();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (failure) throw failure.error;
  return ExitCode.ok;
}
