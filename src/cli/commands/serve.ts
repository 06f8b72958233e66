import { serve } from "../../index.js";
import { createDownloadProgress } from "../download-progress.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/** `promptsmith serve`: an OpenAI-compatible server over a local model, until SIGINT or SIGTERM. */
export async function serveCommand(flags: FlagValues<"model" | "port" | "host">, io: CliIo): Promise<number> {
  const handle = await serve({
    model: flags.model,
    port: flags.port,
    host: flags.host,
    env: io.env,
    log: (line) => io.stderr.write(`${line}\n`),
    onProgress: createDownloadProgress(io),
  });
  io.stderr.write(`serving on ${handle.url}/v1 (OpenAI-compatible); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  io.stderr.write("shutting down\n");
  await handle.close();
  return ExitCode.ok;
}
