import {
  checkResultsPath,
  mergeRecords,
  readRecord,
  renderJsonSummary,
  renderTerminalReport,
  writeRecord,
} from "../../index.js";
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
  const records = [];
  for (const path of files) records.push({ path, record: await readRecord(path) });
  const merged = mergeRecords(records);
  for (const path of flags.output ?? []) {
    writeRecord(path, merged);
    io.stderr.write(`merged ${files.length} files (${merged.cases.length} cases) into ${path}\n`);
  }
  io.stdout.write(
    flags.json
      ? renderJsonSummary(merged)
      : renderTerminalReport(merged, { color: useColor(io.stdout, io.env) }),
  );
  return ExitCode.ok;
}
