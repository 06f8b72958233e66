import { createReadStream } from "node:fs";
import { UserError } from "../errors.js";
import { JsonArrayScanner, type JsonElement, JsonStreamError } from "./json-stream.js";
import { type DatasetRow, describeValue, toObjectRow } from "./source.js";

/** The key under which a JSON or YAML dataset may nest its rows: `{ "cases": [...] }`. */
export const CASES_KEY = "cases";

/**
 * Reads the rows of a JSON file: a top-level array of objects, or `{ "cases": [...] }`, as the
 * file streams in (json-stream.ts), so a large JSON dataset costs no more memory than JSONL.
 * Rows before a problem further down have been handed out by the time it is reported, as JSONL's.
 */
export async function* readJsonRows(file: string): AsyncGenerator<DatasetRow, void, undefined> {
  const scanner = new JsonArrayScanner(CASES_KEY);
  // One row at a time, so the rows before a bad one are handed out first.
  function* rows(elements: JsonElement[]): Generator<DatasetRow> {
    for (const { value, line, index } of elements) {
      yield { row: toObjectRow(value, file, line, `${scanner.underKey ? CASES_KEY : ""}[${index}]`), line };
    }
  }
  try {
    for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 64 * 1024 })) {
      yield* rows(scanner.push(chunk as string));
    }
    yield* rows(scanner.end());
  } catch (error) {
    if (error instanceof JsonStreamError) throw toUserError(error, file);
    throw error;
  }
}

function toUserError(error: JsonStreamError, file: string): UserError {
  const location = { file, line: error.line, column: error.column };
  if (error.kind === "syntax") {
    return new UserError({
      code: "dataset-parse",
      message: `file is not valid JSON: ${error.message}`,
      location,
      hint: "check for a trailing comma, a missing comma between objects, or an unescaped quote",
      cause: error,
    });
  }
  const found =
    error.message === `"${CASES_KEY}" is not an array`
      ? `"${CASES_KEY}" is ${describeValue(error.found)}`
      : error.message.startsWith("the key")
        ? error.message
        : error.found === undefined
          ? `found an object without "${CASES_KEY}"`
          : `found ${describeValue(error.found)}`;
  return new UserError({
    code: "dataset-invalid",
    message: `expected a top-level array of objects or an object with a "${CASES_KEY}" array; ${found}`,
    location,
    hint: 'write [{"input": "..."}, ...] or {"cases": [{"input": "..."}, ...]}',
  });
}
