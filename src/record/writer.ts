import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { unwritableFileError } from "../errors.js";
import type { CaseResult, RunRecord } from "./types.js";

/** A results file being written as cases finish. */
export interface RecordWriter {
  readonly path: string;
  /** Adds one case; `json` is the case already serialised, when the caller has it. */
  write(result: CaseResult, json?: string): void;
  /** Writes the summary and end fields and moves the file into place. */
  finish(end: RecordEnd): void;
  /** Removes the partial file: nothing pretends to be a complete record. */
  abort(): void;
}

/** Flush threshold: big enough that syscalls are rare, small enough that memory stays flat. */
const BUFFER_BYTES = 64 * 1024;

/** The results formats, by extension: one JSON document, or one case per line. */
const RESULTS_EXTENSIONS: readonly string[] = [".json", ".jsonl"];

/** Whether `path` names a format this writer writes (by its extension). */
export function isResultsPath(path: string): boolean {
  return RESULTS_EXTENSIONS.includes(extname(path).toLowerCase());
}

/**
 * Streams a run record to `path`: `.jsonl` gets one case per line, anything else one JSON document.
 * The file is written beside the target under a temporary name and renamed at the end, so a crash
 * never leaves a truncated file under the real name.
 */
export function createRecordWriter(path: string, header: Omit<RunRecord, "summary" | "cases">): RecordWriter {
  const jsonl = extname(path).toLowerCase() === ".jsonl";
  const partial = `${path}.partial-${process.pid}`;
  const refused = (error: unknown, midway = false) =>
    unwritableFileError(error, {
      file: path,
      what: "write results here",
      field: "--output",
      hint: midway
        ? "free some space and run it again; an eval finishes with eval --resume, from its journal"
        : "choose a path you can write to for -o",
    });
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    removeOrphans(path);
    fd = openSync(partial, "w");
  } catch (error) {
    throw refused(error);
  }
  let buffer = "";
  let count = 0;
  let closed = false;

  const flush = () => {
    try {
      if (buffer) writeSync(fd, buffer);
    } catch (error) {
      throw refused(error, true);
    }
    buffer = "";
  };
  const push = (text: string) => {
    buffer += text;
    if (buffer.length >= BUFFER_BYTES) flush();
  };

  if (!jsonl) {
    const head = JSON.stringify(header, null, 2);
    push(`${head.slice(0, head.lastIndexOf("}")).trimEnd()},\n  "cases": [`);
  }

  return {
    path,
    write(result, json = JSON.stringify(result)) {
      if (jsonl) push(`${json}\n`);
      else push(`${count === 0 ? "\n" : ",\n"}    ${json}`);
      count++;
    },
    finish(end) {
      if (closed) return;
      if (!jsonl) {
        const tail = JSON.stringify(end, null, 2);
        push(
          `${count === 0 ? "" : "\n  "}],\n${tail
            .slice(tail.indexOf("{") + 1)
            .trimStart()
            .replace(/^/, "  ")}\n`,
        );
      }
      flush();
      closeSync(fd);
      closed = true;
      try {
        renameSync(partial, path);
      } catch (error) {
        rmSync(partial, { force: true });
        throw refused(error, true);
      }
    },
    abort() {
      if (closed) return;
      closed = true;
      closeSync(fd);
      rmSync(partial, { force: true });
    },
  };
}

/**
 * Removes the partial files of `path` left by writers that were killed (SIGKILL, a crash): those
 * whose process is gone. A live writer's file, in this process or another, is never touched.
 */
function removeOrphans(path: string): void {
  const prefix = `${basename(path)}.partial-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || isProcessAlive(pid)) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}

/** Whether a process with this id runs on this machine (one of another user's counts). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The fields a record writes after its cases. */
export type RecordEnd = Pick<
  RunRecord,
  "summary" | "comparisons" | "gates" | "finishedAt" | "status" | "stopReason"
>;

/** A record's end fields in the order they are written; the optional ones only when present. */
export function endFields({
  summary,
  comparisons,
  gates,
  finishedAt,
  status,
  stopReason,
}: RecordEnd): RecordEnd {
  return {
    summary,
    ...(comparisons ? { comparisons } : {}),
    ...(gates ? { gates } : {}),
    finishedAt,
    status,
    ...(stopReason ? { stopReason } : {}),
  };
}

/** Writes a whole record at once (merge, report), through the same temporary-name-then-rename path. */
export function writeRecord(path: string, record: RunRecord): void {
  const { summary, comparisons, gates, cases, finishedAt, status, stopReason, ...header } = record;
  const writer = createRecordWriter(path, header);
  for (const result of cases) writer.write(result);
  writer.finish(endFields({ summary, comparisons, gates, finishedAt, status, stopReason }));
}
