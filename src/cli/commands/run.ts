import { defaultProviderNote, runPrompt } from "../../index.js";
import { createDownloadProgress } from "../download-progress.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/** `promptsmith run`: one template, one model, the answer streamed as it arrives. */
export async function runCommand(
  templatePath: string,
  flags: FlagValues<"var" | "provider" | "param" | "json">,
  io: CliIo,
): Promise<number> {
  if (!flags.provider) io.stderr.write(`${defaultProviderNote(io.env).replace("in the config", "given")}\n`);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once("SIGINT", onInterrupt);
  try {
    const result = await runPrompt({
      templatePath,
      cwd: io.cwd,
      vars: flags.var ?? {},
      provider: flags.provider,
      params: parseParams(flags.param ?? {}),
      env: io.env,
      signal: controller.signal,
      onDownloadProgress: createDownloadProgress(io),
      onToken: flags.json ? undefined : (text) => io.stdout.write(text),
    });
    if (flags.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else io.stdout.write("\n");
    return controller.signal.aborted ? ExitCode.interrupted : ExitCode.ok;
  } catch (error) {
    // Ctrl-C while the answer streams: what was printed stays, and the exit code says why it stopped.
    if (controller.signal.aborted) {
      io.stdout.write("\n");
      return ExitCode.interrupted;
    }
    throw error;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

/** `--param temperature=0` gives the number 0; anything that isn't JSON stays a string. */
function parseParams(raw: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => {
      try {
        return [key, JSON.parse(value)];
      } catch {
        return [key, value];
      }
    }),
  );
}
