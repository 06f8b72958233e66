import { renameSync, rmSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { UserError, unwritableFileError } from "../errors.js";
import { readRecord } from "../record/read.js";
import type { RunRecord } from "../record/types.js";
import { isResultsPath } from "../record/writer.js";

/** What `-o` reports may be told besides the record (from flags). */
export interface ReportOptions {
  /** JUnit: how an unparsed answer counts (`--junit-unparsed`). */
  junitUnparsed?: "failure" | "skipped";
}

/** A file reporter: the whole run record (every case) in, the file's text out. */
export type FileReporter = (record: RunRecord, options?: ReportOptions) => string;

/**
 * The report formats `-o` writes, by extension, each loaded only when asked for. Results formats
 * (`.json`, `.jsonl`) are not here: the record writer streams those as the run goes.
 */
const FILE_REPORTERS: Record<string, () => Promise<FileReporter>> = {
  ".xml": async () => {
    const { renderJunit } = await import("./junit.js");
    return (record, options) => renderJunit(record, { unparsed: options?.junitUnparsed });
  },
  ".md": async () => {
    const { renderMarkdownReport } = await import("./markdown.js");
    return (record) => renderMarkdownReport(record);
  },
  ".html": async () => {
    const { renderHtmlReport } = await import("./html/render.js");
    return (record) => renderHtmlReport(record);
  },
};

/** The report extensions `-o` accepts besides the results formats. */
export function reportExtensions(): string[] {
  return Object.keys(FILE_REPORTERS);
}

/** Whether `path` names a report format (by its extension). */
export function isReportPath(path: string): boolean {
  return Object.hasOwn(FILE_REPORTERS, extname(path).toLowerCase());
}

/**
 * Renders `record` into `path` in the format its extension names. The text is written under a
 * temporary name and moved into place, so a file under the real name is always complete.
 */
export async function writeReport(path: string, record: RunRecord, options?: ReportOptions): Promise<void> {
  const load = FILE_REPORTERS[extname(path).toLowerCase()];
  if (!load) throw new Error(`no reporter for ${path}; check isReportPath first`);
  writeWhole(path, (await load())(record, options));
}

/** Writes `text` under a temporary name and moves it into place. */
function writeWhole(path: string, text: string): void {
  const partial = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(partial, text);
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    throw unwritableFileError(error, {
      file: path,
      what: "write the report here",
      field: "--output",
      hint: "choose a path you can write to for -o",
    });
  }
}

/** Which `-o` paths are results files (streamed by the run) and which are reports (rendered after it). */
export function splitOutputs(paths: string[] = []): { results: string[]; reports: string[] } {
  const results: string[] = [];
  const reports: string[] = [];
  for (const path of paths) {
    if (isReportPath(path)) reports.push(path);
    else if (isResultsPath(path)) results.push(path);
    else {
      const extension = extname(path);
      throw new UserError({
        code: "usage",
        field: "--output",
        message: `cannot write ${extension ? `"${extension}"` : "a file without an extension"}: ${path}`,
        hint: `name the file .json or .jsonl (results)${reportExtensions().length > 0 ? `, or ${reportExtensions().join(", ")} (reports)` : ""}`,
      });
    }
  }
  return { results, reports };
}

/** The `-o` paths of a run, planned: what the run streams, and the record the reports are rendered from. */
export interface PlannedOutputs {
  results: string[];
  reports: string[];
  /** The `.json` record the reports are rendered from: a results file asked for, else a temporary one. */
  recordFile?: string;
  /** What the run writes as it goes: the results asked for, and the temporary record when there is one. */
  resultsFiles: string[];
  /** Whether `recordFile` is temporary (remove it once the reports are written). */
  temporary: boolean;
}

/**
 * Plans `-o`: reports (`report.html`) are rendered from the whole record once a run is over, from
 * its `.json` results file when one is asked for, else from one written under `tmpdir` for them.
 */
export function planOutputs(paths: string[] | undefined, tmpdir: string): PlannedOutputs {
  const { results, reports } = splitOutputs(paths);
  const asked = results.find((path) => extname(path).toLowerCase() === ".json");
  const recordFile =
    asked ?? (reports.length > 0 ? join(tmpdir, `promptsmith-${process.pid}-${Date.now()}.json`) : undefined);
  const temporary = recordFile !== undefined && asked === undefined;
  return {
    results,
    reports,
    recordFile,
    resultsFiles: temporary ? [...results, recordFile] : results,
    temporary,
  };
}

/** Reads a whole results file and renders it into every report path. */
export async function writeReportsFrom(
  resultsPath: string,
  reports: string[],
  options?: ReportOptions,
): Promise<void> {
  if (reports.length === 0) return;
  const record = await readRecord(resultsPath);
  for (const path of reports) await writeReport(path, record, options);
}

/**
 * Renders two runs side by side into `path` (`report base.json head.json -o diff.html`); only the
 * HTML report shows two runs, so the caller checks the extension.
 */
export async function writeComparisonReport(
  path: string,
  base: RunRecord,
  head: RunRecord,
  labels?: { base: string; head: string },
): Promise<void> {
  const { renderHtmlComparison } = await import("./html/render.js");
  writeWhole(path, renderHtmlComparison(base, head, labels));
}
