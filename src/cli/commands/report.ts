import {
  readRecord,
  renderJsonSummary,
  renderTerminalReport,
  splitOutputs,
  writeRecord,
  writeReport,
} from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import { type CliIo, useColor } from "../io.js";

/** `promptsmith report`: re-render a results file, with no model and no config. */
export async function reportCommand(
  path: string,
  flags: FlagValues<"json" | "output" | "junitUnparsed">,
  io: CliIo,
): Promise<number> {
  const { results, reports } = splitOutputs(flags.output);
  if (results.length > 0 || reports.length > 0) {
    // A file out: every case is needed, so the record is read whole.
    const whole = await readRecord(path);
    for (const target of [...results, ...reports]) {
      if (reports.includes(target)) await writeReport(target, whole, { junitUnparsed: flags.junitUnparsed });
      else writeRecord(target, whole);
      io.stderr.write(`written to ${target}\n`);
    }
    return ExitCode.ok;
  }
  // The report shows the summary and a few failures: the file is streamed, keeping those alone.
  const record = await readRecord(path, { retainCases: 20 });
  io.stdout.write(
    flags.json
      ? renderJsonSummary(record)
      : renderTerminalReport(record, { color: useColor(io.stdout, io.env), width: io.stdout.columns ?? 100 }),
  );
  return ExitCode.ok;
}
