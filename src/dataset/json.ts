import { readFile } from "node:fs/promises";
import { UserError } from "../errors.js";
import {
  type DatasetRow,
  describeValue,
  isRecord,
  lineColumnAt,
  oneLine,
  stripBom,
  toObjectRow,
} from "./source.js";

/** The key under which a JSON or YAML dataset may nest its rows: `{ "cases": [...] }`. */
export const CASES_KEY = "cases";

/**
 * Reads the rows of a JSON file: a top-level array of objects, or `{ "cases": [...] }`.
 * JSON has no streaming form here, so the file is read whole; use JSONL for large datasets.
 */
export async function* readJsonRows(file: string): AsyncGenerator<DatasetRow, void, undefined> {
  const text = stripBom(await readFile(file, "utf8"));
  // An empty file is an empty dataset in every format, not a syntax error.
  if (text.trim() === "") return;
  const data = parseJson(text, file);
  const items = rowsOf(data, file);
  const lines = startLinesOrIndexes(text, items.length, Array.isArray(data) ? undefined : CASES_KEY);
  const prefix = Array.isArray(data) ? "" : CASES_KEY;
  for (let index = 0; index < items.length; index++) {
    const line = lines[index];
    yield { row: toObjectRow(items[index], file, line, `${prefix}[${index}]`), line };
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(reason);
    // "Unexpected end of JSON input" has no position: the problem is at the end.
    const { line, column } = lineColumnAt(text, position ? Number(position[1]) : text.length);
    throw new UserError({
      code: "dataset-parse",
      message: `file is not valid JSON: ${oneLine(reason)}`,
      location: { file, line, column },
      hint: "check for a trailing comma, a missing comma between objects, or an unescaped quote",
      cause: error,
    });
  }
}

function rowsOf(data: unknown, file: string): unknown[] {
  if (Array.isArray(data)) return data;
  if (isRecord(data) && Array.isArray(data[CASES_KEY])) return data[CASES_KEY] as unknown[];
  const found =
    isRecord(data) && Object.hasOwn(data, CASES_KEY)
      ? `"${CASES_KEY}" is ${describeValue(data[CASES_KEY])}`
      : `found ${describeValue(data)}`;
  throw new UserError({
    code: "dataset-invalid",
    message: `expected a top-level array of objects or an object with a "${CASES_KEY}" array; ${found}`,
    location: { file, line: 1 },
    hint: 'write [{"input": "..."}, ...] or {"cases": [{"input": "..."}, ...]}',
  });
}

/** The start line of each element, or index+1 should the scan disagree with JSON.parse. */
function startLinesOrIndexes(text: string, count: number, underKey: string | undefined): number[] {
  try {
    const lines = elementStartLines(text, underKey);
    if (lines.length === count) return lines;
  } catch {
    // The scan is a convenience for messages; never let it hide the data.
  }
  return Array.from({ length: count }, (_, index) => index + 1);
}

/**
 * 1-based start lines of the elements of the top-level array (or of the array under `underKey`
 * in a top-level object). `text` must already be valid JSON, so the scan only skips values.
 */
export function elementStartLines(text: string, underKey?: string): number[] {
  let arrayStart = skipSpace(text, 0);
  if (underKey !== undefined) {
    arrayStart = -1;
    let i = skipSpace(text, skipSpace(text, 0) + 1);
    while (text[i] !== "}") {
      const keyEnd = skipString(text, i);
      const key: unknown = JSON.parse(text.slice(i, keyEnd));
      i = skipSpace(text, skipSpace(text, keyEnd) + 1);
      // JSON.parse keeps the last of duplicate keys, and so do we.
      if (key === underKey) arrayStart = i;
      i = skipSpace(text, skipValue(text, i));
      if (text[i] === ",") i = skipSpace(text, i + 1);
    }
    if (arrayStart === -1) return [];
  }
  const starts: number[] = [];
  let i = skipSpace(text, arrayStart + 1);
  while (text[i] !== "]") {
    starts.push(i);
    i = skipSpace(text, skipValue(text, i));
    if (text[i] === ",") i = skipSpace(text, i + 1);
  }
  return offsetsToLines(text, starts);
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t"))
    i++;
  return i;
}

function skipString(text: string, i: number): number {
  i++;
  while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first === "{" || first === "[") {
    let depth = 0;
    do {
      const c = text[i];
      if (c === '"') {
        i = skipString(text, i);
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") depth--;
      i++;
    } while (depth > 0);
    return i;
  }
  while (i < text.length && !",]} \t\r\n".includes(text[i])) i++;
  return i;
}

/** Lines of ascending offsets, counted in one pass. */
function offsetsToLines(text: string, offsets: number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let nextBreak = text.indexOf("\n");
  for (const offset of offsets) {
    while (nextBreak !== -1 && nextBreak < offset) {
      line++;
      nextBreak = text.indexOf("\n", nextBreak + 1);
    }
    lines.push(line);
  }
  return lines;
}
