import { relative } from "node:path";
import { initProject } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/** `promptsmith init`: copy the example project and say what to do next. */
export async function initCommand(dir: string, flags: FlagValues<"force">, io: CliIo): Promise<number> {
  const result = await initProject({ dir, cwd: io.cwd, force: flags.force });
  const where = relative(io.cwd, result.dir) || ".";
  io.stdout.write(`created ${result.files.length} files in ${where}:\n`);
  for (const file of result.files) io.stdout.write(`  ${file}\n`);
  const steps = [
    ...(where === "." ? [] : [`cd ${where}`]),
    "promptsmith render --case 0    # the exact prompts of the first case",
    "promptsmith eval               # run every prompt form and score it",
  ];
  io.stdout.write(`\nnext:\n${steps.map((s) => `  ${s}\n`).join("")}`);
  return ExitCode.ok;
}
