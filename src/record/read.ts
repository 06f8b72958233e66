import { createReadStream, type ReadStream } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { JsonArrayScanner, JsonStreamError } from "../dataset/json-stream.js";
import { UserError } from "../errors.js";
import { createCaseRetainer } from "./retain.js";
import { type CaseResult, RECORD_VERSION, type RunRecord } from "./types.js";
import { endFields, type RecordEnd } from "./writer.js";

/** Options of {@link readRecord}. */
export interface ReadRecordOptions {
  /**
   * Which cases to keep: "all" (default), or at most n failing cases per variant (what the terminal
   * report shows), in which case the file is read as a stream and memory stays flat at any size.
   */
  retainCases?: "all" | number;
}

/** Reads a results file written with `-o results.json`, checking it is a complete record this version understands. */
export async function readRecord(path: string, options: ReadRecordOptions = {}): Promise<RunRecord> {
  const retain = options.retainCases ?? "all";
  if (retain !== "all") {
    const stream = await openRecordStream(path);
    const keep = createCaseRetainer(retain);
    const cases: CaseResult[] = [];
    for await (const result of stream.cases) if (keep(result)) cases.push(result);
    return { ...stream.header, ...stream.end(), cases };
  }
  return readWholeRecord(path);
}

async function readWholeRecord(path: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: "no such results file",
      hint: "write one with promptsmith eval -o results.json",
    });
  }
  let record: RunRecord;
  try {
    record = JSON.parse(text) as RunRecord;
  } catch (error) {
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: `not a JSON results file (${(error as Error).message})`,
      hint: path.endsWith(".jsonl")
        ? "a .jsonl results file holds cases only; write the full record with -o results.json"
        : "write results with promptsmith eval -o results.json",
    });
  }
  if (
    record === null ||
    typeof record !== "object" ||
    !Array.isArray(record.cases) ||
    !Array.isArray(record.summary)
  ) {
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: "not a promptsmith results file",
      hint: "write one with promptsmith eval -o results.json",
    });
  }
  checkVersion(record.version, path);
  return record;
}

function checkVersion(version: unknown, path: string): void {
  if (version === RECORD_VERSION) return;
  throw new UserError({
    code: "run-not-found",
    location: { file: path },
    message: `results version ${String(version)} is not supported (this promptsmith reads version ${RECORD_VERSION})`,
    hint: "re-render it with the promptsmith version that wrote it",
  });
}

/** A results file read as it streams: the fields before its cases, the cases one at a time, then the rest. */
export interface RecordStream {
  /** Every field before `cases` (the writer puts all but the end fields there). */
  header: Omit<RunRecord, "cases" | keyof RecordEnd>;
  /** The cases, in file order; read them to the end before asking for `end()`. */
  cases: AsyncGenerator<CaseResult, void, undefined>;
  /** The fields after the cases (summary, finishedAt, status, stopReason). */
  end(): RecordEnd;
}

/**
 * Opens a `.json` results file to read as a stream, so a record of any size is read in flat memory
 * (merging the shards of a large run, say). A file whose keys are not in the writer's order (one
 * re-indented with its keys sorted) is read whole instead, with the same result.
 */
export async function openRecordStream(path: string): Promise<RecordStream> {
  let stream: ReadStream;
  try {
    await access(path);
    stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 16 });
  } catch {
    return wholeRecordStream(await readWholeRecord(path));
  }
  const scanner = new JsonArrayScanner("cases", { keepOthers: true });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<string>;
  // Cases scanned but not yet handed out: one chunk's worth.
  let queue: CaseResult[] = [];
  let taken = 0;
  let done = false;
  const pump = async (): Promise<void> => {
    try {
      const next = await chunks.next();
      const elements = next.done ? scanner.end() : scanner.push(next.value);
      done = next.done === true;
      if (taken === queue.length) {
        queue = [];
        taken = 0;
      }
      for (const element of elements) queue.push(element.value as CaseResult);
    } catch (error) {
      stream.destroy();
      if (error instanceof JsonStreamError) {
        throw new UserError({
          code: "run-not-found",
          location: { file: path, line: error.line, column: error.column },
          message: `not a JSON results file (${error.message})`,
          hint: "write results with promptsmith eval -o results.json",
          cause: error,
        });
      }
      throw error;
    }
  };
  let readable = true;
  try {
    while (!scanner.inArray && !done) await pump();
  } catch {
    readable = false;
  }
  // Only the keys before the cases: a small file is scanned to its end in the first chunk.
  const header = Object.fromEntries(
    scanner.keysBefore.map((key) => [key, scanner.others[key]]),
  ) as RecordStream["header"];
  if (!readable || !scanner.inArray || header.version === undefined || header.config === undefined) {
    // Not JSON, no cases array, or a header not all before it: the whole-file reader judges it
    // (and says, for one, that a .jsonl results file holds cases only).
    stream.destroy();
    return wholeRecordStream(await readWholeRecord(path));
  }
  checkVersion(header.version, path);
  async function* cases(): AsyncGenerator<CaseResult, void, undefined> {
    try {
      for (;;) {
        while (taken < queue.length) yield queue[taken++];
        if (done) return;
        await pump();
      }
    } finally {
      stream.destroy();
    }
  }
  return {
    header,
    cases: cases(),
    end() {
      if (!done) throw new Error("RecordStream.end() called before the cases were read to their end");
      const { summary, comparisons, gates, finishedAt, status, stopReason } =
        scanner.others as Partial<RunRecord>;
      if (!Array.isArray(summary)) {
        throw new UserError({
          code: "run-not-found",
          location: { file: path },
          message: "not a promptsmith results file (no summary after the cases)",
          hint: "write one with promptsmith eval -o results.json",
        });
      }
      return endFields({ summary, comparisons, gates, finishedAt, status, stopReason });
    },
  };
}

function wholeRecordStream(record: RunRecord): RecordStream {
  const { cases, summary, comparisons, gates, finishedAt, status, stopReason, ...header } = record;
  async function* all(): AsyncGenerator<CaseResult, void, undefined> {
    yield* cases;
  }
  return {
    header,
    cases: all(),
    end: () => endFields({ summary, comparisons, gates, finishedAt, status, stopReason }),
  };
}
