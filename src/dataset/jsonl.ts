import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { UserError } from "../errors.js";
import { closeStream, type DatasetRow, oneLine, stripBom, toObjectRow } from "./source.js";

/** Streams the rows of a JSON Lines file, one line at a time; blank lines are skipped. */
export async function* readJsonlRows(file: string): AsyncGenerator<DatasetRow, void, undefined> {
  const stream = createReadStream(file, { encoding: "utf8" });
  // crlfDelay: Infinity makes a CRLF one line break even when \r and \n land in different chunks.
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  try {
    for await (const raw of lines) {
      lineNumber++;
      const text = lineNumber === 1 ? stripBom(raw) : raw;
      if (text.trim() === "") continue;
      yield { row: toObjectRow(parseLine(text, file, lineNumber), file, lineNumber), line: lineNumber };
    }
  } finally {
    // readline never closes its input, so an early break or a throw would leak the descriptor.
    lines.close();
    await closeStream(stream);
  }
}

function parseLine(text: string, file: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(reason);
    throw new UserError({
      code: "dataset-parse",
      message: `line is not valid JSON: ${oneLine(reason)}`,
      location: { file, line, column: position ? Number(position[1]) + 1 : undefined },
      hint: "each line must be one JSON object; check for a trailing comma or an unescaped quote",
      cause: error,
    });
  }
}
