import { basename, extname } from "node:path";
import {
  readRecord,
  renderJsonSummary,
  renderTerminalReport,
  splitOutputs,
  UserError,
  writeComparisonReport,
  writeRecord,
  writeReport,
} from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import { type CliIo, useColor } from "../io.js";

/** `promptsmith report`: re-render a results file, or compare two, with no model and no config. */
export async function reportCommand(
  paths: string[],
  flags: FlagValues<"json" | "output" | "junitUnparsed">,
  io: CliIo,
): Promise<number> {
  if (paths.length === 2) return sideBySide(paths[0], paths[1], flags, io);
  if (paths.length > 2) {
    throw new UserError({
      code: "usage",
      message: `report takes one results file, or two to compare; received ${paths.length}`,
      hint: "compare two runs with promptsmith report base.json head.json -o diff.html; combine shards with promptsmith merge",
    });
  }
  const [path] = paths;
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

/**
 * `report base.json head.json -o diff.html`: the two runs side by side in an HTML report. In the
 * terminal, two runs are `compare`'s job (paired differences, flips, the regression gate).
 */
async function sideBySide(
  basePath: string,
  headPath: string,
  flags: FlagValues<"json" | "output">,
  io: CliIo,
): Promise<number> {
  const { results, reports } = splitOutputs(flags.output);
  const wrong = [...results, ...reports].find((path) => extname(path).toLowerCase() !== ".html");
  if (wrong || reports.length === 0) {
    throw new UserError({
      code: "usage",
      field: wrong ? "--output" : undefined,
      message: wrong
        ? `two runs side by side are an HTML report; cannot write them to ${wrong}`
        : "two results files are shown side by side in an HTML report: name one with -o",
      hint: `report ${basePath} ${headPath} -o diff.html; in the terminal: promptsmith compare ${basePath} ${headPath}`,
    });
  }
  const [base, head] = [await readRecord(basePath), await readRecord(headPath)];
  const labels = runLabels(basePath, headPath);
  for (const target of reports) {
    await writeComparisonReport(target, base, head, labels);
    io.stderr.write(`written to ${target}\n`);
  }
  return ExitCode.ok;
}

/** The runs' names: their file names, or their paths when the names are the same. */
function runLabels(basePath: string, headPath: string): { base: string; head: string } {
  const [base, head] = [basename(basePath), basename(headPath)];
  return base === head ? { base: basePath, head: headPath } : { base, head };
}
