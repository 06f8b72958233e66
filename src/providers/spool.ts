/**
 * A batch input file built on disk a line at a time. OpenAI takes files of up to 200 MB; holding one
 * in memory (and copying it once more to upload) made a batch's memory grow with its prompts.
 */
import { closeSync, mkdtempSync, openAsBlob, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { unwritableFileError } from "../errors.js";

// Lines are gathered to this size before a write, so a file of small lines is not a syscall each.
const FLUSH_BYTES = 1 << 16;

/** One file being written; see {@link createSpool}. */
export interface Spool {
  /** Lines written so far. */
  readonly lines: number;
  /** Bytes written so far. */
  readonly bytes: number;
  write(line: Buffer): void;
  /** Ends the file and hands it out as a File whose bytes are read from disk as they are sent (and again on a retry). */
  finish(name: string, type: string): Promise<File>;
  /** Deletes the file; safe to call more than once, and before finish(). */
  remove(): void;
}

/** A place the batch files cannot go, as the user error that says where to put them instead. */
function refused(error: unknown, file: string): unknown {
  return unwritableFileError(error, {
    file,
    what: "write batch files here",
    hint: "point TMPDIR at a folder you can write to, with room for the batch files (up to 200 MB each)",
  });
}

/** A new folder of its own under `root` for one submit's batch files; the caller removes it. */
export function createSpoolFolder(root: string): string {
  try {
    return mkdtempSync(join(root, "promptsmith-batch-"));
  } catch (error) {
    throw refused(error, root);
  }
}

/** A new file `name` in `dir` (which the caller owns and removes). */
export function createSpool(dir: string, name: string): Spool {
  const path = join(dir, name);
  let fd: number | undefined;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    throw refused(error, path);
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lines = 0;
  let bytes = 0;
  const flush = () => {
    if (fd === undefined || pendingBytes === 0) return;
    const chunk = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    try {
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
    } catch (error) {
      throw refused(error, path);
    }
    pending = [];
    pendingBytes = 0;
  };
  const close = () => {
    if (fd === undefined) return;
    closeSync(fd);
    fd = undefined;
  };
  return {
    get lines() {
      return lines;
    },
    get bytes() {
      return bytes;
    },
    write(line) {
      if (fd === undefined) throw new Error(`spool ${path} is already finished`);
      pending.push(line);
      pendingBytes += line.length;
      lines++;
      bytes += line.length;
      if (pendingBytes >= FLUSH_BYTES) flush();
    },
    async finish(fileName, type) {
      flush();
      close();
      return new File([await openAsBlob(path, { type })], fileName, { type });
    },
    remove() {
      pending = [];
      close();
      rmSync(path, { force: true });
    },
  };
}
