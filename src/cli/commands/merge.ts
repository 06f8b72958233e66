import { checkResultsPath, mergeRecordFiles, renderJsonSummary, renderTerminalReport } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import { type CliIo, useColor } from "../io.js";

/** `promptsmith merge`: shard results in, one whole-run record out. */
export async function mergeCommand(
  files: string[],
  flags: FlagValues<"output" | "json">,
  io: CliIo,
): Promise<number> {
  for (const path of flags.output ?? []) checkResultsPath(path);
  const { record: merged, cases } = await mergeRecordFiles(files, { outputs: flags.output, retainCases: 20 });
  for (const path of flags.output ?? [])
    io.stderr.write(`merged ${files.length} files (${cases} cases) into ${path}\n`);
  io.stdout.write(
    flags.json
      ? renderJsonSummary(merged)
      : renderTerminalReport(merged, { color: useColor(io.stdout, io.env) }),
  );
  return ExitCode.ok;
}
