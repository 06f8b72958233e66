/**
 * The run journal: `<dir>/<run-id>.jsonl`, a header line then one line per finished job, so a
 * run killed halfway can be resumed without calling the model again for what already finished.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  createReadStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { UserError, unwritableFileError } from "../errors.js";
import { cyrb53 } from "../key-set.js";
import { isProcessAlive } from "../record/writer.js";

/** One finished job, keyed by its job id (see `jobId`). */
export interface JournalEntry {
  key: string;
  result: unknown;
  /** The result already serialised as JSON, when the caller has it: saves serialising it twice. */
  resultJson?: string;
}

/** Appends to a journal; lines reach the disk at least once a second. */
export interface JournalWriter {
  readonly path: string;
  /** Queues one result line; written by the next flush. */
  append(entry: JournalEntry): void;
  /** Writes and fsyncs everything queued. */
  flush(): void;
  /** Flushes and closes the file; further appends throw. */
  close(): void;
}

/** The timer functions the writer uses, injectable so tests control when writes and flushes happen. */
export interface JournalTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `callback` once the current turn of the event loop is over. */
  setImmediate(callback: () => void): void;
}

/** Options for `createJournalWriter` and `reopenJournalWriter`. */
export interface JournalWriterOptions {
  /** Longest time a line written to the OS waits for its fsync; default 1000 ms. */
  flushIntervalMs?: number;
  /** Flush as soon as this many bytes are queued; default 64 KiB. */
  maxBufferBytes?: number;
  timers?: JournalTimers;
}

/** A journal as read back: the header, the latest result per key, and whether the tail was cut. */
export interface JournalContents {
  header: Record<string, unknown>;
  results: Map<string, unknown>;
  /** True when the last line was cut off mid-write (the run crashed) and was ignored. */
  truncatedTail: boolean;
}

const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

const defaultTimers: JournalTimers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    // A pending flush must not keep a finished process alive; close() flushes anyway.
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
  setImmediate(callback) {
    setImmediate(callback);
  },
};

/** The journal file of a run. */
export function journalPath(dir: string, runId: string): string {
  return join(dir, `${runId}.jsonl`);
}

/**
 * A new run id such as `2026-11-29T18-46-49-123Z-a3f0`: the UTC time (so ids sort by start time)
 * plus 4 random hex digits so two runs started in the same millisecond do not collide.
 */
export function newRunId(now: Date, randomHex: () => string = () => randomBytes(2).toString("hex")): string {
  return `${now.toISOString().replace(/[:.]/g, "-")}-${randomHex()}`;
}

/** Run ids of the journals in `dir`, newest first (by id, which starts with the start time); [] when `dir` cannot be a folder. */
export function listJournals(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    // No folder, or a path through a file: no journals (making one there reports the problem).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith(".jsonl"))
    .map((name) => name.slice(0, -".jsonl".length))
    .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}

/** Run ids of the journals in `dir` of runs started from `configPath`, newest first (other configs may share the folder). */
export function configJournals(dir: string, configPath: string): string[] {
  return listJournals(dir).filter((id) => readJournalHeader(journalPath(dir, id))?.configPath === configPath);
}

/**
 * Removes the journals of `configPath`'s runs beyond the newest `keep`, and with each its lock
 * file if stale. Other configs' journals in the same folder, and any run in use (locked by a live
 * process), are left alone; a journal that cannot be removed is left too, since pruning is
 * housekeeping and never a reason to fail a run. Returns the run ids removed.
 */
export function pruneJournals(dir: string, configPath: string, keep: number): string[] {
  if (!(keep >= 1)) return [];
  const mine = configJournals(dir, configPath);
  const removed: string[] = [];
  for (const id of mine.slice(keep)) {
    const path = journalPath(dir, id);
    const { state } = lockHolder(path);
    if (state === "live" || state === "unknown") continue;
    try {
      rmSync(path);
      rmSync(`${path}.lock`, { force: true });
      removed.push(id);
    } catch {
      // Gone already (another run pruned it), or not ours to remove: either way, carry on.
    }
  }
  return removed;
}

/** Who holds a journal's lock, as `lockHolder` reads it. */
export interface LockHolder {
  /**
   * Nobody; a live process; a dead one (on this machine: a run that was killed, since every other
   * ending removes the lock); or one it cannot tell (another machine, a lock cut off as written).
   */
  state: "none" | "live" | "dead" | "unknown";
  pid?: number;
  host?: string;
}

/** Reads the lock of the journal at `path`: what `lockJournal` refuses on, and pruning skips. */
export function lockHolder(path: string): LockHolder {
  let holder: { pid?: unknown; host?: unknown } | null;
  try {
    holder = JSON.parse(readFileSync(`${path}.lock`, "utf8"));
  } catch (error) {
    return { state: (error as NodeJS.ErrnoException).code === "ENOENT" ? "none" : "unknown" };
  }
  const pid = typeof holder?.pid === "number" ? holder.pid : undefined;
  const host = typeof holder?.host === "string" ? holder.host : undefined;
  if (pid === undefined || host !== hostname()) return { state: "unknown", pid, host };
  return { state: isProcessAlive(pid) ? "live" : "dead", pid, host };
}

/**
 * Creates the journal at `path` (and its folder) and writes the header line
 * `{"type":"header",...header}` to disk before returning. Fails if the file exists: a run id is
 * used once. `type` in `header` is overwritten.
 */
export function createJournalWriter(
  path: string,
  header: Record<string, unknown>,
  options: JournalWriterOptions = {},
): JournalWriter {
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path, "wx");
  } catch (error) {
    throw unwritableFileError(error, journalPlace(path));
  }
  let release: () => void = () => undefined;
  try {
    release = lockJournal(path);
    const { type: _ignored, ...rest } = header;
    writeAllSync(fd, Buffer.from(`${JSON.stringify({ type: "header", ...rest })}\n`));
    fsyncSync(fd);
    syncDirectory(dirname(path));
  } catch (error) {
    closeSync(fd);
    release();
    throw error;
  }
  return createWriter(path, fd, options, release);
}

/**
 * Opens an existing journal to add more results (resuming a run). A last line cut off by a
 * crash is removed first, so the new lines do not glue onto it and corrupt the file.
 */
export async function reopenJournalWriter(
  path: string,
  options: JournalWriterOptions = {},
): Promise<JournalWriter> {
  // Before anything is read: a run another process is still writing must not be resumed beside it.
  const release = lockJournal(path);
  let fd: number | undefined;
  try {
    const scan = await scanJournal(path);
    if (scan.truncatedTail) truncateSync(path, scan.validBytes);
    // Append mode: every write lands at the end, whatever else happened to the offset.
    try {
      fd = openSync(path, "a");
    } catch (error) {
      throw unwritableFileError(error, journalPlace(path));
    }
    // A complete last line written without its newline (hand-edited file) still needs one.
    if (!scan.endsWithNewline) writeAllSync(fd, Buffer.from("\n"));
    fsyncSync(fd);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    release();
    throw error;
  }
  return createWriter(path, fd, options, release);
}

/**
 * Takes `<journal>.lock` for this process and returns its release. A lock left by a process that
 * is gone (killed, crashed) on this machine is taken over; one held by a live process, or by
 * another machine on a shared disk, is a UserError: two processes writing one run would both pay
 * for the same jobs.
 */
function lockJournal(path: string): () => void {
  const lock = `${path}.lock`;
  const me = { pid: process.pid, host: hostname() };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, JSON.stringify(me), { flag: "wx" });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const { state, pid, host } = lockHolder(path);
    if (attempt === 0 && state === "dead") {
      rmSync(lock, { force: true });
      continue;
    }
    throw new UserError({
      code: "usage",
      message: `the run is in use by ${pid === undefined ? "another process" : `process ${pid}`}${host === undefined || host === me.host ? "" : ` on ${host}`}`,
      location: { file: path },
      hint: `wait for it to finish (or stop it); if no promptsmith runs as that process, delete ${lock}`,
    });
  }
}

/** Where a journal could not be made, for the error: a place the user can change. */
const journalPlace = (path: string) => ({
  file: dirname(path),
  what: "keep run journals here",
  hint: "make the folder writable, or set runsDir: in the config to a folder that is",
});

/** A journal that stopped taking lines part-way: what it holds is resumable once it can write again. */
const journalWriteFailure = (path: string) => ({
  file: path,
  what: "add to the run journal",
  hint: "free some space, then finish the run with promptsmith eval --resume (the journal keeps what was written)",
});

function createWriter(
  path: string,
  fd: number,
  options: JournalWriterOptions,
  release: () => void,
): JournalWriter {
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  const maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
  const timers = options.timers ?? defaultTimers;
  let pending: string[] = [];
  let pendingBytes = 0;
  let timer: unknown;
  let writeScheduled = false;
  let closed = false;
  // A write that failed inside the timer cannot throw anywhere useful; it surfaces on the next call.
  let failure: unknown;

  // Bytes handed to the OS but not yet fsynced: a killed process loses none of them, a power cut might.
  let unsynced = false;
  const write = (): void => {
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending.join(""));
    pending = [];
    pendingBytes = 0;
    try {
      writeAllSync(fd, bytes);
      unsynced = true;
    } catch (error) {
      failure = unwritableFileError(error, journalWriteFailure(path));
      throw failure;
    }
  };
  const flush = (): void => {
    if (failure !== undefined) throw failure;
    if (timer !== undefined) {
      timers.clearTimeout(timer);
      timer = undefined;
    }
    write();
    if (!unsynced) return;
    try {
      fsyncSync(fd);
      unsynced = false;
    } catch (error) {
      failure = unwritableFileError(error, journalWriteFailure(path));
      throw failure;
    }
  };

  return {
    path,
    append(entry) {
      if (closed) throw new Error(`journal ${path} is closed`);
      if (failure !== undefined) throw failure;
      const result = entry.resultJson ?? JSON.stringify(entry.result ?? null);
      const line = `{"type":"result","key":${JSON.stringify(entry.key)},"result":${result}}\n`;
      pending.push(line);
      pendingBytes += Buffer.byteLength(line);
      if (pendingBytes >= maxBufferBytes) {
        flush();
        return;
      }
      // Lines go to the OS when this turn of the event loop is over, the lines of one turn in one
      // write: a killed process then loses only calls still in flight, never a finished (and paid
      // for) answer, as it could while lines waited up to a second for the timer. The fsync that
      // makes them safe from a power cut waits for the timer.
      if (!writeScheduled) {
        writeScheduled = true;
        timers.setImmediate(() => {
          writeScheduled = false;
          if (closed || failure !== undefined) return;
          try {
            write();
          } catch {
            // Kept in `failure`; reported by the next append, flush or close.
          }
        });
      }
      if (timer === undefined) {
        timer = timers.setTimeout(() => {
          timer = undefined;
          try {
            flush();
          } catch {
            // Kept in `failure`; reported by the next append, flush or close.
          }
        }, flushIntervalMs);
      }
    },
    flush() {
      if (closed) return;
      flush();
    },
    close() {
      if (closed) return;
      try {
        flush();
      } finally {
        closed = true;
        closeSync(fd);
        release();
      }
    },
  };
}

function writeAllSync(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

// The new file's directory entry must reach the disk too, or a power cut can lose the file.
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Not supported everywhere (Windows); the file content itself is already synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

interface JournalScan extends Omit<JournalContents, "results"> {
  /** Bytes up to the end of the last good line. */
  validBytes: number;
  endsWithNewline: boolean;
}

/**
 * Reads a journal line by line. Later results for a key replace earlier ones (retries). One cut-off
 * last line is tolerated (a crash mid-write); a bad line anywhere else is a located UserError.
 */
export async function readJournal(path: string): Promise<JournalContents> {
  const results = new Map<string, unknown>();
  const { header, truncatedTail } = await scanJournal(path, (key, result) => results.set(key, result));
  return { header, results, truncatedTail };
}

/** A finished job read back from a journal: its result, and that result's JSON as written. */
export interface ReplayedResult {
  result: unknown;
  json: string;
}

/** A journal opened to replay its results, one job at a time. */
export interface JournalReplay {
  header: Record<string, unknown>;
  /** Jobs the journal holds a result for. */
  readonly size: number;
  /** The latest result for `key`, read from the file now; undefined when the journal has none. */
  get(key: string): ReplayedResult | undefined;
  close(): void;
}

/**
 * Opens a journal for resuming without holding its results: one pass keeps a 53-bit hash of each
 * key and where its line starts (16 bytes a line, packed and sorted), and `get` reads the line back
 * when its job comes up. Resuming 100,000 cases × 2 prompts holds 3 MB of index, where a Map of
 * the keys took 25 MB and the results themselves 300 MB. Lines whose hashes collide are told apart
 * by the key written in them; a key written twice (a retried job) reads as its latest line.
 */
export async function openJournalReplay(
  path: string,
  options: {
    /** The key hash; tests pass a poor one to force collisions. */ hash?: (key: string) => number;
  } = {},
): Promise<JournalReplay> {
  const hash53 = options.hash ?? cyrb53;
  let hashes = new Float64Array(1024);
  let starts = new Float64Array(1024);
  let count = 0;
  const { header } = await scanJournal(path, (key, _result, start) => {
    if (count === hashes.length) {
      hashes = grow(hashes);
      starts = grow(starts);
    }
    hashes[count] = hash53(key);
    starts[count] = start;
    count++;
  });
  // Sorted by hash, then by position: equal hashes sit together, the latest line last.
  const order = Uint32Array.from({ length: count }, (_, i) => i).sort(
    (a, b) => hashes[a] - hashes[b] || starts[a] - starts[b],
  );
  const sortedHashes = Float64Array.from(order, (i) => hashes[i]);
  const sortedStarts = Float64Array.from(order, (i) => starts[i]);
  const lines = openJournalLines(path);
  // Distinct keys: one per hash, unless hashes collide or a key was written twice (then the lines
  // say which keys they hold).
  let distinct = 0;
  for (let i = 0; i < count; ) {
    let end = i + 1;
    while (end < count && sortedHashes[end] === sortedHashes[i]) end++;
    if (end - i === 1) distinct++;
    else {
      const keys = new Set<string>();
      for (let k = i; k < end; k++) keys.add(lines.readKey(sortedStarts[k]));
      distinct += keys.size;
    }
    i = end;
  }
  return {
    header,
    size: distinct,
    get(key) {
      const h = hash53(key);
      // Past the last entry with this hash, then back through its equals: latest line first.
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sortedHashes[mid] <= h) lo = mid + 1;
        else hi = mid;
      }
      for (let k = lo - 1; k >= 0 && sortedHashes[k] === h; k--) {
        const found = lines.readResult(sortedStarts[k], key);
        if (found) return found;
      }
      return undefined;
    },
    close() {
      lines.close();
    },
  };
}

function grow(array: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** Reads single result lines of a journal by where they start. */
interface JournalLines {
  /** The key of the line at `offset`. */
  readKey(offset: number): string;
  /** The result of the line at `offset` when it holds `key`, with its JSON as written. */
  readResult(offset: number, key: string): ReplayedResult | undefined;
  close(): void;
}

/** How the writer starts every result line; the key, then `,"result":` and the result follow. */
const RESULT_LINE_START = '{"type":"result","key":';
const RESULT_FIELD = ',"result":';

function openJournalLines(path: string): JournalLines {
  const fd = openSync(path, "r");
  let buffer = Buffer.alloc(16 * 1024);
  const readLine = (offset: number): string => {
    // Lines only ever get appended after the index was made, so the offset still starts one.
    let filled = 0;
    for (;;) {
      const read = readSync(fd, buffer, filled, buffer.length - filled, offset + filled);
      const newline = buffer.subarray(filled, filled + read).indexOf(NEWLINE);
      if (newline !== -1 || read === 0)
        return buffer.toString("utf8", 0, newline === -1 ? filled + read : filled + newline);
      filled += read;
      if (filled === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(buffer.length)]);
    }
  };
  const parse = (line: string) => JSON.parse(line) as { key: string; result: unknown };
  return {
    readKey(offset) {
      return parse(readLine(offset)).key;
    },
    readResult(offset, key) {
      const line = readLine(offset);
      // As the writer wrote it: sliced, not serialised again.
      const start = `${RESULT_LINE_START}${JSON.stringify(key)}${RESULT_FIELD}`;
      if (line.startsWith(start) && line.endsWith("}")) {
        const json = line.slice(start.length, -1);
        return { result: JSON.parse(json), json };
      }
      // Another layout (a hand-edited line), or another key under the same hash.
      const record = parse(line);
      return record.key === key ? { result: record.result, json: JSON.stringify(record.result) } : undefined;
    },
    close() {
      closeSync(fd);
    },
  };
}

/**
 * The header line of a journal, parsed, read without the rest of the file; undefined when the file
 * is missing or does not start with one.
 */
export function readJournalHeader(path: string): Record<string, unknown> | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      const newline = buffer.subarray(0, read).indexOf(NEWLINE);
      chunks.push(Buffer.from(buffer.subarray(0, newline === -1 ? read : newline)));
      if (newline !== -1) break;
    }
    const line = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (line === null || typeof line !== "object" || line.type !== "header") return undefined;
    const { type: _type, ...header } = line as Record<string, unknown>;
    return header;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** What a scan hands on for every result line: its key, its result and where the line starts. */
type OnResultLine = (key: string, result: unknown, start: number) => void;

async function scanJournal(path: string, onResult: OnResultLine = () => undefined): Promise<JournalScan> {
  let header: Record<string, unknown> | undefined;
  let lineNumber = 0;
  let validBytes = 0;
  let offset = 0;
  let carry: Buffer[] = [];
  let truncatedTail = false;

  const corrupt = (line: number, why: string): UserError =>
    new UserError({
      code: "run-not-found",
      message: `the run journal is corrupt: ${why}`,
      location: { file: path, line },
      hint: "a journal can only lose its last line in a crash; this one was changed some other way, so start a new run",
    });

  // Returns false when the line does not parse; the caller decides whether that is a cut-off tail.
  const takeLine = (bytes: Buffer, isLast: boolean, start: number): boolean => {
    lineNumber += 1;
    const text = bytes.toString("utf8");
    if (text.trim() === "") return true;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (isLast) return false;
      throw corrupt(lineNumber, "the line is not valid JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      if (isLast) return false;
      throw corrupt(lineNumber, "the line is not a JSON object");
    }
    const record = value as Record<string, unknown>;
    if (header === undefined) {
      if (record.type !== "header") throw corrupt(lineNumber, 'the first line must be {"type":"header",...}');
      const { type: _type, ...rest } = record;
      header = rest;
      return true;
    }
    if (record.type !== "result" || typeof record.key !== "string" || !("result" in record)) {
      throw corrupt(lineNumber, 'expected {"type":"result","key":...,"result":...}');
    }
    onResult(record.key, record.result, start);
    return true;
  };

  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let newline = chunk.indexOf(NEWLINE, start);
      while (newline !== -1) {
        const piece = chunk.subarray(start, newline);
        const line = carry.length > 0 ? Buffer.concat([...carry, piece]) : piece;
        carry = [];
        // validBytes is still where this line starts: the end of the previous one.
        takeLine(line, false, validBytes);
        validBytes = offset + newline + 1;
        start = newline + 1;
        newline = chunk.indexOf(NEWLINE, start);
      }
      if (start < chunk.length) carry.push(chunk.subarray(start));
      offset += chunk.length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UserError({
        code: "run-not-found",
        message: "no run journal at this path",
        location: { file: path },
        hint: "check the run id; journals are kept as <run-id>.jsonl in the journal folder",
      });
    }
    throw error;
  }

  let endsWithNewline = true;
  if (carry.length > 0) {
    // The file does not end in a newline: either a crash cut the last line, or it is complete.
    if (takeLine(Buffer.concat(carry), true, validBytes)) {
      validBytes = offset;
      endsWithNewline = false;
    } else {
      truncatedTail = true;
    }
  }
  if (header === undefined) {
    throw new UserError({
      code: "run-not-found",
      message: "the run journal has no header line; the run probably crashed as it started",
      location: { file: path, line: 1 },
      hint: "start a new run",
    });
  }
  return { header, truncatedTail, validBytes, endsWithNewline };
}
