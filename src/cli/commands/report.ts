import { readRecord, renderJsonSummary, renderTerminalReport } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import { type CliIo, useColor } from "../io.js";

/** `promptsmith report`: re-render a results file, with no model and no config. */
export async function reportCommand(path: string, flags: FlagValues<"json">, io: CliIo): Promise<number> {
  // The report shows the summary and a few failures: the file is streamed, keeping those alone.
  const record = await readRecord(path, { retainCases: 20 });
  io.stdout.write(
    flags.json
      ? renderJsonSummary(record)
      : renderTerminalReport(record, { color: useColor(io.stdout, io.env), width: io.stdout.columns ?? 100 }),
  );
  return ExitCode.ok;
}
