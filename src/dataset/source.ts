import { constants, type ReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { UserError } from "../errors.js";

/** The dataset formats, each read by one module of this folder. */
export type DatasetFormat = "jsonl" | "json" | "csv" | "yaml";

/** One raw row of a data file and the 1-based line it starts on. */
export interface DatasetRow {
  row: Record<string, unknown>;
  line: number;
}

const FORMAT_BY_EXTENSION: Record<string, DatasetFormat> = {
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "json",
  ".csv": "csv",
  ".yaml": "yaml",
  ".yml": "yaml",
};

/** The file extensions a dataset may have, in the order error messages list them. */
export const DATASET_EXTENSIONS: readonly string[] = Object.keys(FORMAT_BY_EXTENSION);

/** The format a dataset path names by its extension (case-insensitive). */
export function formatOfPath(file: string): DatasetFormat {
  const extension = extname(file).toLowerCase();
  const format = FORMAT_BY_EXTENSION[extension];
  if (format !== undefined) return format;
  const found = extension === "" ? "has no extension" : `has the extension "${extension}"`;
  throw new UserError({
    code: "dataset-invalid",
    message: `dataset file ${found}; supported extensions are ${DATASET_EXTENSIONS.join(", ")}`,
    location: { file },
    hint: "rename the file to match its format, e.g. data.jsonl for one JSON object per line",
  });
}

/** Fails with a UserError unless `file` is a readable regular file. */
export async function assertReadableFile(file: string): Promise<void> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) {
      throw new UserError({
        code: "dataset-invalid",
        message: "dataset path is a directory, expected a file",
        location: { file },
        hint: "point the dataset at one .jsonl, .json, .csv or .yaml file",
      });
    }
    await access(file, constants.R_OK);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new UserError({
        code: "dataset-not-found",
        message: "dataset file not found",
        location: { file },
        hint: `check the path and its spelling (looked for ${resolve(file)})`,
        cause: error,
      });
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new UserError({
        code: "dataset-not-found",
        message: "dataset file cannot be read (permission denied)",
        location: { file },
        hint: "check the file's permissions",
        cause: error,
      });
    }
    throw error;
  }
}

/** Destroys a read stream and waits until its file descriptor is really closed. */
export async function closeStream(stream: ReadStream): Promise<void> {
  if (stream.closed) return;
  const closed = new Promise<void>((done) => stream.once("close", () => done()));
  stream.destroy();
  await closed;
}

/** Removes a UTF-8 byte order mark, which JSON.parse and yaml reject or misread. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** True for a plain JSON-like object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "an array", "a string", "null"…: what a value is, for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "undefined") return "empty";
  return `a ${typeof value}`;
}

/** The row itself when it is an object; otherwise a located dataset-invalid error. */
export function toObjectRow(
  value: unknown,
  file: string,
  line: number,
  field?: string,
): Record<string, unknown> {
  if (isRecord(value)) return value;
  throw new UserError({
    code: "dataset-invalid",
    message: `row is ${describeValue(value)}, expected an object of named fields`,
    location: { file, line },
    field,
    hint: 'write each row as an object, e.g. {"question": "2+2?", "expected": "4"}',
  });
}

/** 1-based line and column of a UTF-16 offset in `text`. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

/** Collapses a message onto one line: located errors print as one line plus a hint. */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
